// `marginscope sweep` pieces without training: --vary and --seeds parsing and their messages, the plan
// (product order, file names, loss parameters against config keys), the emitted command, Student-t
// intervals, and a summary that does not depend on the order the runs come in.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <functional>
#include <thread>

#include "app/config_io.h"
#include "app/sweep_plan.h"
#include "app/sweep_summary.h"
#include "sim/errors.h"

namespace ms {
namespace {

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TrainingOptions optionsOf(std::vector<std::string> args) {
  CLI::App app;
  TrainingOptions o;
  addTrainingOptions(app, o);
  args.insert(args.begin(), "sweep");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(int(argv.size()), argv.data());
  return o;
}

std::vector<SweepRun> plan(const std::vector<std::string>& base, const std::vector<std::string>& vary,
                           const std::string& seeds = "1") {
  std::vector<VaryAxis> axes;
  for (const std::string& v : vary) axes.push_back(parseVary(v));
  return planSweep(optionsOf(base), axes, parseSeeds(seeds));
}

TEST(Sweep, Seeds) {
  EXPECT_EQ(parseSeeds("1-5"), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(parseSeeds("7"), (std::vector<uint64_t>{7}));
  EXPECT_EQ(parseSeeds("1-3,10, 4"), (std::vector<uint64_t>{1, 2, 3, 10, 4}));
  EXPECT_EQ(parseSeeds("18446744073709551615"), (std::vector<uint64_t>{18446744073709551615ull}));
  for (const char* bad : {"5-1", "", "a", "1,1", "1-", "-3", "1,,2", "18446744073709551616", "0-100000000"}) {
    const std::string e = errorOf([&] { parseSeeds(bad); });
    EXPECT_NE(e.find("--seeds"), std::string::npos) << bad << ": " << e;
    EXPECT_NE(e.find("allowed"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_NE(errorOf([] { parseSeeds("5-1"); }).find("'5-1'"), std::string::npos);
}

TEST(Sweep, VaryText) {
  const VaryAxis a = parseVary("m=0.2, 0.35,0.5");
  EXPECT_EQ(a.key, "m");
  EXPECT_EQ(a.values, (std::vector<std::string>{"0.2", "0.35", "0.5"}));
  EXPECT_EQ(parseVary("hidden=32,32;64,64").values, (std::vector<std::string>{"32,32", "64,64"}));
  EXPECT_NE(errorOf([] { parseVary("loss"); }).find("KEY=V1,V2"), std::string::npos);
  EXPECT_NE(errorOf([] { parseVary("loss="); }).find("empty list"), std::string::npos);
  EXPECT_NE(errorOf([] { parseVary("m=0.2,,0.3"); }).find("empty value"), std::string::npos);
  EXPECT_NE(errorOf([] { parseVary("m=1,1"); }).find("twice"), std::string::npos);
}

TEST(Sweep, PlanIsTheProductInOrder) {
  const auto runs = plan({"--classes", "3", "--steps", "10"},
                         {"loss=am-softmax,enhanced-am-softmax", "m=0.2,0.35,0.5"}, "1-2");
  ASSERT_EQ(runs.size(), 12u);
  EXPECT_EQ(runs[0].name, "loss=am-softmax,m=0.2,seed=1.json");
  EXPECT_EQ(runs[1].name, "loss=am-softmax,m=0.2,seed=2.json");
  EXPECT_EQ(runs[2].name, "loss=am-softmax,m=0.35,seed=1.json");
  EXPECT_EQ(runs[11].name, "loss=enhanced-am-softmax,m=0.5,seed=2.json");
  EXPECT_EQ(runs[11].config.loss, "enhanced-am-softmax");
  EXPECT_DOUBLE_EQ(runs[11].config.params.values.at("m"), 0.5);
  EXPECT_EQ(runs[11].config.seed, 2u);
  EXPECT_EQ(runs[11].config.classes, 3);
  EXPECT_EQ(runs[11].config.steps, 10);
  std::set<std::string> names;
  for (const auto& r : runs) names.insert(r.name);
  EXPECT_EQ(names.size(), runs.size());
}

TEST(Sweep, ConfigKeysInEitherSpelling) {
  const auto runs = plan({}, {"input-dim=2,8", "holdout=none;3,4"});
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[1].config.input_dim, 2);
  EXPECT_EQ(runs[1].config.holdout_classes, (std::vector<int>{3, 4}));
  EXPECT_EQ(runs[3].name, "input_dim=8,holdout_classes=3_4,seed=1.json");
}

TEST(Sweep, BadKeysAndValuesNameThemselves) {
  std::string e = errorOf([] { plan({}, {"colour=red,blue"}); });
  EXPECT_NE(e.find("--vary colour: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("dataset"), std::string::npos) << e;  // config keys are listed
  EXPECT_NE(e.find(" m, "), std::string::npos) << e;     // and arcface's parameters
  e = errorOf([] { plan({}, {"seed=1,2"}); });
  EXPECT_NE(e.find("--seeds"), std::string::npos) << e;
  e = errorOf([] { plan({}, {"lr=0.1,fast"}); });
  EXPECT_NE(e.find("lr=fast"), std::string::npos) << e;  // the run
  EXPECT_NE(e.find("'fast' is not a number"), std::string::npos) << e;
  e = errorOf([] { plan({}, {"loss=arcface,nosuch"}); });
  EXPECT_NE(e.find("--vary loss"), std::string::npos) << e;
  EXPECT_NE(e.find("nosuch"), std::string::npos) << e;
  e = errorOf([] { plan({"--loss", "softmax"}, {"m=0.1,0.2"}); });
  EXPECT_NE(e.find("--vary m: unknown key"), std::string::npos) << e;
  e = errorOf([] { plan({}, {"m=0.2,9"}); });  // out of arcface's range
  EXPECT_NE(e.find("m=9"), std::string::npos) << e;
  e = errorOf([] { plan({}, {"lr=0.1,0.2", "lr=0.3"}); });
  EXPECT_NE(e.find("twice"), std::string::npos) << e;
}

TEST(Sweep, CommandReproducesTheRun) {
  const auto runs = plan({"--classes", "3", "--param", "s=20"}, {"loss=am-softmax", "m=0.35"}, "4");
  const std::string c = runCommand(runs[0], "/opt/my bin/marginscope", "res");
  EXPECT_EQ(c.rfind("mkdir -p res && '/opt/my bin/marginscope' train --loss am-softmax ", 0), 0u) << c;
  EXPECT_NE(c.find(" --classes 3"), std::string::npos) << c;
  EXPECT_NE(c.find(" --seed 4"), std::string::npos) << c;
  EXPECT_NE(c.find(" --param s=20 --param m=0.35"), std::string::npos) << c;
  EXPECT_NE(c.find(" --metrics res/loss=am-softmax,m=0.35,seed=4.json --quiet"), std::string::npos) << c;
  EXPECT_EQ(shellQuote("it's"), "'it'\\''s'");
  // The command's options resolve to the same config as the run.
  const std::vector<std::string> args = {"--loss", "am-softmax", "--classes", "3",       "--seed",
                                         "4",      "--param",    "s=20",      "--param", "m=0.35"};
  EXPECT_EQ(configToJson(resolveTrainingOptions(optionsOf(args))), configToJson(runs[0].config));
}

TEST(Sweep, StudentT) {
  EXPECT_NEAR(tQuantile975(1), 12.7062, 1e-4);
  EXPECT_NEAR(tQuantile975(4), 2.7764, 1e-4);
  EXPECT_NEAR(tQuantile975(30), 2.0423, 1e-4);
  EXPECT_NEAR(tQuantile975(40), 2.021075, 2e-6);
  EXPECT_NEAR(tQuantile975(120), 1.979930, 2e-6);
  EXPECT_NEAR(tQuantile975(100000), 1.959988, 2e-6);
  const Stat s = describe({1, 2, 3, 4, 5, NAN});
  EXPECT_EQ(s.n, 5);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_NEAR(s.sd, std::sqrt(2.5), 1e-12);
  EXPECT_NEAR(s.ci_high - s.mean, 2.776445105 * std::sqrt(2.5) / std::sqrt(5.0), 1e-6);
  EXPECT_NEAR(s.mean - s.ci_low, s.ci_high - s.mean, 1e-12);
  EXPECT_TRUE(std::isnan(describe({7}).sd));
  EXPECT_EQ(describe({}).n, 0);
}

nlohmann::json fakeRun(const std::string& loss, double m, int seed, double acc) {
  nlohmann::json j;
  j["config"] = {{"loss", loss}, {"seed", seed}, {"steps", 100}, {"params", {{"m", m}, {"s", 30}}}};
  j["test_accuracy"] = acc;
  j["verification"] = {{"tar_at_far_1e-3", nullptr}, {"eer", 0.1}, {"identification_accuracy_all", -1}};
  j["angles"] = {{"inter_center_min_deg", 60 + seed}};
  j["lemma"] = nlohmann::json::array(
      {{{"measured_margin_deg", 9}}, {{"measured_margin_deg", 4}}, {{"measured_margin_deg", nullptr}}});
  return j;
}

TEST(Sweep, SummaryGroupsAndIgnoresOrder) {
  std::vector<RunRecord> runs;
  for (const char* loss : {"enhanced-am-softmax", "am-softmax"})
    for (double m : {0.35, 0.2})
      for (int seed = 1; seed <= 3; ++seed)
        runs.push_back(runRecord(fakeRun(loss, m, seed, 0.5 + 0.1 * seed + m), "f"));
  const SweepSummary s = summarize(runs);
  EXPECT_EQ(s.columns, (std::vector<std::string>{"loss", "m"}));  // s and steps are the same everywhere
  ASSERT_EQ(s.groups.size(), 4u);
  EXPECT_EQ(s.groups[0].labels, (std::vector<std::string>{"am-softmax", "0.2"}));
  EXPECT_EQ(s.groups[3].labels, (std::vector<std::string>{"enhanced-am-softmax", "0.35"}));
  EXPECT_EQ(s.groups[0].runs, 3);
  EXPECT_NEAR(s.groups[0].stats[0].mean, 0.9, 1e-12);
  EXPECT_EQ(s.groups[0].stats[1].n, 0);            // null TAR@FAR=1e-3
  EXPECT_EQ(s.groups[0].stats[4].n, 0);            // identification -1: not computed
  EXPECT_DOUBLE_EQ(s.groups[0].stats[6].mean, 4);  // the smallest lemma margin
  EXPECT_DOUBLE_EQ(s.groups[0].stats[5].mean, 62);
  const std::string csv = summaryCsv(s);
  EXPECT_EQ(csv.rfind("loss,m,runs,test_accuracy_n,test_accuracy_mean,", 0), 0u) << csv;
  std::reverse(runs.begin(), runs.end());
  EXPECT_EQ(summaryCsv(summarize(runs)), csv);
  EXPECT_EQ(summaryMarkdown(summarize(runs)), summaryMarkdown(s));
  EXPECT_NE(summaryMarkdown(s).find("| am-softmax | 0.2 | 3 | 0.9 ± 0.25 |"), std::string::npos)
      << summaryMarkdown(s);
  int w = 0, h = 0;
  const size_t bytes = summaryFigure(s, w, h).size();
  EXPECT_EQ(bytes, size_t(w) * size_t(h) * 4);
  EXPECT_GT(w, 0);
  EXPECT_NE(errorOf([] {
              runRecord(nlohmann::json{{"step", 1}}, "x.json");
            }).find("x.json"),
            std::string::npos);
}

TEST(Sweep, PhysicalCores) {
  const int n = physicalCores();
  EXPECT_GE(n, 1);
  EXPECT_LE(unsigned(n), std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace ms
