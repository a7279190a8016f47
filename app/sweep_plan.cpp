// The plan of a sweep (see sweep_plan.h): --vary and --seeds parsing, the Cartesian product of runs, each
// run's file name and `marginscope train` command, and the count of physical cores for --jobs.
#include "app/sweep_plan.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "app/json_input.h"
#include "sim/errors.h"
#include "sim/loss.h"

namespace ms {

namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string tok;
  std::stringstream ss(s);
  while (std::getline(ss, tok, sep)) out.push_back(trim(tok));
  if (!s.empty() && s.back() == sep) out.push_back("");  // "a,b," has an empty third value
  return out;
}

// The config keys (preset JSON names), from the one table in config_io.cpp.
std::vector<std::string> configKeys() {
  std::vector<std::string> keys;
  const nlohmann::json j = configToJson(Config());
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "params") keys.push_back(it.key());
  return keys;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// A key or value as it may appear in a file name: letters, digits and ._+-; anything else becomes '_' (so
// ',' and '=' only ever separate the values: "loss=arcface,m=0.5,seed=3.json").
std::string fileSafe(const std::string& s) {
  std::string o;
  for (char c : s) o += (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._+-", c)) ? c : '_';
  if (!o.empty() && o[0] == '.') o[0] = '_';  // never a hidden file
  return o;
}

// The flag of a config key (the table's flags are --key with '_' as '-', --holdout for holdout_classes).
std::string flagOf(const std::string& key) {
  if (key == "holdout_classes") return "--holdout";
  std::string f = "--" + key;
  for (char& c : f)
    if (c == '_') c = '-';
  return f;
}

}  // namespace

VaryAxis parseVary(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UserError("--vary: " + shownValue(text) +
                    " is not KEY=V1,V2,... (e.g. --vary loss=am-softmax,arcface --vary m=0.2,0.35)");
  VaryAxis a;
  a.key = trim(text.substr(0, eq));
  const std::string list = trim(text.substr(eq + 1));
  if (list.empty())
    throw UserError("--vary " + shortText(a.key) +
                    ": empty list of values (allowed: V1,V2,... or V1;V2;...)");
  a.values = split(list, list.find(';') != std::string::npos ? ';' : ',');
  std::set<std::string> seen;
  for (const std::string& v : a.values) {
    if (v.empty())
      throw UserError("--vary " + shortText(a.key) + ": an empty value in " + shownValue(list) +
                      " (allowed: V1,V2,... or V1;V2;... for list values such as hidden=32,32;64,64)");
    if (!seen.insert(v).second)
      throw UserError("--vary " + shortText(a.key) + ": the value " + shownValue(v) +
                      " is listed twice (allowed: each value once)");
  }
  return a;
}

std::vector<uint64_t> parseSeeds(const std::string& text) {
  const std::string allowed =
      " (allowed: seeds 0..18446744073709551615 as N, A-B with A <= B, or a comma list)";
  auto number = [&](const std::string& t) {
    if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos)
      throw UserError("--seeds: " + shownValue(text) + " is not a seed list" + allowed);
    errno = 0;
    const unsigned long long v = std::strtoull(t.c_str(), nullptr, 10);
    if (errno == ERANGE) throw UserError("--seeds: " + shownValue(t) + " is out of range" + allowed);
    return uint64_t(v);
  };
  if (trim(text).empty()) throw UserError("--seeds: empty list" + allowed);
  std::vector<uint64_t> seeds;
  std::set<uint64_t> seen;
  for (const std::string& part : split(trim(text), ',')) {
    const size_t dash = part.find('-');
    uint64_t lo = 0, hi = 0;
    if (dash == std::string::npos) {
      lo = hi = number(part);
    } else {
      lo = number(trim(part.substr(0, dash)));
      hi = number(trim(part.substr(dash + 1)));
      if (lo > hi)
        throw UserError("--seeds: " + shownValue(part) + " is an empty range (its start is above its end)" +
                        allowed);
    }
    if (hi - lo >= kMaxRuns)
      throw UserError("--seeds: " + shownValue(part) + " has more than " + std::to_string(kMaxRuns) +
                      " seeds" + allowed);
    for (uint64_t s = lo;; ++s) {
      if (!seen.insert(s).second)
        throw UserError("--seeds: seed " + std::to_string(s) + " is listed twice in " + shownValue(text) +
                        " (allowed: each seed once)");
      seeds.push_back(s);
      if (seeds.size() > kMaxRuns)
        throw UserError("--seeds: more than " + std::to_string(kMaxRuns) + " seeds" + allowed);
      if (s == hi) break;
    }
  }
  return seeds;
}

std::vector<SweepRun> planSweep(const TrainingOptions& base, std::vector<VaryAxis>& axes,
                                const std::vector<uint64_t>& seeds) {
  const std::vector<std::string> keys = configKeys();
  const Config base_config = resolveTrainingOptions(base);
  // Every loss in the sweep: a key that is no config key must be a parameter of at least one of them.
  std::vector<const LossSpec*> losses;
  std::set<std::string> names;
  for (VaryAxis& a : axes) {
    std::string k = a.key;
    for (char& c : k)
      if (c == '-') c = '_';
    if (k == "holdout") k = "holdout_classes";
    if (k == "seed")
      throw UserError("--vary seed: seeds are given by --seeds (e.g. --seeds 1-5), not --vary");
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) a.key = k;
    if (!names.insert(a.key).second)
      throw UserError("--vary " + shortText(a.key) + ": the key is varied twice (allowed: each key once)");
    if (a.key == "loss")
      for (const std::string& v : a.values) {
        try {
          losses.push_back(&findLoss(v));
        } catch (const UserError& e) {
          throw UserError(std::string("--vary loss: ") + e.what());
        }
      }
  }
  if (losses.empty()) losses.push_back(&findLoss(base_config.loss));
  for (VaryAxis& a : axes) {
    if (std::find(keys.begin(), keys.end(), a.key) != keys.end()) continue;
    std::string k = a.key;
    if (k.rfind("params.", 0) == 0) k = k.substr(7);
    std::set<std::string> params;
    for (const LossSpec* l : losses)
      for (const ParamSpec& p : l->params) params.insert(p.name);
    if (!params.count(k))
      throw UserError("--vary " + shortText(a.key) + ": unknown key (allowed: the config keys " +
                      joined(keys) + ", or a parameter of the loss: " +
                      (params.empty() ? std::string("none")
                                      : joined(std::vector<std::string>(params.begin(), params.end()))) +
                      ")");
    a.key = k;
    a.param = true;
  }
  size_t total = seeds.size();
  for (const VaryAxis& a : axes) {
    if (a.values.size() > kMaxRuns || total * a.values.size() > kMaxRuns)
      throw UserError("sweep: more than " + std::to_string(kMaxRuns) +
                      " runs (allowed: at most that many; split the sweep)");
    total *= a.values.size();
  }
  std::vector<SweepRun> runs;
  runs.reserve(total);
  std::vector<size_t> idx(axes.size(), 0);
  for (size_t r = 0; r < total; r += seeds.size()) {
    SweepRun proto;
    proto.options = base;
    for (size_t i = 0; i < axes.size(); ++i) {
      const std::string& v = axes[i].values[idx[i]];
      proto.values.push_back({axes[i].key, v});
      if (axes[i].param)
        proto.options.params.push_back(axes[i].key + "=" + v);
      else
        proto.options.given[axes[i].key] = v;
    }
    for (uint64_t s : seeds) {
      SweepRun run = proto;
      run.seed = s;
      run.options.given["seed"] = std::to_string(s);
      for (const auto& [k, v] : run.values) run.name += fileSafe(k) + "=" + fileSafe(v) + ",";
      run.name += "seed=" + std::to_string(s) + ".json";
      try {
        run.config = resolveTrainingOptions(run.options);
      } catch (const UserError& e) {
        throw UserError("sweep run " + runLabel(run) + ": " + e.what());
      }
      runs.push_back(std::move(run));
    }
    for (size_t i = axes.size(); i-- > 0;) {  // odometer: the last axis turns fastest
      if (++idx[i] < axes[i].values.size()) break;
      idx[i] = 0;
    }
  }
  // Sanitised names could meet ("a/b" and "a_b"): number the later ones.
  std::set<std::string> used;
  for (SweepRun& run : runs) {
    std::string n = run.name;
    for (int k = 2; !used.insert(n).second; ++k)
      n = run.name.substr(0, run.name.size() - 5) + "~" + std::to_string(k) + ".json";
    run.name = n;
  }
  return runs;
}

std::string runLabel(const SweepRun& run) {
  std::string s;
  for (const auto& [k, v] : run.values) s += k + "=" + v + ",";
  return s + "seed=" + std::to_string(run.seed);
}

std::string shellQuote(const std::string& s) {
  if (!s.empty() &&
      s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=,:+-@%") ==
          std::string::npos)
    return s;
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

std::string runCommand(const SweepRun& run, const std::string& executable, const std::string& out_dir) {
  const TrainingOptions& o = run.options;
  std::string cmd = "mkdir -p " + shellQuote(out_dir) + " && " + shellQuote(executable) + " train";
  if (!o.config_file.empty()) {
    char buf[PATH_MAX];
    const bool abs = ::realpath(o.config_file.c_str(), buf) != nullptr;
    cmd += " --config " + shellQuote(abs ? std::string(buf) : o.config_file);
  }
  // The loss first as resolveTrainingOptions applies it; the map's order for the rest (it is sorted).
  if (o.given.count("loss")) cmd += " --loss " + shellQuote(o.given.at("loss"));
  for (const auto& [key, text] : o.given)
    if (key != "loss") cmd += " " + flagOf(key) + " " + shellQuote(text);
  for (const std::string& p : o.params) cmd += " --param " + shellQuote(p);
  if (o.portable) cmd += " --portable";
  const std::string sep = !out_dir.empty() && out_dir.back() == '/' ? "" : "/";
  return cmd + " --metrics " + shellQuote(out_dir + sep + run.name) + " --quiet";
}

int physicalCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const bool have_mask = sched_getaffinity(0, sizeof set, &set) == 0;
  std::set<std::pair<std::string, std::string>> cores;
  bool sys_ok = have_mask;
  for (int cpu = 0; sys_ok && cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream pkg(dir + "physical_package_id"), core(dir + "core_id");
    std::string p, c;
    if (!(pkg >> p) || !(core >> c)) sys_ok = false;
    cores.insert({p, c});
  }
  if (sys_ok && !cores.empty()) return int(cores.size());
  // /proc/cpuinfo: distinct (physical id, core id); capped by the CPUs we may use.
  std::ifstream info("/proc/cpuinfo");
  std::string line, phys = "0";
  cores.clear();
  while (std::getline(info, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string k = trim(line.substr(0, colon)), v = trim(line.substr(colon + 1));
    if (k == "physical id") phys = v;
    if (k == "core id") cores.insert({phys, v});
  }
  int n = int(cores.size());
  if (have_mask && n > 0) n = std::min(n, CPU_COUNT(&set));
  if (n > 0) return n;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? int(hc) : 1;
}

}  // namespace ms
