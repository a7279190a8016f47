// The PNG encoder (render/image_io.cpp) deflates bands of rows on several threads and joins them into one
// zlib stream. An independent decoder (stb_image, Debian's libstb) must read back exactly the pixels given,
// whatever the number of bands: one row, fewer rows than a band, several bands, an uneven split.
#include <gtest/gtest.h>
#include <stb/stb_image.h>
#include <zlib.h>

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <vector>

#include "render/image_io.h"
#include "sim/errors.h"

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

// ---- atomic, all-or-nothing outputs (render/atomic_file.cpp)

namespace fs = std::filesystem;

std::string readAll(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

mode_t modeOf(const fs::path& p) {
  struct stat st {};
  stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

fs::path freshDir(const char* name) {
  const fs::path dir = fs::path(testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Issue 13: mkstemp's 0600 survived the rename, so a new file was 0600 and a replaced 0644 file became 0600.
TEST(AtomicFile, OrdinaryModesAndTheReplacedFilesMode) {
  const fs::path dir = freshDir("ms_modes");
  const mode_t old_mask = umask(022);
  writeFileAtomic((dir / "new.txt").string(), "a");
  EXPECT_EQ(modeOf(dir / "new.txt"), 0644u);
  umask(077);
  writeFileAtomic((dir / "private.txt").string(), "a");
  EXPECT_EQ(modeOf(dir / "private.txt"), 0600u);
  fs::permissions(dir / "new.txt", fs::perms(0640));
  writeFileAtomic((dir / "new.txt").string(), "b");  // replaced: keeps its 0640 whatever the umask
  EXPECT_EQ(modeOf(dir / "new.txt"), 0640u);
  EXPECT_EQ(readAll(dir / "new.txt"), "b");
  umask(old_mask);
  const auto n = std::distance(fs::directory_iterator(dir), fs::directory_iterator());
  EXPECT_EQ(n, 2);  // no temporary file left, hidden or not
  fs::remove_all(dir);
}

TEST(AtomicFile, ABatchWritesEverythingOrNothing) {
  const fs::path dir = freshDir("ms_batch");
  const std::string a = (dir / "a.json").string(), b = (dir / "sub" / "b.csv").string();
  writeFileAtomic(a, "old a");
  fs::create_directories(dir / "sub");
  {
    OutputBatch out;
    out.expect("--metrics", a);
    out.expect("--save-embeddings", b);
    writeFileAtomic(a, "new a");
    EXPECT_EQ(readAll(a), "old a");  // staged, not yet in place
    fs::remove_all(dir / "sub");     // the second output's folder disappears mid-run
    const std::string e = errorOf([&] { writeFileAtomic(b, "new b"); });
    EXPECT_NE(e.find("--save-embeddings: cannot write"), std::string::npos) << e;
  }  // not committed: nothing changes
  EXPECT_EQ(readAll(a), "old a");
  fs::create_directories(dir / "sub");
  {
    OutputBatch out;
    out.expect("--metrics", a);
    out.expect("--save-embeddings", b);
    writeFileAtomic(a, "new a");
    writeFileAtomic(b, "new b");
    EXPECT_FALSE(fs::exists(b));
    out.commit();
  }
  EXPECT_EQ(readAll(a), "new a");
  EXPECT_EQ(readAll(b), "new b");
  int n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  EXPECT_EQ(n, 2);
  fs::remove_all(dir);
}

TEST(AtomicFile, OutputPathsAreCheckedUpFrontAndNameTheKey) {
  const fs::path dir = freshDir("ms_paths");
  std::string e = errorOf([&] { checkOutputPath("--metrics", dir.string()); });  // a folder
  EXPECT_NE(e.find("--metrics: cannot write"), std::string::npos) << e;
  EXPECT_NE(e.find("folder"), std::string::npos) << e;
  e = errorOf([&] { checkOutputPath("--out", (dir / "none" / "x.png").string()); });
  EXPECT_NE(e.find("--out:"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
  e = errorOf([&] { checkOutputPath("--svg", "/dev/null"); });  // rename would replace the device
  EXPECT_NE(e.find("not a regular file"), std::string::npos) << e;
  e = errorOf([&] {
    OutputBatch out;
    out.expect("--out", (dir / "f.png").string());
    out.expect("--svg", (dir / "." / "f.png").string());
  });
  EXPECT_NE(e.find("--svg:"), std::string::npos) << e;
  EXPECT_NE(e.find("also the file of --out"), std::string::npos) << e;
  EXPECT_EQ(errorOf([&] { checkOutputPath("--out", (dir / "ok.png").string()); }), "");
  fs::remove_all(dir);
}

TEST(ImageIo, ImageSizeIsCheckedAgainstAMemoryBound) {
  // render --width 16384 --height 16384 --scale 8 was a 68 GB allocation and std::bad_alloc.
  const std::string e = errorOf([] { checkImageSize("--scale", 131072, 131072); });
  EXPECT_NE(e.find("--scale: a 131072 x 131072 image"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed: up to 536 megapixels"), std::string::npos) << e;
  EXPECT_EQ(errorOf([] { checkImageSize("--scale", 1600, 1200); }), "");
}

}  // namespace
}  // namespace ms
