// Fuzz target: the .npy reader of `--embeddings/--labels/--weights` (sim/embeddings_io.h). The input is the
// .npy file itself (seed corpus corpus/fuzz_npy/: small files as np.save writes them, and a few broken ones).
// The header parser must stay inside the bytes it is given and either describe data that is exactly there or
// reject the file in one short line; the matrix and label readers built on it likewise.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "sim/embeddings_io.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ms;
  fuzz::expectOnlyUserErrors(
      [&] {
        const NpyHeader h = parseNpyHeader(data, size);
        fuzz::check(h.itemsize == 1 || h.itemsize == 2 || h.itemsize == 4 || h.itemsize == 8, "itemsize");
        fuzz::check(h.kind == 'f' || h.kind == 'i' || h.kind == 'u', "kind");
        fuzz::check(h.data_offset <= size && h.count * size_t(h.itemsize) == size - h.data_offset,
                    "the data is exactly the shape's");
      },
      fuzz::Messages::Strict, 400);
  const std::string path = fuzz::tempDir() + "/in.npy";
  fuzz::writeFile(path, data, size);
  fuzz::expectOnlyUserErrors(
      [&] {
        const Mat m = readMatrixFile("--embeddings", path);
        fuzz::check(m.rows() >= 1 && m.cols() >= 1 && m.cols() <= kMaxExternalDim && m.allFinite(), "matrix");
      },
      fuzz::Messages::Strict, path.size() + 400);
  for (bool split : {false, true})
    fuzz::expectOnlyUserErrors(
        [&] {
          const LabelData l = readLabelsFile("--labels", path, split);
          fuzz::check(!l.labels.empty() && l.labels.size() == l.is_test.size(), "labels");
          for (size_t i = 0; i < l.labels.size(); ++i)
            fuzz::check(l.labels[i] >= 0 && l.is_test[i] <= 1 && (split || l.is_test[i] == 0),
                        "label values");
        },
        fuzz::Messages::Strict, path.size() + 400);
  return 0;
}
