// The render engine: draws a Snapshot with OpenGL 3.3 core into the current context's framebuffer, and
// exports views offscreen (PNG) or as vector graphics (SVG). Requires a current GL 3.3 core context: a GLFW
// window in the app, or render/headless.h's EGL context with no display. State (what to draw) is copied in
// and marked dirty; GPU buffers are updated lazily at the next draw.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "render/image_io.h"

#include "sim/snapshot.h"

namespace ms {

enum class ViewKind { Circle, Sphere, Raw, Input };
enum class Theme { Paper, Dark };
enum class Background { Theme, White, Transparent };

struct ViewOptions {
  ViewKind kind = ViewKind::Circle;
  Theme theme = Theme::Dark;
  bool show_points = true;
  bool show_raw = false;           // raw unnormalised features with a faint line to their projection
  bool show_weights = true;        // class weight arrows
  bool weights_true_norm = false;  // arrows at their real norm (softmax, L-Softmax)
  bool show_regions = true;        // decision regions shaded per class
  bool show_boundaries = true;     // test-time boundaries
  bool show_margins = true;        // training-time margin boundaries and bands
  bool show_annotations = false;   // angles, theory vs measured margin
  bool show_test = true;           // test points (drawn hollow)
  bool show_legend = true;         // loss, parameters, step and accuracy; class swatches
  bool lighting = true;            // sphere shading (off: flat region colours, used by the pixel tests)
  float point_size = 6.0f;         // pixels at scale 1
  float yaw = 0.6f, pitch = 0.35f, zoom = 1.0f;  // sphere camera
};

struct ExportOptions {
  int width = 1600, height = 1200;  // view size in logical pixels
  float scale = 1.0f;               // 1..8: output is scale * size
  Background background = Background::Theme;
  bool include_ui = false;  // never: the app exports the view alone
  FigureInfo info;          // written into the PNG (pHYs, tEXt) and the SVG (<metadata>)
};

class Renderer {
 public:
  Renderer();  // compiles shaders; throws std::runtime_error naming the shader file and line on failure
  ~Renderer();
  void setSnapshot(SnapshotPtr s);  // cheap: copies the pointer, marks dirty
  // Draws into the current framebuffer, viewport (x, y, w, h) in pixels; pixel_scale for line widths/text.
  void draw(const ViewOptions& view, int x, int y, int w, int h, float pixel_scale = 1.0f);
  // Renders offscreen into a multisampled FBO of scale*size and writes a PNG; throws UserError on I/O.
  void exportPng(const ViewOptions& view, const ExportOptions& ex, const std::string& path);
  // The same image in memory: straight-alpha RGBA8, rows top first, (*width) x (*height) = scale x size.
  std::vector<uint8_t> renderImage(const ViewOptions& view, const ExportOptions& ex, int* width, int* height);
  // Does the one-time work of a first export of this view and size (shader code generation, buffers) while
  // rasterising almost nothing: `render` calls it while it trains.
  void warmUp(const ViewOptions& view, const ExportOptions& ex);
  // Exports render in tiles of at most this many pixels a side (default 2048) to bound GPU memory.
  void setExportTileSize(int pixels);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when every field is equal: a view drawn with either looks the same.
bool sameView(const ViewOptions& a, const ViewOptions& b);

// SVG of the 2-D views (circle, raw, input); throws UserError for the sphere view or on I/O.
void exportSvg(const Snapshot& s, const ViewOptions& view, const ExportOptions& ex, const std::string& path);

}  // namespace ms
