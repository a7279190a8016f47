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
#include "app/panels_util.h"
#include "sim/errors.h"
#include "sim/lemma.h"
#include "sim/loss.h"
#include "sim/math.h"
#include "sim/param_lookup.h"
#include "sim/trainer.h"

namespace ms {

bool sliderDouble(const char* label, double* v, double lo, double hi, bool log, const char* fmt) {
  return ImGui::SliderScalar(label, ImGuiDataType_Double, v, &lo, &hi, fmt,
                             log ? ImGuiSliderFlags_Logarithmic : 0);
}

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

  if (which == 1) {
    // Say why B trains this loss: the lecture's contrast with A's, or the preset's own choice.
    const LossSpec* a = tryFindLoss(s.run[0].config.loss);
    ImGui::PushTextWrapPos(0);
    if (a && a->contrast == spec->name && !s.preset_compare)
      ImGui::TextColored(ImVec4(0.95f, 0.8f, 0.4f, 1), "B: %s, the loss this lecture contrasts with %s",
                         spec->name.c_str(), a->name.c_str());
    else
      ImGui::TextColored(ImVec4(0.95f, 0.8f, 0.4f, 1), "B: %s, beside A's %s%s", spec->name.c_str(),
                         s.run[0].config.loss.c_str(), s.preset_compare ? " (the preset's comparison)" : "");
    ImGui::PopTextWrapPos();
    noteItem(s, "B why");
  }
  const int K = r.snapshot ? r.snapshot->K : r.config.classes;
  const bool same_loss = r.snapshot && r.snapshot->loss == spec->name;
  for (const ParamSpec& p : spec->params) {
    const bool given = r.config.params.values.count(p.name) > 0;
    // Losses that anneal lambda (L-/A-Softmax) ignore the `lambda` parameter while training: show the value
    // training uses instead of a slider that would not act.
    if (spec->traits.anneals_lambda && p.name == "lambda") {
      ImGui::PushTextWrapPos(0);
      if (same_loss && r.snapshot->loss_state.lambda >= 0)
        ImGui::TextUnformatted(printed("lambda %.4g (annealed by training: base, gamma, power, lambda_min)",
                                       r.snapshot->loss_state.lambda)
                                   .c_str());
      else
        ImGui::TextDisabled("lambda: annealed by training (base, gamma, power, lambda_min)");
      ImGui::PopTextWrapPos();
      noteItem(s, (std::string(which ? "B:" : "") + "lambda annealed").c_str());
      continue;
    }
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
    // The snapshot's accuracies are over the points the views draw (a subset of large sets): say how many,
    // so that they are not read as the metrics JSON's figures over every sample.
    size_t n_train = 0, n_test = 0;
    for (size_t k = 0; k < snap->labels.size(); ++k)
      (k < snap->is_test.size() && snap->is_test[k] ? n_test : n_train) += 1;
    ImGui::TextUnformatted((printed("loss %.4g", snap->loss_value) +
                            printed("  accuracy %.1f%% train", 100 * snap->train_accuracy) + " / " +
                            test_acc + " test")
                               .c_str());
    ImGui::TextDisabled("  on %zu + %zu drawn points (train + test)", n_train, n_test);
    noteItem(s, i ? "B accuracy points" : "accuracy points");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("the views' points; `train --metrics` reports accuracy over every sample");
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

}  // namespace ms
