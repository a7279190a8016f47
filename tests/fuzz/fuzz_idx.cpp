// Fuzz target: the Fashion-MNIST idx.gz reader (`--dataset fashion-mnist --data-dir DIR`).
//
// Input layout (seeds in corpus/fuzz_idx/ are made by make_idx_seeds.py):
//   byte 0      flags: bit 0 gzip the image file, bit 1 gzip the label file, bit 2 train on classes 0 and 1
//               only (the others held out, so that a few images can make a complete dataset)
//   byte 1      drop this many bytes from the end of the image file as written (a truncated gzip stream)
//   bytes 2..3  little-endian length L of the image file's bytes
//   then L bytes of the image file, and the rest is the label file.
// Both splits (train, t10k) get the same two files. The files are written plain or gzip-compressed by this
// harness, so the fuzzer mutates idx bytes directly and the gzip path is still exercised.
#include <zlib.h>

#include <cstddef>
#include <cstdint>

#include "sim/dataset.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

void writeMaybeGz(const std::string& path, const uint8_t* data, size_t size, bool gz, size_t cut) {
  if (!gz) {
    ms::fuzz::writeFile(path, data, size > cut ? size - cut : 0);
    return;
  }
  gzFile g = gzopen(path.c_str(), "wb");
  if (size > 0) gzwrite(g, data, unsigned(size));
  gzclose(g);
  if (cut > 0) {
    FILE* f = std::fopen(path.c_str(), "rb");
    std::fseek(f, 0, SEEK_END);
    const long len = std::ftell(f);
    std::fclose(f);
    if (truncate(path.c_str(), len > long(cut) ? len - long(cut) : 0) != 0) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ms;
  if (size < 4) return 0;
  const uint8_t flags = data[0], cut = data[1];
  size_t imgLen = size_t(data[2]) | (size_t(data[3]) << 8);
  data += 4;
  size -= 4;
  if (imgLen > size) imgLen = size;
  const std::string& dir = fuzz::tempDir();
  for (const char* split : {"train", "t10k"}) {
    writeMaybeGz(dir + "/" + split + "-images-idx3-ubyte.gz", data, imgLen, flags & 1, cut);
    writeMaybeGz(dir + "/" + split + "-labels-idx1-ubyte.gz", data + imgLen, size - imgLen, flags & 2, 0);
  }
  Config c;
  c.dataset = "fashion-mnist";
  c.data_dir = dir;
  if (flags & 4) c.holdout_classes = {2, 3, 4, 5, 6, 7, 8, 9};
  fuzz::expectOnlyUserErrors(
      [&] {
        const Dataset d = makeDataset(c);
        fuzz::check(d.P == 784 && d.K_all == 10 && d.X_train.cols() == 784, "784 inputs, 10 classes");
        fuzz::check(d.X_train.rows() == Eigen::Index(d.y_train.size()) &&
                        d.X_test.rows() == Eigen::Index(d.y_test.size()),
                    "shapes");
        fuzz::check(d.X_train.allFinite() && d.X_test.allFinite(), "finite standardised pixels");
        for (int y : d.y_train) fuzz::check(y >= 0 && y < d.K, "train label in 0..K-1");
        for (int y : d.y_test) fuzz::check(y >= 0 && y < 10, "test label in 0..9");
      },
      fuzz::Messages::Strict, 3 * dir.size() + 400);
  return 0;
}
