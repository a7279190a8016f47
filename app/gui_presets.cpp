// Presets and files for the frame driver (see gui_frame.h): finding the asset folder, listing and parsing
// presets, loading one (all or nothing: a preset whose dataset cannot be built leaves the running scene as
// it was), saving the current scene, and listing the current folder's CSV and JSON files for the panels.
#include "app/gui_frame.h"
#include "app/gui_frame_internal.h"

#include <imgui.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/background.h"
#include "app/config_io.h"
#include "app/gui_plot.h"
#include "app/panels.h"
#include "render/image_io.h"
#include "render/scene.h"
#include "sim/errors.h"
#include "sim/loss.h"
#include "sim/math.h"

namespace ms {

namespace fs = std::filesystem;

bool fileExists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string stem(const std::string& path) {
  std::string n = path.substr(path.find_last_of('/') + 1);
  const size_t dot = n.rfind('.');
  return dot == std::string::npos ? n : n.substr(0, dot);
}

void listPresets(AppState& s) {
  s.preset_files.clear();
  std::error_code ec;
  const fs::path dir = fs::path(s.asset_dir) / "presets";
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".json") s.preset_files.push_back(e.path().string());
  std::sort(s.preset_files.begin(), s.preset_files.end());
  // The default scene first: it is what the app opens with.
  std::stable_partition(s.preset_files.begin(), s.preset_files.end(),
                        [](const std::string& p) { return stem(p) == "default"; });
  s.preset_titles.assign(s.preset_files.size(), "");
  s.preset_descriptions.assign(s.preset_files.size(), "");
  for (size_t i = 0; i < s.preset_files.size(); ++i) {
    try {
      std::ifstream in(s.preset_files[i]);
      const nlohmann::json j = nlohmann::json::parse(in);
      if (j.contains("title") && j["title"].is_string()) s.preset_titles[i] = j["title"].get<std::string>();
      if (j.contains("description") && j["description"].is_string())
        s.preset_descriptions[i] = j["description"].get<std::string>();
    } catch (const std::exception&) {
      // A broken file still gets listed by name; loading it says what is wrong.
    }
  }
}

std::string findAssetDir(const std::string& exe_path) {
  std::error_code ec;
  const fs::path compiled = MS_ASSET_DIR;
  if (fs::exists(compiled / "presets", ec)) return compiled.string();
  const fs::path exe = fs::canonical(exe_path, ec);
  if (!ec) {
    for (const fs::path& cand : {exe.parent_path() / ".." / "assets", exe.parent_path() / "assets",
                                 exe.parent_path() / ".." / "share" / "marginscope" / "assets"})
      if (fs::exists(cand / "presets", ec)) return fs::weakly_canonical(cand, ec).string();
  }
  return compiled.string();
}

Preset parsePreset(const std::string& path) {
  Preset out;
  nlohmann::json j = readJsonFile("preset", path);  // bounded: not a folder, size and nesting limited
  try {
    if (!j.is_object()) throw UserError("expected a JSON object");
    // The app's own keys; everything else is the --config format, checked by applyConfigJson.
    auto text = [&](const char* key, std::string& dst) {
      if (!j.contains(key)) return;
      if (!j[key].is_string()) throw UserError(std::string("preset key '") + key + "': expected a string");
      dst = j[key].get<std::string>();
      j.erase(key);
    };
    text("title", out.title);
    text("description", out.description);
    if (j.contains("view")) {
      const nlohmann::json& v = j["view"];
      if (!v.is_object())
        throw UserError("preset key 'view': expected an object {\"raw\", \"annotate\", \"true_norm\"}");
      for (auto it = v.begin(); it != v.end(); ++it) {
        bool* dst = it.key() == "raw"         ? &out.raw
                    : it.key() == "annotate"  ? &out.annotate
                    : it.key() == "true_norm" ? &out.true_norm
                                              : nullptr;
        if (!dst)
          throw UserError("preset key 'view." + shortText(it.key()) +
                          "' is unknown (allowed: raw, annotate, true_norm)");
        if (!it.value().is_boolean())
          throw UserError("preset key 'view." + it.key() + "': expected true or false");
        *dst = it.value().get<bool>();
      }
      j.erase("view");
    }
    nlohmann::json compare;
    if (j.contains("compare")) compare = j["compare"], j.erase("compare");
    applyConfigJson(j, out.a);
    validateConfig(out.a);
    validateParams(findLoss(out.a.loss), out.a.params, out.a.classes);
    if (!compare.is_null()) {
      if (!compare.is_object())
        throw UserError("preset key 'compare': expected an object {\"loss\", \"params\"}");
      for (auto it = compare.begin(); it != compare.end(); ++it)
        if (it.key() != "loss" && it.key() != "params")
          throw UserError("preset key 'compare." + it.key() + "' is unknown (allowed: loss, params)");
      out.b = out.a;
      out.b.params = LossParams();
      applyConfigJson(compare, out.b);
      validateParams(findLoss(out.b.loss), out.b.params, out.b.classes);
      out.compare = true;
    }
  } catch (const UserError& e) {
    throw UserError("preset '" + path + "': " + e.what());
  }
  return out;
}

bool loadPreset(AppState& s, Session& sess, const std::string& path) {
  Preset p;
  try {
    p = parsePreset(path);
  } catch (const std::exception& e) {
    // Nothing changes: the scene keeps running and the banner says which key was wrong.
    s.error = e.what();
    return false;
  }
  // The new scene's worker is built (its dataset loaded) before anything shown changes: a preset whose
  // data cannot be built leaves the running scene, its panels and its pictures as they were.
  const Config old_a = s.run[0].config;
  const std::string old_error = s.run[0].error;
  const bool old_paused = s.paused;
  s.run[0].config = p.a;
  s.paused = false;
  if (!startWorker(s, sess, 0, /*keep_on_error=*/sess.worker[0] != nullptr)) {
    s.error = "preset '" + path + "': " + s.run[0].error +
              (sess.worker[0] ? "; the current scene keeps training" : "");
    if (sess.worker[0]) {
      s.run[0].config = old_a;
      s.run[0].error = old_error;
      s.paused = old_paused;
    }
    return false;
  }
  s.error.clear();
  s.preset_name = stem(path);
  s.preset_title = p.title;
  s.preset_description = p.description;
  s.dim3 = p.a.dim == 3;
  s.preset_compare = p.compare;
  s.preset_b = p.b;
  for (RunState& r : s.run) {
    r.view.show_raw = p.raw;
    r.view.show_annotations = p.annotate;
    r.view.weights_true_norm = p.true_norm;
  }
  if (p.compare) {
    s.run[1].config = p.b;
  } else {
    s.run[1].config = p.a;
    s.run[1].config.loss = otherLoss(p.a.loss);
    s.run[1].config.params = LossParams();
  }
  s.compare = p.compare;
  if (p.compare)
    startWorker(s, sess, 1);
  else
    sess.worker[1].reset(), s.run[1].snapshot.reset();
  setStatus(s, "loaded " + (p.title.empty() ? path : p.title + "  (" + path + ")"));
  return true;
}

void listFiles(AppState& s) {
  if (s.now - s.files.time < 2) return;
  s.files.time = s.now;
  s.files.csv.clear();
  s.files.json.clear();
  std::error_code ec;
  s.files.folder = fs::current_path(ec).string();
  int n = 0;
  for (const auto& e : fs::directory_iterator(".", ec)) {
    if (++n > 2000) break;  // a huge folder is not worth a frame
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file(ec)) continue;
    if (ext == ".csv") s.files.csv.push_back(e.path().filename().string());
    if (ext == ".json") s.files.json.push_back(e.path().filename().string());
  }
  std::sort(s.files.csv.begin(), s.files.csv.end());
  std::sort(s.files.json.begin(), s.files.json.end());
}

bool savePreset(AppState& s, const std::string& path, bool overwrite_ok) {
  if (fileExists(path) && !overwrite_ok) {
    s.confirm_overwrite = true;
    s.save_path = path;
    return false;
  }
  try {
    nlohmann::json j = configToJson(s.run[0].config);
    if (s.compare) {
      nlohmann::json b = configToJson(s.run[1].config);
      j["compare"] = {{"loss", b["loss"]},
                      {"params", b.contains("params") ? b["params"] : nlohmann::json::object()}};
    }
    writeFileAtomic(path, j.dump(2) + "\n");
  } catch (const std::exception& e) {
    s.error = std::string("could not save: ") + e.what();
    return false;
  }
  std::error_code ec;
  setStatus(s, "saved preset " + fs::absolute(path, ec).string());
  return true;
}

}  // namespace ms
