// The plan of a `marginscope sweep`: the Cartesian product of the --vary lists times the --seeds, each run
// a copy of the shared training options (app/config_io.h) with its values put in as if typed as flags, so
// a run is resolved, checked and described by the same parser as `marginscope train`. Also the run's file
// name, its self-contained `marginscope train` command line, and the number of physical cores.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "app/config_io.h"
#include "sim/config.h"

namespace ms {

// One --vary KEY=V1,V2,...: a config key (dataset, lr, input_dim or input-dim, ...) or a loss parameter
// (m, s, ...). Values are split at ';' when the text has one (for list values: hidden=32,32;64,64), else ','.
struct VaryAxis {
  std::string key;     // as the user wrote it, '-' as '_' for config keys ("input_dim", "loss", "m")
  bool param = false;  // a loss parameter (--param KEY=VALUE) rather than a config key
  std::vector<std::string> values;
};

struct SweepRun {
  TrainingOptions options;                                  // base options + this run's values + seed
  Config config;                                            // resolved (throws before any run starts)
  std::vector<std::pair<std::string, std::string>> values;  // (key, value) of each axis, in --vary order
  uint64_t seed = 0;
  std::string name;  // file name of its metrics JSON: "loss=arcface,m=0.5,seed=3.json"
};

// Parses the text of one --vary "KEY=V1,V2" (the key is checked by planSweep, which knows every axis);
// throws UserError naming --vary, the text and what is allowed (an empty list, an empty or repeated value).
VaryAxis parseVary(const std::string& text);
// "1-5", "3", "1,4,9", "1-3,10": every seed once, in the order given; throws UserError naming --seeds.
std::vector<uint64_t> parseSeeds(const std::string& text);

// Every run, first axis outermost, seeds innermost; each resolved by resolveTrainingOptions (a bad value
// throws UserError naming the run). Decides which keys are loss parameters (a key that is no config key
// and no parameter of any loss in the sweep throws, naming what is allowed). At most kMaxRuns runs.
constexpr size_t kMaxRuns = 100000;
std::vector<SweepRun> planSweep(const TrainingOptions& base, std::vector<VaryAxis>& axes,
                                const std::vector<uint64_t>& seeds);
// The text of a run's values and seed: "loss=arcface,m=0.5,seed=3".
std::string runLabel(const SweepRun& run);

// One shell line that makes the run's output folder and trains it: `mkdir -p OUT && EXE train ... --seed S
// --metrics OUT/NAME --quiet`. A --config file is given by its absolute path.
std::string runCommand(const SweepRun& run, const std::string& executable, const std::string& out_dir);
std::string shellQuote(const std::string& s);

// Physical cores this process may run on (not hyper-threads): distinct (package, core) pairs of the CPUs
// in the affinity mask from /sys, then /proc/cpuinfo, then std::thread::hardware_concurrency().
int physicalCores();

}  // namespace ms
