// PNG encoding on zlib with the deflate split across threads: a 1600x1200 figure is 7.7 MB of pixels, and
// one-threaded deflate was 37 ms of the `render` command's ~0.3 s; an 8x screenshot is 490 MB. Each band of
// rows is compressed independently and ends on a byte boundary (Z_FULL_FLUSH), so the bands concatenate into
// one valid deflate stream (the way pigz does it); the Adler-32 of the whole is combined from the bands'.
// checkImageSize bounds a requested image before anything is drawn. The atomic file writer is in
// render/atomic_file.cpp.
#include "render/image_io.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "sim/errors.h"

namespace ms {

namespace {

void put32(std::string& out, uint32_t v) {
  const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.append(b, 4);
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put32(out, static_cast<uint32_t>(data.size()));
  const size_t at = out.size();
  out.append(type, 4);
  out += data;
  put32(out,
        static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(out.data() + at), 4 + data.size())));
}

// Raw deflate of `in` (no zlib header); `last` ends the stream, otherwise it ends on a full flush.
bool deflateBand(const uint8_t* in, size_t n, bool last, std::string* out) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out->resize(deflateBound(&z, n) + 16);
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(n);
  z.next_out = reinterpret_cast<Bytef*>(out->data());
  z.avail_out = static_cast<uInt>(out->size());
  const int rc = deflate(&z, last ? Z_FINISH : Z_FULL_FLUSH);
  const bool ok = last ? rc == Z_STREAM_END : rc == Z_OK && z.avail_in == 0;
  out->resize(z.total_out);
  deflateEnd(&z);
  return ok;
}

}  // namespace

std::string encodePng(int width, int height, const uint8_t* rgba, const FigureInfo& info) {
  if (width <= 0 || height <= 0) return {};
  // Filter "up" on every row: flat figures compress well, and no per-row trial of five filters.
  const size_t stride = static_cast<size_t>(width) * 4, row = stride + 1;
  std::vector<uint8_t> filtered(row * height);
  for (int y = 0; y < height; ++y) {
    uint8_t* o = &filtered[row * y];
    const uint8_t* cur = rgba + stride * y;
    o[0] = 2;
    if (y == 0)
      std::memcpy(o + 1, cur, stride);
    else
      for (size_t i = 0; i < stride; ++i) o[1 + i] = static_cast<uint8_t>(cur[i] - cur[i - stride]);
  }
  // Bands of at least 256 rows, one per core (up to 8).
  const int bands =
      std::clamp(std::min(static_cast<int>(std::thread::hardware_concurrency()), height / 256), 1, 8);
  std::vector<std::string> out(bands);
  std::vector<uLong> adler(bands);
  std::vector<char> ok(bands, 0);
  auto work = [&](int b) {
    const size_t y0 = static_cast<size_t>(height) * b / bands,
                 y1 = static_cast<size_t>(height) * (b + 1) / bands;
    const uint8_t* in = &filtered[row * y0];
    const size_t n = row * (y1 - y0);
    adler[b] = adler32(adler32(0, nullptr, 0), in, static_cast<uInt>(n));
    ok[b] = deflateBand(in, n, b == bands - 1, &out[b]);
  };
  std::vector<std::thread> threads;
  for (int b = 1; b < bands; ++b) threads.emplace_back(work, b);
  work(0);
  for (auto& t : threads) t.join();
  std::string idat = "\x78\x9c";  // zlib header: deflate, 32 KB window, default level
  uLong sum = adler[0];
  for (int b = 0; b < bands; ++b) {
    if (!ok[b]) return {};
    idat += out[b];
    if (b > 0) {
      const size_t y0 = static_cast<size_t>(height) * b / bands,
                   y1 = static_cast<size_t>(height) * (b + 1) / bands;
      sum = adler32_combine(sum, adler[b], static_cast<z_off_t>(row * (y1 - y0)));
    }
  }
  put32(idat, static_cast<uint32_t>(sum));

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put32(ihdr, static_cast<uint32_t>(width));
  put32(ihdr, static_cast<uint32_t>(height));
  ihdr += std::string("\x08\x06\x00\x00\x00", 5);  // 8 bits, RGBA, deflate, standard filters, no interlace
  chunk(png, "IHDR", ihdr);
  if (info.dpi > 0) {  // pixels per metre, both axes, unit 1 = metre
    std::string phys;
    const auto ppm = static_cast<uint32_t>(std::lround(info.dpi / 0.0254));
    put32(phys, ppm);
    put32(phys, ppm);
    phys += '\x01';
    chunk(png, "pHYs", phys);
  }
  if (!info.json.empty()) chunk(png, "tEXt", std::string(kFigureKey) + '\0' + info.json);
  chunk(png, "IDAT", idat);
  chunk(png, "IEND", "");
  return png;
}

void writePngAtomic(const std::string& path, int width, int height, const std::vector<uint8_t>& rgba,
                    const FigureInfo& info) {
  const std::string png = encodePng(width, height, rgba.data(), info);
  if (png.empty()) throw UserError("cannot encode PNG for '" + path + "'");
  writeFileAtomic(path, png);
}

std::string figureJson(const std::string& b) {
  if (b.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0) {
    const std::string key = std::string(kFigureKey) + '\0';
    size_t at = 8;
    while (b.size() - at >= 12) {  // length, type, data, CRC
      const auto u = [&](size_t i) { return uint32_t(uint8_t(b[i])); };
      const size_t len = (u(at) << 24) | (u(at + 1) << 16) | (u(at + 2) << 8) | u(at + 3);
      if (len > b.size() - at - 12) return "";
      const std::string type = b.substr(at + 4, 4);
      if (type == "tEXt" && b.compare(at + 8, std::min(len, key.size()), key) == 0 && len >= key.size())
        return b.substr(at + 8 + key.size(), len - key.size());
      if (type == "IEND") return "";
      at += 12 + len;
    }
    return "";
  }
  // SVG: the element exportSvg writes, its text XML-escaped.
  const std::string open = std::string("<metadata id=\"") + kFigureKey + "\">", close = "</metadata>";
  const size_t a = b.find(open);
  if (a == std::string::npos) return "";
  const size_t e = b.find(close, a + open.size());
  if (e == std::string::npos) return "";
  std::string out;
  for (size_t i = a + open.size(); i < e; ++i) {
    static const std::pair<const char*, char> ents[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}};
    bool done = false;
    for (const auto& [ent, ch] : ents)
      if (b.compare(i, std::strlen(ent), ent) == 0) {
        out += ch;
        i += std::strlen(ent) - 1;
        done = true;
        break;
      }
    if (!done) out += b[i];
  }
  return out;
}

void checkImageSize(const std::string& key, double width, double height) {
  const double px = width * height, mpx = px / 1e6;
  const double max_px = double(1u << 29);  // 2^29 pixels x 4 bytes keeps every deflate band under 4 GB
  // Drawn image, filtered copy, deflate buffers of about the same size, then the PNG: about 4 copies.
  const double need = px * 4.0 * 4.0;
  char what[160];
  std::snprintf(what, sizeof what, "a %.0f x %.0f image (%.0f megapixels, about %.1f GB to draw and encode)",
                width, height, mpx, need / 1e9);
  if (!(px <= max_px))
    throw UserError(key + ": " + what + " is too large (allowed: up to " + std::to_string(int(max_px / 1e6)) +
                    " megapixels, width x height x scale^2)");
  // MemAvailable: what the kernel can hand out without swapping, now.
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("MemAvailable:", 0) == 0) {
      const double avail = std::strtod(line.c_str() + 13, nullptr) * 1024.0;
      if (avail > 0 && need > avail) {
        char have[64];
        std::snprintf(have, sizeof have, "%.1f GB", avail / 1e9);
        throw UserError(key + ": " + what + " does not fit in the " + have +
                        " of memory available now (allowed: a smaller --width, --height or --scale)");
      }
    }
}

}  // namespace ms
