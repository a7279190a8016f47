// stb_image_write is compiled here only (static, so no other copy can clash).
#include "render/image_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sim/errors.h"

#include <zlib.h>

#include <cstdlib>

namespace {
// stb's own deflate is several times slower than zlib's; stb lets us swap it (the buffer is freed with
// STBIW_FREE, i.e. free()).
unsigned char* zlibCompress(unsigned char* data, int len, int* out_len, int quality) {
  uLongf cap = compressBound(static_cast<uLong>(len));
  unsigned char* out = static_cast<unsigned char*>(std::malloc(cap));
  if (!out) return nullptr;
  if (compress2(out, &cap, data, static_cast<uLong>(len), quality) != Z_OK) {
    std::free(out);
    return nullptr;
  }
  *out_len = static_cast<int>(cap);
  return out;
}
}  // namespace

#define STBIW_ZLIB_COMPRESS zlibCompress
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace ms {

void writeBytesAtomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw UserError("cannot write '" + path + "': " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    std::remove(tmp.c_str());
    throw UserError("cannot write '" + path + "': disk full or I/O error");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw UserError("cannot write '" + path + "': " + std::strerror(e));
  }
}

std::string encodePng(int width, int height, const uint8_t* rgba) {
  std::string out;
  stbi_write_png_compression_level = 6;
  stbi_write_force_png_filter = 2;  // "up": flat figures compress well, and no per-row trial of five filters
  stbi_write_png_to_func(
      [](void* ctx, void* data, int size) {
        static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size);
      },
      &out, width, height, 4, rgba, width * 4);
  return out;
}

void writePngAtomic(const std::string& path, int width, int height, const std::vector<uint8_t>& rgba) {
  const std::string png = encodePng(width, height, rgba.data());
  if (png.empty()) throw UserError("cannot encode PNG for '" + path + "'");
  writeBytesAtomic(path, png);
}

}  // namespace ms
