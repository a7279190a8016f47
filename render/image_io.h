// File output shared by every writer (figures, metrics, presets, reports): atomic writes (a unique temp file,
// then rename) so that a failure never leaves a half-written file, and PNG encoding.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ms {

// Writes bytes to path via a unique temp file beside it and rename; throws UserError naming the path on
// failure, and leaves whatever was at path untouched.
void writeFileAtomic(const std::string& path, const std::string& bytes);
// Straight-alpha RGBA8, rows top first. Throws UserError on I/O failure.
void writePngAtomic(const std::string& path, int width, int height, const std::vector<uint8_t>& rgba);
// PNG bytes in memory (SVG embeds the input-space map this way).
std::string encodePng(int width, int height, const uint8_t* rgba);

}  // namespace ms
