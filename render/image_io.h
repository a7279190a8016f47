// File output shared by every writer (figures, metrics, presets, reports) and PNG encoding.
//
// Outputs are all or nothing (DESIGN.md "Contracts"): a command checks every output path before it starts
// work (checkOutputPath), and writes its files only after the run succeeded, inside one OutputBatch, so that
// either every file is replaced or none is. Each file is first written in full to an unnamed temporary file
// in its folder (Linux O_TMPFILE: a crash or kill -9 mid-write leaves nothing behind), then given a hidden
// name (".NAME.tmp.PID.N") and renamed over NAME. A file gets the mode an ordinary new file would get
// (0666 less the umask), or keeps the mode of the file it replaces. SIGINT and SIGTERM remove any hidden
// temporary name that exists at that moment. Implemented in render/atomic_file.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ms {

// Writes bytes to path atomically (see above); throws UserError naming the path (and the option, when the
// current OutputBatch was told it) on failure, and leaves whatever was at path untouched. While an
// OutputBatch is alive on this thread the file is only staged, and appears when the batch commits.
void writeFileAtomic(const std::string& path, const std::string& bytes);
// What a figure's file says about itself: its physical resolution (a PNG's pHYs chunk; 0 leaves it out) and
// the JSON that made it (a PNG tEXt chunk, an SVG <metadata> element), which `--config FIGURE` reads back.
struct FigureInfo {
  double dpi = 0;
  std::string json;  // ASCII (nlohmann's dump with ensure_ascii), or empty
};
// Straight-alpha RGBA8, rows top first. Throws UserError on I/O failure.
void writePngAtomic(const std::string& path, int width, int height, const std::vector<uint8_t>& rgba,
                    const FigureInfo& info = {});
// PNG bytes in memory (SVG embeds the input-space map this way).
std::string encodePng(int width, int height, const uint8_t* rgba, const FigureInfo& info = {});
// The JSON a figure carries (PNG tEXt "marginscope", or SVG <metadata id="marginscope">), or "" when the
// bytes are neither or carry none. Reads only what the chunk lengths allow: any bytes are safe to pass.
std::string figureJson(const std::string& bytes);
// The keyword of the tEXt chunk and the id of the SVG element.
inline constexpr const char* kFigureKey = "marginscope";

// Before any work: the output file given as option `key` must be creatable or replaceable: not a folder,
// not a device or pipe, in an existing writable folder. Throws UserError naming the key; empty passes.
void checkOutputPath(const std::string& key, const std::string& path);

// Before drawing: a width x height RGBA image, drawn and PNG-encoded, must fit the pixel bound (512
// megapixels: the encoder's 32-bit deflate lengths) and the memory available now (about 4 copies of 4
// bytes per pixel). Throws UserError naming `key` with the size asked for and what is allowed.
void checkImageSize(const std::string& key, double width, double height);

// The outputs of one run. Construct it before the run's files are written; every writeFileAtomic on this
// thread is staged until commit(), which puts all of them in place (none when a temporary file could not be
// written). Destroying a batch that was not committed discards what it staged.
class OutputBatch {
 public:
  OutputBatch();
  ~OutputBatch();
  OutputBatch(const OutputBatch&) = delete;
  OutputBatch& operator=(const OutputBatch&) = delete;
  // checkOutputPath, and remembers the key for messages; the same file for two options is an error.
  void expect(const std::string& key, const std::string& path);
  void commit();  // throws UserError naming the option and path that failed

  struct Staged;  // implementation detail (atomic_file.cpp)

 private:
  friend void writeFileAtomic(const std::string& path, const std::string& bytes);
  std::vector<std::pair<std::string, std::string>> keys_;  // (path, option) as given
  std::vector<std::pair<std::string, std::string>> ids_;   // (folder identity/name, option)
  std::vector<Staged*> staged_;
  OutputBatch* outer_ = nullptr;
};

}  // namespace ms
