// Fuzz target: the CSV reader (`--dataset csv:PATH`). The input is the CSV file itself, so that the seed
// corpus (corpus/fuzz_csv/) is plain CSV. A file either loads into a dataset that training can use (at
// least 2 classes, each with training rows, every input finite) or is rejected in one short line.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "sim/dataset.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ms;
  const std::string path = fuzz::tempDir() + "/in.csv";
  fuzz::writeFile(path, data, size);
  Config c;
  c.dataset = "csv:" + path;
  fuzz::expectOnlyUserErrors(
      [&] {
        const Dataset d = makeDataset(c);
        fuzz::check(d.K >= 2 && d.K_all >= d.K && d.P >= 1, "K >= 2, P >= 1");
        fuzz::check(d.X_train.rows() == Eigen::Index(d.y_train.size()) &&
                        d.X_test.rows() == Eigen::Index(d.y_test.size()) && d.X_train.cols() == d.P,
                    "shapes");
        fuzz::check(d.X_train.allFinite() && d.X_test.allFinite(), "finite standardised inputs");
        for (int y : d.y_train) fuzz::check(y >= 0 && y < d.K, "train label in 0..K-1");
        for (int y : d.y_test) fuzz::check(y >= 0 && y < d.K_all, "test label in 0..K_all-1");
        for (int n : d.class_counts) fuzz::check(n > 0, "every class has training rows");
      },
      fuzz::Messages::Strict, path.size() + 300);
  return 0;
}
