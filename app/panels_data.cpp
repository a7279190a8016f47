// The Data, Model, View and Presets panels (see panels.h): what is trained on, by which network, how it is
// drawn, and which lecture scene or user file is loaded.
#include "app/panels.h"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/gui_plot.h"
#include "app/panels_util.h"
#include "sim/dataset.h"
#include "sim/errors.h"
#include "sim/lemma.h"
#include "sim/loss.h"
#include "sim/math.h"
#include "sim/param_lookup.h"

namespace ms {

// ------------------------------------------------------------------------------------------------ Data
void panelData(AppState& s) {
  RunState& r = s.run[0];
  Config& c = r.config;
  // Every dataset the command line accepts (sim/dataset.h); "csv:PATH" is a file, chosen below.
  const bool is_csv = c.dataset.rfind("csv:", 0) == 0;
  const std::string preview =
      is_csv ? "csv: " + c.dataset.substr(c.dataset.find_last_of(":/") + 1) : c.dataset;
  if (ImGui::BeginCombo("dataset", preview.c_str())) {
    for (const std::string& name : datasetNames()) {
      const bool file = name.find(':') != std::string::npos;
      const bool sel = file ? is_csv : name == c.dataset;
      if (ImGui::Selectable(file ? "csv (a file of yours)" : name.c_str(), sel)) {
        if (file) {
          s.data_csv_open = true;  // the dataset changes when a file is loaded
        } else if (name != c.dataset) {
          c.dataset = name;
          if (c.dataset == "fashion-mnist") c.classes = 10;
          s.data_csv_open = false;
          r.dirty = true;
        }
      }
      noteItem(s, ("dataset " + name).c_str());
    }
    ImGui::EndCombo();
  }
  noteItem(s, "dataset");
  if (is_csv || s.data_csv_open) {
    if (is_csv && s.csv_path.empty()) s.csv_path = c.dataset.substr(4);
    ImGui::InputText("CSV file", &s.csv_path);
    noteItem(s, "csv path");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("header x1,...,xP,label; one sample a line; labels 0..K-1 (relative to %s)",
                        s.files.folder.c_str());
    if (s.files.csv.empty()) {
      ImGui::TextDisabled("no *.csv in the current folder");
    } else if (ImGui::BeginListBox("##csv files",
                                   ImVec2(-1, ImGui::GetTextLineHeightWithSpacing() *
                                                  std::min<float>(5.5f, s.files.csv.size() + 0.5f)))) {
      for (const std::string& f : s.files.csv)
        if (ImGui::Selectable(f.c_str(), f == s.csv_path)) s.csv_path = f;
      ImGui::EndListBox();
    }
    if (ImGui::Button("Load CSV") && !s.csv_path.empty()) {
      c.dataset = "csv:" + s.csv_path;
      r.dirty = true;
    }
    noteItem(s, "Load CSV");
  }
  const bool fm = c.dataset == "fashion-mnist";
  if (!fm && !is_csv) {
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
  } else if (!fm && !is_csv) {
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
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("relative to %s", s.files.folder.c_str());
  if (!s.files.json.empty() &&
      ImGui::BeginListBox("##json files",
                          ImVec2(-1, ImGui::GetTextLineHeightWithSpacing() *
                                         std::min<float>(5.5f, s.files.json.size() + 0.5f)))) {
    for (const std::string& f : s.files.json)
      if (ImGui::Selectable(f.c_str(), f == s.save_path)) s.save_path = f;
    ImGui::EndListBox();
  }
  if (ImGui::Button("Load")) s.req.load_preset = s.save_path;
  noteItem(s, "Load");
  ImGui::SameLine();
  if (ImGui::Button("Save current")) s.req.save_preset = s.save_path;
  noteItem(s, "Save");
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
