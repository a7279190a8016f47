// Readers for embeddings made elsewhere (see embeddings_io.h): reading a file, CSV, matrices and labels from
// .npy (the header parser is embeddings_io_npy.cpp) or CSV, and the checks between the three files.
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

std::string shortPath(const std::string& s) {
  return messageText(s);
}

std::string prefix(const std::string& key, const std::string& path) {
  return key + " '" + shortPath(path) + "': ";
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
    if (h.shape.size() != 2) throw UserError(pre + "shape " + npyShapeText(h.shape) + " is not (n, d)");
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
                          ": '" + messageText(r.fields[j], 40) + "' is not a number");
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
      throw UserError(pre + "shape " + npyShapeText(h.shape) + " is not " +
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
        throw UserError(at + "label '" + messageText(r.fields[0], 40) + "' is not an integer");
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
