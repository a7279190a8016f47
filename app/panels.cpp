// The panels of the desktop app (see panels.h). Each panel edits AppState only: a config change marks its run
// dirty (the frame driver pushes it to the worker, which applies it at the next step boundary), a button
// posts a Request. Loss parameters come from the catalogue so that every slider has the catalogue's range.
#include "app/panels.h"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/gui_plot.h"
#include "sim/errors.h"
#include "sim/lemma.h"
#include "sim/loss.h"
#include "sim/math.h"
#include "sim/param_lookup.h"
#include "sim/trainer.h"

namespace ms {

namespace {

bool sliderDouble(const char* label, double* v, double lo, double hi, bool log = false,
                  const char* fmt = "%.4g") {
  return ImGui::SliderScalar(label, ImGuiDataType_Double, v, &lo, &hi, fmt,
                             log ? ImGuiSliderFlags_Logarithmic : 0);
}

// Data and model edits reset the run, so they are sent when the user lets go of the widget, not per drag.
void markOnRelease(RunState& r) {
  if (ImGui::IsItemDeactivatedAfterEdit()) r.dirty = true;
}

bool comboStrings(const char* label, std::string& value, const std::vector<std::string>& items) {
  bool changed = false;
  if (ImGui::BeginCombo(label, value.c_str())) {
    for (const auto& it : items) {
      const bool sel = it == value;
      if (ImGui::Selectable(it.c_str(), sel)) {
        changed = it != value;
        value = it;
      }
      if (sel) ImGui::SetItemDefaultFocus();
    }
    ImGui::EndCombo();
  }
  return changed;
}

// Keeps the next button on this line when it fits in the window, else starts a new line.
void sameLineIfFits(const char* next_label) {
  const ImGuiStyle& st = ImGui::GetStyle();
  const float w = ImGui::CalcTextSize(next_label).x + 2 * st.FramePadding.x;
  const float right = ImGui::GetItemRectMax().x + st.ItemSpacing.x + w;
  if (right <= ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x) ImGui::SameLine();
}

const LossSpec* tryFindLoss(const std::string& name) {
  try {
    return &findLoss(name);
  } catch (const UserError&) {
    return nullptr;
  }
}

double curParam(const RunState& r, const LossSpec& spec, const std::string& name) {
  return paramValue(spec, r.config.params, name);
}

}  // namespace

void noteItem(AppState& s, const char* label) {
  if (!s.record_items) return;
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  // The frame only, not the label beside it, so that a click at 100% lands on the slider's end.
  s.items[label] = {a.x, a.y, std::min(b.x, a.x + ImGui::CalcItemWidth()), b.y};
}

void sectionTitle(const char* text) {
  ImGui::Spacing();
  ImGui::Separator();
  ImGui::TextDisabled("%s", text);
}

const char* familyName(int family) {
  switch ((LossFamily)family) {
    case LossFamily::Softmax:
      return "Softmax";
    case LossFamily::NormalisedSoftmax:
      return "Normalised softmax";
    case LossFamily::AngularMargin:
      return "Angular margin";
    case LossFamily::Centre:
      return "Centre";
    case LossFamily::Metric:
      return "Metric learning";
  }
  return "?";
}

void setLoss(RunState& r, const std::string& name) {
  const LossSpec* spec = tryFindLoss(name);
  if (!spec) return;
  LossParams kept;
  for (const auto& [k, v] : r.config.params.values) {
    const ParamSpec* p = findParam(*spec, k);
    if (!p) continue;
    // Only s carries its meaning across losses (the hypersphere radius); m means different things.
    if (k != "s") continue;
    kept.values[k] =
        (p->kind == ParamKind::Real || p->kind == ParamKind::Integer) ? std::clamp(v, p->lo, p->hi) : v;
  }
  r.config.loss = spec->name;
  r.config.params = kept;
  r.dirty = true;
}

bool applyLiterature(RunState& r, Literature which) {
  const char* name = which == Literature::ArcFace   ? "arcface"
                     : which == Literature::CosFace ? "am-softmax"
                                                    : "a-softmax";
  const LossSpec* spec = tryFindLoss(name);
  if (!spec) return false;
  LossParams p;
  // Deng et al. 2019 (s=64, m=0.5); Wang et al. 2018 CosFace (s=64, m=0.35); Liu et al. 2017 SphereFace
  // (m=4).
  if (which == Literature::ArcFace) p.values = {{"s", 64}, {"m", 0.5}};
  if (which == Literature::CosFace) p.values = {{"s", 64}, {"m", 0.35}};
  if (which == Literature::SphereFace) p.values = {{"m", 4}};
  for (const auto& [k, v] : p.values) {
    const ParamSpec* ps = findParam(*spec, k);
    if (!ps || v < ps->lo || v > ps->hi) return false;
  }
  r.config.loss = spec->name;
  r.config.params = p;
  r.dirty = true;
  return true;
}

// ------------------------------------------------------------------------------------------------ Data
void panelData(AppState& s) {
  RunState& r = s.run[0];
  Config& c = r.config;
  static const std::vector<std::string> kSets = {"blobs", "spirals", "rings",
                                                 "moons", "xor",     "fashion-mnist"};
  if (comboStrings("dataset", c.dataset, kSets)) {
    if (c.dataset == "fashion-mnist") c.classes = 10;
    r.dirty = true;
  }
  noteItem(s, "dataset");
  const bool fm = c.dataset == "fashion-mnist";
  if (!fm) {
    ImGui::SliderInt("classes", &c.classes, 2, 12);
    markOnRelease(r);
    noteItem(s, "classes");
  }
  ImGui::SliderInt(fm ? "per-class cap" : "samples/class", &c.samples, fm ? 0 : 10, fm ? 6000 : 2000, "%d",
                   ImGuiSliderFlags_Logarithmic);
  markOnRelease(r);
  if (c.dataset == "blobs") {
    ImGui::SliderInt("input dim", &c.input_dim, 2, 32);
    markOnRelease(r);
    sliderDouble("spread", &c.spread, 0.05, 3.0);
    markOnRelease(r);
  } else if (!fm) {
    sliderDouble("noise", &c.noise, 0.0, 1.0);
    markOnRelease(r);
  }
  sliderDouble("imbalance", &c.imbalance, 1.0, 100.0, true, "%.1fx");
  markOnRelease(r);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("largest class / smallest class");
  sliderDouble("label noise", &c.label_noise, 0.0, 0.5, false, "%.2f");
  markOnRelease(r);
  int seed = (int)c.seed;
  if (ImGui::InputInt("seed", &seed)) {
    c.seed = (uint64_t)std::max(0, seed);
    r.dirty = true;
  }
  noteItem(s, "seed");
  if (ImGui::Button("Regenerate")) s.req.regenerate = true;
  noteItem(s, "Regenerate");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("new seed: new data and a fresh model");
}

// ------------------------------------------------------------------------------------------------ Model
void panelModel(AppState& s) {
  RunState& r = s.run[0];
  Config& c = r.config;
  bool free_emb = c.model == "free";
  if (ImGui::Checkbox("free embeddings", &free_emb)) {
    c.model = free_emb ? "free" : "mlp";
    r.dirty = true;
  }
  noteItem(s, "free embeddings");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("the embeddings themselves are the parameters (neural-collapse experiments)");
  int dim = c.dim;
  ImGui::TextUnformatted("embedding");
  ImGui::SameLine();
  if (ImGui::RadioButton("2-D", dim == 2)) dim = 2;
  noteItem(s, "model 2-D");
  ImGui::SameLine();
  if (ImGui::RadioButton("3-D", dim == 3)) dim = 3;
  noteItem(s, "model 3-D");
  if (dim != c.dim) {
    c.dim = dim;
    s.dim3 = dim == 3;
    r.dirty = true;
  }
  if (!free_emb) {
    int layers = (int)c.hidden.size();
    if (ImGui::SliderInt("hidden layers", &layers, 0, 4))
      c.hidden.resize(layers, c.hidden.empty() ? 64 : c.hidden.back());
    markOnRelease(r);
    for (size_t i = 0; i < c.hidden.size(); ++i) {
      char label[32];
      std::snprintf(label, sizeof label, "width %zu", i + 1);
      ImGui::SliderInt(label, &c.hidden[i], 2, 512, "%d", ImGuiSliderFlags_Logarithmic);
      markOnRelease(r);
    }
    static const std::vector<std::string> kAct = {"relu", "tanh"};
    if (comboStrings("activation", c.activation, kAct)) r.dirty = true;
  }
}

// ------------------------------------------------------------------------------------------------ Loss
void panelLoss(AppState& s, int which) {
  RunState& r = s.run[which];
  ImGui::PushID(which);
  const LossSpec* spec = tryFindLoss(r.config.loss);
  const auto& cat = lossCatalogue();
  if (ImGui::BeginCombo("loss", spec ? spec->name.c_str() : r.config.loss.c_str(),
                        ImGuiComboFlags_HeightLarge)) {
    for (int fam = 0; fam <= (int)LossFamily::Metric; ++fam) {
      ImGui::TextDisabled("%s", familyName(fam));
      for (const auto& l : cat) {
        if ((int)l.family != fam) continue;
        std::string label = "  " + l.name;
        if (!l.aliases.empty()) label += "  (" + l.aliases[0] + ")";
        if (ImGui::Selectable(label.c_str(), spec == &l)) setLoss(r, l.name);
      }
    }
    ImGui::EndCombo();
  }
  noteItem(s, which ? "loss B" : "loss");
  spec = tryFindLoss(r.config.loss);
  if (!spec) {
    ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "unknown loss '%s'", r.config.loss.c_str());
    ImGui::PopID();
    return;
  }
  ImGui::TextDisabled("%s", familyName((int)spec->family));
  ImGui::PushTextWrapPos(0);
  ImGui::TextUnformatted(spec->formula.c_str());
  ImGui::TextDisabled("%s", spec->paper.c_str());
  ImGui::PopTextWrapPos();

  const int K = r.snapshot ? r.snapshot->K : r.config.classes;
  for (const ParamSpec& p : spec->params) {
    const bool given = r.config.params.values.count(p.name) > 0;
    switch (p.kind) {
      case ParamKind::Real: {
        double v = curParam(r, *spec, p.name);
        // Wide positive ranges (s up to 1000, lambda from 1e-3) get a log slider so small values stay
        // reachable.
        const bool log = (p.lo > 0 && p.hi / p.lo >= 100) || (p.lo == 0 && p.hi >= 100);
        if (sliderDouble(p.name.c_str(), &v, p.lo, p.hi, log)) {
          r.config.params.values[p.name] = std::clamp(v, p.lo, p.hi);
          r.dirty = true;
        }
        break;
      }
      case ParamKind::Integer: {
        int v = (int)std::lround(curParam(r, *spec, p.name));
        if (ImGui::SliderInt(p.name.c_str(), &v, (int)p.lo, (int)p.hi)) {
          r.config.params.values[p.name] = v;
          r.dirty = true;
        }
        break;
      }
      case ParamKind::Bool: {
        bool v = curParam(r, *spec, p.name) != 0;
        if (ImGui::Checkbox(p.name.c_str(), &v)) {
          r.config.params.values[p.name] = v ? 1 : 0;
          r.dirty = true;
        }
        break;
      }
      case ParamKind::Choice: {
        int v = (int)std::lround(curParam(r, *spec, p.name));
        const char* preview = v >= 0 && v < (int)p.choices.size() ? p.choices[v].c_str() : "?";
        if (ImGui::BeginCombo(p.name.c_str(), preview)) {
          for (int i = 0; i < (int)p.choices.size(); ++i)
            if (ImGui::Selectable(p.choices[i].c_str(), i == v)) {
              r.config.params.values[p.name] = i;
              r.dirty = true;
            }
          ImGui::EndCombo();
        }
        break;
      }
      case ParamKind::Vector: {
        auto it = r.config.params.vectors.find(p.name);
        if (ImGui::TreeNode(p.name.c_str(), "%s (%s)", p.name.c_str(),
                            it == r.config.params.vectors.end() ? "auto" : "set")) {
          std::vector<double> v =
              it != r.config.params.vectors.end() ? it->second : std::vector<double>(K, p.def);
          v.resize(K, p.def);
          bool changed = false;
          for (int k = 0; k < K; ++k) {
            char label[32];
            std::snprintf(label, sizeof label, "class %d", k);
            changed |= ImGui::DragScalar(label, ImGuiDataType_Double, &v[k], 0.01f);
          }
          if (changed) {
            r.config.params.vectors[p.name] = v;
            r.dirty = true;
          }
          if (it != r.config.params.vectors.end() && ImGui::SmallButton("auto")) {
            r.config.params.vectors.erase(p.name);
            r.dirty = true;
          }
          ImGui::TreePop();
        }
        break;
      }
    }
    noteItem(s, (std::string(which ? "B:" : "") + p.name).c_str());
    if (ImGui::IsItemHovered() && !p.help.empty()) ImGui::SetTooltip("%s", p.help.c_str());
    (void)given;
  }
  if (!r.config.params.values.empty() || !r.config.params.vectors.empty()) {
    if (ImGui::SmallButton("defaults")) {
      r.config.params = LossParams();
      r.dirty = true;
    }
  }
  if (r.snapshot && r.snapshot->loss == spec->name) {
    const LossState& st = r.snapshot->loss_state;
    if (st.s > 0) ImGui::Text("s in use: %.3g (learned/adaptive)", st.s);
    if (hasParam(*spec, "lambda") && st.lambda >= 0) ImGui::Text("lambda in use: %.4g (annealed)", st.lambda);
  }
  ImGui::Separator();
  ImGui::TextDisabled("literature settings");
  if (ImGui::Button("ArcFace s64 m0.5")) applyLiterature(r, Literature::ArcFace);
  noteItem(s, which ? "B:ArcFace" : "ArcFace");
  sameLineIfFits("CosFace s64 m0.35");
  if (ImGui::Button("CosFace s64 m0.35")) applyLiterature(r, Literature::CosFace);
  noteItem(s, which ? "B:CosFace" : "CosFace");
  sameLineIfFits("SphereFace m4");
  if (ImGui::Button("SphereFace m4")) applyLiterature(r, Literature::SphereFace);
  noteItem(s, which ? "B:SphereFace" : "SphereFace");
  ImGui::PopID();
}

// ------------------------------------------------------------------------------------------------ Training
void panelTraining(AppState& s) {
  RunState& r = s.run[0];
  Config& c = r.config;
  if (ImGui::Button(s.paused ? "Play (space)" : "Pause (space)", ImVec2(ImGui::GetFontSize() * 8, 0)))
    s.paused = !s.paused;
  noteItem(s, "Play");
  sameLineIfFits("Step (.)");
  if (ImGui::Button("Step (.)")) s.req.single_steps += 1;
  noteItem(s, "Step");
  sameLineIfFits("Reset (r)");
  if (ImGui::Button("Reset (r)")) s.req.reset = true;
  noteItem(s, "Reset");
  sameLineIfFits("[x] compare");
  bool cmp = s.compare;
  if (ImGui::Checkbox("compare", &cmp)) s.req.start_compare = true;
  noteItem(s, "compare");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("a second loss side by side, same data and seed");

  if (sliderDouble("learning rate", &c.lr, 1e-4, 1.0, true)) r.dirty = true;
  noteItem(s, "learning rate");
  if (ImGui::SliderInt("batch", &c.batch, 8, 2048, "%d", ImGuiSliderFlags_Logarithmic)) r.dirty = true;
  noteItem(s, "batch");
  static const std::vector<std::string> kOpt = {"sgd", "adam"};
  if (comboStrings("optimizer", c.optimizer, kOpt)) r.dirty = true;
  if (c.optimizer == "sgd" && sliderDouble("momentum", &c.momentum, 0.0, 0.99)) r.dirty = true;
  if (ImGui::DragScalar("weight decay", ImGuiDataType_Double, &c.weight_decay, 1e-5f, nullptr, nullptr,
                        "%.1e")) {
    c.weight_decay = std::max(0.0, c.weight_decay);
    r.dirty = true;
  }
  bool unlimited = s.max_steps_per_second <= 0;
  if (ImGui::Checkbox("full speed", &unlimited)) s.max_steps_per_second = unlimited ? 0 : 30;
  noteItem(s, "full speed");
  if (!unlimited) {
    float v = (float)s.max_steps_per_second;
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::SliderFloat("##cap", &v, 0.2f, 1000.0f, "%.1f steps/s", ImGuiSliderFlags_Logarithmic))
      s.max_steps_per_second = v;
    noteItem(s, "speed cap");
  }
  for (int i = 0; i < (s.compare ? 2 : 1); ++i) {
    const Snapshot* snap = s.run[i].snapshot.get();
    if (!snap) {
      ImGui::TextDisabled("%s waiting for the first step...", i ? "B" : "A");
      continue;
    }
    char test_acc[16] = "-";  // no test split (free embeddings)
    if (std::isfinite(snap->test_accuracy))
      std::snprintf(test_acc, sizeof test_acc, "%.1f%%", 100 * snap->test_accuracy);
    // Two short lines rather than one wrapped one: wrapping broke "99.3%" at its decimal point.
    ImGui::Text("%s%s  step %lld  %.0f steps/s", s.compare ? (i ? "B " : "A ") : "", snap->loss.c_str(),
                (long long)snap->step, snap->steps_per_second);
    ImGui::Text("loss %.4g  accuracy %.1f%% train / %s test", snap->loss_value, 100 * snap->train_accuracy,
                test_acc);
    bool slow = false;  // the step's cost, and a warning under 5 steps/s (sim/step_cost.cpp)
    const std::string cost = stepCostNote(s.run[i].config, snap->paused ? 0 : snap->steps_per_second,
                                          s.max_steps_per_second, &slow);
    ImGui::PushStyleColor(ImGuiCol_Text,
                          slow ? ImVec4(1, 0.6f, 0.2f, 1) : ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    if (!cost.empty()) ImGui::TextWrapped("%s", cost.c_str());
    ImGui::PopStyleColor();
  }
  if (!s.frame_ms.empty()) {
    float mx = 0, sum = 0;
    for (float f : s.frame_ms) mx = std::max(mx, f), sum += f;
    ImGui::TextDisabled("frame %.1f ms avg, %.1f ms max (last %zu)", sum / s.frame_ms.size(), mx,
                        s.frame_ms.size());
  }
}

// ------------------------------------------------------------------------------------------------ Metrics
namespace {

std::string printed(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
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
  if (v.open_set_accuracy >= 0) ImGui::Text("open-set accuracy %.3f", v.open_set_accuracy);
  const NeuralCollapse& nc = m.neural_collapse;
  phrases({"neural collapse", printed("NC1 %.3g", nc.nc1), printed("NC2 norm %.3g", nc.nc2_equinorm),
           printed("angle %.3g", nc.nc2_equiangular), printed("NC3 %.3g", nc.nc3)});
  if (!m.lemma.empty() &&
      ImGui::BeginTable("lemma", 5, ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("pair");
    ImGui::TableSetupColumn("alpha");
    ImGui::TableSetupColumn("theory");
    ImGui::TableSetupColumn("measured");
    ImGui::TableSetupColumn("at lambda");
    ImGui::TableHeadersRow();
    for (size_t i = 0; i < m.lemma.size() && i < 12; ++i) {
      const LemmaRow& l = m.lemma[i];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("%d-%d", l.class_a, l.class_b);
      ImGui::TableNextColumn();
      ImGui::Text("%.1f", l.alpha_deg);
      ImGui::TableNextColumn();
      ImGui::Text("%.2f", l.theory_margin_deg);
      ImGui::TableNextColumn();
      ImGui::Text("%.2f", l.measured_margin_deg);
      ImGui::TableNextColumn();
      ImGui::Text("%.2f", l.effective_margin_deg);
      if (!l.note.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", l.note.c_str());
    }
    ImGui::EndTable();
  }
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

// ------------------------------------------------------------------------------------------------ Theory
// Target logit on the cosine scale: target logit at |h| = |w| = 1 divided by the test logit at theta = 0, so
// losses with a scale s overlay the ones without (the ArcFace paper's Fig. 3 axes). Lambda 0: pure psi.
double curveAt(const LossSpec& spec, const LossParams& p, double theta) {
  LossState st;
  st.lambda = 0;
  const double unit = testLogit(spec, p, st, 0, 1.0, 1.0, 1.0);
  const double v = targetLogit(spec, p, st, 0, std::cos(theta), 1.0, 1.0);
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

void panelTheory(AppState& s) {
  constexpr int kN = 181;
  std::vector<PlotSeries> curves;
  int color = 0;
  for (const auto& spec : lossCatalogue()) {
    // Losses that classify with their own class weights; the others use a nearest-mean or joint softmax rule.
    if (!spec.traits.has_weights || spec.traits.joint_softmax) continue;
    LossParams p = paramsFor(s, spec);
    const ParamSpec* variant = findParam(spec, "variant");
    const int nv = variant ? (int)variant->choices.size() : 1;
    bool added = false;
    for (int v = 0; v < nv; ++v) {
      LossParams pv = p;
      if (variant) pv.values["variant"] = v;
      PlotSeries ser;
      ser.label = spec.name + (variant ? " " + variant->choices[v] : std::string());
      ser.color = seriesColor(color);
      ser.dashed = variant && v > 0;
      ser.y.resize(kN);
      try {
        for (int i = 0; i < kN; ++i) ser.y[i] = (float)curveAt(spec, pv, kPi * i / (kN - 1));
      } catch (const std::exception&) {
        continue;
      }
      // A curve that repeats an earlier one exactly (weighted softmax and focal share softmax's rule) is
      // drawn once.
      bool repeat = false;
      for (const PlotSeries& c : curves) repeat |= c.y == ser.y;
      if (repeat) continue;
      curves.push_back(std::move(ser));
      added = true;
    }
    if (added) ++color;
  }
  PlotOptions o;
  o.x1 = 180;
  o.x_label = "theta (deg)";
  o.height = 200;
  o.autoscale = false;
  o.y0 = -1.6f;
  o.y1 = 1.05f;
  o.hline = 0;
  ImGui::TextUnformatted("target logit vs angle to the own weight (cos scale)");
  plotLines("curves", curves, o);

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
        ImGui::Text("%.2f", t1 * 180 / kPi);
      else
        ImGui::TextDisabled("-");
      if (!std::isfinite(t1) && ImGui::IsItemHovered() && !why.empty()) ImGui::SetTooltip("%s", why.c_str());
      ImGui::TableNextColumn();
      // Both classes obey the same rule, so the band between the two boundaries is alpha - 2 t1.
      if (std::isfinite(t1))
        ImGui::Text("%.2f", (alpha - 2 * t1) * 180 / kPi);
      else
        ImGui::TextDisabled("-");
      ImGui::TableNextColumn();
      if (std::isfinite(theory))
        ImGui::Text("%.2f", theory * 180 / kPi);
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
    ImGui::Text("NormFace loss lower bound %.4g", b.normface_loss_lower_bound);
    ImGui::Text("s needed for class probability p: %.3g", b.scale_for_p);
    ImGui::Text("L2-softmax alpha lower bound %.3g", b.l2_alpha_low);
    ImGui::Text("CosFace largest m %.3g", b.cosface_m_max);
  }
}

// ------------------------------------------------------------------------------------------------ Presets
void panelPresets(AppState& s) {
  if (!s.preset_title.empty()) ImGui::TextWrapped("%s", s.preset_title.c_str());
  if (!s.preset_description.empty()) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s", s.preset_description.c_str());
    ImGui::PopTextWrapPos();
  }
  sectionTitle("lecture presets");
  for (size_t i = 0; i < s.preset_files.size(); ++i) {
    const std::string& path = s.preset_files[i];
    std::string name = path.substr(path.find_last_of('/') + 1);
    if (name.size() > 5) name.resize(name.size() - 5);  // .json
    const std::string title =
        i < s.preset_titles.size() && !s.preset_titles[i].empty() ? s.preset_titles[i] : name;
    if (ImGui::Selectable((title + "##" + name).c_str(), name == s.preset_name)) s.req.load_preset = path;
    noteItem(s, ("preset " + name).c_str());
    if (ImGui::IsItemHovered() && i < s.preset_descriptions.size() && !s.preset_descriptions[i].empty()) {
      ImGui::BeginTooltip();
      ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
      ImGui::TextUnformatted(s.preset_descriptions[i].c_str());
      ImGui::PopTextWrapPos();
      ImGui::EndTooltip();
    }
  }
  sectionTitle("your presets");
  ImGui::InputText("file", &s.save_path);
  noteItem(s, "preset file");
  if (ImGui::Button("Load")) s.req.load_preset = s.save_path;
  noteItem(s, "Load");
  ImGui::SameLine();
  if (ImGui::Button("Save current")) s.req.save_preset = s.save_path;
  noteItem(s, "Save");
}

void drawModals(AppState& s) {
  if (s.confirm_overwrite) {
    ImGui::OpenPopup("Overwrite?");
    s.confirm_overwrite = false;
  }
  if (ImGui::BeginPopupModal("Overwrite?", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::Text("%s exists. Overwrite it?", s.save_path.c_str());
    if (ImGui::Button("Overwrite")) {
      s.req.save_preset = s.save_path;
      s.req.save_overwrite_ok = true;
      ImGui::CloseCurrentPopup();
    }
    noteItem(s, "Overwrite");
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) {
      setStatus(s, "not saved");
      ImGui::CloseCurrentPopup();
    }
    noteItem(s, "Cancel");
    ImGui::EndPopup();
  }
}

// ------------------------------------------------------------------------------------------------ View
void panelView(AppState& s) {
  ViewOptions& v = s.run[0].view;
  ImGui::TextUnformatted("view");
  ImGui::SameLine();
  if (ImGui::RadioButton("2-D", !s.dim3) && s.dim3) {
    s.dim3 = false;
    for (auto& r : s.run) r.config.dim = 2, r.dirty = true;
  }
  noteItem(s, "2-D");
  ImGui::SameLine();
  if (ImGui::RadioButton("3-D", s.dim3) && !s.dim3) {
    s.dim3 = true;
    for (auto& r : s.run) r.config.dim = 3, r.dirty = true;
  }
  noteItem(s, "3-D");
  ImGui::Checkbox("points", &v.show_points);
  ImGui::SameLine();
  ImGui::Checkbox("test", &v.show_test);
  ImGui::SameLine();
  ImGui::Checkbox("raw features", &v.show_raw);
  ImGui::Checkbox("weights", &v.show_weights);
  ImGui::SameLine();
  ImGui::Checkbox("true norm", &v.weights_true_norm);
  ImGui::Checkbox("regions", &v.show_regions);
  ImGui::SameLine();
  ImGui::Checkbox("boundaries", &v.show_boundaries);
  ImGui::SameLine();
  ImGui::Checkbox("margins", &v.show_margins);
  ImGui::Checkbox("annotations", &v.show_annotations);
  ImGui::SameLine();
  ImGui::Checkbox("legend", &v.show_legend);
  ImGui::SameLine();
  ImGui::Checkbox("input view", &s.show_input_view);
  int theme = v.theme == Theme::Paper ? 1 : 0;
  ImGui::TextUnformatted("theme");
  ImGui::SameLine();
  ImGui::RadioButton("dark", &theme, 0);
  ImGui::SameLine();
  ImGui::RadioButton("paper", &theme, 1);
  v.theme = theme ? Theme::Paper : Theme::Dark;
  ImGui::SliderFloat("point size", &v.point_size, 1, 16, "%.1f");
  // Both runs look the same in comparison mode (only the camera is per view).
  const ViewOptions keep = s.run[1].view;
  s.run[1].view = v;
  s.run[1].view.yaw = keep.yaw, s.run[1].view.pitch = keep.pitch, s.run[1].view.zoom = keep.zoom;

  sectionTitle("screenshot (s)");
  ImGui::SliderInt("scale", &s.shot.scale, 1, 8, "%dx");
  noteItem(s, "shot scale");
  int bg = s.shot.transparent ? 1 : 0;
  ImGui::RadioButton("paper", &bg, 0);
  ImGui::SameLine();
  ImGui::RadioButton("transparent", &bg, 1);
  s.shot.transparent = bg == 1;
  int fmt = s.shot.format == ShotFormat::Svg ? 1 : 0;
  ImGui::RadioButton("PNG", &fmt, 0);
  ImGui::SameLine();
  if (s.dim3) ImGui::BeginDisabled();
  ImGui::RadioButton("SVG", &fmt, 1);
  if (s.dim3) {
    ImGui::EndDisabled();
    fmt = 0;
  }
  s.shot.format = fmt ? ShotFormat::Svg : ShotFormat::Png;
  ImGui::InputText("folder", &s.shot.out_dir);
  if (ImGui::Button("Screenshot")) s.req.screenshot = true;
  noteItem(s, "Screenshot");

  sectionTitle("lecture hall");
  if (ImGui::SliderFloat("UI scale", &s.ui_scale, 0.75f, 3.0f, "%.2f"))
    s.ui_scale = std::clamp(s.ui_scale, 0.75f, 3.0f);
  noteItem(s, "UI scale");
  if (ImGui::Checkbox("fullscreen (F11)", &s.fullscreen)) s.req.toggle_fullscreen = true;
  ImGui::TextDisabled("h / Tab hides every panel; space, '.', r, s");
}

}  // namespace ms
