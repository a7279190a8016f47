// The Metrics tab (see panels.h): loss and accuracy curves, then per run the angles, verification, neural
// collapse and the lemma table, each number "-" (with the reason in a tooltip) where it is undefined.
#include "app/panels.h"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cctype>
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

std::string printed(const char* f, double v) {
  // The format holds one number; a non-finite one becomes "-" and the text around it stays.
  const std::string fmt = f;
  const size_t pct = fmt.find('%');
  if (!std::isfinite(v)) {
    size_t e = pct + 1;
    while (e < fmt.size() && !std::isalpha((unsigned char)fmt[e])) ++e;
    return fmt.substr(0, pct) + "-" + (e < fmt.size() ? fmt.substr(e + 1) : std::string());
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, f, v);
  std::string out = buf;
  // "-0.00": a tiny negative rounded to zero reads as a sign that means nothing.
  if (v < 0) {
    char pos[96];
    std::snprintf(pos, sizeof pos, f, 0.0);
    std::snprintf(buf, sizeof buf, f, -v);
    if (std::string(buf) == pos) out = pos;
  }
  return out;
}

void numberText(const char* fmt, double v, const char* why) {
  if (std::isfinite(v)) {
    ImGui::TextUnformatted(printed(fmt, v).c_str());
    return;
  }
  ImGui::TextDisabled("%s", printed(fmt, v).c_str());
  if (why && *why && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", why);
}

// A line of phrases that never break inside: a phrase moves to the next line when it would cross the
// panel's edge. (ImGui's wrapping breaks after a '.', which split "174.0 deg" into "174." and "0 deg".)
void phrases(const std::vector<std::string>& parts) {
  const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  const float gap = ImGui::CalcTextSize("  ").x;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0 && ImGui::GetItemRectMax().x + gap + ImGui::CalcTextSize(parts[i].c_str()).x <= right)
      ImGui::SameLine(0, gap);
    ImGui::TextUnformatted(parts[i].c_str());
  }
}

namespace {

// The pair table: the weight angle always; the lemma (closed form and measured, lambda = 0) only for
// losses with a margin; the margin at the lambda training uses only for losses that anneal lambda.
void lemmaTable(const Snapshot& snap) {
  const Metrics& m = snap.metrics;
  if (m.lemma.empty()) return;
  const LossSpec* spec = tryFindLoss(snap.loss);
  const bool margin = spec && spec->traits.has_margin;
  const bool annealed = spec && spec->traits.anneals_lambda;
  const int cols = 2 + (margin ? 2 : 0) + (annealed ? 1 : 0);
  if (annealed) {
    // Narrow columns: the two pure-margin ones are starred, "now" is the margin at the lambda in use.
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("* pure margin (lambda 0); now: at lambda %s, the value training uses",
                        printed("%.3g", snap.loss_state.lambda).c_str());
    ImGui::PopTextWrapPos();
  }
  if (!ImGui::BeginTable("lemma", cols, ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchProp)) return;
  ImGui::TableSetupColumn("pair");
  ImGui::TableSetupColumn("alpha");
  if (margin) {
    ImGui::TableSetupColumn(annealed ? "theory*" : "theory");
    ImGui::TableSetupColumn(annealed ? "meas.*" : "measured");
  }
  if (annealed) ImGui::TableSetupColumn("now");
  ImGui::TableHeadersRow();
  for (size_t i = 0; i < m.lemma.size() && i < 12; ++i) {
    const LemmaRow& l = m.lemma[i];
    const char* why = !l.note.empty() ? l.note.c_str() : "not defined for this pair";
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::Text("%d-%d", l.class_a, l.class_b);
    ImGui::TableNextColumn();
    numberText("%.1f", l.alpha_deg, why);
    if (margin) {
      ImGui::TableNextColumn();
      numberText("%.2f", l.theory_defined ? l.theory_margin_deg : NAN, why);
      ImGui::TableNextColumn();
      numberText("%.2f", l.measured_defined ? l.measured_margin_deg : NAN, why);
    }
    if (annealed) {
      ImGui::TableNextColumn();
      numberText("%.2f", l.effective_margin_deg, why);
    }
  }
  ImGui::EndTable();
}

void metricsColumn(const Snapshot& snap) {
  const Metrics& m = snap.metrics;
  const AngleMetrics& a = m.angles;
  phrases({"intra-class angle", printed("mean %.1f", a.intra_mean_deg), printed("p95 %.1f", a.intra_p95_deg),
           printed("max %.1f deg", a.intra_max_deg)});
  phrases({"inter-class centres", printed("min %.1f", a.inter_center_min_deg),
           printed("mean %.1f deg", a.inter_center_mean_deg)});
  phrases({printed("weights min angle %.1f deg", a.weight_min_deg),
           std::string(a.separable ? "separable" : "overlapping") + printed(" (gap %.1f deg)", a.gap_deg)});
  const VerificationMetrics& v = m.verification;
  phrases({"verification", printed("TAR@FAR1e-2 %.3f", v.all.tar_at_far_1e2),
           printed("TAR@FAR1e-3 %.3f", v.all.tar_at_far_1e3), printed("EER %.3f", v.all.eer)});
  if (ImGui::IsItemHovered() && !std::isfinite(v.all.eer))
    ImGui::SetTooltip("no test pairs (free embeddings have no test split)");
  if (v.open_set_accuracy >= 0)
    ImGui::TextUnformatted(printed("open-set accuracy %.3f", v.open_set_accuracy).c_str());
  const NeuralCollapse& nc = m.neural_collapse;
  phrases({"neural collapse", printed("NC1 %.3g", nc.nc1), printed("NC2 norm %.3g", nc.nc2_equinorm),
           printed("angle %.3g", nc.nc2_equiangular), printed("NC3 %.3g", nc.nc3)});
  lemmaTable(snap);
}

}  // namespace

void panelMetrics(AppState& s) {
  const int runs = s.compare ? 2 : 1;
  std::vector<PlotSeries> loss, acc;
  float steps = 0;
  for (int i = 0; i < runs; ++i) {
    const Snapshot* snap = s.run[i].snapshot.get();
    if (!snap) continue;
    const std::string tag = s.compare ? snap->loss + " " : std::string();
    steps = std::max(steps, (float)snap->step);
    // log10: the first steps' loss would otherwise flatten everything after them.
    PlotSeries ls{tag + "log10 loss", snap->loss_history, seriesColor(i * 2)};
    for (float& v : ls.y) v = v > 0 ? std::log10(v) : NAN;
    loss.push_back(std::move(ls));
    acc.push_back({tag + "train", snap->train_acc_history, seriesColor(i * 2)});
    acc.push_back({tag + "test", snap->test_acc_history, seriesColor(i * 2), true});
  }
  if (loss.empty()) {
    ImGui::TextDisabled("no training yet");
    return;
  }
  PlotOptions o;
  o.x1 = steps;
  o.x_label = "step";
  o.height = 90;
  ImGui::TextUnformatted("loss (log10)");
  plotLines("loss", loss, o);
  o.autoscale = false;
  o.y0 = 0;
  o.y1 = 1;  // a 100% curve still shows: the plot keeps a 2-pixel inset inside its frame
  ImGui::TextUnformatted("accuracy");
  plotLines("acc", acc, o);
  for (int i = 0; i < runs; ++i) {
    const Snapshot* snap = s.run[i].snapshot.get();
    if (!snap) continue;
    if (s.compare) sectionTitle(snap->loss.c_str());
    metricsColumn(*snap);
  }
}

}  // namespace ms
