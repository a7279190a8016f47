// See gui_bench.h. The script's phases: 15% warm-up, training to 55% (m changed twice a second, as a lecturer
// dragging the slider), 5% settling, then paused; a report compares the training and paused frames.
#include "app/gui_bench.h"

#include <algorithm>
#include <cmath>

#include "app/background.h"
#include "sim/errors.h"
#include "sim/loss.h"

namespace ms {

BenchPhase BenchScript::tick(AppState& s, double t) {
  BenchPhase phase = BenchPhase::Other;
  if (o_.bench) {
    const double T = o_.quit_after > 0 ? o_.quit_after : 20;
    phase = t < 0.15 * T   ? BenchPhase::Other
            : t < 0.55 * T ? BenchPhase::Training
            : t < 0.6 * T  ? BenchPhase::Other
                           : BenchPhase::Paused;
    s.paused = t >= 0.55 * T;
    if (phase == BenchPhase::Training && t >= next_poke_) {
      next_poke_ = t + 0.5;
      RunState& r = s.run[0];
      try {
        for (const ParamSpec& p : findLoss(r.config.loss).params)
          if (p.name == "m" && p.kind == ParamKind::Real) {
            r.config.params.values["m"] = std::clamp(poke_hi_ ? p.def : p.def * 0.8, p.lo, p.hi);
            r.dirty = true;
          }
        if (!r.dirty) r.config.lr *= poke_hi_ ? 1.25 : 0.8, r.dirty = true;  // a loss without m
      } catch (const UserError&) {
      }
      poke_hi_ = !poke_hi_;
    }
  }
  // Screenshot presses wait for something to show, as a user would.
  if (s.run[0].snapshot) {
    if (o_.screenshot_at >= 0 && !shot_done_ && t >= o_.screenshot_at) {
      s.req.screenshot = true;
      shot_done_ = true;
    }
    if (o_.screenshot_every > 0) {
      if (next_shot_ < 0) next_shot_ = t + o_.screenshot_every;
      if (t >= next_shot_) {
        s.req.screenshot = true;
        next_shot_ += o_.screenshot_every;
      }
    }
  }
  return phase;
}

void FrameStats::add(const AppState& s, double t, BenchPhase phase, double frame_ms, double interval_ms,
                     const FrameParts& parts) {
  // Training rate: steps shown while training, over the time they took (a reset starts counting afresh).
  const Snapshot* snap = s.run[0].snapshot.get();
  const bool training = t > 1.0 && snap && !s.paused && !snap->paused &&
                        (bench_ ? phase == BenchPhase::Training : phase == BenchPhase::Other);
  if (training && last_step_ >= 0 && snap->step >= last_step_ && last_t_ >= 0) {
    train_steps_ += double(snap->step - last_step_);
    train_seconds_ += t - last_t_;
  }
  last_step_ = training ? snap->step : -1;
  last_t_ = t;
  if (training) max_sps_ = std::max(max_sps_, snap->steps_per_second);
  if (t <= 1.0) return;
  all_.push_back(frame_ms);
  interval_.push_back(interval_ms);
  ui_.push_back(parts.ui);
  views_.push_back(parts.views);
  imgui_.push_back(parts.imgui);
  swap_.push_back(parts.swap);
  if (phase == BenchPhase::Training) run_.push_back(frame_ms);
  if (phase == BenchPhase::Paused) paused_.push_back(frame_ms);
}

nlohmann::json FrameStats::report(const AppState& s) const {
  const bool bench = bench_;
  nlohmann::json j;
  j["frame_time_ms"] = percentiles(bench ? run_ : all_);
  if (bench) {
    j["frame_time_ms_paused"] = percentiles(paused_);
    if (!run_.empty() && !paused_.empty()) {
      const double a = j["frame_time_ms"]["p50"], b = j["frame_time_ms_paused"]["p50"];
      j["median_ratio_training_over_paused"] = b > 0 ? a / b : 0;
    }
  }
  j["frame_time_ms_all"] = percentiles(all_);
  j["frame_interval_ms"] = percentiles(interval_);
  j["frame_parts_ms"] = {{"ui", percentiles(ui_)},
                         {"views", percentiles(views_)},
                         {"imgui_draw", percentiles(imgui_)},
                         {"swap", percentiles(swap_)}};
  // The mean is what a viewer sees; the best quarter-second window is kept for comparison with old reports.
  j["steps_per_second"] = train_seconds_ > 0 ? train_steps_ / train_seconds_ : 0.0;
  j["steps_per_second_max"] = max_sps_;
  j["training_seconds"] = train_seconds_;
  std::vector<double> lat, step_lat;
  for (const auto& r : s.run) {
    lat.insert(lat.end(), r.latency_ms.begin(), r.latency_ms.end());
    step_lat.insert(step_lat.end(), r.step_latency_ms.begin(), r.step_latency_ms.end());
  }
  // The contract's figure: a Controls change to the first step that uses it (the worker times it); and the
  // user's view of it: the change to the first frame whose snapshot reflects it.
  j["control_latency_ms"] = percentiles(step_lat);
  j["control_to_screen_ms"] = percentiles(lat);
  j["screenshots"] = {
      {"pressed", s.screenshots_pressed}, {"saved", s.screenshots_taken}, {"failed", s.screenshots_failed}};
  j["nice"] = {{"worker", backgroundNice(BackgroundRole::Worker)},
               {"views", backgroundNice(BackgroundRole::Views)}};
  j["preset"] = s.preset_name;
  return j;
}

nlohmann::json percentiles(std::vector<double> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) { return v[std::min(v.size() - 1, (size_t)std::floor(p * (v.size() - 1) + 0.5))]; };
  return {{"p50", q(0.5)}, {"p90", q(0.9)}, {"p99", q(0.99)}, {"max", v.back()}, {"frames", v.size()}};
}

}  // namespace ms
