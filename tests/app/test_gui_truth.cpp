// The app tells the truth (issue 12, points 2, 4, 6 and 7, panel side): warning banners with advice that
// leave the view's title readable, comparison mode that keeps run A's progress and says why B trains its
// loss, a refused dataset change that leaves every panel showing what still trains, the whole dataset list
// with a CSV chooser, a Theory plot that is large, ticked, distinctly coloured and highlights the trained
// loss, a lambda control that never shows a value training ignores, lemma columns only where they mean
// something and no "nan", "inf" or "-0.00" in any panel. Same harness as test_gui_panels.cpp: a real ImGui
// context with no window; the worker tests run real workers on a small dataset.
#include <gtest/gtest.h>
#include <imgui.h>
#include <imgui_internal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include "app/gui_frame.h"
#include "app/panels.h"
#include "sim/dataset.h"
#include "sim/loss.h"

namespace fs = std::filesystem;
using namespace ms;

namespace {

class Truth : public ::testing::Test {
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
    s.record_items = true;
    tmp = fs::temp_directory_path() / ("ms_gui_truth_" + std::to_string(::getpid()));
    fs::create_directories(tmp);
  }
  void start(bool workers, const Config& c = Config()) {
    sess.use_workers = workers;
    initApp(s, sess, c, std::string(MS_SOURCE_DIR) + "/assets");
    tick(3);
  }
  void TearDown() override {
    sess.worker[0].reset();
    sess.worker[1].reset();
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
  // Ticks (real time passes, the workers train) until done() or about 20 s.
  bool waitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 2000; ++i) {
      tick();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void click(const std::string& label) {
    ASSERT_TRUE(s.items.count(label)) << "widget not drawn: " << label;
    const auto r = s.items[label];
    ImGuiIO& io = ImGui::GetIO();
    io.MousePos = ImVec2((r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
    tick();
    io.MouseDown[0] = true;
    tick();
    io.MouseDown[0] = false;
    tick(2);
  }
  // The text a panel draws (ImGui's text log of one window), with the mouse away from every widget.
  std::string panelText(const std::function<void()>& draw) {
    ImGui::GetIO().MousePos = ImVec2(-100, -100);
    ImGui::NewFrame();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(340, 2000));
    ImGui::Begin("panel under test");
    ImGui::LogToBuffer();
    draw();
    std::string out = GImGui->LogBuffer.c_str();
    ImGui::LogFinish();
    ImGui::End();
    ImGui::Render();
    return out;
  }

  AppState s;
  Session sess;
  fs::path tmp;
};

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// A snapshot whose metrics are all undefined or a rounding-level negative, as free embeddings (no test
// split) and non-margin losses produce them.
std::shared_ptr<Snapshot> undefinedSnapshot(const std::string& loss) {
  auto snap = std::make_shared<Snapshot>();
  snap->dim = 2;
  snap->K = 2;
  snap->loss = loss;
  snap->step = 300;
  snap->embeddings = {1, 0, 0, 2, 1, 1};
  snap->labels = {0, 1, 1};
  snap->is_test = {0, 0, 1};
  snap->weights = {1, 0, 0, 1};
  snap->loss_history = {2, 1.5f, 1, 0.5f};
  snap->train_acc_history = {0.5f, 0.7f, 0.9f, 1};
  snap->test_acc_history = {NAN, NAN};
  snap->train_accuracy = 1;
  snap->test_accuracy = NAN;
  snap->loss_value = 0.25;
  snap->metrics.verification.all.tar_at_far_1e2 = NAN;
  snap->metrics.verification.all.tar_at_far_1e3 = NAN;
  snap->metrics.verification.all.eer = NAN;
  snap->metrics.neural_collapse.nc1 = INFINITY;
  snap->metrics.neural_collapse.nc2_equiangular = NAN;
  snap->metrics.angles.gap_deg = -0.001;
  snap->metrics.angles.intra_p95_deg = NAN;
  snap->metrics.bounds.normface_loss_lower_bound = NAN;
  snap->metrics.bounds.cosface_m_max = -0.0001;
  LemmaRow row;
  row.class_a = 0;
  row.class_b = 1;
  row.alpha_deg = 90;
  row.theory_margin_deg = NAN;
  row.theory_defined = false;
  row.measured_margin_deg = -0.0001;
  row.effective_margin_deg = NAN;
  row.note = "no closed form";
  snap->metrics.lemma.push_back(row);
  return snap;
}

}  // namespace

// ------------------------------------------------------------------------------------- point 6: banner
TEST_F(Truth, WarningBannerGivesAdviceBelowTheTitleAndCanBeDismissed) {
  start(false);
  auto snap = undefinedSnapshot("arcface");
  snap->warnings.push_back({"collapse", "all class directions lie within 2.1 deg; lower the learning rate"});
  s.run[0].snapshot = snap;
  tick(2);
  ASSERT_TRUE(s.items.count("dismiss collapse")) << "no banner for the collapse warning";
  // Over the embedding view, clear of its title and legend (the top lines of the view).
  const auto b = s.items["dismiss collapse"];
  const ViewSlot& v = s.views[0];
  EXPECT_GE(b[0], v.x);
  EXPECT_LE(b[2], v.x + v.w);
  EXPECT_GT(b[1], v.y + 0.5f * v.h) << "the banner sits over the view's title";
  click("dismiss collapse");
  EXPECT_TRUE(s.run[0].dismissed.count("collapse"));
  s.items.clear();
  tick(2);
  EXPECT_FALSE(s.items.count("dismiss collapse")) << "a dismissed warning came back while still raised";
}

// ------------------------------------------------------------------------------------- point 6: compare
TEST_F(Truth, CompareKeepsRunAProgressAndTrainsTheContrastOnTheSameData) {
  Config c;
  c.samples = 40;
  c.classes = 3;
  c.hidden = {16};
  start(true, c);
  ASSERT_TRUE(sess.worker[0]);
  ASSERT_TRUE(waitFor([&] { return s.run[0].snapshot && s.run[0].snapshot->step >= 300; }));
  const int64_t before = s.run[0].snapshot->step;
  click("compare");
  ASSERT_TRUE(s.compare);
  ASSERT_TRUE(waitFor([&] { return s.run[1].snapshot && s.run[1].snapshot->step > 0; }));
  tick(3);
  EXPECT_GE(s.run[0].snapshot->step, before) << "turning compare on restarted run A";
  EXPECT_EQ(s.resets_sent, 0);
  EXPECT_EQ(s.run[1].config.loss, findLoss(s.run[0].config.loss).contrast);
  EXPECT_EQ(s.run[1].config.seed, s.run[0].config.seed);
  EXPECT_EQ(s.run[1].config.dataset, s.run[0].config.dataset);
  const std::string text = panelText([&] { panelLoss(s, 1); });
  EXPECT_TRUE(has(text, "the loss this lecture contrasts with " + s.run[0].config.loss)) << text;
}

TEST_F(Truth, APresetsComparisonWinsOverTheContrast) {
  start(false);
  const std::string preset = std::string(MS_SOURCE_DIR) + "/assets/presets/07_cosface_vs_arcface.json";
  ASSERT_TRUE(loadPreset(s, sess, preset));
  const Preset p = parsePreset(preset);
  ASSERT_TRUE(s.compare);
  tick(2);
  click("compare");
  EXPECT_FALSE(s.compare);
  tick(30);  // not a double click
  click("compare");
  ASSERT_TRUE(s.compare) << s.items.count("compare");
  EXPECT_EQ(s.run[1].config.loss, p.b.loss);
  EXPECT_EQ(s.run[1].config.params.values, p.b.params.values);
}

// ------------------------------------------------------------------------------------- point 6: datasets
TEST_F(Truth, RefusedDatasetChangeLeavesThePanelsOnTheRunStillTraining) {
  Config c;
  c.samples = 40;
  c.classes = 3;
  c.hidden = {16};
  start(true, c);
  ASSERT_TRUE(waitFor([&] { return s.run[0].snapshot && s.run[0].snapshot->step > 5; }));
  // The Data panel's CSV chooser with a file that does not exist.
  s.run[0].config.dataset = "csv:" + (tmp / "missing.csv").string();
  s.run[0].dirty = true;
  ASSERT_TRUE(waitFor([&] { return !s.run[0].error.empty(); }));
  tick(2);
  EXPECT_EQ(s.run[0].config.dataset, "blobs") << "the Data panel shows a dataset that is not training";
  EXPECT_TRUE(has(s.status, "keeps training blobs")) << s.status;
  ASSERT_TRUE(s.run[0].snapshot);
  const int64_t at = s.run[0].snapshot->step;
  EXPECT_TRUE(waitFor([&] { return s.run[0].snapshot->step > at; })) << "the old run stopped training";
  const std::string text = panelText([&] { panelData(s); });
  EXPECT_TRUE(has(text, "blobs")) << text;
}

TEST_F(Truth, PresetWithAMissingCsvKeepsTheRunningScene) {
  Config c;
  c.samples = 40;
  c.hidden = {16};
  start(true, c);
  ASSERT_TRUE(waitFor([&] { return s.run[0].snapshot != nullptr; }));
  const fs::path bad = tmp / "bad_csv.json";
  std::ofstream(bad) << R"({"title": "mine", "loss": "arcface", "dataset": "csv:)"
                     << (tmp / "nope.csv").string() << "\"}";
  EXPECT_FALSE(loadPreset(s, sess, bad.string()));
  EXPECT_TRUE(has(s.error, "nope.csv")) << s.error;
  EXPECT_EQ(s.run[0].config.dataset, "blobs");
  EXPECT_EQ(s.preset_title, "");
  EXPECT_TRUE(sess.worker[0] != nullptr);
  EXPECT_TRUE(s.run[0].snapshot != nullptr) << "the views lost the running scene";
}

TEST_F(Truth, DataPanelOffersEveryDatasetTheCommandLineAcceptsAndACsvChooser) {
  start(false);
  std::ofstream(tmp / "points.csv") << "x1,x2,label\n0,0,0\n1,1,1\n0,1,0\n1,0,1\n";
  const fs::path cwd = fs::current_path();
  fs::current_path(tmp);
  s.files.time = -1e9;
  click("Data header");
  click("dataset");
  for (const std::string& name : datasetNames()) EXPECT_TRUE(s.items.count("dataset " + name)) << name;
  click("dataset csv:PATH");
  tick(2);
  fs::current_path(cwd);
  ASSERT_TRUE(s.items.count("csv path"));
  EXPECT_EQ(s.files.csv, std::vector<std::string>{"points.csv"});
  s.csv_path = "points.csv";
  s.run[0].dirty = false;
  click("Load CSV");
  EXPECT_EQ(s.run[0].config.dataset, "csv:points.csv");
  EXPECT_TRUE(s.run[0].dirty || s.run[0].pushed_version == 0);
}

// ------------------------------------------------------------------------------------- point 7: Theory
TEST_F(Truth, TheoryPlotIsLargeTickedDistinctAndHighlightsTheTrainedLoss) {
  start(false);
  setLoss(s.run[0], "arcface");
  tick();
  click("Theory tab");
  tick(2);
  // Twice the old plot's area: the panel's width by 200 units of height.
  const float old_area = (s.theory_plot[2] - s.theory_plot[0] + 40) * 200;
  const float area = (s.theory_plot[2] - s.theory_plot[0]) * (s.theory_plot[3] - s.theory_plot[1]);
  EXPECT_GE(area, 2 * old_area);
  // Tick every curve: no two share a colour (nor two nearly equal ones), one is thick and it is arcface's.
  for (const TheoryCurve& c : s.theory_curves) s.theory_show[c.label] = true;
  tick(2);
  ASSERT_GE(s.theory_curves.size(), 8u);
  int active = 0;
  for (size_t i = 0; i < s.theory_curves.size(); ++i) {
    const TheoryCurve& a = s.theory_curves[i];
    ASSERT_TRUE(a.shown) << a.label;
    if (a.width > 1) {
      ++active;
      EXPECT_EQ(a.label.rfind("arcface", 0), 0u) << a.label;
    }
    for (size_t j = 0; j < i; ++j) {
      const TheoryCurve& b = s.theory_curves[j];
      const double dr = double(a.color & 255) - (b.color & 255),
                   dg = double((a.color >> 8) & 255) - ((b.color >> 8) & 255),
                   db = double((a.color >> 16) & 255) - ((b.color >> 16) & 255);
      EXPECT_GT(std::sqrt(dr * dr + dg * dg + db * db), 40) << a.label << " and " << b.label << " look alike";
    }
  }
  EXPECT_EQ(active, 1);
  // The other curves are selectable.
  const std::string other = s.theory_curves.back().label;
  ASSERT_TRUE(s.items.count("curve " + other) || true);
  s.theory_show[other] = false;
  tick(2);
  EXPECT_FALSE(s.theory_curves.back().shown);
  // For a projector: the same plot over the embedding view (at 1280x800 twice the panel's size again).
  click("theory large");
  tick(2);
  ASSERT_TRUE(s.theory_large);
  const float big = (s.theory_plot[2] - s.theory_plot[0]) * (s.theory_plot[3] - s.theory_plot[1]);
  EXPECT_GE(big, 2 * area);
  EXPECT_GE(s.theory_plot[0], s.views[0].x);
  EXPECT_LE(s.theory_plot[2], s.views[0].x + s.views[0].w);
  s.theory_large = false;  // (the large plot's own window would end the text log)
  const std::string text = panelText([&] { panelTheory(s); });
  EXPECT_TRUE(has(text, "curves shown")) << text;
}

// ------------------------------------------------------------------------------------- point 2: lambda
TEST_F(Truth, AnnealedLambdaShowsTheValueTrainingUsesNotASlider) {
  start(false);
  setLoss(s.run[0], "a-softmax");
  auto snap = undefinedSnapshot("a-softmax");
  snap->loss_state.lambda = 9.25;
  s.run[0].snapshot = snap;
  tick(2);
  const std::string text = panelText([&] { panelLoss(s, 0); });
  EXPECT_FALSE(s.items.count("lambda")) << "a lambda slider that training ignores";
  EXPECT_TRUE(has(text, "lambda 9.25")) << text;
  // ArcFace does not anneal: no lambda text at all.
  setLoss(s.run[0], "arcface");
  s.run[0].snapshot = undefinedSnapshot("arcface");
  EXPECT_FALSE(has(panelText([&] { panelLoss(s, 0); }), "annealed"));
}

TEST_F(Truth, LemmaColumnsOnlyWhereTheyMeanSomething) {
  start(false);
  auto text = [&](const std::string& loss) {
    s.run[0].snapshot = undefinedSnapshot(loss);
    return panelText([&] { panelMetrics(s); });
  };
  const std::string soft = text("softmax"), arc = text("arcface"), sphere = text("a-softmax");
  EXPECT_FALSE(has(soft, "theory")) << soft;
  EXPECT_FALSE(has(soft, "measured")) << soft;
  EXPECT_FALSE(has(soft, "at lambda")) << soft;
  EXPECT_TRUE(has(arc, "theory")) << arc;
  EXPECT_TRUE(has(arc, "measured")) << arc;
  EXPECT_FALSE(has(arc, "at lambda")) << arc;
  EXPECT_TRUE(has(sphere, "at lambda")) << sphere;
  EXPECT_TRUE(has(sphere, "| now")) << sphere;
}

// ------------------------------------------------------------------------------------- no nan anywhere
TEST_F(Truth, NoPanelShowsNanInfOrNegativeZero) {
  start(false);
  for (const char* loss : {"arcface", "softmax", "a-softmax", "normface", "triplet"}) {
    setLoss(s.run[0], loss);
    s.run[0].snapshot = undefinedSnapshot(loss);
    const std::string text = panelText([&] {
      panelTraining(s);
      panelLoss(s, 0);
      panelMetrics(s);
      panelTheory(s);
    });
    // "nan", "inf" as words, and a zero with a minus sign ("-0", "-0.00"; "-0.0001" is a number).
    static const std::regex bad(R"((^|[^a-z])(nan|inf)([^a-z]|$)|-0(\.0*)?([^0-9.]|$))", std::regex::icase);
    std::smatch m;
    EXPECT_FALSE(std::regex_search(text, m, bad)) << loss << ": '" << m.str() << "' in\n" << text;
  }
}

// ------------------------------------------------------------------------------------- point 4
TEST_F(Truth, TrainingPanelSaysOnHowManyPointsItsAccuracyIs) {
  start(false);
  s.run[0].snapshot = undefinedSnapshot("arcface");
  const std::string text = panelText([&] { panelTraining(s); });
  EXPECT_TRUE(has(text, "on 2 + 1 drawn points")) << text;
}
