// The desktop app's loop body. frame() builds one ImGui frame (NewFrame .. Render): shortcuts, layout,
// panels, overlays, then it turns the panels' edits into Worker Controls, preset I/O and screenshots. It
// needs no window: tests create an ImGui context, set io.DisplaySize and tick it N times, with or without
// workers. The GL side (drawing the views into the framebuffer under the UI) is in gui_main.cpp.
#pragma once
#include <imgui.h>

#include <memory>
#include <string>

#include "app/app_state.h"
#include "app/view_thread.h"
#include "render/renderer.h"
#include "sim/worker.h"

namespace ms {

// The live objects the frame drives. Any may be null: no worker (tests, bad initial config), no renderer
// (tests, no GL) -- the UI still runs and says what is missing.
struct Session {
  std::unique_ptr<Worker> worker[2];
  std::unique_ptr<ViewThread> views;  // draws s.views[i] in its slot i (app/view_thread.h)
  bool use_workers = true;            // tests may switch off worker creation entirely
};

// The side panels' colour. They draw no background of their own: the window is cleared with it.
constexpr float kPanelBackground[3] = {0.07f, 0.07f, 0.08f};

// Key codes as the GLFW backend stores them in io.KeysDown (GLFW_KEY_*), so tests can press them.
enum : int {
  kKeySpace = 32,
  kKeyPeriod = 46,
  kKeyH = 72,
  kKeyR = 82,
  kKeyS = 83,
  kKeyEscape = 256,
  kKeyTab = 258,
  kKeyF11 = 300
};

// Sets up the state for a config (the first scene) and starts run 0's worker. Errors land in s.error.
void initApp(AppState& s, Session& sess, const Config& config, const std::string& asset_dir);
// One frame. Call between the backends' NewFrame calls and the draw-data render.
void frame(AppState& s, Session& sess);

// A preset file: the --config format plus the app's own keys "title", "description" and "compare"
// ({"loss", "params"} of the second run in comparison mode). Throws UserError naming the bad key.
struct Preset {
  Config a, b;
  bool compare = false;
  std::string title, description;
  // The preset's "view": what its claim needs drawn (e.g. center loss: raw features); both runs' views.
  bool raw = false, annotate = false, true_norm = false;
};
Preset parsePreset(const std::string& path);

// Preset I/O used by frame() (and tests): load applies the file on top of a default Config and changes
// nothing when the file is bad (s.error names the problem); save never overwrites without `overwrite_ok`.
bool loadPreset(AppState& s, Session& sess, const std::string& path);
bool savePreset(AppState& s, const std::string& path, bool overwrite_ok);
// The file a screenshot goes to: <dir>/<preset>-<YYYYmmdd-HHMMSS><suffix>.<ext>, never an existing file nor
// one promised to an export still running.
std::string screenshotPath(const AppState& s, const std::string& suffix, const std::string& ext);
// One press of the screenshot key: queues an export of each embedding view on screen (app/gui_shots.cpp).
void takeScreenshots(AppState& s, Session& sess);
// Books finished screenshot exports (frame() does it with the view thread's results each frame): a press
// whose files are all written says where (status), one that failed says why (s.error).
void finishScreenshots(AppState& s, const std::vector<ViewThread::ExportDone>& done);
// Finds the asset directory: MS_ASSET_DIR if it holds presets, else ../assets next to the executable.
std::string findAssetDir(const std::string& exe_path);

// A view's image as the view thread draws it: its size in framebuffer pixels, the pixel scale of its lines
// and text, and framebuffer pixels per ImGui unit.
struct ViewImage {
  int w = 0, h = 0;
  float scale = 1, sx = 1, sy = 1;
};
ViewImage viewImage(const AppState& s, const ViewSlot& v);

// Where a view draws model space, in ImGui coordinates: the renderer's own layout (render/scene.h
// viewMatrix), so that the hover tooltip and the placeholder view sit on the drawn points.
struct ViewProjection {
  const Snapshot* snap = nullptr;
  bool input = false;  // input view: points are the 2-D inputs; else the normalised embeddings
  float m[16] = {};    // model -> image pixels
  float x0 = 0, y0 = 0, sx = 1, sy = 1;
  // Screen position of model point p; *behind: on the far side of the sphere.
  ImVec2 toScreen(const float p[3], bool* behind = nullptr) const;
  // Point i of the snapshot; false when there is none or it is hidden behind the sphere.
  bool project(int i, float& px, float& py) const;
};
ViewProjection viewProjection(const AppState& s, const ViewSlot& v, const Snapshot& snap);

}  // namespace ms
