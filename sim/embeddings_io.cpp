// Readers for embeddings made elsewhere (see embeddings_io.h). The .npy header is the Python dict literal
// NumPy writes ({'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }), parsed by a small bounded
// scanner rather than trusted: every index is checked against the header's length, numbers are limited to
// 18 digits, and the data's size is compared with the shape before anything is allocated, so a file that
// lies about its shape costs nothing.
#include "sim/embeddings_io.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include <sys/stat.h>

#include "sim/errors.h"

namespace ms {

namespace {

// Text from a file or a path, fit for a one-line message: at most `max` bytes, control characters as '?'.
std::string clean(const std::string& s, size_t max = 200) {
  std::string t = s.size() <= max ? s : s.substr(0, max) + "...";
  for (char& c : t)
    if (static_cast<unsigned char>(c) < 32 || c == 127) c = '?';
  return t;
}

std::string shortPath(const std::string& s) {
  return clean(s);
}

std::string prefix(const std::string& key, const std::string& path) {
  return key + " '" + shortPath(path) + "': ";
}

// The header dict's scanner: positions are checked against end before every read.
struct Scan {
  const char* p;
  const char* end;
  void ws() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool eat(char c) {
    ws();
    if (p < end && *p == c) {
      ++p;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    if (!eat(c)) throw UserError(std::string("bad .npy header: expected ") + what);
  }
  std::string str() {
    ws();
    if (p >= end || (*p != '\'' && *p != '"')) throw UserError("bad .npy header: expected a quoted string");
    const char q = *p++;
    const char* s = p;
    while (p < end && *p != q) ++p;
    if (p >= end) throw UserError("bad .npy header: unterminated string");
    std::string out(s, size_t(p - s));
    ++p;
    return clean(out, 64);
  }
  int64_t integer() {
    ws();
    const char* s = p;
    while (p < end && *p >= '0' && *p <= '9' && p - s < 19) ++p;
    if (p == s)
      throw UserError("bad .npy header: the shape holds a value that is not a non-negative integer");
    if (p - s > 18) throw UserError("bad .npy header: a dimension of the shape is too large");
    int64_t v = 0;
    for (const char* c = s; c < p; ++c) v = v * 10 + (*c - '0');
    if (p < end && *p == 'L') ++p;  // Python 2 long
    return v;
  }
  bool word(const char* w) {
    ws();
    const size_t n = std::strlen(w);
    if (size_t(end - p) >= n && std::memcmp(p, w, n) == 0) {
      p += n;
      return true;
    }
    return false;
  }
};

void parseDescr(const std::string& d, NpyHeader& h) {
  if (d.size() < 3 || d.size() > 4 || std::strchr("<>|=", d[0]) == nullptr)
    throw UserError("dtype '" + d + "' is not allowed (float32/float64 data, integer labels)");
  const char kind = d[1];
  const std::string size_text = d.substr(2);
  const int size = size_text == "1"   ? 1
                   : size_text == "2" ? 2
                   : size_text == "4" ? 4
                   : size_text == "8" ? 8
                                      : 0;
  if ((kind != 'f' && kind != 'i' && kind != 'u') || size == 0 || (kind == 'f' && size < 4))
    throw UserError("dtype '" + d + "' is not allowed (float32/float64 data; int8..int64 or uint8 labels)");
  if (d[0] == '>' && size > 1)
    throw UserError("dtype '" + d + "' is big-endian: save it little-endian ('<')");
  h.kind = kind;
  h.itemsize = size;
}

std::string shapeText(const std::vector<int64_t>& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + (s.size() == 1 ? ",)" : ")");
}

std::vector<uint8_t> readBytes(const std::string& key, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw UserError(prefix(key, path) + "cannot be read (missing?)");
  if (!S_ISREG(st.st_mode))
    throw UserError(prefix(key, path) + "is not a regular file (a folder or device?)");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw UserError(prefix(key, path) + "cannot be read (no permission?)");
  std::vector<uint8_t> b;
  try {
    b.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {  // libstdc++ reports read errors by throwing from underflow
    throw UserError(prefix(key, path) + "cannot be read (" + e.what() + ")");
  }
  if (f.bad()) throw UserError(prefix(key, path) + "cannot be read");
  return b;
}

bool isNpy(const std::vector<uint8_t>& b, const std::string& path) {
  const bool magic = b.size() >= 6 && std::memcmp(b.data(), "\x93NUMPY", 6) == 0;
  const bool ext = path.size() >= 4 && (path.compare(path.size() - 4, 4, ".npy") == 0 ||
                                        path.compare(path.size() - 4, 4, ".NPY") == 0);
  return magic || ext;
}

// Item i of the array as a double (little-endian host; checked by the header's byte order above).
double item(const uint8_t* base, const NpyHeader& h, size_t i) {
  const uint8_t* q = base + i * size_t(h.itemsize);
  if (h.kind == 'f') {
    if (h.itemsize == 4) {
      float f;
      std::memcpy(&f, q, 4);
      return f;
    }
    double d;
    std::memcpy(&d, q, 8);
    return d;
  }
  if (h.kind == 'u') {
    uint64_t u = 0;
    std::memcpy(&u, q, size_t(h.itemsize));
    return double(u);
  }
  int64_t v = 0;
  std::memcpy(&v, q, size_t(h.itemsize));
  const int sh = 64 - 8 * h.itemsize;  // sign-extend
  if (sh > 0) v = int64_t(uint64_t(v) << sh) >> sh;
  return double(v);
}

// CSV: comma-separated (or whitespace-separated when a line has no comma, as np.savetxt writes); blank lines
// and '#' comments skipped; one header line allowed when its first field is not a number.
struct CsvRow {
  int line = 0;
  std::vector<std::string> fields;
};

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

bool parseNumber(const std::string& f, double& v) {
  if (f.empty()) return false;
  char* e = nullptr;
  v = std::strtod(f.c_str(), &e);
  return e == f.c_str() + f.size();
}

std::vector<CsvRow> readCsv(const std::vector<uint8_t>& b) {
  std::vector<CsvRow> rows;
  const std::string text(b.begin(), b.end());
  std::istringstream in(text);
  std::string line;
  int no = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++no;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    CsvRow r;
    r.line = no;
    if (t.find(',') != std::string::npos) {
      std::string f;
      std::istringstream ls(t);
      while (std::getline(ls, f, ',')) r.fields.push_back(trim(f));
      if (t.back() == ',') r.fields.push_back("");
    } else {
      std::istringstream ls(t);
      std::string f;
      while (ls >> f) r.fields.push_back(f);
    }
    double v;
    if (first && !parseNumber(r.fields[0], v)) {  // a header line
      first = false;
      continue;
    }
    first = false;
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace

NpyHeader parseNpyHeader(const uint8_t* data, size_t size) {
  if (size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0)
    throw UserError("not a .npy file (no \\x93NUMPY magic at the start)");
  const int major = data[6];
  size_t hlen = 0, off = 0;
  if (major == 1) {
    hlen = size_t(data[8]) | size_t(data[9]) << 8;
    off = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) throw UserError("truncated .npy header");
    hlen = size_t(data[8]) | size_t(data[9]) << 8 | size_t(data[10]) << 16 | size_t(data[11]) << 24;
    off = 12;
  } else {
    throw UserError(".npy format version " + std::to_string(major) + " is not known (1, 2 or 3)");
  }
  if (hlen > (size_t(1) << 20)) throw UserError("bad .npy header: longer than 1 MiB");
  if (hlen > size - off) throw UserError("truncated .npy header");
  NpyHeader h;
  h.data_offset = off + hlen;
  Scan s{reinterpret_cast<const char*>(data) + off, reinterpret_cast<const char*>(data) + off + hlen};
  bool have_descr = false, have_order = false, have_shape = false;
  s.expect('{', "'{'");
  while (!s.eat('}')) {
    const std::string key = s.str();
    s.expect(':', "':' after a key");
    if (key == "descr" && !have_descr) {
      parseDescr(s.str(), h);
      have_descr = true;
    } else if (key == "fortran_order" && !have_order) {
      if (s.word("True")) throw UserError("the array is in Fortran order: save np.ascontiguousarray(a)");
      if (!s.word("False")) throw UserError("bad .npy header: fortran_order is not True or False");
      have_order = true;
    } else if (key == "shape" && !have_shape) {
      s.expect('(', "'(' to open the shape");
      while (!s.eat(')')) {
        if (h.shape.size() >= 32) throw UserError("bad .npy header: more than 32 dimensions");
        h.shape.push_back(s.integer());
        if (!s.eat(',')) {
          s.expect(')', "',' or ')' in the shape");
          break;
        }
      }
      have_shape = true;
    } else {
      throw UserError("bad .npy header: unexpected or repeated key '" + key + "'");
    }
    if (!s.eat(',')) {
      s.expect('}', "',' or '}' in the header dict");
      break;
    }
  }
  s.ws();
  if (s.p != s.end) throw UserError("bad .npy header: text after the dict");
  if (!have_descr || !have_order || !have_shape)
    throw UserError("bad .npy header: it needs 'descr', 'fortran_order' and 'shape'");
  const size_t avail = size - h.data_offset;
  const size_t max_items = avail / size_t(h.itemsize);
  size_t count = 1;
  bool over = false;
  for (int64_t d : h.shape) {
    if (d == 0) {
      count = 0;
      over = false;
      break;
    }
    if (over || count > max_items / size_t(d))
      over = true;
    else
      count *= size_t(d);
  }
  if (over || count * size_t(h.itemsize) < avail) {
    if (over || count * size_t(h.itemsize) > avail)
      throw UserError("truncated data: shape " + shapeText(h.shape) + " needs more than the " +
                      std::to_string(avail) + " bytes the file holds");
    throw UserError("the file holds " + std::to_string(avail - count * size_t(h.itemsize)) +
                    " bytes more than shape " + shapeText(h.shape) + " needs");
  }
  h.count = count;
  return h;
}

Mat readMatrixFile(const std::string& key, const std::string& path) {
  const std::vector<uint8_t> b = readBytes(key, path);
  const std::string pre = prefix(key, path);
  int64_t n = 0, d = 0;
  std::vector<double> v;
  if (isNpy(b, path)) {
    NpyHeader h;
    try {
      h = parseNpyHeader(b.data(), b.size());
    } catch (const UserError& e) {
      throw UserError(pre + e.what());
    }
    if (h.kind != 'f')
      throw UserError(pre + "dtype " + (h.kind == 'u' ? "uint" : "int") + std::to_string(8 * h.itemsize) +
                      ": must be float32 or float64");
    if (h.shape.size() != 2) throw UserError(pre + "shape " + shapeText(h.shape) + " is not (n, d)");
    n = h.shape[0];
    d = h.shape[1];
    if (n > 0 && d > 0 && d <= kMaxExternalDim) {
      v.resize(h.count);
      for (size_t i = 0; i < h.count; ++i) v[i] = item(b.data() + h.data_offset, h, i);
    }
  } else {
    const std::vector<CsvRow> rows = readCsv(b);
    n = int64_t(rows.size());
    d = n ? int64_t(rows[0].fields.size()) : 0;
    if (d > kMaxExternalDim) throw UserError(pre + "d = " + std::to_string(d) + " is more than 4096");
    v.reserve(size_t(n * d));
    for (const CsvRow& r : rows) {
      if (int64_t(r.fields.size()) != d)
        throw UserError(pre + "line " + std::to_string(r.line) + " has " + std::to_string(r.fields.size()) +
                        " columns, the first row " + std::to_string(d));
      for (size_t j = 0; j < r.fields.size(); ++j) {
        double x;
        if (!parseNumber(r.fields[j], x))
          throw UserError(pre + "line " + std::to_string(r.line) + " column " + std::to_string(j + 1) +
                          ": '" + clean(r.fields[j], 40) + "' is not a number");
        v.push_back(x);
      }
    }
  }
  if (n == 0) throw UserError(pre + "no rows (n = 0)");
  if (d == 0) throw UserError(pre + "no columns (d = 0)");
  if (d > kMaxExternalDim) throw UserError(pre + "d = " + std::to_string(d) + " is more than 4096");
  Mat M(n, d);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const double x = v[size_t(i * d + j)];
      if (!std::isfinite(x))
        throw UserError(pre + "row " + std::to_string(i + 1) + " column " + std::to_string(j + 1) + " is " +
                        (std::isnan(x) ? "NaN" : "infinite") + ": every value must be finite");
      M(i, j) = x;
    }
  return M;
}

LabelData readLabelsFile(const std::string& key, const std::string& path, bool split_column) {
  const std::vector<uint8_t> b = readBytes(key, path);
  const std::string pre = prefix(key, path);
  const int64_t want_cols = split_column ? 2 : 1;
  std::vector<double> lab, split;  // (n) labels, (n) split values
  std::vector<int> line_of;        // CSV line of each row, for messages
  if (isNpy(b, path)) {
    NpyHeader h;
    try {
      h = parseNpyHeader(b.data(), b.size());
    } catch (const UserError& e) {
      throw UserError(pre + e.what());
    }
    if (h.kind == 'f')
      throw UserError(pre + "dtype float" + std::to_string(8 * h.itemsize) +
                      ": labels must be integers (int32, int64 or uint8)");
    const bool ok = split_column ? (h.shape.size() == 2 && h.shape[1] == 2)
                                 : (h.shape.size() == 1 || (h.shape.size() == 2 && h.shape[1] == 1));
    if (!ok)
      throw UserError(pre + "shape " + shapeText(h.shape) + " is not " +
                      (split_column ? "(n, 2): label and split (--split-column)" : "(n,) or (n, 1)"));
    const size_t n = size_t(h.shape[0]);
    for (size_t i = 0; i < n; ++i) {
      lab.push_back(item(b.data() + h.data_offset, h, i * size_t(want_cols)));
      if (split_column) split.push_back(item(b.data() + h.data_offset, h, i * 2 + 1));
    }
  } else {
    for (const CsvRow& r : readCsv(b)) {
      const std::string at = pre + "line " + std::to_string(r.line) + ": ";
      if (int64_t(r.fields.size()) != want_cols)
        throw UserError(at + std::to_string(r.fields.size()) + " columns; " +
                        (split_column
                             ? "--split-column needs two: label, then train/test (0/1)"
                             : "one label per line (a second train/test column needs --split-column)"));
      double x;
      if (!parseNumber(r.fields[0], x))
        throw UserError(at + "label '" + clean(r.fields[0], 40) + "' is not an integer");
      lab.push_back(x);
      if (split_column) {
        std::string t = r.fields[1];
        std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        double sv = -1;
        if (t == "train")
          sv = 0;
        else if (t == "test")
          sv = 1;
        else if (!parseNumber(t, sv))
          sv = -1;
        split.push_back(sv);
      }
      line_of.push_back(r.line);
    }
  }
  LabelData out;
  for (size_t i = 0; i < lab.size(); ++i) {
    const std::string at =
        pre + (line_of.empty() ? "row " + std::to_string(i + 1) : "line " + std::to_string(line_of[i])) +
        ": ";
    const double x = lab[i];
    if (!std::isfinite(x) || x != std::floor(x))
      throw UserError(at + "label " + std::to_string(x) + " is not an integer");
    if (x < 0)
      throw UserError(at + "label " + std::to_string(int64_t(x)) + " is negative (labels are 0..K-1)");
    if (x > 1e6) throw UserError(at + "label " + std::to_string(int64_t(x)) + " is more than 1000000");
    out.labels.push_back(int(x));
    if (split_column) {
      if (split[i] != 0 && split[i] != 1)
        throw UserError(at + "the split column must be 0/1 or train/test (--split-column)");
      out.is_test.push_back(uint8_t(split[i]));
    } else {
      out.is_test.push_back(0);
    }
  }
  if (out.labels.empty()) throw UserError(pre + "no labels (n = 0)");
  return out;
}

ExternalData loadExternalData(const std::string& embeddings, const std::string& labels,
                              const std::string& weights, bool split_column) {
  if (labels.empty()) throw UserError("--embeddings needs --labels FILE (one integer label per row)");
  const Mat H = readMatrixFile("--embeddings", embeddings);
  const LabelData L = readLabelsFile("--labels", labels, split_column);
  const std::string lpre = prefix("--labels", labels);
  if (Eigen::Index(L.labels.size()) != H.rows())
    throw UserError(lpre + std::to_string(L.labels.size()) + " labels for the " + std::to_string(H.rows()) +
                    " rows of --embeddings '" + shortPath(embeddings) + "'");
  ExternalData x;
  x.dim = int(H.cols());
  int max_train = -1, max_all = -1;
  for (size_t i = 0; i < L.labels.size(); ++i) {
    max_all = std::max(max_all, L.labels[i]);
    if (!L.is_test[i]) max_train = std::max(max_train, L.labels[i]);
  }
  if (max_train < 0) throw UserError(lpre + "no training rows: every row's split is test");
  if (!weights.empty()) {
    x.weights = readMatrixFile("--weights", weights);
    if (x.weights.cols() != H.cols())
      throw UserError(prefix("--weights", weights) + "d = " + std::to_string(x.weights.cols()) +
                      ", but --embeddings '" + shortPath(embeddings) +
                      "' has d = " + std::to_string(H.cols()));
    x.K = int(x.weights.rows());
    if (max_all >= x.K)
      throw UserError(lpre + "label " + std::to_string(max_all) + " is not a class of --weights '" +
                      shortPath(weights) + "' (K = " + std::to_string(x.K) + " rows: labels 0.." +
                      std::to_string(x.K - 1) + ")");
    x.K_all = x.K;
  } else {
    x.K = max_train + 1;
    x.K_all = max_all + 1;
  }
  if (x.K < 2) throw UserError(lpre + "one class only (K = 1): at least 2 are needed");
  std::vector<int64_t> count(size_t(x.K), 0);
  for (size_t i = 0; i < L.labels.size(); ++i)
    if (!L.is_test[i] && L.labels[i] < x.K) ++count[size_t(L.labels[i])];
  if (weights.empty())
    for (int k = 0; k < x.K; ++k)
      if (count[size_t(k)] == 0)
        throw UserError(lpre + "class " + std::to_string(k) +
                        " has no training rows (without --weights every class 0..K-1 needs some: its mean "
                        "is its direction)");
  int64_t nte = 0;
  for (uint8_t t : L.is_test) nte += t;
  x.has_test = nte > 0;
  x.train.resize(H.rows() - nte, H.cols());
  x.test.resize(nte, H.cols());
  Eigen::Index a = 0, b = 0;
  for (Eigen::Index i = 0; i < H.rows(); ++i) {
    if (L.is_test[size_t(i)]) {
      x.test.row(b++) = H.row(i);
      x.test_labels.push_back(L.labels[size_t(i)]);
    } else {
      x.train.row(a++) = H.row(i);
      x.train_labels.push_back(L.labels[size_t(i)]);
    }
  }
  for (Eigen::Index i = 0; i < H.rows(); ++i)
    if (!L.is_test[size_t(i)]) x.order.push_back(int(i));
  for (Eigen::Index i = 0; i < H.rows(); ++i)
    if (L.is_test[size_t(i)]) x.order.push_back(int(i));
  return x;
}

}  // namespace ms
