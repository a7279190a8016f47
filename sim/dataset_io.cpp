// The two file readers of the datasets, kept apart from the generators because they face untrusted bytes:
// Fashion-MNIST's idx.gz files and the user's CSV. Each mistake in a file is one UserError line naming the
// file (and line), the offending value (at most 40 characters of it) and what is allowed. Both are fuzzed
// (tests/fuzz/fuzz_csv.cpp, fuzz_idx.cpp).
#include "sim/dataset_io.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "sim/errors.h"

namespace ms {

namespace {

std::string fashionHint(const std::string& dir) {
  return " (Fashion-MNIST is read from " + dir +
         "; install it with `sudo apt-get install dataset-fashion-mnist`, or point --data-dir at a folder "
         "holding train-images-idx3-ubyte.gz and friends)";
}

// One gzip file read in pieces (zlib passes a plain file through unchanged), so that an idx header is checked
// before its body is allocated: a header that declares four billion images must not allocate 3 TB.
class GzFile {
 public:
  GzFile(const std::string& path, const std::string& dir) : path_(path), dir_(dir) {
    f_ = gzopen(path.c_str(), "rb");
    if (!f_) throw UserError("dataset: cannot open " + path + fashionHint(dir));
  }
  ~GzFile() { gzclose(f_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  // Reads up to n bytes into out; fewer only at the end of the file. zlib reports a gzip stream that ends
  // early as a short read with Z_BUF_ERROR set, not as an error: that is checked here.
  size_t read(uint8_t* out, size_t n) {
    size_t got = 0;
    while (got < n) {
      const int r = gzread(f_, out + got, unsigned(std::min<size_t>(n - got, size_t(1) << 20)));
      if (r > 0) {
        got += size_t(r);
        continue;
      }
      int code = Z_OK;
      const char* msg = gzerror(f_, &code);
      if (r == 0 && code == Z_OK) break;  // the true end of the file
      std::string why = msg && *msg ? msg : "read error";
      if (why.rfind(path_ + ": ", 0) == 0) why.erase(0, path_.size() + 2);  // zlib prefixes the path
      if (code == Z_ERRNO)
        throw UserError("dataset: cannot read " + path_ + " (" + why + ")" + fashionHint(dir_));
      throw UserError("dataset: " + path_ + " is corrupt or truncated (gzip: " + why + ")" +
                      fashionHint(dir_));
    }
    return got;
  }

 private:
  gzFile f_ = nullptr;
  std::string path_, dir_;
};

uint32_t be32(const uint8_t* b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

// Ten times the 60,000 training images of Fashion-MNIST: a header declaring more is corrupt, not data.
constexpr uint32_t kMaxIdxItems = 600000;

// The body of one idx file: images (n,784) as bytes, or labels (n). The header (magic, count, 28x28) is
// checked first, the body is read in 1 MB pieces as it arrives (a lying count costs no memory), and the file
// must end exactly after the n items its header declares.
std::vector<uint8_t> readIdxFile(const std::string& path, const std::string& dir, bool images, uint32_t& n) {
  GzFile f(path, dir);
  const std::string hint = fashionHint(dir);
  const size_t headLen = images ? 16 : 8;
  const std::string kind = images ? "idx3 file of 28x28 images" : "idx1 label file";
  uint8_t head[16] = {};
  const size_t got = f.read(head, headLen);
  if (got < headLen)
    throw UserError("dataset: " + path + " is truncated: " + std::to_string(got) +
                    " bytes, shorter than the " + std::to_string(headLen) + "-byte header of an " + kind +
                    hint);
  const uint32_t magic = be32(head), want = images ? 2051 : 2049;
  if (magic != want) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " (magic number 0x%08x, allowed: 0x%08x)", unsigned(magic),
                  unsigned(want));
    throw UserError("dataset: " + path + " is not an " + kind + buf + hint);
  }
  if (images && (be32(head + 8) != 28 || be32(head + 12) != 28))
    throw UserError("dataset: " + path + " holds images of " + std::to_string(be32(head + 8)) + "x" +
                    std::to_string(be32(head + 12)) + " pixels (allowed: 28x28)" + hint);
  n = be32(head + 4);
  const std::string items = images ? " images" : " labels";
  if (n == 0 || n > kMaxIdxItems)
    throw UserError("dataset: " + path + " declares " + std::to_string(n) + items + " (allowed: 1.." +
                    std::to_string(kMaxIdxItems) + ")" + hint);
  const size_t need = size_t(n) * (images ? 784 : 1);
  std::vector<uint8_t> body;
  while (body.size() < need) {
    const size_t old = body.size();
    body.resize(std::min(need, old + (size_t(1) << 20)));
    const size_t r = f.read(body.data() + old, body.size() - old);
    if (r < body.size() - old)
      throw UserError("dataset: " + path + " is truncated: its header declares " + std::to_string(n) + items +
                      " (" + std::to_string(need) + " bytes) but it holds " + std::to_string(old + r) + hint);
  }
  uint8_t extra = 0;
  if (f.read(&extra, 1) != 0)
    throw UserError("dataset: " + path + " holds more than the " + std::to_string(n) + items +
                    " its header declares (allowed: exactly that many)" + hint);
  return body;
}

}  // namespace

// Images (n,784) as bytes and labels (n) in 0..9, both files of one split checked.
void readFashionIdx(const std::string& dir, const std::string& prefix, std::vector<uint8_t>& pix,
                    std::vector<uint8_t>& lab, int& n) {
  const std::string ip = dir + "/" + prefix + "-images-idx3-ubyte.gz";
  const std::string lp = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
  uint32_t ni = 0, nl = 0;
  pix = readIdxFile(ip, dir, true, ni);
  lab = readIdxFile(lp, dir, false, nl);
  if (ni != nl)
    throw UserError("dataset: " + ip + " holds " + std::to_string(ni) + " images but " + lp + " holds " +
                    std::to_string(nl) + " labels (allowed: one label per image)" + fashionHint(dir));
  n = int(ni);
  for (int i = 0; i < n; ++i)
    if (lab[i] > 9)
      throw UserError("dataset: " + lp + " item " + std::to_string(i) + " is label " +
                      std::to_string(lab[i]) + " (allowed: 0..9)" + fashionHint(dir));
}

// ------------------------------------------------------------------ CSV

namespace {

// Fields of one CSV line, each trimmed of spaces, tabs and a trailing '\r'; "a,b," has three fields.
std::vector<std::string> csvFields(const std::string& line) {
  std::vector<std::string> out;
  size_t begin = 0;
  for (;;) {
    const size_t comma = line.find(',', begin);
    std::string tok = line.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    const size_t a = tok.find_first_not_of(" \t\r"), b = tok.find_last_not_of(" \t\r");
    out.push_back(a == std::string::npos ? std::string() : tok.substr(a, b - a + 1));
    if (comma == std::string::npos) return out;
    begin = comma + 1;
  }
}

// "1, 3..6, 9" for a sorted list, at most 8 runs shown.
std::string runs(const std::vector<int>& v) {
  std::string s;
  int shownRuns = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (shownRuns++ == 8) return s + ", ...";
    s += (s.empty() ? "" : ", ") + std::to_string(v[i]) + (j > i ? ".." + std::to_string(v[j]) : "");
    i = j + 1;
  }
  return s;
}

// Features beyond this magnitude are rejected: they would overflow the float inputs (or their squares) and
// the first step would diverge with advice about the learning rate that does not help.
constexpr double kMaxCsvMagnitude = 1e30;

}  // namespace

CsvTable readCsvTable(const std::string& path) {
  const std::string src = "dataset: csv:" + path;
  std::ifstream in(path);
  if (!in)
    throw UserError("dataset: cannot open csv:" + path + " (expected a CSV file with header x1..xP,label)");
  std::string line;
  if (!std::getline(in, line)) throw UserError(src + " is empty (expected a header x1..xP,label)");
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a UTF-8 byte-order mark (spreadsheet exports)
  const std::vector<std::string> head = csvFields(line);
  const int P = int(head.size()) - 1;
  bool ok = P >= 1 && head.back() == "label";
  for (int p = 0; ok && p < P; ++p) ok = head[p] == "x" + std::to_string(p + 1);
  if (!ok) throw UserError(src + " header must be x1,...,xP,label (P >= 1), got " + shownValue(line));
  CsvTable r;
  r.P = P;
  std::vector<int> count(1000, 0);
  int maxLabel = -1, lineNo = 1;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
    auto at = [&] { return src + " line " + std::to_string(lineNo); };  // built only for a message
    const std::vector<std::string> tok = csvFields(line);
    if (int(tok.size()) != P + 1)
      throw UserError(at() + " has " + std::to_string(tok.size()) + " columns, the header has " +
                      std::to_string(P + 1));
    std::vector<double> v(tok.size());
    for (size_t j = 0; j < tok.size(); ++j) {
      char* end = nullptr;
      v[j] = std::strtod(tok[j].c_str(), &end);
      if (tok[j].empty() || end != tok[j].c_str() + tok[j].size() || !std::isfinite(v[j]))
        throw UserError(at() + ": " + shownValue(tok[j]) + " is not a finite number");
      if (int(j) < P && std::fabs(v[j]) > kMaxCsvMagnitude)
        throw UserError(at() + ", column x" + std::to_string(j + 1) + ": " + shownValue(tok[j]) +
                        " is too large (allowed: |x| <= 1e30; rescale that column)");
    }
    const double l = v.back();
    if (l < 0 || l > 999 || l != std::floor(l))
      throw UserError(at() + ": label " + shownValue(tok.back()) + " must be an integer in 0..999");
    maxLabel = std::max(maxLabel, int(l));
    ++count[int(l)];
    r.y.push_back(int(l));
    v.pop_back();
    r.x.push_back(std::move(v));
  }
  if (r.y.size() < 4) throw UserError(src + " has fewer than 4 rows of data");
  r.K = maxLabel + 1;
  if (r.K < 2) throw UserError(src + " needs at least 2 classes (labels 0..K-1)");
  std::vector<int> missing;
  for (int k = 0; k < r.K; ++k)
    if (count[k] == 0) missing.push_back(k);
  if (!missing.empty())
    throw UserError(src + " has labels up to " + std::to_string(maxLabel) + " but no row with label " +
                    runs(missing) +
                    " (allowed: labels 0..K-1 with every class present; renumber the labels)");
  return r;
}

}  // namespace ms
