// Config <-> JSON and the shared command-line options: round trips, every bad key or value names the key,
// flags override --config, atomic writes leave nothing behind, and every shipped preset loads.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>

#include "app/config_io.h"
#include "app/json_input.h"
#include "render/image_io.h"
#include "sim/errors.h"

namespace ms {
namespace {

namespace fs = std::filesystem;

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

Config parseArgs(std::vector<std::string> args) {
  CLI::App app;
  TrainingOptions o;
  addTrainingOptions(app, o);
  args.insert(args.begin(), "train");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(int(argv.size()), argv.data());
  return resolveTrainingOptions(o);
}

TEST(ConfigIo, JsonRoundTrip) {
  Config c;
  c.dataset = "spirals";
  c.classes = 7;
  c.hidden = {};
  c.holdout_classes = {5, 6};
  c.nesterov = true;
  c.lr_weights = 0.1;
  c.seed = 123456789012345ULL;
  c.loss = "arcface";
  c.params.values["m"] = 0.25;
  c.params.values["variant"] = 2;
  const nlohmann::json j = configToJson(c);
  EXPECT_EQ(j["params"]["variant"], "plain");  // choices are written by name
  Config back;
  applyConfigJson(j, back);
  EXPECT_EQ(configToJson(back), j);
  EXPECT_EQ(back.seed, c.seed);
  EXPECT_EQ(back.params.values.at("variant"), 2);
  EXPECT_TRUE(back.hidden.empty());
}

TEST(ConfigIo, BadKeysAndValuesNameTheKey) {
  Config c;
  std::string e = errorOf([&] { applyConfigJson({{"lrr", 0.1}}, c); });
  EXPECT_NE(e.find("'lrr'"), std::string::npos) << e;
  EXPECT_NE(e.find("lr"), std::string::npos) << e;
  e = errorOf([&] { applyConfigJson({{"classes", "many"}}, c); });
  EXPECT_NE(e.find("classes"), std::string::npos) << e;
  e = errorOf([&] { applyConfigJson({{"classes", 2.5}}, c); });
  EXPECT_NE(e.find("integer"), std::string::npos) << e;
  e = errorOf([&] { applyConfigJson({{"loss", "arcface"}, {"params", {{"q", 1}}}}, c); });
  EXPECT_NE(e.find("params.q"), std::string::npos) << e;
  e = errorOf([&] { applyConfigJson({{"loss", "arcface"}, {"params", {{"variant", "fancy"}}}}, c); });
  EXPECT_NE(e.find("insightface"), std::string::npos) << e;
  e = errorOf([&] { applyConfigJson({{"loss", "nosuchloss"}}, c); });
  EXPECT_NE(e.find("nosuchloss"), std::string::npos) << e;
  // All or nothing: a bad key leaves the config untouched.
  Config d;
  errorOf([&] { applyConfigJson({{"lr", 0.5}, {"zzz", 1}}, d); });
  EXPECT_EQ(d.lr, Config().lr);
}

TEST(ConfigIo, CommandLineOverridesConfigFile) {
  const std::string path = testing::TempDir() + "ms_cfg.json";
  Config base;
  base.loss = "am-softmax";
  base.params.values["m"] = 0.2;
  base.lr = 0.5;
  base.classes = 3;
  saveConfigFile(base, path);
  Config c =
      parseArgs({"--config", path, "--lr", "0.25", "--hidden", "8,4", "--holdout", "2", "--param", "s=10"});
  EXPECT_EQ(c.lr, 0.25);
  EXPECT_EQ(c.classes, 3);
  EXPECT_EQ(c.loss, "am-softmax");
  EXPECT_EQ(c.params.values.at("m"), 0.2);  // kept from the file
  EXPECT_EQ(c.params.values.at("s"), 10);
  EXPECT_EQ(c.hidden, (std::vector<int>{8, 4}));
  EXPECT_EQ(c.holdout_classes, (std::vector<int>{2}));
  // A different --loss starts from its own defaults.
  c = parseArgs({"--config", path, "--loss", "arcface", "--param", "variant=easy"});
  EXPECT_EQ(c.params.values.count("m"), 0u);
  EXPECT_EQ(c.params.values.at("variant"), 1);
  c = parseArgs({"--loss", "weighted-softmax", "--classes", "3", "--param", "class_weights=1,2,3"});
  EXPECT_EQ(c.params.vectors.at("class_weights"), (std::vector<double>{1, 2, 3}));
  std::remove(path.c_str());
}

TEST(ConfigIo, BadFlagsNameTheKeyAndRange) {
  std::string e = errorOf([] { parseArgs({"--dim", "99"}); });
  EXPECT_NE(e.find("dim"), std::string::npos) << e;
  EXPECT_NE(e.find("2..64"), std::string::npos) << e;
  e = errorOf([] { parseArgs({"--lr", "fast"}); });
  EXPECT_NE(e.find("lr"), std::string::npos) << e;
  e = errorOf([] { parseArgs({"--param", "m"}); });
  EXPECT_NE(e.find("KEY=VALUE"), std::string::npos) << e;
  e = errorOf([] { parseArgs({"--param", "m=7"}); });  // arcface m is in 0..pi
  EXPECT_NE(e.find("m"), std::string::npos) << e;
  e = errorOf([] { parseArgs({"--loss", "weighted-softmax", "--param", "class_weights=1,2"}); });
  EXPECT_NE(e.find("class_weights"), std::string::npos) << e;
  e = errorOf([] { parseArgs({"--optimizer", "lbfgs"}); });
  EXPECT_NE(e.find("sgd, adam"), std::string::npos) << e;
  e = errorOf([] { parseArgs({"--seed", "-3"}); });
  EXPECT_NE(e.find("seed"), std::string::npos) << e;
}

TEST(ConfigIo, LoadConfigFileErrors) {
  std::string e = errorOf([] { loadConfigFile("/nonexistent/x.json"); });
  EXPECT_NE(e.find("cannot open"), std::string::npos);
  const std::string path = testing::TempDir() + "ms_bad.json";
  {
    std::ofstream f(path);
    f << "{\"lr\": 0.1,";
  }
  e = errorOf([&] { loadConfigFile(path); });
  EXPECT_NE(e.find("not valid JSON"), std::string::npos) << e;
  {
    std::ofstream f(path);
    f << "{\"batch\": 0}";
  }
  e = errorOf([&] { loadConfigFile(path); });
  EXPECT_NE(e.find("batch"), std::string::npos) << e;
  std::remove(path.c_str());
}

// Issue 13: a value nested 200,000 deep used to overflow the stack when its message serialised it.
TEST(ConfigIo, DeeplyNestedValuesAreOneLineNotACrash) {
  const std::string path = testing::TempDir() + "ms_deep.json";
  {
    std::ofstream f(path);
    f << "{\"lr\":" << std::string(200000, '[') << std::string(200000, ']') << "}";
  }
  std::string e = errorOf([&] { loadConfigFile(path); });
  EXPECT_NE(e.find("nested more than 16 levels"), std::string::npos) << e;
  EXPECT_LT(e.size(), 200u);
  std::remove(path.c_str());
  // The same value built in memory (the GUI and eval-loss hand over parsed JSON): the message stays short.
  nlohmann::json deep = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) deep = nlohmann::json::array({std::move(deep)});
  Config c;
  e = errorOf([&] { applyConfigJson({{"lr", deep}}, c); });
  EXPECT_NE(e.find("lr: expected a number"), std::string::npos) << e.substr(0, 200);
  EXPECT_LT(e.size(), 200u);
  e = errorOf([&] { applyConfigJson({{"dataset", std::string(100000, 'x')}}, c); });
  EXPECT_NE(e.find("at most 4096"), std::string::npos) << e.substr(0, 200);
  EXPECT_LT(e.size(), 200u);
}

TEST(ConfigIo, AFolderAsConfigIsAUserError) {
  const fs::path dir = fs::path(testing::TempDir()) / "ms_cfg_dir";
  fs::create_directories(dir);
  std::string e = errorOf([&] { loadConfigFile(dir.string()); });  // was std::ios_base::failure
  EXPECT_NE(e.find("folder"), std::string::npos) << e;
  fs::remove_all(dir);
}

TEST(ConfigIo, TooLargeNumbersAreOutOfRangeWithTheRange) {
  std::string e = errorOf([] { parseArgs({"--seed", "99999999999999999999"}); });  // was 2^64-1, silently
  EXPECT_NE(e.find("seed: 99999999999999999999 is out of range"), std::string::npos) << e;
  EXPECT_NE(e.find("0..18446744073709551615"), std::string::npos) << e;
  EXPECT_EQ(parseArgs({"--seed", "18446744073709551615"}).seed, 18446744073709551615ULL);
  e = errorOf([] { parseArgs({"--hidden", "99999999999999"}); });  // was "-2147483648 is out of range"
  EXPECT_NE(e.find("hidden: 99999999999999 is out of range"), std::string::npos) << e;
  EXPECT_NE(e.find("1..4096"), std::string::npos) << e;
  e = errorOf([] { parseArgs({"--steps", "1e18"}); });  // was "expected an integer"
  EXPECT_NE(e.find("steps: 1000000000000000000 is out of range"), std::string::npos) << e;
  EXPECT_NE(e.find("0..1e9"), std::string::npos) << e;
  e = errorOf([] { parseArgs({"--lr", "1e999"}); });  // was "not a number"
  EXPECT_NE(e.find("lr: 1e999 is out of range (learning rate (1e-12..1000))"), std::string::npos) << e;
  e = errorOf([] { parseArgs({"--param", "m=1e999"}); });
  EXPECT_NE(e.find("--param m: 1e999 is out of range"), std::string::npos) << e;
  Config c;
  e = errorOf([&] { applyConfigJson({{"classes", 1e10}}, c); });
  EXPECT_NE(e.find("classes: 10000000000 is out of range"), std::string::npos) << e;
  e = errorOf([&] { applyConfigJson({{"seed", 1e20}}, c); });
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  e = errorOf([&] { applyConfigJson({{"steps", 2.5}}, c); });  // still not an integer
  EXPECT_NE(e.find("expected an integer"), std::string::npos) << e;
}

TEST(ConfigIo, AtomicWriteLeavesNoTempFiles) {
  const fs::path dir = fs::path(testing::TempDir()) / "ms_atomic";
  fs::create_directories(dir);
  const std::string p = (dir / "out.json").string();
  writeFileAtomic(p, "hello\n");
  writeFileAtomic(p, "world\n");
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  EXPECT_EQ(s, "world");
  int n = 0;
  for (auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  EXPECT_EQ(n, 1);
  EXPECT_THROW(writeFileAtomic((dir / "missing" / "x.json").string(), "x"), UserError);
  fs::remove_all(dir);
}

TEST(ConfigIo, EveryShippedPresetLoads) {
  int n = 0;
  for (auto& e : fs::directory_iterator(fs::path(MS_SOURCE_DIR) / "assets" / "presets")) {
    if (e.path().extension() != ".json") continue;
    EXPECT_NO_THROW(loadConfigFile(e.path().string())) << e.path();
    ++n;
  }
  EXPECT_GE(n, 1);
  const Config d = loadConfigFile(std::string(MS_SOURCE_DIR) + "/assets/presets/default.json");
  EXPECT_EQ(d.dataset, "blobs");
  EXPECT_EQ(d.loss, "arcface");
  EXPECT_EQ(d.dim, 2);
  EXPECT_EQ(d.hidden, (std::vector<int>{64, 64}));
}

}  // namespace
}  // namespace ms

// A cut message must stay valid UTF-8: a key or value shortened inside a two-byte character made
// nlohmann::json throw type_error 316 when eval-loss's fuzzer dumped the echo (found in CI).
TEST(ConfigIo, ShortenedValuesNeverSplitAUtf8Character) {
  for (size_t pad = 30; pad < 45; ++pad) {
    const std::string s = std::string(pad, 'a') + "\xC3\xA9\xE2\x82\xAC" + std::string(20, 'b');  // é €
    EXPECT_NO_THROW((void)nlohmann::json(ms::shortText(s)).dump()) << pad;
    EXPECT_NO_THROW((void)nlohmann::json(ms::shortJson(nlohmann::json{{s, s}})).dump()) << pad;
    EXPECT_NO_THROW((void)nlohmann::json(ms::shownValue(s)).dump()) << pad;
  }
}
