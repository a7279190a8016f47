// Sweep summary (see sweep_summary.h): run records from metrics JSON files, grouping by configuration,
// Student-t intervals, and the CSV and Markdown tables. The figure is in sweep_figure.cpp.
#include "app/sweep_summary.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "app/json_input.h"
#include "sim/errors.h"

namespace ms {

using json = nlohmann::json;

namespace {

double numberAt(const json& j, std::initializer_list<const char*> path) {
  const json* v = &j;
  for (const char* k : path) {
    if (!v->is_object() || !v->contains(k)) return NAN;
    v = &(*v)[k];
  }
  return v->is_number() ? v->get<double>() : NAN;
}

// The smallest measured margin over the lemma's pairs: the margin of the pair that binds first.
double lemmaMargin(const json& j) {
  double m = NAN;
  if (!j.contains("lemma") || !j["lemma"].is_array()) return m;
  for (const json& row : j["lemma"]) {
    const double x = numberAt(row, {"measured_margin_deg"});
    if (std::isfinite(x) && !(x >= m)) m = x;
  }
  return m;
}

// A config value as a table shows it: strings as they are, lists as "64,64", numbers as JSON writes them
// (the shortest text that reads back the same double).
std::string valueText(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    for (const json& e : v) s += (s.empty() ? "" : ",") + valueText(e);
    return s;
  }
  return v.dump();
}

// Order of values within a column: numbers by value, before text; text by bytes.
bool valueLess(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() < b.get<double>();
  if (a.is_number() != b.is_number()) return a.is_number();
  return valueText(a) < valueText(b);
}

std::string num(double x, const char* fmt = "%.6g") {
  if (!std::isfinite(x)) return "";
  char b[64];
  std::snprintf(b, sizeof b, fmt, x);
  return b;
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

}  // namespace

const std::array<SweepMetric, kSweepMetrics>& sweepMetrics() {
  static const std::array<SweepMetric, kSweepMetrics> m = {{
      {"test_accuracy", "test accuracy", "test_accuracy"},
      {"tar_far_1e-3", "TAR@FAR=1e-3", "verification.tar_at_far_1e-3"},
      {"tar_far_1e-2", "TAR@FAR=1e-2", "verification.tar_at_far_1e-2"},
      {"eer", "EER", "verification.eer"},
      {"identification_accuracy", "identification accuracy", "verification.identification_accuracy_all"},
      {"inter_class_min_deg", "min inter-class angle (deg)", "angles.inter_center_min_deg"},
      {"lemma_margin_min_deg", "lemma margin, smallest pair (deg)", "min of lemma[].measured_margin_deg"},
  }};
  return m;
}

RunRecord runRecord(const json& j, const std::string& file) {
  if (!j.is_object() || !j.contains("config") || !j["config"].is_object())
    throw UserError("--collect: " + shortText(file, 200) +
                    " is not a run's metrics JSON (no config object; allowed: files written by "
                    "`marginscope train --metrics` or `sweep`)");
  RunRecord r;
  r.file = file;
  r.config = j["config"];
  r.values[0] = numberAt(j, {"test_accuracy"});
  r.values[1] = numberAt(j, {"verification", "tar_at_far_1e-3"});
  r.values[2] = numberAt(j, {"verification", "tar_at_far_1e-2"});
  r.values[3] = numberAt(j, {"verification", "eer"});
  const double id = numberAt(j, {"verification", "identification_accuracy_all"});
  r.values[4] = id >= 0 ? id : NAN;  // -1: not computed
  r.values[5] = numberAt(j, {"angles", "inter_center_min_deg"});
  r.values[6] = lemmaMargin(j);
  return r;
}

std::vector<RunRecord> collectRuns(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw UserError("--collect: " + shortText(dir, 200) +
                    " is not a folder (allowed: the --out folder of a " +
                    "sweep, holding its runs' metrics JSON files)");
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 5 && n[0] != '.' && n.compare(n.size() - 5, 5, ".json") == 0) names.push_back(n);
    }
    ::closedir(d);
  } else {
    throw UserError("--collect: cannot read the folder " + shortText(dir, 200) + " (" + std::strerror(errno) +
                    ")");
  }
  std::sort(names.begin(), names.end());
  std::vector<RunRecord> runs;
  const std::string sep = dir.back() == '/' ? "" : "/";
  for (const std::string& n : names) {
    const std::string path = dir + sep + n;
    runs.push_back(runRecord(readJsonFile("--collect", path), path));
  }
  if (runs.empty())
    throw UserError("--collect: " + shortText(dir, 200) + " holds no metrics JSON files (allowed: a folder " +
                    "with the *.json files of a sweep's runs)");
  return runs;
}

double tQuantile975(int df) {
  static const double table[31] = {
      NAN,        12.70620474, 4.30265273, 3.18244631, 2.77644511, 2.57058184, 2.44691185, 2.36462425,
      2.30600414, 2.26215716,  2.22813885, 2.20098516, 2.17881283, 2.16036866, 2.14478669, 2.13144955,
      2.11990530, 2.10981558,  2.10092204, 2.09302405, 2.08596345, 2.07961384, 2.07387307, 2.06865761,
      2.06389856, 2.05953855,  2.05552944, 2.05183052, 2.04840714, 2.04522964, 2.04227246};
  if (df < 1) return NAN;
  if (df <= 30) return table[df];
  // Cornish-Fisher expansion of t in powers of 1/df around the normal quantile z.
  const double z = 1.959963984540054, v = df;
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z;
  const double g1 = (z3 + z) / 4, g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
  const double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
  const double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
  return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
}

Stat describe(const std::vector<double>& values) {
  Stat s;
  double sum = 0;
  for (double x : values)
    if (std::isfinite(x)) sum += x, ++s.n;
  if (s.n == 0) return s;
  s.mean = sum / s.n;
  if (s.n < 2) return s;
  double ss = 0;
  for (double x : values)
    if (std::isfinite(x)) ss += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(ss / (s.n - 1));
  const double half = tQuantile975(s.n - 1) * s.sd / std::sqrt(double(s.n));
  s.ci_low = s.mean - half;
  s.ci_high = s.mean + half;
  return s;
}

SweepSummary summarize(const std::vector<RunRecord>& runs) {
  SweepSummary s;
  // Columns: every config key (then every loss parameter) whose value is not the same in every run; the
  // seed is what the statistics run over. nlohmann objects iterate in key order, so the order is fixed.
  struct Col {
    std::string name;
    bool param;
    std::string key;
  };
  std::vector<Col> cols;
  std::map<std::string, std::set<std::string>> seen_cfg, seen_par;
  for (const RunRecord& r : runs) {
    for (auto it = r.config.begin(); it != r.config.end(); ++it)
      if (it.key() != "params" && it.key() != "seed") seen_cfg[it.key()];
    if (r.config.contains("params") && r.config["params"].is_object())
      for (auto it = r.config["params"].begin(); it != r.config["params"].end(); ++it) seen_par[it.key()];
  }
  auto valueOf = [](const RunRecord& r, bool param, const std::string& key) -> json {
    const json& o = param ? (r.config.contains("params") ? r.config["params"] : json()) : r.config;
    return o.is_object() && o.contains(key) ? o[key] : json();
  };
  for (auto* m : {&seen_cfg, &seen_par}) {
    const bool param = m == &seen_par;
    for (auto& [key, vals] : *m) {
      for (const RunRecord& r : runs) vals.insert(valueOf(r, param, key).dump());
      if (vals.size() > 1) cols.push_back({param && seen_cfg.count(key) ? "params." + key : key, param, key});
    }
  }
  for (const Col& c : cols) s.columns.push_back(c.name);

  // Groups: the config without its seed.
  std::map<std::string, size_t> index;
  std::vector<std::vector<json>> keys;
  for (const RunRecord& r : runs) {
    json c = r.config;
    c.erase("seed");
    const std::string id = c.dump();
    auto [it, fresh] = index.insert({id, s.groups.size()});
    if (fresh) {
      SweepGroup g;
      std::vector<json> k;
      for (const Col& col : cols) {
        k.push_back(valueOf(r, col.param, col.key));
        g.labels.push_back(valueText(k.back()));
      }
      s.groups.push_back(g);
      keys.push_back(k);
    }
    SweepGroup& g = s.groups[it->second];
    ++g.runs;
    for (int m = 0; m < kSweepMetrics; ++m) g.values[size_t(m)].push_back(r.values[size_t(m)]);
  }
  std::vector<size_t> order(s.groups.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    for (size_t c = 0; c < cols.size(); ++c) {
      if (valueLess(keys[a][c], keys[b][c])) return true;
      if (valueLess(keys[b][c], keys[a][c])) return false;
    }
    return false;
  });
  std::vector<SweepGroup> sorted;
  for (size_t i : order) {
    SweepGroup g = s.groups[i];
    for (int m = 0; m < kSweepMetrics; ++m) g.stats[size_t(m)] = describe(g.values[size_t(m)]);
    sorted.push_back(std::move(g));
  }
  s.groups = std::move(sorted);
  return s;
}

std::string groupName(const SweepSummary& s, const SweepGroup& g) {
  if (s.columns.empty()) return "all runs";
  std::string
      n;  // a key without a value here (a parameter this loss lacks or leaves at its default) is left out
  for (size_t c = 0; c < s.columns.size(); ++c)
    if (!g.labels[c].empty()) n += (n.empty() ? "" : ", ") + s.columns[c] + "=" + g.labels[c];
  return n;
}

std::string summaryCsv(const SweepSummary& s) {
  std::string o;
  for (const std::string& c : s.columns) o += csvField(c) + ",";
  o += "runs";
  for (const SweepMetric& m : sweepMetrics())
    for (const char* part : {"_n", "_mean", "_sd", "_ci95_low", "_ci95_high"})
      o += std::string(",") + m.key + part;
  o += "\n";
  for (const SweepGroup& g : s.groups) {
    for (const std::string& l : g.labels) o += csvField(l) + ",";
    o += std::to_string(g.runs);
    for (const Stat& st : g.stats)
      o += "," + std::to_string(st.n) + "," + num(st.mean) + "," + num(st.sd) + "," + num(st.ci_low) + "," +
           num(st.ci_high);
    o += "\n";
  }
  return o;
}

std::string summaryMarkdown(const SweepSummary& s) {
  std::string o =
      "Mean ± half-width of the 95% confidence interval over seeds (Student t, n - 1 degrees of freedom); "
      "standard deviations and interval ends are in summary.csv. (n=...) marks a metric with fewer values "
      "than runs (null in some JSON files).\n\n|";
  for (const std::string& c : s.columns) o += " " + c + " |";
  o += " runs |";
  for (const SweepMetric& m : sweepMetrics()) o += std::string(" ") + m.title + " |";
  o += "\n|";
  for (size_t i = 0; i < s.columns.size() + 1 + kSweepMetrics; ++i) o += "---|";
  o += "\n";
  for (const SweepGroup& g : s.groups) {
    o += "|";
    for (const std::string& l : g.labels) o += " " + l + " |";
    o += " " + std::to_string(g.runs) + " |";
    for (const Stat& st : g.stats) {
      std::string cell = st.n == 0 ? "-" : num(st.mean, "%.4g");
      if (std::isfinite(st.ci_high)) cell += " ± " + num(st.ci_high - st.mean, "%.2g");
      if (st.n > 0 && st.n < g.runs) cell += " (n=" + std::to_string(st.n) + ")";
      o += " " + cell + " |";
    }
    o += "\n";
  }
  return o;
}

}  // namespace ms
