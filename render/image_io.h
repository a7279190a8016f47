// Image and file output shared by the PNG and SVG exports: atomic writes (temp file + rename) so that a
// failure never leaves a half-written figure, and PNG encoding with stb_image_write.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ms {

// Writes bytes to path via path.tmp-PID and rename; throws UserError naming the path on failure.
void writeBytesAtomic(const std::string& path, const std::string& bytes);
// Straight-alpha RGBA8, rows top first. Throws UserError on I/O failure.
void writePngAtomic(const std::string& path, int width, int height, const std::vector<uint8_t>& rgba);
// PNG bytes in memory (SVG embeds the input-space map this way).
std::string encodePng(int width, int height, const uint8_t* rgba);

}  // namespace ms
