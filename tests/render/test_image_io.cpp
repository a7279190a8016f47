// The PNG encoder (render/image_io.cpp) deflates bands of rows on several threads and joins them into one
// zlib stream. An independent decoder (stb_image, Debian's libstb) must read back exactly the pixels given,
// whatever the number of bands: one row, fewer rows than a band, several bands, an uneven split.
#include <gtest/gtest.h>
#include <stb/stb_image.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <vector>

#include "render/image_io.h"

namespace ms {
namespace {

std::vector<uint8_t> testImage(int w, int h, uint32_t seed) {
  // Flat regions (what figures are made of) with noisy patches (what defeats a wrong filter or join).
  std::mt19937 rng(seed);
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &px[(static_cast<size_t>(y) * w + x) * 4];
      const bool noisy = ((x / 37) + (y / 23)) % 3 == 0;
      for (int c = 0; c < 4; ++c)
        p[c] = noisy ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>((x * (c + 1) + y * 3) / 40);
    }
  return px;
}

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// stb_image checks neither chunk CRCs nor the zlib Adler-32; strict readers (libpng, browsers) do. So: every
// chunk's CRC, and zlib's own inflate of the IDAT data, which fails on a wrong checksum.
void expectStrictlyValid(const std::string& png, size_t raw_size) {
  ASSERT_EQ(png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)), 0);
  std::string idat;
  for (size_t at = 8; at < png.size();) {
    const uint32_t n = be32(png, at);
    ASSERT_LE(at + 12 + n, png.size());
    const uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(&png[at + 4]), 4 + n));
    EXPECT_EQ(crc, be32(png, at + 8 + n)) << "chunk " << png.substr(at + 4, 4);
    if (png.compare(at + 4, 4, "IDAT") == 0) idat += png.substr(at + 8, n);
    at += 12 + n;
  }
  std::vector<uint8_t> raw(raw_size + 1);
  uLongf len = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()), Z_OK);
  EXPECT_EQ(len, raw_size);
}

TEST(ImageIo, PngDecodesToTheSamePixelsForAnyBandSplit) {
  for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {7, 3}, {300, 255}, {301, 700}, {640, 2049}}) {
    const std::vector<uint8_t> px = testImage(w, h, static_cast<uint32_t>(w * 31 + h));
    const std::string png = encodePng(w, h, px.data());
    ASSERT_FALSE(png.empty());
    expectStrictlyValid(png, (static_cast<size_t>(w) * 4 + 1) * h);
    int dw = 0, dh = 0, ch = 0;
    uint8_t* back = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(png.data()),
                                          static_cast<int>(png.size()), &dw, &dh, &ch, 4);
    ASSERT_NE(back, nullptr) << w << "x" << h << ": " << stbi_failure_reason();
    EXPECT_EQ(dw, w);
    EXPECT_EQ(dh, h);
    EXPECT_EQ(ch, 4);
    EXPECT_EQ(std::vector<uint8_t>(back, back + px.size()), px) << w << "x" << h;
    stbi_image_free(back);
  }
}

}  // namespace
}  // namespace ms
