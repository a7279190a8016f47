// The summary of a sweep: the runs' metrics JSON files grouped by configuration (everything in `config`
// but the seed), and per group and metric the mean, standard deviation and a 95% confidence interval over
// seeds (Student t), as CSV, Markdown and a PNG figure. The in-process sweep and `sweep --collect` both
// build it from the JSON files alone, so the two give the same bytes: the columns are the config keys that
// differ between the groups, and the groups are sorted by those values, whatever order the runs came in.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ms {

struct SweepMetric {
  const char* key;    // CSV column prefix
  const char* title;  // Markdown and figure
  const char* where;  // the metrics JSON key it is read from
};
constexpr int kSweepMetrics = 7;
const std::array<SweepMetric, kSweepMetrics>& sweepMetrics();

// One run: its config and the value of every metric (NaN when the JSON has null or no value).
struct RunRecord {
  std::string file;
  nlohmann::json config;
  std::array<double, kSweepMetrics> values{};
};
// The record of a parsed metrics JSON; throws UserError naming `file` when it is not one (no config object).
RunRecord runRecord(const nlohmann::json& metrics, const std::string& file);
// Every *.json in dir (not below it, not hidden), read as run records, sorted by file name; throws
// UserError naming --collect when dir is not a folder or a file is not a run's metrics JSON.
std::vector<RunRecord> collectRuns(const std::string& dir);

struct Stat {
  int n = 0;  // finite values
  double mean = NAN, sd = NAN, ci_low = NAN, ci_high = NAN;
};
// Mean, sample standard deviation (n - 1) and mean +- t(0.975, n - 1) sd / sqrt(n) of the finite values;
// sd and the interval are NaN below two values.
Stat describe(const std::vector<double>& values);
// The 0.975 quantile of Student's t with df degrees of freedom (df >= 1): a table to 30, then the
// Cornish-Fisher expansion (within 1e-6 of the exact value there).
double tQuantile975(int df);

struct SweepGroup {
  std::vector<std::string> labels;  // one per column
  int runs = 0;
  std::array<std::vector<double>, kSweepMetrics> values;  // per metric, each run's value (NaN kept)
  std::array<Stat, kSweepMetrics> stats;
};
struct SweepSummary {
  std::vector<std::string> columns;  // the config keys that differ between groups (params by their name)
  std::vector<SweepGroup> groups;
};
SweepSummary summarize(const std::vector<RunRecord>& runs);

std::string summaryCsv(const SweepSummary& s);
std::string summaryMarkdown(const SweepSummary& s);
// One panel per metric (mean and 95% interval per group, each seed as a faint dot) and a key of the groups.
std::vector<uint8_t> summaryFigure(const SweepSummary& s, int& width, int& height);
// "loss=arcface, m=0.5" (or "all runs" when nothing differs); empty values are left out.
std::string groupName(const SweepSummary& s, const SweepGroup& g);

}  // namespace ms
