// The in-process runner of a sweep (see sweep_run.h): threads, the progress line, Ctrl-C.
//
// Why threads and not processes: a Trainer owns everything it touches (sim/ has no globals), so runs in
// threads are as independent as processes and share the loaded executable; the numbers are those of a
// separate `marginscope train` of the same config (tests/e2e/sweep_parallel.sh compares the files).
#include "app/sweep_run.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>

#include "app/metrics_json.h"
#include "render/image_io.h"
#include "sim/errors.h"
#include "sim/trainer.h"

namespace ms {

namespace {

using Clock = std::chrono::steady_clock;

// Set by SIGINT/SIGTERM while a pool runs; a second signal kills as usual (the handler is then SIG_DFL).
std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int sig) {
  g_interrupted.store(true);
  std::signal(sig, SIG_DFL);
}

std::string clockText(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char b[32];
  if (s >= 3600)
    std::snprintf(b, sizeof b, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(b, sizeof b, "%ld:%02ld", s / 60, s % 60);
  return b;
}

}  // namespace

std::string trainRun(const Config& config, const std::atomic<bool>* stop, RunProgress* progress,
                     int* warnings) {
  // The same loop as cmd_train.cpp: the reported loss is the mean of the last 50 batch losses.
  Trainer trainer(config);
  RecentLosses recent;  // the reported loss is the mean of the last 50 batch losses
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < config.steps; ++i) {
    if (stop && stop->load(std::memory_order_relaxed)) return "";
    if (!trainer.step()) break;
    const double l = trainer.lastLoss();
    recent.add(l);
    if (progress && (i & 15) == 0) progress->step.store(i + 1, std::memory_order_relaxed);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double sps = seconds > 0 ? double(trainer.stepCount()) / seconds : 0.0;
  trainer.setStepsPerSecond(sps);
  const SnapshotPtr snap = trainer.snapshot(true);
  const Trainer::Evaluation eval = trainer.evaluate();
  const double loss = recent.mean();
  if (warnings) *warnings = int(snap->warnings.size());
  if (stop && stop->load()) return "";
  return runMetricsJson(trainer, eval, *snap, config, seconds, loss).dump(2) + "\n";
}

PoolResult runPool(const std::vector<SweepRun>& runs, const std::vector<size_t>& todo, int jobs,
                   const std::string& out_dir, bool quiet) {
  PoolResult result;
  if (todo.empty()) return result;
  jobs = std::max(1, std::min<int>(jobs, int(todo.size())));
  const std::string sep = out_dir.back() == '/' ? "" : "/";

  g_interrupted.store(false);
  struct sigaction sa {
  }, old_int{}, old_term{};
  sa.sa_handler = onInterrupt;
  sigemptyset(&sa.sa_mask);
  // A signal the shell set to be ignored (a background job without job control, nohup) stays ignored.
  sigaction(SIGINT, nullptr, &old_int);
  sigaction(SIGTERM, nullptr, &old_term);
  if (old_int.sa_handler != SIG_IGN) sigaction(SIGINT, &sa, nullptr);
  if (old_term.sa_handler != SIG_IGN) sigaction(SIGTERM, &sa, nullptr);

  std::atomic<bool> stop{false};
  std::atomic<size_t> next{0};
  std::atomic<int> finished{0}, warned{0};
  std::vector<RunProgress> slots(static_cast<size_t>(jobs));
  std::mutex error_mutex;
  std::exception_ptr error;

  std::atomic<int> alive{jobs};
  auto worker = [&](int slot) {
    struct Leave {
      std::atomic<int>& n;
      ~Leave() { n.fetch_sub(1); }
    } leave{alive};
    for (;;) {
      const size_t k = next.fetch_add(1);
      if (k >= todo.size() || stop.load()) return;
      const SweepRun& run = runs[todo[k]];
      try {
        int w = 0;
        slots[size_t(slot)].step.store(0);
        slots[size_t(slot)].total.store(std::max(1, run.config.steps));  // before the data is read
        const std::string text = trainRun(run.config, &stop, &slots[size_t(slot)], &w);
        slots[size_t(slot)].total.store(0);
        if (text.empty()) return;  // interrupted: abandoned, nothing written
        writeFileAtomic(out_dir + sep + run.name, text);
        finished.fetch_add(1);
        if (w > 0) warned.fetch_add(1);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        slots[size_t(slot)].total.store(0);
        stop.store(true);
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < jobs; ++j) threads.emplace_back(worker, j);

  // The progress line: runs done, the share of the work done (finished runs plus the running runs' steps)
  // and the time left at the rate so far, which counts each run's data loading and final metrics too.
  const bool tty = !quiet && isatty(2);
  const auto t0 = Clock::now();
  auto last_line = t0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (g_interrupted.load()) stop.store(true);
    const int done = finished.load();
    const bool all_done = alive.load() == 0;
    double partial = 0;
    int running = 0;
    for (const RunProgress& p : slots) {
      const int64_t total = p.total.load();
      if (total > 0) partial += std::min(1.0, double(p.step.load()) / double(total)), ++running;
    }
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    const double f = (done + partial) / double(todo.size());
    const double left = f > 0 ? el * (1 - f) / f : NAN;
    const bool due = tty ? true : std::chrono::duration<double>(Clock::now() - last_line).count() >= 10.0;
    if (!quiet && (due || all_done)) {
      char line[200];
      const int w = 24, filled = std::min(w, int(w * f));
      std::snprintf(line, sizeof line, "sweep [%s%s] %d/%zu runs, %d running, %s elapsed, %s left",
                    std::string(size_t(filled), '#').c_str(), std::string(size_t(w - filled), '.').c_str(),
                    done, todo.size(), running, clockText(el).c_str(), clockText(left).c_str());
      std::fprintf(stderr, tty ? "\r%s   " : "%s\n", line);
      std::fflush(stderr);
      last_line = Clock::now();
    }
    if (all_done) break;
  }
  for (std::thread& t : threads) t.join();
  if (tty) std::fputc('\n', stderr);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (error) std::rethrow_exception(error);
  result.finished = finished.load();
  result.with_warnings = warned.load();
  result.interrupted = g_interrupted.load();
  return result;
}

}  // namespace ms
