// `marginscope train`: headless training with the shared training options, progress on stderr, and the
// metrics JSON (--metrics), embeddings CSV (--save-embeddings) and config (--save-config) written at the end.
// Every output path is checked before training starts, so a bad one costs no training time; the files are
// written together (render/image_io.h OutputBatch): all of them, each atomically, or none.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "app/commands.h"
#include "app/config_io.h"
#include "app/external_run.h"
#include "app/metrics_json.h"
#include "render/image_io.h"
#include "sim/errors.h"
#include "sim/network_simd.h"
#include "sim/trainer.h"

namespace ms {

namespace {

using Clock = std::chrono::steady_clock;

std::string embeddingsCsv(const Trainer::Evaluation& e, int d) {
  std::ostringstream o;
  o.precision(9);
  o << "split,label";
  for (int j = 0; j < d; ++j) o << ",e" << (j + 1);
  o << "\n";
  auto rows = [&](const Mat& H, const std::vector<int>& y, const char* split) {
    for (Eigen::Index i = 0; i < H.rows(); ++i) {
      o << split << "," << y[size_t(i)];
      for (int j = 0; j < d; ++j) o << "," << H(i, j);
      o << "\n";
    }
  };
  rows(e.train, e.train_labels, "train");
  rows(e.test, e.test_labels, "test");
  return o.str();
}

}  // namespace

int cmdTrain(int argc, char** argv) {
  CLI::App app{"marginscope train: headless training; writes the metrics JSON (--metrics)",
               "marginscope train"};
  TrainingOptions opts;
  addTrainingOptions(app, opts);
  std::string metrics_path, emb_path;
  bool quiet = false;
  app.add_option("--metrics", metrics_path, "write the metrics JSON here (atomically)");
  app.add_option("--save-embeddings", emb_path, "write the final embeddings as CSV: split,label,e1..ed");
  app.add_flag("--quiet", quiet, "no progress output");
  if (const int code = parseCommandLine(app, argc, argv, "train"); code >= 0) return code;
  if (!opts.embeddings.empty()) {  // embeddings made elsewhere: their metrics, no training
    if (!emb_path.empty()) throw UserError("--save-embeddings: not with --embeddings (nothing is trained)");
    return trainExternal(opts, metrics_path, quiet);
  }
  const Config config = resolveTrainingOptions(opts);
  OutputBatch outputs;  // every file of this run appears at the end, or none does
  outputs.expect("--metrics", metrics_path);
  outputs.expect("--save-embeddings", emb_path);
  outputs.expect("--save-config", opts.save_config);
  if (opts.portable) usePortableArithmetic();

  Trainer trainer(config);  // reads the data: a missing or corrupt file stops here

  const bool tty = !quiet && isatty(2);
  const int64_t total = config.steps;
  const auto t0 = Clock::now();
  auto last_print = t0;
  double loss_sum = 0;
  int loss_n = 0;
  RecentLosses recent;  // the reported loss is the mean of the last 50 batch losses
  for (int64_t i = 0; i < total; ++i) {
    if (!trainer.step()) break;
    const double l = trainer.lastLoss();
    recent.add(l);
    loss_sum += l;
    ++loss_n;
    const auto now = Clock::now();
    const double since = std::chrono::duration<double>(now - last_print).count();
    if (!quiet && ((tty && since >= 0.1) || since >= 3.0)) {
      const double el = std::chrono::duration<double>(now - t0).count();
      const double sps = double(i + 1) / el;
      const double mean = loss_sum / loss_n;
      if (tty) {
        const int w = 30, filled = int(w * double(i + 1) / double(total));
        std::fprintf(stderr, "\r[%s%s] %lld/%lld  loss %.4f  %.0f steps/s ", std::string(filled, '#').c_str(),
                     std::string(w - filled, '.').c_str(), (long long)(i + 1), (long long)total, mean, sps);
      } else {
        std::fprintf(stderr, "step %lld/%lld  loss %.4f  %.0f steps/s\n", (long long)(i + 1),
                     (long long)total, mean, sps);
      }
      std::fflush(stderr);
      loss_sum = 0;
      loss_n = 0;
      last_print = now;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (tty) std::fputc('\n', stderr);
  const int64_t steps_done = trainer.stepCount();
  const double sps = seconds > 0 ? double(steps_done) / seconds : 0.0;
  trainer.setStepsPerSecond(sps);

  const SnapshotPtr snap = trainer.snapshot(true);
  const Trainer::Evaluation eval = trainer.evaluate();
  const double loss = recent.mean();

  const nlohmann::json j = runMetricsJson(trainer, eval, *snap, config, seconds, loss);

  printWarnings(snap->warnings);  // divergence, collapse, a dead class, an oscillating loss: one line each
  if (!quiet)
    std::fprintf(stderr, "done: %lld steps in %.2f s (%.0f steps/s), loss %.4f, train %.3f, test %.3f\n",
                 (long long)steps_done, seconds, sps, loss, eval.train_accuracy, eval.test_accuracy);
  if (!opts.save_config.empty()) saveConfigFile(config, opts.save_config);
  if (!emb_path.empty()) writeFileAtomic(emb_path, embeddingsCsv(eval, snap->dim));
  if (!metrics_path.empty()) writeFileAtomic(metrics_path, j.dump(2) + "\n");
  outputs.commit();
  return 0;
}

}  // namespace ms
