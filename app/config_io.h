// One Config, parsed from preset JSON and from the command line alike, and written back as JSON.
// Every bad key or value throws UserError naming the key, the value and what is allowed.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/json_input.h"
#include "sim/config.h"

namespace CLI {
class App;
}

namespace ms {

nlohmann::json configToJson(const Config& c);
// Applies the keys present in j on top of c; unknown keys and bad values throw UserError.
void applyConfigJson(const nlohmann::json& j, Config& c);
Config loadConfigFile(const std::string& path);  // throws UserError (missing, malformed, bad key)

// Writes atomically (temp file + rename): nothing half-written on failure.
void saveConfigFile(const Config& c, const std::string& path);

// The shared training options of `train` and `render` (DESIGN.md "Contracts"): --config FILE first, then
// the flags given override it. Values are kept as text and converted by the same code as preset JSON, so a
// bad value gets the same one-line message either way.
struct TrainingOptions {
  std::string config_file;
  std::map<std::string, std::string> given;  // config key -> value text of the flags given
  std::vector<std::string> params;           // --param KEY=VALUE, in order
  std::string save_config;                   // --save-config FILE
  bool portable = false;                     // --portable: usePortableArithmetic() (sim/network_simd.h)
  // Embeddings made elsewhere (app/external_run.h): when `embeddings` is set the command draws and measures
  // these instead of training.
  std::string embeddings, labels, weights;  // --embeddings, --labels, --weights (CSV or .npy)
  bool split_column = false;                // --split-column: the labels' second column says train/test
};
void addTrainingOptions(CLI::App& app, TrainingOptions& o);
// The JSON a figure carries: {kFigureSettings: 1, "config": the training config, "render": the view options
// of the command that drew it}. `--config FIGURE` (loadConfigFile) reads the config back; `render` the view.
inline constexpr const char* kFigureSettings = "marginscope_figure";
// The Config the options describe (the defaults, then --config, then the flags); throws UserError.
Config resolveTrainingOptions(const TrainingOptions& o);
// Parses a subcommand's arguments. Returns the exit code when help was asked for (the caller returns it),
// -1 to go on; a parse error throws UserError as one line naming the subcommand.
int parseCommandLine(CLI::App& app, int argc, char** argv, const std::string& subcommand);
// Applies one "KEY=VALUE" loss parameter (numbers, true/false, a choice by name, or a comma list for
// Vector params) to c.params; throws UserError naming the key.
void applyParamText(const std::string& key_value, Config& c);

}  // namespace ms
