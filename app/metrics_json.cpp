// The metrics JSON of `train` and `render`: the contract keys of DESIGN.md (angles, lemma, verification,
// neural_collapse, bounds) plus extras (histograms, ROC, open-set figures, notes). Keys are never renamed;
// a figure that cannot be computed (NaN) is written as null.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "app/metrics_json.h"

#include "app/config_io.h"

namespace ms {

namespace {

using nlohmann::json;

json num(double x) {
  return std::isfinite(x) ? json(x) : json(nullptr);
}

// Single-precision values with their 7 meaningful digits, not the float's binary expansion (1e-4 rather
// than 9.999999747378752e-05).
json floats(const std::vector<float>& v) {
  json a = json::array();
  char buf[32];
  for (float x : v) {
    std::snprintf(buf, sizeof buf, "%.7g", double(x));
    a.push_back(num(std::strtod(buf, nullptr)));
  }
  return a;
}

json pairsJson(const PairVerification& p) {
  json j;
  j["pairs"] = p.pairs;
  j["pairs_total"] = p.pairs_total;
  j["positives"] = p.positives;
  j["negatives"] = p.negatives;
  j["tar_at_far_1e-2"] = num(p.tar_at_far_1e2);
  j["tar_at_far_1e-3"] = num(p.tar_at_far_1e3);
  j["eer"] = num(p.eer);
  j["best_accuracy"] = num(p.best_accuracy);
  j["best_threshold"] = num(p.best_threshold);
  j["auc"] = num(p.auc);
  j["roc_far"] = floats(p.roc_far);
  j["roc_tar"] = floats(p.roc_tar);
  return j;
}

}  // namespace

nlohmann::json warningsToJson(const std::vector<Warning>& warnings) {
  json a = json::array();
  for (const Warning& w : warnings) a.push_back({{"code", w.code}, {"message", w.message}});
  return a;
}

void metricsToJson(const Metrics& m, nlohmann::json& out) {
  const AngleMetrics& a = m.angles;
  json& angles = out["angles"];
  angles["intra_mean_deg"] = num(a.intra_mean_deg);
  angles["intra_p95_deg"] = num(a.intra_p95_deg);
  angles["intra_max_deg"] = num(a.intra_max_deg);
  angles["inter_center_min_deg"] = num(a.inter_center_min_deg);
  angles["inter_center_mean_deg"] = num(a.inter_center_mean_deg);
  angles["weight_min_deg"] = num(a.weight_min_deg);
  angles["separable"] = a.separable;
  angles["gap_deg"] = num(a.gap_deg);
  angles["separable_p95"] = a.separable_p95;
  angles["gap_p95_deg"] = num(a.gap_p95_deg);
  angles["outliers"] = a.outliers;
  angles["nearest_other_mean_deg"] = num(a.nearest_other_mean_deg);
  angles["nearest_other_min_deg"] = num(a.nearest_other_min_deg);
  angles["closer_to_other_fraction"] = num(a.closer_to_other_fraction);

  json lemma = json::array();
  for (const LemmaRow& r : m.lemma) {
    json row;
    row["classes"] = {r.class_a, r.class_b};
    row["alpha_deg"] = num(r.alpha_deg);
    row["theory_margin_deg"] = num(r.theory_margin_deg);
    row["measured_margin_deg"] = num(r.measured_margin_deg);
    row["effective_margin_deg"] = num(r.effective_margin_deg);
    row["boundary_a_deg"] = num(r.boundary_a_deg);
    row["boundary_b_deg"] = num(r.boundary_b_deg);
    row["theory_defined"] = r.theory_defined;
    row["measured_defined"] = r.measured_defined;
    if (!r.note.empty()) row["note"] = r.note;
    lemma.push_back(row);
  }
  out["lemma"] = lemma;
  out["lemma_pairs"] = m.lemma_all_pairs ? "all" : "nearest-weight";

  const VerificationMetrics& v = m.verification;
  json& ver = out["verification"];
  ver["tar_at_far_1e-2"] = num(v.all.tar_at_far_1e2);
  ver["tar_at_far_1e-3"] = num(v.all.tar_at_far_1e3);
  ver["eer"] = num(v.all.eer);
  ver["best_accuracy"] = num(v.all.best_accuracy);
  ver["best_threshold"] = num(v.all.best_threshold);
  ver["sampled"] = v.sampled;
  ver["pairs"] = v.all.pairs;              // scored: all pairs, or a sample of them (sampled)
  ver["pairs_total"] = v.all.pairs_total;  // there are
  ver["split"] = v.split;
  ver["all_pairs"] = pairsJson(v.all);
  if (v.open_set_accuracy >= 0 || std::isnan(v.open_set_accuracy)) {
    ver["open_set_accuracy"] = num(v.open_set_accuracy);
    ver["unseen_pairs"] = pairsJson(v.unseen);
  }
  ver["identification_accuracy_all"] = num(v.identification_accuracy_all);

  const NeuralCollapse& nc = m.neural_collapse;
  json& n = out["neural_collapse"];
  n["nc1"] = num(nc.nc1);
  n["nc2_equinorm"] = num(nc.nc2_equinorm);
  n["nc2_equiangular"] = num(nc.nc2_equiangular);
  n["nc2_equiangular_mad"] = num(nc.nc2_equiangular_mad);
  n["nc2_weights_equinorm"] = num(nc.nc2_weights_equinorm);
  n["nc2_weights_equiangular"] = num(nc.nc2_weights_equiangular);
  n["nc3"] = num(nc.nc3);
  n["unit_features"] = nc.unit_features;
  n["unit_weights"] = nc.unit_weights;

  const Bounds& b = m.bounds;
  json& bo = out["bounds"];
  bo["normface_loss_lower_bound"] = num(b.normface_loss_lower_bound);
  bo["normface_bound_valid"] = b.normface_bound_valid;
  bo["scale_used"] = num(b.scale_used);
  bo["target_probability"] = num(b.target_probability);
  bo["scale_for_p"] = num(b.scale_for_p);
  bo["l2_alpha_low"] = num(b.l2_alpha_low);
  bo["cosface_m_max"] = num(b.cosface_m_max);
  bo["cosface_m_max_weights"] = num(b.cosface_m_max_weights);
  bo["note"] = b.note;

  json& h = out["histograms"];
  h["bin_deg"] = num(m.hist_bin_deg);
  h["positive"] = floats(m.pos_hist);
  h["negative"] = floats(m.neg_hist);
}

nlohmann::json runMetricsJson(const Trainer& trainer, const Trainer::Evaluation& eval, const Snapshot& snap,
                              const Config& config, double seconds, double loss) {
  const double sps = seconds > 0 ? double(trainer.stepCount()) / seconds : 0.0;
  nlohmann::json j;
  j["step"] = trainer.stepCount();
  j["loss"] = loss;
  j["last_batch_loss"] = trainer.lastLoss();
  j["train_accuracy"] = eval.train_accuracy;
  j["test_accuracy"] = eval.test_accuracy;
  j["steps_per_second"] = sps;
  j["seconds"] = seconds;
  j["gflops_per_second"] = sps * trainer.flopsPerStep() * 1e-9;
  j["diverged"] = trainer.diverged();
  j["message"] = trainer.message();
  j["classes"] = snap.K;
  j["classes_all"] = snap.K_all;
  j["train_points"] = eval.train.rows();
  j["test_points"] = eval.test.rows();
  j["loss_state"] = {
      {"lambda", snap.loss_state.lambda}, {"s", snap.loss_state.s}, {"alpha", snap.loss_state.alpha}};
  j["config"] = configToJson(config);
  metricsToJson(snap.metrics, j);
  j["warnings"] = warningsToJson(snap.warnings);
  return j;
}

}  // namespace ms
