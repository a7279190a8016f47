// See view_thread.h. One mutex guards the jobs, the finished images and the export queue; it is held only
// to copy or swap, never during a draw. The UI thread's per-frame calls (request, blit, takeExports,
// takeError) only try-lock it: a background thread preempted while holding it must not stall a frame.
// Finished images are swapped, not copied, between three buffers per slot (the thread's spare, the ready one,
// the UI's), so steady state allocates nothing.
#include "app/view_thread.h"

#include <epoxy/gl.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>

#include "app/background.h"
#include "render/headless.h"

namespace ms {

namespace {

bool sameJob(const ViewThread::Job& a, const ViewThread::Job& b) {
  return a.snap == b.snap && a.w == b.w && a.h == b.h && a.scale == b.scale && sameView(a.view, b.view);
}

}  // namespace

struct ViewThread::Shared {
  std::mutex mu;
  std::condition_variable cv;  // wakes the view thread: new jobs, an export, stop
  bool stop = false;
  Job jobs[kSlots];
  uint64_t jobs_version = 0;

  struct Image {
    std::vector<uint8_t> px;  // RGBA8, GL row order (bottom row first)
    int w = 0, h = 0;
    bool fresh = false;  // finished and not yet taken by the UI
  };
  Image ready[kSlots];

  std::deque<Export> exports;      // queued, oldest first
  int exporting = 0;               // 1 while the thread runs one (taken off the queue)
  std::vector<ExportDone> done;    // finished, not yet taken
  std::condition_variable exp_cv;  // wakes finishExports()

  bool started = false;
  std::string start_error;
  std::string error;
  std::atomic<long> drawn{0};
};

ViewThread::ViewThread() : sh_(std::make_unique<Shared>()) {
  thread_ = std::thread([this] { run(); });
  warmUpBlit();
  std::unique_lock<std::mutex> lock(sh_->mu);
  sh_->cv.wait(lock, [&] { return sh_->started; });
  if (!sh_->start_error.empty()) {
    const std::string e = sh_->start_error;
    lock.unlock();
    thread_.join();
    throw std::runtime_error(e);
  }
}

// The first upload and the first blits (same size and scaled) of a context make Mesa's llvmpipe generate
// their code: about 100 ms, and over half a second beside busy processes. Done here, at start-up, while the
// view thread draws its first images, not in the frame that shows the first one. The pixels land in a
// corner of the back buffer that the first frame clears.
void ViewThread::warmUpBlit() {
  // Only into a complete framebuffer (the window's; a test's context may have none bound).
  if (glCheckFramebufferStatus(GL_DRAW_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) return;
  GLint prev_tex = 0, prev_read = 0;
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &prev_tex);
  glGetIntegerv(GL_READ_FRAMEBUFFER_BINDING, &prev_read);
  const std::vector<uint8_t> px(8 * 8 * 4, 0);
  GLuint tex = 0, fbo = 0;
  glGenTextures(1, &tex);
  glBindTexture(GL_TEXTURE_2D, tex);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 8, 8, 0, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, 8, 8, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  glGenFramebuffers(1, &fbo);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo);
  glFramebufferTexture2D(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, tex, 0);
  glBlitFramebuffer(0, 0, 8, 8, 0, 0, 8, 8, GL_COLOR_BUFFER_BIT, GL_NEAREST);
  glBlitFramebuffer(0, 0, 8, 8, 0, 0, 5, 5, GL_COLOR_BUFFER_BIT, GL_LINEAR);
  glFinish();
  glBindFramebuffer(GL_READ_FRAMEBUFFER, prev_read);
  glBindTexture(GL_TEXTURE_2D, prev_tex);
  glDeleteFramebuffers(1, &fbo);
  glDeleteTextures(1, &tex);
}

ViewThread::~ViewThread() {
  {
    std::lock_guard<std::mutex> lock(sh_->mu);
    sh_->stop = true;
  }
  sh_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
  // The UI's context is current here (gui_main destroys the ViewThread before the window).
  for (unsigned& t : textures_)
    if (t) glDeleteTextures(1, &t);
  if (read_fbo_) glDeleteFramebuffers(1, &read_fbo_);
}

void ViewThread::run() {
  // Before the context exists: llvmpipe's rasteriser threads are created with it and inherit this value.
  runInBackground(BackgroundRole::Views);
  std::unique_ptr<HeadlessContext> ctx;
  std::unique_ptr<Renderer> slot_renderer[kSlots], export_renderer;
  std::string start_error;
  try {
    ctx = std::make_unique<HeadlessContext>();
    for (auto& r : slot_renderer) r = std::make_unique<Renderer>();
  } catch (const std::exception& e) {
    start_error = e.what();
  }
  {
    std::lock_guard<std::mutex> lock(sh_->mu);
    sh_->started = true;
    sh_->start_error = start_error;
  }
  sh_->cv.notify_all();
  if (!start_error.empty()) return;

  GLuint fbo[kSlots] = {}, rb[kSlots] = {};
  int fb_w[kSlots] = {}, fb_h[kSlots] = {};
  glGenFramebuffers(kSlots, fbo);
  glGenRenderbuffers(kSlots, rb);
  Job drawn[kSlots];                   // what each slot's last finished image shows
  std::vector<uint8_t> spare[kSlots];  // the next image is read back into this
  uint64_t seen = 0;

  for (;;) {
    Job todo[kSlots];
    Export x;
    bool exporting = false;
    {
      std::unique_lock<std::mutex> lock(sh_->mu);
      sh_->cv.wait(lock, [&] { return sh_->stop || !sh_->exports.empty() || sh_->jobs_version != seen; });
      if (sh_->stop) break;
      for (int i = 0; i < kSlots; ++i) todo[i] = sh_->jobs[i];
      seen = sh_->jobs_version;
      if (!sh_->exports.empty()) {
        x = std::move(sh_->exports.front());
        sh_->exports.pop_front();
        sh_->exporting = 1;
        exporting = true;
      }
    }

    // One export per turn, then the views: a queue of presses delays the views by one export each, never a
    // frame of the UI.
    if (exporting) {
      ExportDone d{x.path, "", x.tag};
      try {
        if (x.svg) {
          exportSvg(*x.snap, x.view, x.ex, x.path);
        } else {
          if (!export_renderer) export_renderer = std::make_unique<Renderer>();
          export_renderer->setSnapshot(x.snap);
          export_renderer->exportPng(x.view, x.ex, x.path);
        }
      } catch (const std::exception& e) {
        d.error = e.what();
      }
      x.snap.reset();
      {
        std::lock_guard<std::mutex> lock(sh_->mu);
        sh_->done.push_back(std::move(d));
        sh_->exporting = 0;
      }
      sh_->exp_cv.notify_all();
    }

    for (int i = 0; i < kSlots; ++i) {
      const Job& j = todo[i];
      if (!j.snap || j.w <= 0 || j.h <= 0 || sameJob(j, drawn[i])) continue;
      try {
        if (fb_w[i] != j.w || fb_h[i] != j.h) {
          glBindRenderbuffer(GL_RENDERBUFFER, rb[i]);
          glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, j.w, j.h);
          glBindFramebuffer(GL_FRAMEBUFFER, fbo[i]);
          glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb[i]);
          fb_w[i] = j.w, fb_h[i] = j.h;
        }
        if (j.snap != drawn[i].snap) slot_renderer[i]->setSnapshot(j.snap);
        glBindFramebuffer(GL_FRAMEBUFFER, fbo[i]);
        slot_renderer[i]->draw(j.view, 0, 0, j.w, j.h, j.scale);
        spare[i].resize(static_cast<size_t>(j.w) * j.h * 4);
        glPixelStorei(GL_PACK_ALIGNMENT, 4);
        glReadPixels(0, 0, j.w, j.h, GL_RGBA, GL_UNSIGNED_BYTE, spare[i].data());
        {
          std::lock_guard<std::mutex> lock(sh_->mu);
          Shared::Image& im = sh_->ready[i];
          im.px.swap(spare[i]);
          im.w = j.w, im.h = j.h;
          im.fresh = true;
        }
        drawn[i] = j;
        sh_->drawn.fetch_add(1);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(sh_->mu);
        sh_->error = std::string("drawing failed: ") + e.what();
        drawn[i] = j;  // do not retry the same failing job every frame
      }
    }
  }
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  glDeleteFramebuffers(kSlots, fbo);
  glDeleteRenderbuffers(kSlots, rb);
  for (auto& r : slot_renderer) r.reset();  // GL objects go while the context is current
  export_renderer.reset();
}

bool ViewThread::request(int slot, const Job& job) {
  if (slot < 0 || slot >= kSlots) return false;
  {
    std::unique_lock<std::mutex> lock(sh_->mu, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    if (sameJob(sh_->jobs[slot], job)) return true;
    sh_->jobs[slot] = job;
    sh_->jobs_version += 1;
  }
  sh_->cv.notify_all();
  return true;
}

bool ViewThread::blit(int slot, int x, int y, int w, int h) {
  if (slot < 0 || slot >= kSlots) return false;
  std::vector<uint8_t> px;
  int iw = 0, ih = 0;
  if (std::unique_lock<std::mutex> lock(sh_->mu, std::try_to_lock); lock.owns_lock()) {
    Shared::Image& im = sh_->ready[slot];
    if (im.fresh) {
      px.swap(im.px);
      iw = im.w, ih = im.h;
      im.fresh = false;
    }
  }
  GLint prev_tex = 0, prev_read = 0;
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &prev_tex);
  glGetIntegerv(GL_READ_FRAMEBUFFER_BINDING, &prev_read);
  if (!px.empty()) {
    if (!textures_[slot]) glGenTextures(1, &textures_[slot]);
    glBindTexture(GL_TEXTURE_2D, textures_[slot]);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    if (iw != tex_w_[slot] || ih != tex_h_[slot]) {
      glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, iw, ih, 0, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
      tex_w_[slot] = iw, tex_h_[slot] = ih;
    } else {
      glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, iw, ih, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
    }
    // Give the buffer back for the thread to reuse (unless a newer image arrived meanwhile, or the lock is
    // busy: then the thread allocates a new one).
    std::unique_lock<std::mutex> lock(sh_->mu, std::try_to_lock);
    if (lock.owns_lock() && sh_->ready[slot].px.empty()) sh_->ready[slot].px.swap(px);
  }
  const bool have = textures_[slot] != 0;
  if (have) {
    if (!read_fbo_) glGenFramebuffers(1, &read_fbo_);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, read_fbo_);
    glFramebufferTexture2D(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, textures_[slot], 0);
    const int tw = tex_w_[slot], th = tex_h_[slot];
    // A window resize shows the old image stretched for the frame or two until the new one is drawn.
    glBlitFramebuffer(0, 0, tw, th, x, y, x + w, y + h, GL_COLOR_BUFFER_BIT,
                      tw == w && th == h ? GL_NEAREST : GL_LINEAR);
  }
  glBindFramebuffer(GL_READ_FRAMEBUFFER, prev_read);
  glBindTexture(GL_TEXTURE_2D, prev_tex);
  return have;
}

void ViewThread::submitExport(Export e) {
  {
    std::lock_guard<std::mutex> lock(sh_->mu);
    sh_->exports.push_back(std::move(e));
  }
  sh_->cv.notify_all();
}

std::vector<ViewThread::ExportDone> ViewThread::takeExports() {
  std::vector<ExportDone> out;
  std::unique_lock<std::mutex> lock(sh_->mu, std::try_to_lock);
  if (lock.owns_lock()) out.swap(sh_->done);  // busy: the next frame takes them
  return out;
}

int ViewThread::exportsPending() const {
  std::lock_guard<std::mutex> lock(sh_->mu);
  return (int)sh_->exports.size() + sh_->exporting;
}

void ViewThread::finishExports() {
  std::unique_lock<std::mutex> lock(sh_->mu);
  sh_->exp_cv.wait(lock, [&] { return sh_->exports.empty() && sh_->exporting == 0; });
}

std::string ViewThread::takeError() {
  std::string e;
  std::unique_lock<std::mutex> lock(sh_->mu, std::try_to_lock);
  if (lock.owns_lock()) e.swap(sh_->error);
  return e;
}

long ViewThread::imagesDrawn() const {
  return sh_->drawn.load();
}

}  // namespace ms
