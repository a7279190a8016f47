// Datasets: seeded and reproducible, the sizes, split, imbalance, label noise and held-out classes the config
// asks for, standardised inputs, CSV parsing and its errors, and Fashion-MNIST (read from the Debian package
// when it is installed; a missing folder must name the apt command).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sim/dataset.h"
#include "sim/errors.h"

namespace ms {
namespace {

std::string errorOf(const Config& c) {
  try {
    makeDataset(c);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Dataset, SameSeedSameData) {
  for (const char* name : {"blobs", "spirals", "rings", "moons", "xor", "checkerboard"}) {
    Config c;
    c.dataset = name;
    c.seed = 11;
    const Dataset a = makeDataset(c), b = makeDataset(c);
    EXPECT_TRUE(a.X_train == b.X_train) << name;
    EXPECT_EQ(a.y_test, b.y_test) << name;
    c.seed = 12;
    const Dataset e = makeDataset(c);
    EXPECT_FALSE(a.X_train.rows() == e.X_train.rows() && a.X_train == e.X_train) << name;
  }
}

TEST(Dataset, SizesAndSplit) {
  Config c;
  c.dataset = "spirals";
  c.classes = 4;
  c.samples = 100;
  c.test_fraction = 0.25;
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.K, 4);
  EXPECT_EQ(d.P, 2);
  EXPECT_EQ(d.X_train.rows(), 4 * 75);
  EXPECT_EQ(d.X_test.rows(), 4 * 25);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(d.class_counts[k], 75);
}

TEST(Dataset, BlobsInManyDimensionsAreStandardised) {
  Config c;
  c.input_dim = 7;
  c.classes = 3;
  c.samples = 400;
  const Dataset d = makeDataset(c);
  ASSERT_EQ(d.P, 7);
  const Eigen::MatrixXd X = d.X_train.cast<double>();
  const Eigen::RowVectorXd mean = X.colwise().mean();
  for (int p = 0; p < 7; ++p) {
    EXPECT_NEAR(mean(p), 0.0, 1e-5);
    EXPECT_NEAR((X.col(p).array() - mean(p)).square().mean(), 1.0, 1e-4);
  }
}

TEST(Dataset, ImbalanceRatio) {
  Config c;
  c.classes = 5;
  c.samples = 200;
  c.imbalance = 10;
  c.test_fraction = 0;
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.class_counts[0], 200);
  EXPECT_EQ(d.class_counts[4], 20);
  EXPECT_GT(d.class_counts[1], d.class_counts[2]);
  const std::vector<double> w = inverseFrequencyWeights(d);
  EXPECT_NEAR(w[4] / w[0], 10.0, 1e-12);
  double s = 0;
  for (double v : w) s += v;
  EXPECT_NEAR(s, 5.0, 1e-12);
}

TEST(Dataset, LabelNoiseFlipsAboutTheFractionOfTrainingLabelsOnly) {
  Config c;
  c.classes = 4;
  c.samples = 2000;
  Config clean = c;
  c.label_noise = 0.3;
  const Dataset a = makeDataset(clean), b = makeDataset(c);
  ASSERT_EQ(a.y_train.size(), b.y_train.size());
  int flipped = 0;
  for (size_t i = 0; i < a.y_train.size(); ++i) flipped += a.y_train[i] != b.y_train[i];
  EXPECT_NEAR(double(flipped) / a.y_train.size(), 0.3, 0.03);
  EXPECT_EQ(a.y_test, b.y_test);
}

TEST(Dataset, HeldOutClassesOnlyInTest) {
  Config c;
  c.classes = 5;
  c.holdout_classes = {1, 3};
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.K, 3);
  EXPECT_EQ(d.K_all, 5);
  EXPECT_EQ(d.holdout, (std::vector<int>{3, 4}));
  for (int y : d.y_train) EXPECT_LT(y, 3);
  std::set<int> seen(d.y_test.begin(), d.y_test.end());
  EXPECT_TRUE(seen.count(3) && seen.count(4));
  EXPECT_EQ(d.class_names[3], "1");
  c.holdout_classes = {7};
  EXPECT_NE(errorOf(c).find("holdout_classes"), std::string::npos);
  c.holdout_classes = {0, 1, 2, 3};
  EXPECT_NE(errorOf(c).find("at least 2"), std::string::npos);
}

TEST(Dataset, XorWithTwoClassesIsTheClassicXor) {
  Config c;
  c.dataset = "xor";
  c.classes = 2;
  c.noise = 0;
  c.samples = 400;
  c.test_fraction = 0;
  const Dataset d = makeDataset(c);
  // Standardisation keeps the signs (the board is symmetric about 0): class = [x0 * x1 < 0].
  int agree = 0;
  for (Eigen::Index i = 0; i < d.X_train.rows(); ++i)
    agree += (d.X_train(i, 0) * d.X_train(i, 1) < 0) == (d.y_train[i] == 1);
  EXPECT_GT(agree, 0.97 * d.X_train.rows());
}

TEST(Dataset, Csv) {
  const std::string path = testing::TempDir() + "ms_test.csv";
  {
    std::ofstream f(path);
    f << "x1,x2,x3,label\n";
    for (int i = 0; i < 40; ++i) f << i << "," << -i << "," << i * 0.5 << "," << i % 3 << "\n";
  }
  Config c;
  c.dataset = "csv:" + path;
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.P, 3);
  EXPECT_EQ(d.K, 3);
  EXPECT_EQ(d.X_train.rows() + d.X_test.rows(), 40);
  {
    std::ofstream f(path);
    f << "x1,x2,label\n1,2,0\n1,oops,1\n";
  }
  EXPECT_NE(errorOf(c).find("oops"), std::string::npos);
  {
    std::ofstream f(path);
    f << "a,b,label\n1,2,0\n";
  }
  EXPECT_NE(errorOf(c).find("header"), std::string::npos);
  std::remove(path.c_str());
  EXPECT_NE(errorOf(c).find("cannot open"), std::string::npos);
}

// Writes text as the CSV at path and returns makeDataset's message ("" when it loads).
std::string csvError(const std::string& path, const std::string& text) {
  {
    std::ofstream f(path, std::ios::binary);
    f << text;
  }
  Config c;
  c.dataset = "csv:" + path;
  return errorOf(c);
}

TEST(Dataset, CsvMessageShowsAtMost40CharactersOfAToken) {
  const std::string path = testing::TempDir() + "ms_test_long.csv";
  const std::string huge(10'000'000, '7');
  for (const std::string& text : {"x1,label\n1,0\n" + huge + "x,1\n",      // a 10 MB feature
                                  "x1,label\n1,0\n2," + huge + ".5\n",     // a 10 MB label
                                  "x1,label\n1,0\n2,1e308" + huge + "\n",  // a 10 MB label that parses
                                  "x1,x2" + huge + ",label\n1,2,0\n"}) {   // a 10 MB header
    const std::string e = csvError(path, text);
    EXPECT_LT(e.size(), path.size() + 200) << e.substr(0, 300);
    EXPECT_NE(e.find(" characters)"), std::string::npos) << e.substr(0, 300);
    EXPECT_EQ(e.find('\n'), std::string::npos);
  }
  // A short token is shown whole, control bytes as '?'.
  const std::string e = csvError(path, "x1,label\n1,0\n1\x1b[2J,1\n");
  EXPECT_NE(e.find("line 3: '1?[2J' is not a finite number"), std::string::npos) << e;
  std::remove(path.c_str());
}

TEST(Dataset, CsvLabelGapIsNamed) {
  const std::string path = testing::TempDir() + "ms_test_gap.csv";
  const std::string e = csvError(path, "x1,label\n1,0\n2,0\n3,7\n4,7\n5,7\n");
  EXPECT_NE(e.find("no row with label 1..6"), std::string::npos) << e;
  EXPECT_EQ(e.find("no training samples"), std::string::npos) << e;
  const std::string e2 = csvError(path, "x1,label\n1,0\n2,2\n3,4\n4,4\n5,6\n");
  EXPECT_NE(e2.find("no row with label 1, 3, 5"), std::string::npos) << e2;
  std::remove(path.c_str());
}

TEST(Dataset, CsvAbsurdFeatureMagnitudeIsRejectedAndLargeOnesStandardised) {
  const std::string path = testing::TempDir() + "ms_test_big.csv";
  const std::string e = csvError(path, "x1,x2,label\n1,2,0\n1,1e308,1\n2,3,0\n4,5,1\n");
  EXPECT_NE(e.find("line 3, column x2: '1e308' is too large (allowed: |x| <= 1e30"), std::string::npos) << e;
  // Up to 1e30 the features load and standardise to finite values of unit variance.
  std::string text = "x1,x2,label\n";
  for (int i = 0; i < 40; ++i)
    text += std::to_string(i) + "e28," + std::to_string(i % 5) + "," + std::to_string(i % 2) + "\n";
  ASSERT_EQ(csvError(path, text), "");
  Config c;
  c.dataset = "csv:" + path;
  c.test_fraction = 0;
  const Dataset d = makeDataset(c);
  ASSERT_TRUE(d.X_train.allFinite());
  const Eigen::ArrayXd x = d.X_train.col(0).cast<double>().array();
  EXPECT_NEAR((x - x.mean()).square().mean(), 1.0, 1e-4);
  std::remove(path.c_str());
}

TEST(Dataset, CsvTrailingCommaByteOrderMarkAndTabs) {
  const std::string path = testing::TempDir() + "ms_test_fmt.csv";
  EXPECT_EQ(csvError(path, "\xEF\xBB\xBFx1,\tx2 ,label\r\n1,\t2,0\r\n3,4 ,1\r\n5,6,0\r\n7,8,1\r\n"), "");
  const std::string e = csvError(path, "x1,label\n1,0,\n2,1\n3,0\n4,1\n");
  EXPECT_NE(e.find("line 2 has 3 columns, the header has 2"), std::string::npos) << e;
  std::remove(path.c_str());
}

// An idx file: 4-byte big-endian words, then the body; written gzip-compressed unless plain.
void writeIdx(const std::string& path, const std::vector<uint32_t>& head, const std::string& body,
              size_t keepCompressedBytes = 0) {
  std::string bytes;
  for (uint32_t w : head)
    for (int s = 24; s >= 0; s -= 8) bytes += char((w >> s) & 0xFF);
  bytes += body;
  gzFile g = gzopen(path.c_str(), "wb");
  gzwrite(g, bytes.data(), unsigned(bytes.size()));
  gzclose(g);
  if (keepCompressedBytes > 0) truncate(path.c_str(), off_t(keepCompressedBytes));
}

// A Fashion-MNIST folder with n images per split, then one file replaced by a malformed one.
struct FashionDir {
  std::string dir;
  explicit FashionDir(const std::string& name, int n = 20) : dir(testing::TempDir() + name) {
    mkdir(dir.c_str(), 0755);
    std::string lab;
    for (int i = 0; i < n; ++i) lab += char(i % 10);
    for (const char* split : {"train", "t10k"}) {
      rmdir(labels(split).c_str());  // the "a folder" case below
      writeIdx(images(split), {2051, uint32_t(n), 28, 28}, std::string(size_t(n) * 784, '\x40'));
      writeIdx(labels(split), {2049, uint32_t(n)}, lab);
    }
  }
  std::string images(const std::string& split) const { return dir + "/" + split + "-images-idx3-ubyte.gz"; }
  std::string labels(const std::string& split) const { return dir + "/" + split + "-labels-idx1-ubyte.gz"; }
  std::string error() const {
    Config c;
    c.dataset = "fashion-mnist";
    c.data_dir = dir;
    return errorOf(c);
  }
};

TEST(Dataset, FashionMnistMalformedFilesGiveOneClearLine) {
  FashionDir fd("ms_fm_bad");
  ASSERT_EQ(fd.error(), "");  // the well-formed folder loads
  struct Case {
    const char* what;
    std::function<void()> make;
    std::string expect;
  };
  std::string img(20 * 784, '\0');  // noisy pixels, so that the compressed file is not tiny
  for (size_t i = 0; i < img.size(); ++i) img[i] = char((i * 7919) % 251);
  const std::vector<Case> cases = {
      {"wrong magic",
       [&] {
         writeIdx(fd.images("train"), {2049, 20, 28, 28}, img);
       },
       "is not an idx3 file of 28x28 images (magic number 0x00000801, allowed: 0x00000803)"},
      {"absurd count",
       [&] {
         writeIdx(fd.images("train"), {2051, 0xFFFFFFFFu, 28, 28}, img);
       },
       "declares 4294967295 images (allowed: 1..600000)"},
      {"absurd size",
       [&] {
         writeIdx(fd.images("train"), {2051, 20, 65536, 65536}, img);
       },
       "holds images of 65536x65536 pixels (allowed: 28x28)"},
      {"truncated body",
       [&] {
         writeIdx(fd.images("t10k"), {2051, 20, 28, 28}, img.substr(0, 5000));
       },
       "is truncated: its header declares 20 images (15680 bytes) but it holds 5000"},
      {"truncated header", [&] { writeIdx(fd.labels("train"), {2049}, ""); },
       "is truncated: 4 bytes, shorter than the 8-byte header of an idx1 label file"},
      {"truncated gzip",
       [&] {
         writeIdx(fd.images("train"), {2051, 20, 28, 28}, img, 60);
       },
       "is corrupt or truncated (gzip: unexpected end of file)"},
      {"trailing data",
       [&] {
         writeIdx(fd.images("train"), {2051, 20, 28, 28}, img + "xyz");
       },
       "holds more than the 20 images its header declares"},
      {"count mismatch",
       [&] {
         writeIdx(fd.labels("train"), {2049, 19}, std::string(19, '\1'));
       },
       "holds 20 images but"},
      {"label above 9",
       [&] {
         writeIdx(fd.labels("train"), {2049, 20}, std::string(19, '\1') + "\x0c");
       },
       "item 19 is label 12 (allowed: 0..9)"},
      {"a folder", [&] { std::remove(fd.labels("t10k").c_str()), mkdir(fd.labels("t10k").c_str(), 0755); },
       "cannot read " + fd.labels("t10k") + " (Is a directory)"},
  };
  for (const Case& c : cases) {
    FashionDir fresh("ms_fm_bad");
    c.make();
    const std::string e = fresh.error();
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.what << ": " << e;
    EXPECT_NE(e.find("apt-get install dataset-fashion-mnist"), std::string::npos) << c.what << ": " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << c.what;
    EXPECT_LT(e.size(), 500u) << c.what << ": " << e;
  }
  rmdir(fd.labels("t10k").c_str());
  for (const char* split : {"train", "t10k"}) {
    std::remove(fd.images(split).c_str());
    std::remove(fd.labels(split).c_str());
  }
  rmdir(fd.dir.c_str());
}

TEST(Dataset, UnknownName) {
  Config c;
  c.dataset = "mnist";
  const std::string e = errorOf(c);
  EXPECT_NE(e.find("mnist"), std::string::npos);
  EXPECT_NE(e.find("spirals"), std::string::npos);
}

TEST(Dataset, FashionMnistMissingNamesTheAptCommand) {
  Config c;
  c.dataset = "fashion-mnist";
  c.data_dir = "/nonexistent/fmnist";
  const std::string e = errorOf(c);
  EXPECT_NE(e.find("apt-get install dataset-fashion-mnist"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(Dataset, FashionMnistCorruptFile) {
  const std::string dir = testing::TempDir() + "ms_fm_corrupt";
  mkdir(dir.c_str(), 0755);
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    std::ofstream o(dir + "/" + f);
    o << "this is not gzip";  // zlib reads it as plain data: the idx header check must catch it
  }
  Config c;
  c.dataset = "fashion-mnist";
  c.data_dir = dir;
  const std::string e = errorOf(c);
  EXPECT_NE(e.find("idx3"), std::string::npos) << e;
  EXPECT_NE(e.find("apt-get install"), std::string::npos) << e;
}

TEST(Dataset, FashionMnistFromTheDebianPackage) {
  Config c;
  c.dataset = "fashion-mnist";
  if (!std::ifstream(c.data_dir + "/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  c.samples = 50;
  c.holdout_classes = {8, 9};
  const Dataset d = makeDataset(c);
  EXPECT_EQ(d.P, 784);
  EXPECT_EQ(d.K, 8);
  EXPECT_EQ(d.X_train.rows(), 8 * 50);
  EXPECT_EQ(d.X_test.rows(), 10 * 50);
  EXPECT_EQ(d.class_names[8], "Bag");
  const double mean = d.X_train.cast<double>().mean();
  EXPECT_NEAR(mean, 0.0, 1e-4);
  EXPECT_NEAR((d.X_train.cast<double>().array() - mean).square().mean(), 1.0, 1e-3);
}

}  // namespace
}  // namespace ms
