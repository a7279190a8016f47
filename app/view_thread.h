// The app's views are rasterised on their own thread, in their own headless GL context, so that drawing a new
// snapshot never lengthens a UI frame. Under Mesa's software rasteriser a 10k-point view costs 5-15 ms to
// draw; on the UI thread that made every frame with a new snapshot miss 60 Hz. Here the UI thread only
// copies the newest finished image of each view into a texture of its own context and blits it, and the view
// thread (with its rasteriser threads) runs at a lower priority (app/background.h).
//
// Exports (the screenshot key) are queued here too and run between view updates: the UI thread never waits
// for one, it polls takeExports() each frame; under load a press takes longer, it does not freeze a frame.
//
// The two contexts share nothing (one is GLX through GLFW, the other surfaceless EGL): images travel as
// pixels in memory, about 2 MB per view and update, at most 30 updates a second.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "render/renderer.h"

namespace ms {

class ViewThread {
 public:
  static constexpr int kSlots = 3;  // views on screen at once: two embedding views and one input view

  // What one slot should show. Slots keep their own Renderer, so each keeps its cache.
  struct Job {
    SnapshotPtr snap;  // null: the slot is not on screen
    ViewOptions view;
    int w = 0, h = 0;  // pixels
    float scale = 1;   // pixel scale for line widths and text
  };

  // Starts the thread and waits until its context and renderers exist; throws std::runtime_error saying
  // what failed (no EGL, a shader that does not compile).
  ViewThread();
  ~ViewThread();
  ViewThread(const ViewThread&) = delete;
  ViewThread& operator=(const ViewThread&) = delete;

  // An export to a file: a PNG drawn by the renderer (any scale) or an SVG of the same scene.
  struct Export {
    SnapshotPtr snap;
    ViewOptions view;
    ExportOptions ex;
    std::string path;
    bool svg = false;
    int64_t tag = 0;  // the caller's, handed back with the result (the app: which key press)
  };
  struct ExportDone {
    std::string path;
    std::string error;  // empty: the file is written; else why not (the export's UserError text)
    int64_t tag = 0;
  };

  // UI thread: the jobs of this frame, one per slot. Never waits on a draw: if the view thread holds the
  // lock just now, the job is not taken (false) and the next frame's request brings it again.
  bool request(int slot, const Job& job);
  // UI thread, with the UI's GL context current: blits the newest finished image of `slot` into the bound
  // draw framebuffer at (x, y, w, h), uploading it first if it is new (if the view thread holds the lock just
  // now, the previous image is shown this frame). False when the slot has no image yet.
  bool blit(int slot, int x, int y, int w, int h);
  // Any thread: queues an export and returns at once; it runs on the view thread, in order.
  void submitExport(Export e);
  // Any thread: the exports finished since the last call (never waits for the lock's holder for long: the
  // view thread holds it only to move results).
  std::vector<ExportDone> takeExports();
  // Exports queued or running.
  int exportsPending() const;
  // Waits until every queued export has finished (the app calls it at exit, so that each press ends in a
  // file or a message). Results stay for takeExports().
  void finishExports();
  // The last drawing error (cleared when read); empty if none.
  std::string takeError();
  // Images finished by the view thread so far (tests wait on it).
  long imagesDrawn() const;

 private:
  struct Shared;
  void run();
  void warmUpBlit();
  std::unique_ptr<Shared> sh_;
  std::thread thread_;
  // UI context objects
  unsigned textures_[kSlots] = {};
  int tex_w_[kSlots] = {}, tex_h_[kSlots] = {};
  unsigned read_fbo_ = 0;
};

}  // namespace ms
