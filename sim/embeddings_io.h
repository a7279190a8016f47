// Readers for embeddings, labels and class weights made elsewhere (`--embeddings/--labels/--weights`):
// NumPy .npy files (format versions 1-3; float32/float64 matrices, int32/int64/uint8 labels; little-endian,
// C order) and plain CSV. The .npy header parser reads only bytes it was given and bounds every number, so
// it is safe on any input (tests/fuzz/fuzz_npy.cpp). Every problem throws UserError as one line naming the
// option, the file and what is wrong; nothing here keeps state between calls.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/loss.h"

namespace ms {

inline constexpr int kMaxExternalDim = 4096;  // d of embeddings and weights

// What a .npy header says. `kind` is 'f' (float), 'i' (signed int) or 'u' (unsigned int); itemsize in bytes.
struct NpyHeader {
  char kind = 'f';
  int itemsize = 4;
  std::vector<int64_t> shape;  // () for a scalar
  size_t data_offset = 0;      // where the array's bytes start
  size_t count = 0;            // product of shape (elements)
};

// Parses the header of the .npy bytes [data, data + size) and checks that the data that follows holds
// exactly `count` items. Throws UserError with the reason alone (no option or file name): bad magic, an
// unknown version, a header that is not the dict NumPy writes, big-endian or Fortran order, a dtype other
// than float32/float64/int8..int64/uint8, a shape with a negative or overflowing size, truncated or extra
// data.
NpyHeader parseNpyHeader(const uint8_t* data, size_t size);

// A shape as NumPy prints it: "(3, 2)", "(4,)".
std::string npyShapeText(const std::vector<int64_t>& shape);
// Text from a file or a path fit for a one-line message: at most `max` bytes, control characters as '?'.
std::string messageText(const std::string& s, size_t max = 200);

// A numeric table as read: (rows, cols) row-major doubles.
struct Table {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;
};

// Embeddings or weights: a (n,d) matrix of finite numbers, 1 <= d <= kMaxExternalDim, n >= 1. `key` is the
// option (e.g. "--embeddings") the messages name. A .npy must be float32 or float64; CSV may start with one
// header line (its first field not a number).
Mat readMatrixFile(const std::string& key, const std::string& path);

// Labels (n) >= 0, and with split_column each row's split (1 = test): .npy (n) or (n,1), with split (n,2),
// int32/int64/uint8; CSV one integer per line, with split a second column 0/1 or train/test.
struct LabelData {
  std::vector<int> labels;
  std::vector<uint8_t> is_test;  // (n); all 0 without split_column
};
LabelData readLabelsFile(const std::string& key, const std::string& path, bool split_column);

// Everything an external run needs, checked against each other.
struct ExternalData {
  Mat train, test;                             // (n_train,d), (n_test,d) in file order
  std::vector<int> train_labels, test_labels;  //
  std::vector<int> order;                      // file row of each train then test row
  Mat weights;                                 // (K,d) as given, or (0,0): class means are used
  int K = 0;                                   // trained classes: weight rows, else 1 + max training label
  int K_all = 0;                               // K and the labels only the test split has (held out)
  int dim = 0;
  bool has_test = false;
};
// Reads and cross-checks the files: rows of embeddings vs labels, weights' d vs embeddings' d, labels < K
// (with weights), at least two classes, every trained class with training rows.
ExternalData loadExternalData(const std::string& embeddings, const std::string& labels,
                              const std::string& weights, bool split_column);

}  // namespace ms
