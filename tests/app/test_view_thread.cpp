// The view thread (app/view_thread.h): what the UI blits must be exactly what the Renderer draws for the same
// snapshot and view; an unchanged job is not drawn again and a new snapshot is; exports run on the thread and
// report their errors to the caller. The "UI" context here is a second headless context on the test thread.
#include "app/view_thread.h"

#include <epoxy/gl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>
#include <vector>

#include "render/headless.h"
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
  t.request(0, {a, v, W, H, 1.0f});
  ASSERT_TRUE(waitForImages(t, 1));
  out.bind();
  ASSERT_TRUE(t.blit(0, 0, 0, W, H));
  EXPECT_EQ(out.read(), expected);

  // The same job again is not drawn again; a new snapshot is, and the blit then shows the new image.
  t.request(0, {a, v, W, H, 1.0f});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(t.imagesDrawn(), 1);
  t.request(0, {snapshotAt(70), v, W, H, 1.0f});
  ASSERT_TRUE(waitForImages(t, 2));
  out.bind();
  ASSERT_TRUE(t.blit(0, 0, 0, W, H));
  EXPECT_NE(out.read(), expected);
  EXPECT_EQ(t.takeError(), "");
}

TEST(ViewThread, ExportRunsOnTheThreadAndReportsErrors) {
  HeadlessContext ui;
  ViewThread t;
  ViewOptions v;
  ExportOptions ex;
  ex.width = 100, ex.height = 80, ex.scale = 2;
  const std::string path = testing::TempDir() + "view_thread_export.png";
  std::remove(path.c_str());
  t.exportPng(snapshotAt(0), v, ex, path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr) << "no PNG written";
  unsigned char head[24] = {};
  ASSERT_EQ(std::fread(head, 1, 24, f), 24u);
  std::fclose(f);
  const int w = (head[16] << 24) | (head[17] << 16) | (head[18] << 8) | head[19];
  const int h = (head[20] << 24) | (head[21] << 16) | (head[22] << 8) | head[23];
  EXPECT_EQ(w, 200);
  EXPECT_EQ(h, 160);
  // A directory that does not exist: the caller gets the export's UserError.
  EXPECT_THROW(t.exportPng(snapshotAt(0), v, ex, "/nonexistent-dir/x.png"), UserError);
  ex.scale = 100;
  EXPECT_THROW(t.exportPng(snapshotAt(0), v, ex, path), UserError);
}

}  // namespace
}  // namespace ms
