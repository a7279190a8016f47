// The view thread (app/view_thread.h): what the UI blits must be exactly what the Renderer draws for the same
// snapshot and view; an unchanged job is not drawn again and a new snapshot is; exports are queued, run on
// the thread in order and each ends in a file or an error handed back to the UI. The "UI" context here is a
// second headless context on the test thread.
#include "app/view_thread.h"

#include <imgui.h>

#include <epoxy/gl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "app/gui_frame.h"
#include "render/headless.h"
#include "render/palette.h"
#include "sim/errors.h"
#include "tests/gl_target.h"

namespace ms {
namespace {

std::shared_ptr<Snapshot> snapshotAt(double first_weight_deg) {
  auto s = std::make_shared<Snapshot>();
  s->dim = 2;
  s->K = 3;
  s->loss = "arcface";
  for (int k = 0; k < 3; ++k) {
    const double a = (first_weight_deg + 120 * k) * 3.14159265358979 / 180;
    s->weights.insert(s->weights.end(), {std::cos(a), std::sin(a)});
    for (int i = 0; i < 20; ++i) {
      const double b = a + 0.01 * (i - 10);
      s->embeddings.insert(s->embeddings.end(), {float(2 * std::cos(b)), float(2 * std::sin(b))});
      s->labels.push_back(k);
      s->is_test.push_back(i % 5 == 0);
    }
  }
  return s;
}

bool waitForImages(const ViewThread& t, long n) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (t.imagesDrawn() < n) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// The UI's request never waits for the lock: when the view thread holds it, the job is not taken and the next
// frame asks again. Tests ask until it is taken.
void requestUntilTaken(ViewThread& t, const ViewThread::Job& job) {
  while (!t.request(0, job)) std::this_thread::yield();
}

uint32_t pngSize(const std::string& path, int* w, int* h) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  unsigned char head[24] = {};
  const size_t n = std::fread(head, 1, 24, f);
  std::fclose(f);
  if (n != 24) return 0;
  *w = (head[16] << 24) | (head[17] << 16) | (head[18] << 8) | head[19];
  *h = (head[20] << 24) | (head[21] << 16) | (head[22] << 8) | head[23];
  return 1;
}

TEST(ViewThread, BlitShowsExactlyWhatTheRendererDraws) {
  HeadlessContext ui;  // the UI's context; the view thread makes its own
  const int W = 240, H = 180;
  ViewOptions v;
  v.kind = ViewKind::Circle;
  auto a = snapshotAt(10);

  // Reference: the same renderer code in this context.
  GlTarget ref(W, H);
  std::vector<uint8_t> expected;
  {
    Renderer r;
    r.setSnapshot(a);
    ref.bind();
    r.draw(v, 0, 0, W, H, 1.0f);
    expected = ref.read();
  }

  ViewThread t;
  GlTarget out(W, H);
  out.bind();
  EXPECT_FALSE(t.blit(0, 0, 0, W, H)) << "an image before any job";
  requestUntilTaken(t, {a, v, W, H, 1.0f});
  ASSERT_TRUE(waitForImages(t, 1));
  out.bind();
  ASSERT_TRUE(t.blit(0, 0, 0, W, H));
  EXPECT_EQ(out.read(), expected);

  // The same job again is not drawn again; a new snapshot is, and the blit then shows the new image.
  requestUntilTaken(t, {a, v, W, H, 1.0f});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(t.imagesDrawn(), 1);
  requestUntilTaken(t, {snapshotAt(70), v, W, H, 1.0f});
  ASSERT_TRUE(waitForImages(t, 2));
  out.bind();
  ASSERT_TRUE(t.blit(0, 0, 0, W, H));
  EXPECT_NE(out.read(), expected);
  EXPECT_EQ(t.takeError(), "");
}

TEST(ViewThread, ExportsAreQueuedAndEachEndsInAFileOrAnError) {
  HeadlessContext ui;
  ViewThread t;
  ViewThread::Export e;
  e.snap = snapshotAt(0);
  e.ex.width = 100, e.ex.height = 80, e.ex.scale = 2;
  const std::string dir = testing::TempDir();
  std::vector<std::string> paths;
  // Four presses queued at once, as a lecturer hammering `s`: a PNG, an SVG, a folder that does not exist
  // and a scale out of range. submitExport returns at once; the results come back in order.
  for (int k = 0; k < 4; ++k) {
    ViewThread::Export x = e;
    x.tag = 10 + k;
    x.path = dir + "view_thread_export_" + std::to_string(k) + (k == 1 ? ".svg" : ".png");
    x.svg = k == 1;
    if (k == 2) x.path = "/nonexistent-dir/x.png";
    if (k == 3) x.ex.scale = 100;
    std::remove(x.path.c_str());
    paths.push_back(x.path);
    t.submitExport(std::move(x));
  }
  t.finishExports();
  EXPECT_EQ(t.exportsPending(), 0);
  std::vector<ViewThread::ExportDone> done;
  for (int tries = 0; done.size() < 4 && tries < 1000; ++tries) {
    auto more = t.takeExports();
    done.insert(done.end(), more.begin(), more.end());
  }
  ASSERT_EQ(done.size(), 4u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(done[k].tag, 10 + k);
    EXPECT_EQ(done[k].path, paths[k]);
  }
  EXPECT_EQ(done[0].error, "");
  int w = 0, h = 0;
  ASSERT_TRUE(pngSize(paths[0], &w, &h)) << "no PNG written";
  EXPECT_EQ(w, 200);
  EXPECT_EQ(h, 160);
  EXPECT_EQ(done[1].error, "");
  std::FILE* f = std::fopen(paths[1].c_str(), "rb");
  ASSERT_NE(f, nullptr) << "no SVG written";
  std::fclose(f);
  EXPECT_NE(done[2].error.find("/nonexistent-dir"), std::string::npos) << done[2].error;
  EXPECT_NE(done[3].error, "");
  EXPECT_TRUE(t.takeExports().empty()) << "results are handed over once";
}

// The app's side of it: a press queues its exports and returns; the frame that finds them finished says
// where they went, and presses in the same second get different names.
TEST(ViewThread, ScreenshotPressesNeverWaitAndEachSavesItsOwnFile) {
  HeadlessContext ui;
  ImGui::CreateContext();
  ImGui::GetIO().DisplaySize = ImVec2(1280, 800);
  AppState s;
  Session sess;
  sess.use_workers = false;
  sess.views = std::make_unique<ViewThread>();
  s.shot.out_dir = testing::TempDir() + "shots_" + std::to_string(::getpid());
  std::filesystem::create_directories(s.shot.out_dir);
  s.run[0].snapshot = snapshotAt(30);
  s.views.push_back({0, ViewKind::Circle, 0, 0, 300, 200});
  s.shot.scale = 1;
  for (int k = 0; k < 3; ++k) takeScreenshots(s, sess);
  EXPECT_EQ(s.screenshots_pressed, 3);
  EXPECT_EQ(s.shots.paths.size(), 3u) << "three presses, three different files promised";
  sess.views->finishExports();
  for (int tries = 0; s.screenshots_taken < 3 && tries < 1000; ++tries)
    finishScreenshots(s, sess.views->takeExports());
  EXPECT_EQ(s.screenshots_taken, 3) << s.error;
  EXPECT_TRUE(s.shots.presses.empty());
  EXPECT_TRUE(s.shots.paths.empty());
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(s.shot.out_dir))
    files += e.path().extension() == ".png";
  EXPECT_EQ(files, 3);
  EXPECT_NE(s.status.find("saved "), std::string::npos) << s.status;
  // A press while too many are still being saved ends in a message, not in a growing queue.
  for (int k = 0; k < 6; ++k) takeScreenshots(s, sess);
  EXPECT_EQ(s.screenshots_failed, 2);
  EXPECT_NE(s.error.find("still being saved"), std::string::npos) << s.error;
  sess.views->finishExports();
  for (int tries = 0; s.screenshots_taken < 7 && tries < 1000; ++tries)
    finishScreenshots(s, sess.views->takeExports());
  EXPECT_EQ(s.screenshots_taken + s.screenshots_failed, s.screenshots_pressed);
  std::filesystem::remove_all(s.shot.out_dir);
  sess.views.reset();
  ImGui::DestroyContext();
}

// The app finds the point under the mouse with viewProjection; it must land on the pixel where the renderer
// drew that point, for the circle and the sphere, at a projector UI scale (which changes the layout's
// margins).
TEST(ViewThread, HoverProjectionLandsOnTheDrawnPoints) {
  HeadlessContext ui;
  ImGui::CreateContext();
  ImGui::GetIO().DisplaySize = ImVec2(1280, 800);
  AppState s;
  s.ui_scale = 1.5f;
  const int K = 4;
  for (int dim : {2, 3}) {
    auto snap = std::make_shared<Snapshot>();
    snap->dim = dim;
    snap->K = K;
    snap->loss = "normface";
    const double deg[K] = {10, 100, 200, 300};
    for (int k = 0; k < K; ++k) {
      const double a = deg[k] * 3.14159265358979 / 180;
      const double c = std::cos(a), sn = std::sin(a);
      // d = 3: directions tilted towards the default camera so that all four face the viewer.
      const std::vector<double> w =
          dim == 2 ? std::vector<double>{c, sn} : std::vector<double>{c + 1.2, sn + 0.8, 0.6};
      snap->weights.insert(snap->weights.end(), w.begin(), w.end());
      for (double x : w) snap->embeddings.push_back(float(2 * x));
      snap->labels.push_back(k);
      snap->is_test.push_back(0);
    }
    s.run[0].snapshot = snap;
    s.run[0].view = ViewOptions();
    ViewOptions& vo = s.run[0].view;
    vo.show_regions = vo.show_boundaries = vo.show_margins = vo.show_weights = vo.show_legend = false;
    vo.point_size = 14;
    // Layout changers: room for the lemma rows under the circle, and the raw cloud's extent.
    vo.show_annotations = true;
    vo.show_raw = dim == 2;
    snap->metrics.lemma.resize(4);
    const ViewSlot v{0, dim == 2 ? ViewKind::Circle : ViewKind::Sphere, 0, 0, 560, 760};
    const ViewImage im = viewImage(s, v);
    ViewOptions drawn = vo;
    drawn.kind = v.kind;
    drawn.lighting = false;
    s.run[0].view.lighting = false;
    GlTarget out(im.w, im.h);
    Renderer r;
    r.setSnapshot(snap);
    out.bind();
    r.draw(drawn, 0, 0, im.w, im.h, im.scale);
    const std::vector<uint8_t> px = out.read();
    const ViewProjection P = viewProjection(s, v, *snap);
    for (int i = 0; i < K; ++i) {
      float x = 0, y = 0;
      ASSERT_TRUE(P.project(i, x, y)) << "d = " << dim << ", point " << i;
      const int ix = int(std::floor(x)), iy = im.h - 1 - int(std::floor(y));  // GL rows go up
      ASSERT_TRUE(ix >= 0 && ix < im.w && iy >= 0 && iy < im.h);
      const uint8_t* q = &px[(size_t(iy) * im.w + ix) * 4];
      const Rgba want = classColour(i, K);
      const double d = 255 * std::max({std::fabs(q[0] / 255.0 - want.r), std::fabs(q[1] / 255.0 - want.g),
                                       std::fabs(q[2] / 255.0 - want.b)});
      EXPECT_LT(d, 12.0) << "d = " << dim << ": point " << i << " is not drawn where the tooltip looks";
    }
  }
  ImGui::DestroyContext();
}

}  // namespace
}  // namespace ms
