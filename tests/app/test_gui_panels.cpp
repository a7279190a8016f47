// The desktop app's panels and frame() under Dear ImGui with no window and no GL: an ImGui context with a
// display size and a built font atlas, ticked N frames, with mouse and keys injected the way the GLFW backend
// does. Each test asserts on the AppState the UI changed (and files written), so a broken panel fails here.
#include <gtest/gtest.h>
#include <imgui.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "app/config_io.h"
#include "app/gui_frame.h"
#include "app/panels.h"
#include "sim/lemma.h"
#include "sim/loss.h"

namespace fs = std::filesystem;
using namespace ms;

namespace {

class Gui : public ::testing::Test {
 protected:
  void SetUp() override {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(1280, 800);
    io.DeltaTime = 1.0f / 60;
    io.IniFilename = nullptr;
    io.Fonts->AddFontDefault();
    unsigned char* px = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&px, &w, &h);
    sess.use_workers = false;  // panels only: no thread, no GL
    s.record_items = true;
    initApp(s, sess, Config(), std::string(MS_SOURCE_DIR) + "/assets");
    tmp = fs::temp_directory_path() / ("ms_gui_test_" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    tick(3);
  }
  void TearDown() override {
    ImGui::DestroyContext();
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }
  void tick(int n = 1) {
    for (int i = 0; i < n; ++i) {
      s.now += 1.0 / 60;
      frame(s, sess);
    }
  }
  // Moves to a recorded widget (fx, fy: where inside its rectangle), presses and releases the left button.
  void click(const std::string& label, float fx = 0.5f, float fy = 0.5f) {
    ASSERT_TRUE(s.items.count(label)) << "widget not drawn: " << label;
    const auto r = s.items[label];
    ImGuiIO& io = ImGui::GetIO();
    io.MousePos = ImVec2(r[0] + fx * (r[2] - r[0]), r[1] + fy * (r[3] - r[1]));
    tick();
    io.MouseDown[0] = true;
    tick();
    io.MouseDown[0] = false;
    tick(2);  // the frame that sees the release, and one that lays out its consequences
  }
  void press(int key) {
    ImGuiIO& io = ImGui::GetIO();
    io.KeysDown[key] = true;
    tick();
    io.KeysDown[key] = false;
    tick();
  }
  double param(int run, const std::string& name) {
    return paramValue(findLoss(s.run[run].config.loss), s.run[run].config.params, name);
  }
  std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  AppState s;
  Session sess;
  fs::path tmp;
};

TEST_F(Gui, OpensWithLargeEmbeddingViewAndEveryPanel) {
  ASSERT_FALSE(s.views.empty());
  const ViewSlot& emb = s.views[0];
  EXPECT_TRUE(emb.kind == ViewKind::Circle || emb.kind == ViewKind::Sphere);
  EXPECT_GE(emb.w, 0.4f * 1280);  // the large view
  for (const char* w :
       {"Play", "Step", "Reset", "compare", "learning rate", "batch", "loss", "ArcFace", "CosFace",
        "SphereFace", "Data header", "Model header", "View header", "Theory tab", "Presets tab"})
    EXPECT_TRUE(s.items.count(w)) << w;
  // Blobs with 2-D inputs: the input-space view sits beside the embedding, smaller.
  bool input = false;
  for (const auto& v : s.views)
    if (v.kind == ViewKind::Input) {
      input = true;
      EXPECT_LT(v.w * v.h, emb.w * emb.h);
    }
  EXPECT_TRUE(input);
}

TEST_F(Gui, EveryLossParamHasASliderWithTheCatalogueRange) {
  setLoss(s.run[0], "arcface");
  tick(2);
  const LossSpec& spec = findLoss("arcface");
  for (const auto& p : spec.params) EXPECT_TRUE(s.items.count(p.name)) << p.name;
  // Clicking the right end of the m slider sets the catalogue's upper bound, and marks the run for the
  // worker.
  s.run[0].dirty = false;
  click("m", 0.999f);
  double hi = 0;
  for (const auto& p : spec.params)
    if (p.name == "m") hi = p.hi;
  EXPECT_NEAR(param(0, "m"), hi, 0.02 * hi);
  EXPECT_TRUE(s.run[0].dirty);
  click("m", 0.001f);
  EXPECT_LT(param(0, "m"), 0.02 * hi);
}

TEST_F(Gui, LiteratureButtonsSetThePapersValues) {
  click("CosFace");
  EXPECT_EQ(s.run[0].config.loss, "am-softmax");
  EXPECT_DOUBLE_EQ(param(0, "s"), 64);
  EXPECT_DOUBLE_EQ(param(0, "m"), 0.35);
  click("ArcFace");
  EXPECT_EQ(s.run[0].config.loss, "arcface");
  EXPECT_DOUBLE_EQ(param(0, "s"), 64);
  EXPECT_DOUBLE_EQ(param(0, "m"), 0.5);
  click("SphereFace");
  EXPECT_EQ(s.run[0].config.loss, "a-softmax");
  EXPECT_DOUBLE_EQ(param(0, "m"), 4);
  // SphereFace's m is an integer parameter: the slider only produces integers.
  tick();
  click("m", 0.3f);
  const double m = param(0, "m");
  EXPECT_EQ(m, std::round(m));
  EXPECT_LT(m, 4);
}

TEST_F(Gui, ShortcutsActOnlyWithoutTextFocus) {
  EXPECT_FALSE(s.paused);
  press(kKeySpace);
  EXPECT_TRUE(s.paused);
  press(kKeySpace);
  EXPECT_FALSE(s.paused);
  press(kKeyPeriod);  // single step pauses first
  EXPECT_TRUE(s.paused);
  EXPECT_EQ(s.single_steps_sent, 1);
  press(kKeyR);
  EXPECT_EQ(s.resets_sent, 1);
  press(kKeyH);
  EXPECT_FALSE(s.show_panels);
  ASSERT_FALSE(s.views.empty());
  EXPECT_EQ(s.views[0].x, 0);  // the view takes the whole window
  EXPECT_EQ(s.views[0].w, 1280);
  press(kKeyTab);
  EXPECT_TRUE(s.show_panels);

  // Focus a text field (the seed in the Data panel): space must not pause, r must not reset.
  click("Data header");
  tick();
  click("seed", 0.2f);
  tick();
  ASSERT_TRUE(ImGui::GetIO().WantTextInput);
  const bool paused = s.paused;
  press(kKeySpace);
  press(kKeyR);
  EXPECT_EQ(s.paused, paused);
  EXPECT_EQ(s.resets_sent, 1);
}

TEST_F(Gui, RegenerateChangesTheSeedAndResets) {
  click("Data header");
  tick();
  const uint64_t seed = s.run[0].config.seed;
  click("Regenerate");
  EXPECT_EQ(s.run[0].config.seed, seed + 1);
  EXPECT_EQ(s.resets_sent, 1);
}

TEST_F(Gui, ComparisonModeSplitsTheViewAndSharesTheData) {
  click("compare");
  ASSERT_TRUE(s.compare);
  EXPECT_NE(s.run[1].config.loss, s.run[0].config.loss);
  int emb = 0;
  for (const auto& v : s.views)
    if (v.kind != ViewKind::Input) ++emb;
  EXPECT_EQ(emb, 2);
  EXPECT_EQ(s.views[0].run, 0);
  EXPECT_EQ(s.views[1].run, 1);
  EXPECT_FLOAT_EQ(s.views[0].w, s.views[1].w);
  EXPECT_FLOAT_EQ(s.views[1].x, s.views[0].x + s.views[0].w);
  // A data edit on A reaches B; B keeps its own loss.
  const std::string lossB = s.run[1].config.loss;
  s.req.regenerate = true;  // the Data panel's button (clicked in RegenerateChangesTheSeedAndResets)
  tick();
  EXPECT_EQ(s.run[1].config.seed, s.run[0].config.seed);
  EXPECT_EQ(s.run[1].config.loss, lossB);
  EXPECT_TRUE(s.items.count("loss B"));
  click("compare");
  EXPECT_FALSE(s.compare);
}

TEST_F(Gui, UiScaleScalesFontsAndStyle) {
  const float pad = ImGui::GetStyle().FramePadding.x;
  s.ui_scale = 2;
  tick();
  EXPECT_FLOAT_EQ(ImGui::GetIO().FontGlobalScale, 2 * s.font_base);
  EXPECT_FLOAT_EQ(ImGui::GetStyle().FramePadding.x, 2 * pad);
}

TEST_F(Gui, EveryShippedPresetLoads) {
  ASSERT_FALSE(s.preset_files.empty());
  for (const auto& p : s.preset_files) {
    EXPECT_TRUE(loadPreset(s, sess, p)) << p << ": " << s.error;
    tick();
  }
}

TEST_F(Gui, PresetsTabListsTitlesAndLoadsOnClick) {
  click("Presets tab");
  tick();
  ASSERT_TRUE(s.items.count("preset 07_cosface_vs_arcface"));
  for (size_t i = 0; i < s.preset_files.size(); ++i)
    EXPECT_FALSE(s.preset_titles[i].empty()) << s.preset_files[i] << " has no title";
  click("preset 07_cosface_vs_arcface");
  EXPECT_EQ(s.preset_name, "07_cosface_vs_arcface");
  EXPECT_TRUE(s.compare);
  EXPECT_EQ(s.run[0].config.loss, "am-softmax");
  EXPECT_EQ(s.run[1].config.loss, "arcface");
  EXPECT_EQ(s.run[1].config.seed, s.run[0].config.seed);  // same data
}

TEST_F(Gui, BadPresetNamesTheKeyAndChangesNothing) {
  s.run[0].config.lr = 0.0123;
  const std::string before = configToJson(s.run[0].config).dump();
  const fs::path bad = tmp / "bad.json";
  std::ofstream(bad) << R"({"loss": "arcface", "learning_rat": 0.1})";
  EXPECT_FALSE(loadPreset(s, sess, bad.string()));
  EXPECT_NE(s.error.find("learning_rat"), std::string::npos) << s.error;
  EXPECT_EQ(configToJson(s.run[0].config).dump(), before);
  const fs::path bad2 = tmp / "bad2.json";
  std::ofstream(bad2) << R"({"loss": "arcface", "compare": {"loss": "softmax", "colour": 1}})";
  EXPECT_FALSE(loadPreset(s, sess, bad2.string()));
  EXPECT_NE(s.error.find("colour"), std::string::npos) << s.error;
  EXPECT_EQ(configToJson(s.run[0].config).dump(), before);
  tick();  // the banner draws
}

TEST_F(Gui, SaveNeverOverwritesWithoutAsking) {
  const fs::path p = tmp / "mine.json";
  s.run[0].config.lr = 0.0321;
  ASSERT_TRUE(savePreset(s, p.string(), false));
  ASSERT_TRUE(fs::exists(p));
  std::ofstream(p) << "precious";
  s.run[0].config.lr = 0.05;
  EXPECT_FALSE(savePreset(s, p.string(), false));
  EXPECT_EQ(slurp(p), "precious");
  tick(2);  // the confirmation opens
  click("Cancel");
  EXPECT_EQ(slurp(p), "precious");
  EXPECT_FALSE(savePreset(s, p.string(), false));
  tick(2);
  click("Overwrite");
  Config back = loadConfigFile(p.string());
  EXPECT_DOUBLE_EQ(back.lr, 0.05);
  // And it loads back as a preset.
  s.run[0].config.lr = 0.9;
  EXPECT_TRUE(loadPreset(s, sess, p.string()));
  EXPECT_DOUBLE_EQ(s.run[0].config.lr, 0.05);
}

TEST_F(Gui, ScreenshotPathsNeverCollide) {
  s.preset_name = "lecture";
  s.shot.out_dir = tmp.string();
  const std::string a = screenshotPath(s, "", "png");
  EXPECT_NE(a.find("lecture-"), std::string::npos);
  EXPECT_EQ(a.substr(a.size() - 4), ".png");
  std::ofstream(a) << "x";
  const std::string b = screenshotPath(s, "", "png");
  EXPECT_NE(a, b);
}

// A fabricated snapshot: two classes at 0 and 90 degrees, so the tooltip's angles are known.
SnapshotPtr fakeSnapshot() {
  auto snap = std::make_shared<Snapshot>();
  snap->dim = 2;
  snap->K = 2;
  snap->loss = "arcface";
  snap->step = 10;
  snap->embeddings = {1, 0, 0, 2};
  snap->labels = {0, 1};
  snap->is_test = {0, 0};
  snap->inputs = {0, 0, 1, 1};
  snap->weights = {1, 0, 0, 1};
  snap->loss_history = {2, 1.5f, 1, 0.5f};
  snap->train_acc_history = {0.5f, 0.7f, 0.9f, 1};
  snap->test_acc_history = {0.5f, 0.6f, 0.8f, 0.9f};
  LemmaRow row;
  row.class_a = 0;
  row.class_b = 1;
  row.alpha_deg = 90;
  row.theory_margin_deg = 30;
  row.measured_margin_deg = 29.5;
  snap->metrics.lemma.push_back(row);
  return snap;
}

TEST_F(Gui, HoverShowsClassAndAngleToEachWeight) {
  s.run[0].snapshot = fakeSnapshot();
  tick();
  const ViewSlot v = s.views[0];
  float px = 0, py = 0;
  ASSERT_TRUE(viewProjection(s, v, *s.run[0].snapshot).project(1, px, py));
  EXPECT_NEAR(px, v.x + v.w / 2, 1);  // (0,2) is straight up
  EXPECT_LT(py, v.y + v.h / 2);
  ImGui::GetIO().MousePos = ImVec2(px + 2, py + 1);
  tick(2);
  EXPECT_NE(s.hover_text.find("class 1"), std::string::npos) << s.hover_text;
  EXPECT_NE(s.hover_text.find("angle to W0: 90.0"), std::string::npos) << s.hover_text;
  EXPECT_NE(s.hover_text.find("angle to W1: 0.0"), std::string::npos) << s.hover_text;
  ImGui::GetIO().MousePos = ImVec2(v.x + 5, v.y + v.h - 5);  // empty corner
  tick();
  EXPECT_TRUE(s.hover_text.empty());
}

TEST_F(Gui, MetricsAndTheoryPanelsDrawFromASnapshot) {
  s.run[0].snapshot = fakeSnapshot();
  tick(2);  // Metrics tab is the default
  click("Theory tab");
  tick(2);
  // The theory panel evaluates every margin loss's decision rule; nothing here may throw or draw NaN-sized
  // widgets, and the tab stays selectable.
  EXPECT_TRUE(s.items.count("Theory tab"));
}

TEST_F(Gui, DivergenceBannerOffersResetAndContinue) {
  auto snap = std::const_pointer_cast<Snapshot>(fakeSnapshot());
  snap->diverged = true;
  snap->message = "lower the learning rate (lr 0.5 -> 0.05)";
  s.run[0].snapshot = snap;
  s.paused = true;
  tick(2);
  ASSERT_TRUE(s.items.count("diverged reset"));
  click("diverged reset");
  EXPECT_EQ(s.resets_sent, 1);
  click("diverged continue");
  EXPECT_FALSE(s.paused);
}

TEST_F(Gui, WorkerErrorsShowUntilDismissed) {
  s.run[0].error =
      "dataset: fashion-mnist not found; install it with: sudo apt install dataset-fashion-mnist";
  tick(2);
  ASSERT_TRUE(s.items.count("dismiss"));
  click("dismiss");
  EXPECT_TRUE(s.run[0].error.empty());
}

TEST_F(Gui, ScreenshotKeyExportsTheViewAsSvgNamedAfterThePreset) {
  s.run[0].snapshot = fakeSnapshot();
  s.preset_name = "lecture";
  s.shot.out_dir = tmp.string();
  s.shot.format = ShotFormat::Svg;
  tick();
  press(kKeyS);
  EXPECT_EQ(s.screenshots_taken, 1) << s.error;
  int svgs = 0;
  for (const auto& e : fs::directory_iterator(tmp)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".svg" && name.rfind("lecture-", 0) == 0) {
      ++svgs;
      EXPECT_NE(slurp(e.path()).find("<svg"), std::string::npos);
      EXPECT_NE(s.status.find(name), std::string::npos) << s.status;  // says where it saved it
    }
  }
  EXPECT_EQ(svgs, 1);
  // PNG needs the GL renderer; without one the app says so instead of failing silently.
  s.shot.format = ShotFormat::Png;
  press(kKeyS);
  EXPECT_EQ(s.screenshots_taken, 1);
  EXPECT_NE(s.error.find("renderer"), std::string::npos) << s.error;
}

// The theory table computes boundaries from each loss's decision rule (lemmaBoundary at lambda 0); the notes'
// closed forms must come out.
double boundaryAngle(const LossSpec& spec, const LossParams& p, double alpha) {
  LossState st;
  st.lambda = 0;
  return lemmaBoundary(spec, p, st, 0, 1, alpha, 1, 1);
}

TEST(Theory, BoundaryAnglesMatchTheClosedForms) {
  const double pi = 3.14159265358979323846, alpha = 80 * pi / 180;
  LossParams p;
  p.values["m"] = 3;
  // A-Softmax (lambda 0): theta_1 = alpha/(m+1), margin alpha (m-1)/(m+1) (SphereFace lemma).
  EXPECT_NEAR(boundaryAngle(findLoss("a-softmax"), p, alpha), alpha / 4, 1e-9);
  // ArcFace (plain): cos(t1 + m) = cos(alpha - t1) -> t1 = (alpha - m)/2, margin exactly m.
  LossParams a;
  a.values = {{"m", 0.4}, {"s", 30}, {"variant", 2}};
  EXPECT_NEAR(boundaryAngle(findLoss("arcface"), a, alpha), (alpha - 0.4) / 2, 1e-9);
  // Modified softmax: the bisector.
  EXPECT_NEAR(boundaryAngle(findLoss("modified-softmax"), LossParams(), alpha), alpha / 2, 1e-9);
  // CosFace: cos t1 - m = cos(alpha - t1).
  LossParams c;
  c.values = {{"m", 0.2}, {"s", 30}};
  const double t = boundaryAngle(findLoss("am-softmax"), c, alpha);
  EXPECT_NEAR(std::cos(t) - 0.2, std::cos(alpha - t), 1e-9);
  // A margin too large for alpha: never met.
  LossParams big;
  big.values = {{"m", 1.5}, {"s", 30}, {"variant", 2}};
  EXPECT_TRUE(std::isnan(boundaryAngle(findLoss("arcface"), big, 60 * pi / 180)));
}

TEST(Theory, TargetLogitCurvesOnTheCosineScale) {
  const double pi = 3.14159265358979323846;
  LossParams a;
  a.values = {{"m", 0.5}, {"s", 64}, {"variant", 2}};
  for (double th : {0.3, 1.0, 2.0}) {  // not 0: the loss clamps cos below 1 before acos
    EXPECT_NEAR(curveAt(findLoss("arcface"), a, th), std::cos(th + 0.5), 1e-12);
    EXPECT_NEAR(curveAt(findLoss("modified-softmax"), LossParams(), th), std::cos(th), 1e-12);
  }
  LossParams c;
  c.values = {{"m", 0.35}, {"s", 64}};
  EXPECT_NEAR(curveAt(findLoss("am-softmax"), c, 1.0), std::cos(1.0) - 0.35, 1e-12);
  // MagFace's margin follows |h| (Meng et al. 2021): l_m at |h| <= l_a = 10, u_m at |h| >= u_a = 110, and
  // the panel draws it at the run's norms, not only at |h| = 1 (where it is the clamped l_a's).
  EXPECT_NEAR(curveAt(findLoss("magface"), LossParams(), 1.0, 10), std::cos(1.0 + 0.45), 1e-12);
  EXPECT_NEAR(curveAt(findLoss("magface"), LossParams(), 1.0, 60), std::cos(1.0 + 0.625), 1e-12);
  EXPECT_NEAR(curveAt(findLoss("magface"), LossParams(), 1.0, 200), std::cos(1.0 + 0.8), 1e-12);
  // SphereFace's psi is monotonically decreasing over [0, pi] (Liu et al. 2017, eq. 6).
  LossParams sp;
  sp.values["m"] = 4;
  double prev = 2;
  for (int i = 0; i <= 90; ++i) {
    const double v = curveAt(findLoss("a-softmax"), sp, pi * i / 90);
    EXPECT_LT(v, prev + 1e-12);
    prev = v;
  }
}

}  // namespace
