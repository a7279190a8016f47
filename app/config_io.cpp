// Config <-> JSON and the shared training options of the command line (see config_io.h).
// One table lists every Config field with its JSON key and kind; presets, --flags and --save-config all go
// through it, so a key means the same thing everywhere and a bad value gets the same message.
#include "app/config_io.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <sstream>

#include "render/image_io.h"
#include "sim/errors.h"

namespace ms {

namespace {

using json = nlohmann::json;

enum class Kind { Str, Int, Real, Bool, U64, IntList };

struct Field {
  const char* key;
  const char* flag;  // command-line flag, or null when only presets set it
  Kind kind;
  const char* help;
  // accessors into Config
  std::string Config::*s = nullptr;
  int Config::*i = nullptr;
  double Config::*d = nullptr;
  bool Config::*b = nullptr;
  uint64_t Config::*u = nullptr;
  std::vector<int> Config::*il = nullptr;
};

Field str(const char* k, const char* f, std::string Config::*m, const char* h) {
  Field x{k, f, Kind::Str, h};
  x.s = m;
  return x;
}
Field integer(const char* k, const char* f, int Config::*m, const char* h) {
  Field x{k, f, Kind::Int, h};
  x.i = m;
  return x;
}
Field real(const char* k, const char* f, double Config::*m, const char* h) {
  Field x{k, f, Kind::Real, h};
  x.d = m;
  return x;
}
Field boolean(const char* k, const char* f, bool Config::*m, const char* h) {
  Field x{k, f, Kind::Bool, h};
  x.b = m;
  return x;
}
Field u64(const char* k, const char* f, uint64_t Config::*m, const char* h) {
  Field x{k, f, Kind::U64, h};
  x.u = m;
  return x;
}
Field intList(const char* k, const char* f, std::vector<int> Config::*m, const char* h) {
  Field x{k, f, Kind::IntList, h};
  x.il = m;
  return x;
}

const std::vector<Field>& fields() {
  static const std::vector<Field> f = {
      str("dataset", "--dataset", &Config::dataset,
          "blobs|spirals|rings|moons|xor|checkerboard|fashion-mnist|csv:PATH"),
      integer("classes", "--classes", &Config::classes, "K classes of the toy sets (2..100)"),
      integer("samples", "--samples", &Config::samples,
              "samples per class (toy: 2..100000, split by test_fraction; fashion-mnist: cap per class and "
              "split, 0 = all)"),
      integer("input_dim", "--input-dim", &Config::input_dim, "P input dimensions of blobs (2..4096)"),
      real("spread", "--spread", &Config::spread,
           "blob std in quarters of the closest centre distance (0..100)"),
      real("noise", "--noise", &Config::noise, "geometric noise of spirals/rings/moons/xor (0..10)"),
      real("imbalance", "--imbalance", &Config::imbalance, "largest/smallest class size ratio (1..1000)"),
      real("label_noise", "--label-noise", &Config::label_noise,
           "fraction of training labels flipped (0..1)"),
      real("test_fraction", "--test-fraction", &Config::test_fraction, "toy/CSV test share (0..0.9)"),
      str("data_dir", "--data-dir", &Config::data_dir, "folder of the Fashion-MNIST idx.gz files"),
      intList("holdout_classes", "--holdout", &Config::holdout_classes,
              "classes kept out of training (open set), e.g. 8,9"),
      integer("dim", "--dim", &Config::dim, "embedding dimension d (2..64; the views draw 2 and 3)"),
      str("model", "--model", &Config::model, "mlp|free (free: each sample's embedding is a parameter)"),
      intList("hidden", "--hidden", &Config::hidden,
              "hidden widths 1..4096, e.g. 64,64 (0..4 layers; none = linear)"),
      str("activation", "--activation", &Config::activation, "relu|tanh"),
      str("loss", "--loss", &Config::loss, "loss name or alias (see `marginscope losses`)"),
      str("optimizer", "--optimizer", &Config::optimizer, "sgd|adam"),
      real("lr", "--lr", &Config::lr, "learning rate (1e-12..1000)"),
      real("momentum", "--momentum", &Config::momentum, "SGD momentum (0..0.9999)"),
      boolean("nesterov", "--nesterov", &Config::nesterov, "SGD Nesterov momentum (true|false)"),
      real("weight_decay", "--weight-decay", &Config::weight_decay, "L2 weight decay (0..1)"),
      str("schedule", "--schedule", &Config::schedule, "constant|step|cosine (over --steps)"),
      real("lr_weights", "--lr-weights", &Config::lr_weights,
           "learning rate of class weights and centres (negative: same as lr)"),
      real("clip", "--clip", &Config::clip, "gradient-norm clip (0 = off)"),
      integer("batch", "--batch", &Config::batch, "batch size (1..65536)"),
      integer("steps", "--steps", &Config::steps, "training steps (0..1e9)"),
      u64("seed", "--seed", &Config::seed, "random seed (data, init, batches)"),
      integer("display_points", nullptr, &Config::display_points, "points per snapshot (0 = auto)"),
      integer("grid", nullptr, &Config::grid, "input-space class map resolution (0..1024)"),
  };
  return f;
}

std::string allowedKeys() {
  std::string s;
  for (const Field& f : fields()) s += std::string(s.empty() ? "" : ", ") + f.key;
  return s + ", params";
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

bool parseDouble(const std::string& t, double& v) {
  const std::string s = trim(t);
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && errno == 0 && std::isfinite(v);
}

// A number too large for a double ("1e999"): out of range, not "not a number".
bool overflows(const std::string& t) {
  const std::string s = trim(t);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  return !s.empty() && end && *end == '\0' && errno == ERANGE && std::isinf(v);
}

bool parseBool(const std::string& t, bool& v) {
  std::string s = trim(t);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (s == "true" || s == "1" || s == "yes" || s == "on") return v = true, true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return v = false, true;
  return false;
}

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) out.push_back(trim(tok));
  return out;
}

// A JSON value from the text of a flag, by the field's kind (so that applyConfigJson checks it).
json textToJson(const Field& f, const std::string& text) {
  const std::string key = f.key;
  switch (f.kind) {
    case Kind::Str:
      return text;
    case Kind::U64: {
      // Digits only, checked for overflow: strtoull saturates at 2^64-1 without a word otherwise.
      const std::string t = trim(text);
      const std::string allowed = std::string(" (allowed: whole numbers 0..") +
                                  std::to_string(std::numeric_limits<uint64_t>::max()) + ", in digits)";
      if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos)
        throw UserError(key + ": '" + shortText(text) + "' is not a non-negative integer" + allowed);
      errno = 0;
      const unsigned long long v = std::strtoull(t.c_str(), nullptr, 10);
      if (errno == ERANGE) throw UserError(key + ": " + shortText(t) + " is out of range" + allowed);
      return json(uint64_t(v));
    }
    case Kind::Int:
    case Kind::Real: {
      double v;
      if (overflows(text))
        throw UserError(key + ": " + shortText(text) + " is out of range (" + f.help + ")");
      if (!parseDouble(text, v))
        throw UserError(key + ": '" + shortText(text) + "' is not a number (" + f.help + ")");
      return v;  // toInt says "out of range" for a whole number too large for the field
    }
    case Kind::Bool: {
      bool b;
      if (!parseBool(text, b)) throw UserError(key + ": '" + shortText(text) + "' is not true or false");
      return b;
    }
    case Kind::IntList: {
      json a = json::array();
      const std::string t = trim(text);
      if (t.empty() || t == "none") return a;
      for (const std::string& tok : splitComma(t)) {
        double v;
        if (!parseDouble(tok, v) || v != std::floor(v))
          throw UserError(key + ": '" + shortText(text) + "' must be a comma list of integers (" + f.help +
                          ")");
        a.push_back(v);  // a double: toInt reports one too large as out of range, never wraps it
      }
      return a;
    }
  }
  return nullptr;
}

// A whole number as written (1e18 -> 1000000000000000000), anything else as JSON, for messages.
std::string numberText(const json& v) {
  if (v.is_number_float()) {
    const double x = v.get<double>();
    char b[64];
    std::snprintf(b, sizeof b, std::abs(x) < 1e21 && x == std::floor(x) ? "%.0f" : "%g", x);
    return b;
  }
  return shortJson(v);
}

// Int fields hold any whole number the JSON or the flag gave; one beyond +-2e9 is out of range (the field's
// own range, in its help, is checked by validateConfig), not "not an integer".
int toInt(const json& v, const std::string& key, const char* help) {
  const std::string range = std::string(" is out of range (") + help + ")";
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > 2000000000ULL) throw UserError(key + ": " + numberText(v) + range);
    return int(v.get<uint64_t>());
  }
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    if (x < -2000000000LL || x > 2000000000LL) throw UserError(key + ": " + numberText(v) + range);
    return int(x);
  }
  if (v.is_number_float()) {
    const double x = v.get<double>();
    if (x == std::floor(x)) {
      if (std::abs(x) > 2e9) throw UserError(key + ": " + numberText(v) + range);
      return int(x);
    }
  }
  throw UserError(key + ": expected an integer, got " + shortJson(v) + " (" + help + ")");
}

void applyField(const Field& f, const json& v, Config& c) {
  const std::string key = f.key;
  switch (f.kind) {
    case Kind::Str:
      if (!v.is_string())
        throw UserError(key + ": expected a string, got " + shortJson(v) + " (" + f.help + ")");
      if (v.get_ref<const std::string&>().size() > 4096)
        throw UserError(key + ": a text of " + std::to_string(v.get_ref<const std::string&>().size()) +
                        " characters, " + shortJson(v) + " (allowed: at most 4096)");
      c.*(f.s) = v.get<std::string>();
      return;
    case Kind::Int:
      c.*(f.i) = toInt(v, key, f.help);
      return;
    case Kind::Real:
      if (!v.is_number())
        throw UserError(key + ": expected a number, got " + shortJson(v) + " (" + f.help + ")");
      c.*(f.d) = v.get<double>();
      return;
    case Kind::Bool:
      if (!v.is_boolean()) throw UserError(key + ": expected true or false, got " + shortJson(v));
      c.*(f.b) = v.get<bool>();
      return;
    case Kind::U64:
      if (v.is_number_float() && v.get<double>() >= 1.8446744073709552e19)
        throw UserError(key + ": " + numberText(v) + " is out of range (allowed: whole numbers 0.." +
                        std::to_string(std::numeric_limits<uint64_t>::max()) + ")");
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
        throw UserError(key + ": expected a non-negative integer, got " + shortJson(v));
      c.*(f.u) = v.get<uint64_t>();
      return;
    case Kind::IntList: {
      if (!v.is_array())
        throw UserError(key + ": expected a list of integers, got " + shortJson(v) + " (" + f.help + ")");
      std::vector<int> out;
      for (const json& e : v) out.push_back(toInt(e, key, f.help));
      c.*(f.il) = out;
      return;
    }
  }
}

const ParamSpec* findParam(const LossSpec& spec, const std::string& name) {
  for (const ParamSpec& p : spec.params)
    if (p.name == name) return &p;
  return nullptr;
}

std::string paramNames(const LossSpec& spec) {
  std::string s;
  for (const ParamSpec& p : spec.params) s += std::string(s.empty() ? "" : ", ") + p.name;
  return s.empty() ? "none" : s;
}

// One loss parameter from JSON: numbers, true/false, a choice by name (or index), a list for Vector params.
void applyParam(const LossSpec& spec, const std::string& name, const json& v, LossParams& out) {
  const ParamSpec* ps = findParam(spec, name);
  if (!ps)
    throw UserError("params." + shortText(name) + ": " + spec.name + " has no parameter '" + shortText(name) +
                    "' (allowed: " + paramNames(spec) + ")");
  const std::string key = "params." + name;  // a known name: short
  if (ps->kind == ParamKind::Vector) {
    if (!v.is_array()) throw UserError(key + ": expected a list of numbers, got " + shortJson(v));
    std::vector<double> vec;
    for (const json& e : v) {
      if (!e.is_number()) throw UserError(key + ": expected a list of numbers, got " + shortJson(v));
      vec.push_back(e.get<double>());
    }
    out.vectors[name] = vec;
    out.values.erase(name);
    return;
  }
  if (v.is_boolean()) {
    if (ps->kind != ParamKind::Bool) throw UserError(key + ": expected a number, got " + shortJson(v));
    out.values[name] = v.get<bool>() ? 1 : 0;
    return;
  }
  if (v.is_string()) {
    const std::string t = v.get<std::string>();
    if (ps->kind == ParamKind::Choice) {
      for (size_t i = 0; i < ps->choices.size(); ++i)
        if (ps->choices[i] == t) {
          out.values[name] = double(i);
          return;
        }
      std::string allowed;
      for (const std::string& ch : ps->choices) allowed += std::string(allowed.empty() ? "" : ", ") + ch;
      throw UserError(key + ": unknown choice '" + shortText(t) + "' (allowed: " + allowed + ")");
    }
    throw UserError(key + ": expected a number, got " + shortJson(v));
  }
  if (!v.is_number()) throw UserError(key + ": expected a number, got " + shortJson(v));
  out.values[name] = v.get<double>();
}

json paramsToJson(const Config& c) {
  json j = json::object();
  const LossSpec* spec = nullptr;
  try {
    spec = &findLoss(c.loss);
  } catch (const UserError&) {
  }
  for (const auto& [name, v] : c.params.values) {
    const ParamSpec* ps = spec ? findParam(*spec, name) : nullptr;
    if (ps && ps->kind == ParamKind::Bool)
      j[name] = v != 0;
    else if (ps && ps->kind == ParamKind::Choice && v >= 0 && size_t(v) < ps->choices.size() &&
             v == std::floor(v))
      j[name] = ps->choices[size_t(v)];
    else
      j[name] = v;
  }
  for (const auto& [name, v] : c.params.vectors) j[name] = v;
  return j;
}

// K the loss parameters will see, when it is known before the data is read (not for CSV).
int expectedClasses(const Config& c) {
  if (c.dataset.rfind("csv:", 0) == 0) return -1;
  const int all = c.dataset == "fashion-mnist" ? 10 : c.classes;
  std::set<int> h(c.holdout_classes.begin(), c.holdout_classes.end());
  return all - int(h.size());
}

}  // namespace

json configToJson(const Config& c) {
  json j = json::object();
  for (const Field& f : fields()) {
    switch (f.kind) {
      case Kind::Str:
        j[f.key] = c.*(f.s);
        break;
      case Kind::Int:
        j[f.key] = c.*(f.i);
        break;
      case Kind::Real:
        j[f.key] = c.*(f.d);
        break;
      case Kind::Bool:
        j[f.key] = c.*(f.b);
        break;
      case Kind::U64:
        j[f.key] = c.*(f.u);
        break;
      case Kind::IntList:
        j[f.key] = c.*(f.il);
        break;
    }
  }
  j["params"] = paramsToJson(c);
  return j;
}

void applyConfigJson(const json& j, Config& c) {
  if (!j.is_object()) throw UserError("config: expected a JSON object of keys (" + allowedKeys() + ")");
  Config out = c;  // all or nothing
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "params") continue;
    auto f =
        std::find_if(fields().begin(), fields().end(), [&](const Field& f) { return it.key() == f.key; });
    if (f == fields().end())
      throw UserError("config: unknown key '" + shortText(it.key()) + "' (allowed: " + allowedKeys() + ")");
    applyField(*f, it.value(), out);
  }
  if (j.contains("loss")) findLoss(out.loss);  // a bad name is reported as such, before its params
  if (j.contains("params")) {
    const json& p = j["params"];
    if (!p.is_object()) throw UserError("params: expected an object of loss parameters, got " + shortJson(p));
    const LossSpec& spec = findLoss(out.loss);
    for (auto it = p.begin(); it != p.end(); ++it) applyParam(spec, it.key(), it.value(), out.params);
  }
  c = out;
}

Config loadConfigFile(const std::string& path) {
  json j = readJsonFile("config", path);
  if (!j.is_object()) throw UserError("config '" + path + "': expected a JSON object");
  // A figure's JSON (see figureSettings): its training config.
  if (j.contains(kFigureSettings)) {
    json c = j.contains("config") ? j["config"] : json();
    if (!c.is_object())
      throw UserError("config '" + path + "': the figure's \"config\" is not a JSON object");
    j = std::move(c);
  }
  // The desktop app's own preset keys (see app/gui_frame.cpp) are not training options.
  for (const char* k : {"title", "description", "compare", "view"}) j.erase(k);
  Config c;
  try {
    applyConfigJson(j, c);
    validateConfig(c);
  } catch (const UserError& e) {
    throw UserError("config '" + path + "': " + e.what());
  }
  return c;
}

void saveConfigFile(const Config& c, const std::string& path) {
  writeFileAtomic(path, configToJson(c).dump(2) + "\n");
}

void applyParamText(const std::string& kv, Config& c) {
  const size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UserError("--param: '" + shortText(kv) + "' is not KEY=VALUE (e.g. --param m=0.5)");
  const std::string key = trim(kv.substr(0, eq)), text = trim(kv.substr(eq + 1));
  const LossSpec& spec = findLoss(c.loss);
  const ParamSpec* ps = findParam(spec, key);
  if (!ps)
    throw UserError("--param " + shortText(key) + ": " + spec.name + " has no parameter '" + shortText(key) +
                    "' (allowed: " + paramNames(spec) + ")");
  json v;
  double x;
  bool b;
  if (ps->kind == ParamKind::Vector) {
    v = json::array();
    for (const std::string& tok : splitComma(text)) {
      if (!parseDouble(tok, x))
        throw UserError("--param " + key + ": '" + shortText(text) + "' must be a comma list of numbers");
      v.push_back(x);
    }
  } else if (parseDouble(text, x)) {
    v = x;
  } else if (ps->kind == ParamKind::Bool && parseBool(text, b)) {
    v = b;
  } else if (ps->kind == ParamKind::Choice) {
    v = text;
  } else if (overflows(text)) {
    throw UserError("--param " + key + ": " + shortText(text) + " is out of range (" + ps->help + ")");
  } else {
    throw UserError("--param " + key + ": '" + shortText(text) + "' is not a number (" + ps->help + ")");
  }
  applyParam(spec, key, v, c.params);
}

void addTrainingOptions(CLI::App& app, TrainingOptions& o) {
  app.add_option(
      "--config,--config-from", o.config_file,
      "preset JSON (assets/presets), or a PNG/SVG figure `render` wrote (the settings it carries); "
      "the flags given override it");
  for (const Field& f : fields()) {
    if (!f.flag) continue;
    const std::string key = f.key;
    app.add_option_function<std::string>(
           f.flag, [&o, key](const std::string& v) { o.given[key] = v; }, f.help)
        ->type_name(f.kind == Kind::Str       ? "TEXT"
                    : f.kind == Kind::IntList ? "LIST"
                                              : "VALUE");
  }
  app.add_option("--param", o.params,
                 "loss parameter KEY=VALUE, repeatable (Vector params as comma lists; a --loss that changes "
                 "the preset's loss drops the preset's params)")
      ->allow_extra_args(false);
  app.add_option("--save-config", o.save_config, "write the resolved config as JSON (atomically)");
  app.add_flag("--portable", o.portable,
               "numbers that match across x86-64 machines: baseline arithmetic only (as MS_SIMD=generic; "
               "slower where the CPU has AVX2/AVX-512)");
  app.add_option(
      "--embeddings", o.embeddings,
      "embeddings made elsewhere, (n,d) CSV or .npy (float32/64): drawn and measured, no training");
  app.add_option("--labels", o.labels, "labels of --embeddings, (n) CSV or .npy (integers 0..K-1)");
  app.add_option("--weights", o.weights,
                 "class weights of --embeddings, (K,d) CSV or .npy (default: class means)");
  app.add_flag("--split-column", o.split_column,
               "the labels' second column says train/test (0/1 or train/test); default: all train");
}

Config resolveTrainingOptions(const TrainingOptions& o) {
  if (o.embeddings.empty() && (!o.labels.empty() || !o.weights.empty() || o.split_column))
    throw UserError(
        "--labels, --weights and --split-column go with --embeddings FILE (embeddings made elsewhere)");
  Config c = o.config_file.empty() ? Config() : loadConfigFile(o.config_file);
  // The loss first (params depend on it); a different loss than the preset's starts from its defaults.
  if (o.given.count("loss")) {
    Config tmp = c;
    applyConfigJson(json{{"loss", o.given.at("loss")}}, tmp);
    if (&findLoss(tmp.loss) != &findLoss(c.loss)) tmp.params = LossParams();
    c = tmp;
  }
  for (const auto& [key, text] : o.given) {
    if (key == "loss") continue;
    auto f =
        std::find_if(fields().begin(), fields().end(), [&k = key](const Field& f) { return k == f.key; });
    applyConfigJson(json{{key, textToJson(*f, text)}}, c);
  }
  for (const std::string& kv : o.params) applyParamText(kv, c);
  validateConfig(c);
  const int K = expectedClasses(c);
  if (K >= 1) validateParams(findLoss(c.loss), c.params, K);
  return c;
}

int parseCommandLine(CLI::App& app, int argc, char** argv, const std::string& subcommand) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    for (char& ch : what)
      if (ch == '\n') ch = ' ';
    throw UserError(subcommand + ": " + what + " (see marginscope " + subcommand + " --help)");
  }
  return -1;
}

}  // namespace ms
