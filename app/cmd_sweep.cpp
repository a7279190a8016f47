// `marginscope sweep`: many runs with seeds and confidence intervals (issue 16).
//
//   sweep [training options] --vary KEY=V1,V2 ... --seeds 1-5 --out DIR [--jobs N]   train every run here
//   sweep ... --out DIR --emit-commands      print one `marginscope train` line per run (GNU parallel, Slurm)
//   sweep --collect DIR [--out DIR2]        the summary of the JSON files in DIR, wherever they were made
//
// Every run's metrics JSON (the same as `train --metrics`) goes into DIR as "KEY=V,...,seed=S.json"; a run
// whose file exists with the same config is skipped, so re-running a sweep resumes it. The summary
// (summary.csv, summary.md, summary.png in DIR) is built from the JSON files alone, so the in-process sweep
// and --collect over the files of the emitted commands give the same bytes.
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "app/commands.h"
#include "app/config_io.h"
#include "app/json_input.h"
#include "app/sweep_plan.h"
#include "app/sweep_run.h"
#include "app/sweep_summary.h"
#include "render/image_io.h"
#include "sim/errors.h"
#include "sim/network_simd.h"

namespace ms {

namespace {

std::string joinPath(const std::string& dir, const std::string& name) {
  return dir + (dir.back() == '/' ? "" : "/") + name;
}

// summary.csv, summary.md and summary.png in dir, all or none; the Markdown table on stdout.
void writeSummary(const std::vector<RunRecord>& records, const std::string& dir, bool quiet) {
  const SweepSummary s = summarize(records);
  const std::string csv = joinPath(dir, "summary.csv"), md = joinPath(dir, "summary.md"),
                    png = joinPath(dir, "summary.png");
  OutputBatch batch;
  batch.expect("summary.csv", csv);
  batch.expect("summary.md", md);
  batch.expect("summary.png", png);
  const std::string table = summaryMarkdown(s);
  int w = 0, h = 0;
  const std::vector<uint8_t> rgba = summaryFigure(s, w, h);
  writeFileAtomic(csv, summaryCsv(s));
  writeFileAtomic(md, "# Sweep summary\n\n" + table);
  writePngAtomic(png, w, h, rgba);
  batch.commit();
  if (!quiet) {
    std::fputs(table.c_str(), stdout);
    std::fprintf(stderr, "summary of %zu runs in %zu configurations: %s, %s, %s\n", records.size(),
                 s.groups.size(), csv.c_str(), md.c_str(), png.c_str());
  }
}

int parseJobs(const std::string& text) {
  const std::string allowed = " (allowed: 1..1024 parallel runs; default: the physical cores, here " +
                              std::to_string(physicalCores()) + ")";
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos)
    throw UserError("--jobs: " + shownValue(text) + " is not a whole number" + allowed);
  const int n = std::atoi(text.c_str());
  if (n < 1 || n > 1024) throw UserError("--jobs: " + text + " is out of range" + allowed);
  return n;
}

// --out must be a folder or not exist yet (it is made when the runs start); a file there is an error.
void checkOutDir(const std::string& dir) {
  if (dir.empty())
    throw UserError("--out: missing (allowed: a folder for the runs' metrics JSON files, made when missing)");
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
    throw UserError("--out: " + shownValue(dir) +
                    " is a file (allowed: a folder for the runs' metrics JSON files, made when missing)");
}

}  // namespace

int cmdSweep(int argc, char** argv) {
  CLI::App app{
      "marginscope sweep: every combination of --vary values times --seeds, trained on every core (or "
      "printed as `marginscope train` commands), summarised with 95% confidence intervals over seeds",
      "marginscope sweep"};
  TrainingOptions opts;
  addTrainingOptions(app, opts);
  std::vector<std::string> vary;
  std::string seeds_text, out, collect, jobs_text, executable;
  bool emit = false, quiet = false;
  app.add_option("--vary", vary,
                 "KEY=V1,V2,...: a config key (loss, lr, dataset, dim, ...) or a loss parameter (m, s, ...); "
                 "repeatable, the runs are every combination; V1;V2 for list values (hidden=32,32;64,64)")
      ->allow_extra_args(false);
  app.add_option("--seeds", seeds_text, "seeds of every configuration: 1-5, 3, 1,4,9 (default: --seed)");
  app.add_option("--out", out, "folder of the runs' metrics JSON files and the summary (made when missing)");
  app.add_option("--jobs", jobs_text, "runs at once (default: the physical cores; each run is one thread)");
  app.add_flag("--emit-commands", emit,
               "print one self-contained `marginscope train` line per run instead of training (for GNU "
               "parallel or a Slurm job array), then --collect the folder");
  app.add_option("--collect", collect, "summarise the metrics JSON files in this folder (no training)");
  app.add_option("--executable", executable,
                 "the marginscope the emitted commands run (default: this one's absolute path)");
  app.add_flag("--quiet", quiet, "no progress line and no table on stdout");
  if (const int code = parseCommandLine(app, argc, argv, "sweep"); code >= 0) return code;

  if (!opts.save_config.empty())
    throw UserError("--save-config: not a sweep option (each run's config is in its metrics JSON)");
  if (!collect.empty()) {
    const char* extra = !vary.empty()         ? "--vary"
                        : !seeds_text.empty() ? "--seeds"
                        : emit                ? "--emit-commands"
                        : !jobs_text.empty()  ? "--jobs"
                        : !opts.given.empty() || !opts.params.empty() || !opts.config_file.empty()
                            ? "a training option"
                            : nullptr;
    if (extra)
      throw UserError(std::string("--collect: ") + extra +
                      " is not used when collecting (allowed: --collect DIR [--out DIR] [--quiet])");
    const std::string dest = out.empty() ? collect : out;
    checkOutDir(dest);
    const std::vector<RunRecord> records = collectRuns(collect);
    std::filesystem::create_directories(dest);
    writeSummary(records, dest, quiet);
    return 0;
  }

  checkOutDir(out);
  const int jobs = jobs_text.empty() ? physicalCores() : parseJobs(jobs_text);
  if (!executable.empty() && !emit)
    throw UserError(
        "--executable: used only with --emit-commands (allowed: --emit-commands --executable PATH)");
  std::vector<VaryAxis> axes;
  for (const std::string& v : vary) axes.push_back(parseVary(v));
  std::vector<uint64_t> seeds;
  if (!seeds_text.empty())
    seeds = parseSeeds(seeds_text);
  else
    seeds.push_back(resolveTrainingOptions(opts).seed);
  const std::vector<SweepRun> runs = planSweep(opts, axes, seeds);

  if (emit) {
    if (executable.empty()) {
      char buf[PATH_MAX];
      const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
      executable = n > 0 ? std::string(buf, size_t(n)) : "marginscope";
    }
    for (const SweepRun& run : runs) std::printf("%s\n", runCommand(run, executable, out).c_str());
    return 0;
  }

  try {
    std::filesystem::create_directories(out);
  } catch (const std::filesystem::filesystem_error& e) {
    throw UserError("--out: cannot make the folder " + shownValue(out) + " (" + e.code().message() + ")");
  }
  for (const char* f : {"summary.csv", "summary.md", "summary.png"})
    checkOutputPath("--out", joinPath(out, f));
  if (opts.portable) usePortableArithmetic();

  // Resume: a run whose JSON is there with the same config is done.
  std::vector<size_t> todo;
  int redo = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string path = joinPath(out, runs[i].name);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      todo.push_back(i);
      continue;
    }
    bool same = false;
    try {
      const nlohmann::json j = readJsonFile("run", path);
      same =
          j.is_object() && j.contains("config") && j["config"].dump() == configToJson(runs[i].config).dump();
    } catch (const UserError&) {
    }
    if (!same) ++redo, todo.push_back(i);
  }
  if (!quiet)
    std::fprintf(
        stderr, "sweep: %zu runs (%zu configurations x %zu seeds), %zu done already%s, %d at once\n",
        runs.size(), runs.size() / seeds.size(), seeds.size(), runs.size() - todo.size(),
        redo ? (", " + std::to_string(redo) + " re-run: their file holds another config").c_str() : "",
        std::min<int>(jobs, int(std::max<size_t>(1, todo.size()))));
  const PoolResult r = runPool(runs, todo, jobs, out, quiet);
  if (r.with_warnings > 0 && !quiet)
    std::fprintf(stderr, "sweep: %d runs ended with training warnings (see \"warnings\" in their JSON)\n",
                 r.with_warnings);
  if (r.interrupted) {
    std::fprintf(stderr,
                 "sweep: interrupted; %zu of %zu runs are done and kept in %s; run the same command again to "
                 "resume\n",
                 runs.size() - todo.size() + size_t(r.finished), runs.size(), out.c_str());
    return 130;
  }
  std::vector<RunRecord> records;
  for (const SweepRun& run : runs) {
    const std::string path = joinPath(out, run.name);
    records.push_back(runRecord(readJsonFile("run", path), path));
  }
  writeSummary(records, out, quiet);
  return 0;
}

}  // namespace ms
