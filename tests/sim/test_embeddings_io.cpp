// Readers of embeddings made elsewhere (sim/embeddings_io.h): .npy files written here byte for byte as NumPy
// writes them (format 1.0 and 2.0 headers, float32/float64, int32/int64/uint8), CSV with and without a
// header and a split column, and one clear message for every kind of bad file.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "sim/embeddings_io.h"
#include "sim/errors.h"

namespace ms {
namespace {

// The bytes np.save writes: magic, version, header length, the dict padded with spaces to a multiple of 64
// and ending in '\n', then the data.
std::string npy(const std::string& descr, const std::string& shape, const std::string& data,
                bool fortran = false, int major = 1) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }";
  const size_t pre = major == 1 ? 10 : 12;
  while ((pre + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += char(major);
  out += char(0);
  const size_t n = dict.size();
  out += char(n & 255);
  out += char((n >> 8) & 255);
  if (major != 1) out += std::string(2, '\0');
  return out + dict + data;
}

template <class T>
std::string raw(std::initializer_list<T> v) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(&s[0], v.begin(), s.size());
  return s;
}

std::string tmpFile(const std::string& name, const std::string& bytes) {
  const std::string path = testing::TempDir() + "ms_emb_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

template <class F>
std::string errorOf(F f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Npy, HeaderAsNumpyWritesIt) {
  const std::string b = npy("<f4", "(3, 2)", raw<float>({1, 2, 3, 4, 5, 6}));
  const NpyHeader h = parseNpyHeader(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  EXPECT_EQ(h.kind, 'f');
  EXPECT_EQ(h.itemsize, 4);
  ASSERT_EQ(h.shape.size(), 2u);
  EXPECT_EQ(h.shape[0], 3);
  EXPECT_EQ(h.shape[1], 2);
  EXPECT_EQ(h.data_offset % 64, 0u);
  EXPECT_EQ(h.count, 6u);
  const std::string b2 = npy("<i8", "(4,)", raw<int64_t>({0, 1, 2, 3}), false, 2);
  const NpyHeader h2 = parseNpyHeader(reinterpret_cast<const uint8_t*>(b2.data()), b2.size());
  EXPECT_EQ(h2.kind, 'i');
  EXPECT_EQ(h2.itemsize, 8);
  EXPECT_EQ(h2.shape, std::vector<int64_t>{4});
}

TEST(Npy, ReadsFloat32AndFloat64Matrices) {
  const Mat a =
      readMatrixFile("--embeddings", tmpFile("a.npy", npy("<f4", "(3, 2)", raw<float>({1, 2, 3, 4, 5, 6}))));
  ASSERT_EQ(a.rows(), 3);
  ASSERT_EQ(a.cols(), 2);
  EXPECT_EQ(a(0, 1), 2);  // C order: row 0 is 1, 2
  EXPECT_EQ(a(2, 0), 5);
  const Mat b = readMatrixFile("--weights",
                               tmpFile("b.npy", npy("<f8", "(2, 3)", raw<double>({.5, 0, 0, 0, 0, -1.25}))));
  EXPECT_EQ(b(1, 2), -1.25);
}

TEST(Npy, ReadsIntegerLabelsAndTheSplitColumn) {
  LabelData l =
      readLabelsFile("--labels", tmpFile("l.npy", npy("<i4", "(3,)", raw<int32_t>({2, 0, 1}))), false);
  EXPECT_EQ(l.labels, (std::vector<int>{2, 0, 1}));
  l = readLabelsFile("--labels", tmpFile("l8.npy", npy("|u1", "(3, 1)", std::string("\x01\x00\x03", 3))),
                     false);
  EXPECT_EQ(l.labels, (std::vector<int>{1, 0, 3}));
  l = readLabelsFile("--labels", tmpFile("ls.npy", npy("<i8", "(2, 2)", raw<int64_t>({4, 0, 5, 1}))), true);
  EXPECT_EQ(l.labels, (std::vector<int>{4, 5}));
  EXPECT_EQ(l.is_test, (std::vector<uint8_t>{0, 1}));
}

TEST(Csv, EmbeddingsAndLabelsWithHeaderAndSplit) {
  const Mat a = readMatrixFile("--embeddings", tmpFile("e.csv", "e1,e2\n1,2\n3.5,-4\n\n"));
  ASSERT_EQ(a.rows(), 2);
  EXPECT_EQ(a(1, 1), -4);
  const Mat s = readMatrixFile("--embeddings", tmpFile("e.txt", "# np.savetxt\n1.0 2.0\n3.0 4.0\n"));
  EXPECT_EQ(s(1, 0), 3);
  const LabelData l =
      readLabelsFile("--labels", tmpFile("l.csv", "label,split\n0,train\n1,test\n2,0\n1,1\n"), true);
  EXPECT_EQ(l.labels, (std::vector<int>{0, 1, 2, 1}));
  EXPECT_EQ(l.is_test, (std::vector<uint8_t>{0, 1, 0, 1}));
}

TEST(External, SplitsTrainAndTestAndHoldsOutTestOnlyClasses) {
  const std::string e = tmpFile("x.csv", "1,0\n0,1\n-1,0\n0,-1\n1,1\n");
  const std::string l = tmpFile("xl.csv", "0,0\n1,0\n2,0\n0,1\n3,1\n");
  const ExternalData x = loadExternalData(e, l, "", true);
  EXPECT_EQ(x.K, 3);
  EXPECT_EQ(x.K_all, 4);
  EXPECT_EQ(x.train.rows(), 3);
  EXPECT_EQ(x.test.rows(), 2);
  EXPECT_TRUE(x.has_test);
  EXPECT_EQ(x.test_labels, (std::vector<int>{0, 3}));
  EXPECT_EQ(x.test(0, 1), -1);
}

// Every bad file: one line naming the option and the file, and what is wrong.
TEST(External, BadFilesSayWhatIsWrong) {
  const std::string good = tmpFile("g.npy", npy("<f4", "(2, 2)", raw<float>({1, 0, 0, 1})));
  const std::string lab = tmpFile("gl.npy", npy("<i4", "(2,)", raw<int32_t>({0, 1})));
  struct Case {
    const char* name;
    std::string emb, labels, weights, want;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<Case> cases = {
      {"rows", good, tmpFile("l3.npy", npy("<i4", "(3,)", raw<int32_t>({0, 1, 1}))), "",
       "3 labels for the 2 rows"},
      {"nan", tmpFile("nan.npy", npy("<f4", "(2, 2)", raw<float>({1, nan, 0, 1}))), lab, "", "NaN"},
      {"inf", tmpFile("inf.csv", "1,0\n0,inf\n"), lab, "", "infinite"},
      {"dtype", tmpFile("i.npy", npy("<i4", "(2, 2)", raw<int32_t>({1, 0, 0, 1}))), lab, "",
       "float32 or float64"},
      {"complex", tmpFile("c.npy", npy("<c8", "(2, 2)", std::string(32, '\0'))), lab, "", "not allowed"},
      {"fortran", tmpFile("f.npy", npy("<f4", "(2, 2)", raw<float>({1, 0, 0, 1}), true)), lab, "",
       "Fortran order"},
      {"big", tmpFile("be.npy", npy(">f4", "(2, 2)", std::string(16, '\0'))), lab, "", "big-endian"},
      {"truncated", tmpFile("t.npy", npy("<f4", "(2, 2)", raw<float>({1, 0, 0}))), lab, "", "truncated data"},
      {"extra", tmpFile("x.npy", npy("<f4", "(2, 2)", raw<float>({1, 0, 0, 1, 7}))), lab, "",
       "more than shape"},
      {"header", tmpFile("h.npy", std::string("\x93NUMPY\x01\x00\x08\x00{'x': 1}", 18)), lab, "",
       "bad .npy header"},
      {"magic", tmpFile("m.npy", "hello world, not numpy"), lab, "", "not a .npy file"},
      {"1-D", tmpFile("v.npy", npy("<f4", "(2,)", raw<float>({1, 0}))), lab, "", "is not (n, d)"},
      {"d>4096", tmpFile("w.npy", npy("<f4", "(1, 4097)", std::string(4 * 4097, '\0'))), lab, "",
       "more than 4096"},
      {"n=0", tmpFile("z.npy", npy("<f4", "(0, 2)", "")), lab, "", "n = 0"},
      {"negative", good, tmpFile("neg.csv", "0\n-1\n"), "", "negative"},
      {"float labels", good, tmpFile("fl.npy", npy("<f4", "(2,)", raw<float>({0, 1}))), "",
       "must be integers"},
      {"weights d", good, lab, tmpFile("w3.npy", npy("<f4", "(2, 3)", std::string(24, '\0'))), "d = 3"},
      {"label >= K", good, tmpFile("l5.csv", "0\n5\n"), tmpFile("w2.csv", "1,0\n0,1\n"),
       "not a class of --weights"},
      {"csv columns", tmpFile("cc.csv", "1,0\n0\n"), lab, "", "line 2 has 1 columns"},
      {"one class", good, tmpFile("one.csv", "0\n0\n"), "", "one class only"},
      {"missing", testing::TempDir() + "/no/such.npy", lab, "", "cannot be read"},
      {"folder", testing::TempDir(), lab, "", "not a regular file"},
  };
  for (const Case& c : cases) {
    const std::string msg = errorOf([&] { loadExternalData(c.emb, c.labels, c.weights, false); });
    EXPECT_NE(msg.find(c.want), std::string::npos) << c.name << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name;
    EXPECT_TRUE(msg.rfind("--embeddings '", 0) == 0 || msg.rfind("--labels '", 0) == 0 ||
                msg.rfind("--weights '", 0) == 0)
        << c.name << ": " << msg;
  }
}

// The parser never reads outside the bytes it is given: every prefix of a good file is rejected cleanly.
TEST(Npy, EveryPrefixIsRejectedCleanly) {
  // (a scalar, shape (), was the fuzzer's first finding: its truncated data passed)
  for (const std::string& b :
       {npy("<f8", "(2, 2)", raw<double>({1, 2, 3, 4})), npy("<f8", "()", raw<double>({1}))})
    for (size_t n = 0; n < b.size(); ++n) {
      const std::string cut = b.substr(0, n);
      EXPECT_NE(errorOf([&] { parseNpyHeader(reinterpret_cast<const uint8_t*>(cut.data()), cut.size()); }),
                "")
          << n;
    }
}

}  // namespace
}  // namespace ms
