// The app's views are rasterised on their own thread, in their own headless GL context, so that drawing a new
// snapshot never lengthens a UI frame. Under Mesa's software rasteriser a 10k-point view costs 5-15 ms to
// draw; on the UI thread that made every frame with a new snapshot miss 60 Hz. Here the UI thread only
// copies the newest finished image of each view into a texture of its own context and blits it, and the view
// thread (with its rasteriser threads) runs in the background class (app/background.h), sharing what the
// frame leaves with training.
//
// The two contexts share nothing (one is GLX through GLFW, the other surfaceless EGL): images travel as
// pixels in memory, about 2 MB per view and update, at most 30 updates a second.
#pragma once
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

  // UI thread: the jobs of this frame, one per slot. Never waits on a draw.
  void request(int slot, const Job& job);
  // UI thread, with the UI's GL context current: blits the newest finished image of `slot` into the bound
  // draw framebuffer at (x, y, w, h), uploading it first if it is new. False when the slot has no image yet.
  bool blit(int slot, int x, int y, int w, int h);
  // Any thread: runs the export on the view thread and waits for it. Rethrows what the export threw.
  void exportPng(const SnapshotPtr& snap, const ViewOptions& view, const ExportOptions& ex,
                 const std::string& path);
  // The last drawing error (cleared when read); empty if none.
  std::string takeError();
  // Images finished by the view thread so far (tests wait on it).
  long imagesDrawn() const;

 private:
  struct Shared;
  void run();
  std::unique_ptr<Shared> sh_;
  std::thread thread_;
  // UI context objects
  unsigned textures_[kSlots] = {};
  int tex_w_[kSlots] = {}, tex_h_[kSlots] = {};
  unsigned read_fbo_ = 0;
};

}  // namespace ms
