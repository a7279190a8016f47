// The Theory tab (see panels.h): every classifier loss's target logit against the angle (the ArcFace paper's
// figure), its binary-case boundary table and the bounds at the current K and s.
#include "app/panels.h"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/gui_plot.h"
#include "app/panels_util.h"
#include "sim/errors.h"
#include "sim/lemma.h"
#include "sim/loss.h"
#include "sim/math.h"
#include "sim/param_lookup.h"

namespace ms {

// ------------------------------------------------------------------------------------------------ Theory
// Target logit on the cosine scale: target logit at |h| = |w| = 1 divided by the test logit at theta = 0, so
// losses with a scale s overlay the ones without (the ArcFace paper's Fig. 3 axes). Lambda 0: pure psi.
double curveAt(const LossSpec& spec, const LossParams& p, double theta, double hnorm) {
  LossState st;
  st.lambda = 0;
  const double unit = testLogit(spec, p, st, 0, 1.0, hnorm, 1.0);
  const double v = targetLogit(spec, p, st, 0, std::cos(theta), hnorm, 1.0);
  return unit != 0 ? v / std::fabs(unit) : v;
}

namespace {

std::string fmtShort(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

LossParams paramsFor(const AppState& s, const LossSpec& spec) {
  // The run's own params for its loss; for the others their defaults with the run's s (the common radius).
  for (int i = 0; i < (s.compare ? 2 : 1); ++i)
    if (s.run[i].config.loss == spec.name) return s.run[i].config.params;
  LossParams p;
  const LossSpec* cur = tryFindLoss(s.run[0].config.loss);
  if (cur && hasParam(*cur, "s") && hasParam(spec, "s")) {
    const ParamSpec* ps = findParam(spec, "s");
    p.values["s"] = std::clamp(paramValue(*cur, s.run[0].config.params, "s"), ps->lo, ps->hi);
  }
  return p;
}

}  // namespace

namespace {

// Every classifier loss's target-logit curve (variants separately); `loss` names its loss for the
// highlight. A curve that repeats an earlier one exactly (weighted softmax and focal share softmax's rule)
// is listed once.
struct Curve {
  PlotSeries series;
  std::string loss;
  int variant = -1;  // the loss's `variant` choice this curve draws, or -1
};

// The 10th, 50th and 90th percentiles of |h| over the points of the run that trains `loss`, or empty.
std::vector<double> normPercentiles(const AppState& s, const std::string& loss) {
  for (int i = 0; i < (s.compare ? 2 : 1); ++i) {
    const SnapshotPtr& snap = s.run[i].snapshot;
    if (s.run[i].config.loss != loss || !snap || snap->dim <= 0 || snap->embeddings.empty()) continue;
    std::vector<double> n;
    for (size_t k = 0; k + size_t(snap->dim) <= snap->embeddings.size(); k += size_t(snap->dim)) {
      double q = 0;
      for (int j = 0; j < snap->dim; ++j) q += double(snap->embeddings[k + j]) * snap->embeddings[k + j];
      n.push_back(std::sqrt(q));
    }
    std::sort(n.begin(), n.end());
    return {n[n.size() / 10], n[n.size() / 2], n[n.size() * 9 / 10]};
  }
  return {};
}

std::vector<Curve> allCurves(const AppState& s) {
  constexpr int kN = 181;
  std::vector<Curve> out;
  for (const auto& spec : lossCatalogue()) {
    // Losses that classify with their own class weights; the others use a nearest-mean or joint softmax rule.
    if (!spec.traits.has_weights || spec.traits.joint_softmax) continue;
    const LossParams p = paramsFor(s, spec);
    const ParamSpec* variant = findParam(spec, "variant");
    const int nv = variant ? (int)variant->choices.size() : 1;
    for (int v = 0; v < nv; ++v) {
      LossParams pv = p;
      if (variant) pv.values["variant"] = v;
      Curve c;
      c.loss = spec.name;
      c.variant = variant ? v : -1;
      c.series.label = spec.name + (variant ? " " + variant->choices[v] : std::string());
      c.series.dashed = variant && v > 0;
      c.series.y.resize(kN);
      // A margin that depends on |h| (MagFace, AdaFace) is drawn at the run's own feature norms: at |h| = 1
      // MagFace's is the clamped l_a's. The curves at the 10th, 50th and 90th percentile stand for the run,
      // when they differ from each other; otherwise the |h| = 1 curve.
      std::vector<double> norms = {1.0};
      if (spec.traits.feature_norm && spec.traits.has_margin) {
        const std::vector<double> q = normPercentiles(s, spec.name);
        if (!q.empty()) norms = q;
      }
      std::vector<Curve> at;
      try {
        for (double hn : norms) {
          Curve cn = c;
          for (int i = 0; i < kN; ++i) cn.series.y[i] = (float)curveAt(spec, pv, kPi * i / (kN - 1), hn);
          if (norms.size() > 1) cn.series.label += " |h| " + fmtShort(hn);
          at.push_back(std::move(cn));
        }
      } catch (const std::exception&) {
        continue;
      }
      if (at.size() > 1 && at.front().series.y == at.back().series.y)
        at.resize(1), at[0].series.label = c.series.label;
      for (Curve& cn : at) {
        bool repeat = false;
        for (const Curve& o : out) repeat |= o.series.y == cn.series.y;
        if (!repeat) out.push_back(std::move(cn));
      }
    }
  }
  return out;
}

// The variant a run uses of its loss (-1: the loss has no variants).
int variantOf(const RunState& r, const LossSpec& spec) {
  return findParam(spec, "variant") ? (int)std::lround(paramValue(spec, r.config.params, "variant")) : -1;
}

// Shown unless the user ticked otherwise: the curve each run trains and the loss the lecture contrasts with
// run A's (its default variant).
bool shownByDefault(const AppState& s, const Curve& c) {
  const LossSpec* spec = tryFindLoss(c.loss);
  if (!spec) return false;
  for (int i = 0; i < (s.compare ? 2 : 1); ++i)
    if (s.run[i].config.loss == c.loss && variantOf(s.run[i], *spec) == c.variant) return true;
  const LossSpec* a = tryFindLoss(s.run[0].config.loss);
  return a && a->contrast == c.loss && c.variant <= 0;
}

void theoryPlot(AppState& s, float height) {
  std::vector<Curve> all = allCurves(s);
  const std::string active = s.run[0].config.loss;
  std::vector<PlotSeries> shown;
  s.theory_curves.clear();
  int color = 0;
  for (Curve& c : all) {
    auto it = s.theory_show.find(c.series.label);
    const bool on = it != s.theory_show.end() ? it->second : shownByDefault(s, c);
    // The trained curve: run A's loss, and of its variants the one A uses.
    const LossSpec* spec = tryFindLoss(c.loss);
    const bool trained = c.loss == active && spec && variantOf(s.run[0], *spec) == c.variant;
    TheoryCurve info{c.series.label, 0, 1, on, trained};
    if (on) {
      // Colours in the order shown: the first few are Tableau's most distinct ones, and no two shown
      // curves share one (up to sixteen).
      c.series.color = seriesColor(color++);
      c.series.width = info.active ? 3.0f : 1.0f;
      info.color = c.series.color;
      info.width = c.series.width;
      shown.push_back(c.series);
    }
    s.theory_curves.push_back(info);
  }
  // The active loss on top of the others.
  std::stable_partition(shown.begin(), shown.end(), [](const PlotSeries& p) { return p.width <= 1; });
  PlotOptions o;
  o.x1 = 180;
  o.x_label = "theta (deg)";
  o.height = height;
  o.autoscale = false;
  o.y0 = -1.6f;
  o.y1 = 1.1f;
  o.hline = 0;
  o.x_ticks = {0, 30, 60, 90, 120, 150, 180};
  o.y_ticks = {-1.5f, -1, -0.5f, 0, 0.5f, 1};
  o.x_unit = "theta in deg";
  o.y_unit = "target logit / s";
  o.rect = &s.theory_plot;
  ImGui::PushTextWrapPos(0);
  ImGui::TextUnformatted(
      "target logit vs angle to the own weight (logit / s at |h| = |w| = 1, lambda = 0); the "
      "thick curve is the loss being trained");
  ImGui::PopTextWrapPos();
  plotLines("curves", shown, o);
}

void curveChecklist(AppState& s) {
  if (!ImGui::TreeNode("curves shown")) return;
  for (const TheoryCurve& c : s.theory_curves) {
    bool on = c.shown;
    if (ImGui::Checkbox(c.label.c_str(), &on)) s.theory_show[c.label] = on;
    noteItem(s, ("curve " + c.label).c_str());
  }
  ImGui::TreePop();
}

}  // namespace

void panelTheory(AppState& s) {
  // More than twice the old 200-unit height in the panel; "large" moves it over the embedding view for a
  // projector.
  bool large = s.theory_large;
  if (ImGui::Checkbox("large plot (over the view)", &large)) s.theory_large = large;
  noteItem(s, "theory large");
  if (!s.theory_large) {
    theoryPlot(s, 480);
  } else if (!s.views.empty()) {
    const ViewSlot& v = s.views[0];
    ImGui::SetNextWindowPos(ImVec2(v.x + 20, v.y + 20));
    ImGui::SetNextWindowSize(ImVec2(std::max(300.0f, v.w - 40), std::max(240.0f, v.h - 40)));
    ImGui::Begin("Target logit (Theory tab)", &s.theory_large,
                 ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoCollapse);
    const float scale = ImGui::GetFontSize() / 13.0f;
    theoryPlot(s, std::max(200.0f, (ImGui::GetContentRegionAvail().y - 6 * ImGui::GetFontSize()) / scale));
    ImGui::End();
  }
  curveChecklist(s);

  // Every classifier loss's boundary in the binary case (the notes' Table 1, extended), measured by root
  // finding of its own rule (sim/lemma.h) and, where its definition has one, its closed-form margin.
  double alpha_deg = 90;
  if (s.run[0].snapshot && s.run[0].snapshot->metrics.angles.weight_min_deg > 0)
    alpha_deg = s.run[0].snapshot->metrics.angles.weight_min_deg;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  double a = s.theory_alpha_deg > 0 ? s.theory_alpha_deg : alpha_deg;
  if (sliderDouble("alpha W1-W2 (deg)", &a, 10, 180, false, "%.1f")) s.theory_alpha_deg = a;
  const double alpha = a * kPi / 180;
  if (ImGui::BeginTable("boundaries", 4, ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("loss (binary case)", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("t1 deg", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("margin", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("theory", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableHeadersRow();
    for (const auto& spec : lossCatalogue()) {
      if (!spec.traits.has_weights || spec.traits.joint_softmax) continue;
      const LossParams p = paramsFor(s, spec);
      std::string vals;
      for (const char* k : {"m", "s"})
        if (hasParam(spec, k)) vals += "  " + std::string(k) + " " + fmtShort(paramValue(spec, p, k));
      LossState st;
      st.lambda = 0;  // the pure margin, as the lemma states it
      double t1 = NAN, theory = NAN;
      std::string why;
      try {
        t1 = lemmaBoundary(spec, p, st, 0, 1, alpha, 1, 1, &why);
        theory = lemmaTheoryMargin(spec, p, alpha);
      } catch (const std::exception&) {
      }
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("%s%s", spec.name.c_str(), vals.c_str());
      ImGui::TableNextColumn();
      if (std::isfinite(t1))
        ImGui::TextUnformatted(printed("%.2f", t1 * 180 / kPi).c_str());
      else
        ImGui::TextDisabled("-");
      if (!std::isfinite(t1) && ImGui::IsItemHovered() && !why.empty()) ImGui::SetTooltip("%s", why.c_str());
      ImGui::TableNextColumn();
      // Both classes obey the same rule, so the band between the two boundaries is alpha - 2 t1.
      if (std::isfinite(t1))
        ImGui::TextUnformatted(printed("%.2f", (alpha - 2 * t1) * 180 / kPi).c_str());
      else
        ImGui::TextDisabled("-");
      ImGui::TableNextColumn();
      if (std::isfinite(theory))
        ImGui::TextUnformatted(printed("%.2f", theory * 180 / kPi).c_str());
      else
        ImGui::TextDisabled("-");
      if (!std::isfinite(theory) && ImGui::IsItemHovered())
        ImGui::SetTooltip("%s",
                          spec.rule.closed_form ? "not defined at this alpha" : spec.rule.no_closed_form);
    }
    ImGui::EndTable();
  }
  ImGui::PushTextWrapPos(0);
  ImGui::TextDisabled(
      "t1: angle from W1 where class 1's training rule is met with equality against W2; margin: the band "
      "alpha - 2 t1 between the two classes' boundaries; theory: the loss's closed form (A-Softmax lemma "
      "alpha (m-1)/(m+1), ArcFace m, CosFace 2 asin(m / 2 sin(alpha/2))), lambda = 0.");
  ImGui::PopTextWrapPos();

  if (const Snapshot* snap = s.run[0].snapshot.get()) {
    const Bounds& b = snap->metrics.bounds;
    sectionTitle("bounds (current K, s)");
    const char* why = b.note.empty() ? "not defined for this loss and K" : b.note.c_str();
    numberText("NormFace loss lower bound %.4g", b.normface_loss_lower_bound, why);
    numberText("s needed for class probability p: %.3g", b.scale_for_p, why);
    numberText("L2-softmax alpha lower bound %.3g", b.l2_alpha_low, why);
    numberText("CosFace largest m %.3g", b.cosface_m_max, why);
  }
}

}  // namespace ms
