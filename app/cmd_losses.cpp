// `marginscope losses [--json | --markdown]`: the loss catalogue of sim/loss_catalogue.cpp, as text for
// people or as JSON for tools (the app's sliders read the same catalogue in-process). Every entry: name,
// aliases, family, formula, paper, and each parameter's kind, default, range and meaning.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "app/commands.h"
#include "sim/errors.h"
#include "sim/loss.h"

namespace ms {
namespace {

using nlohmann::json;

const char* familyName(LossFamily f) {
  switch (f) {
    case LossFamily::Softmax:
      return "softmax";
    case LossFamily::NormalisedSoftmax:
      return "normalised-softmax";
    case LossFamily::AngularMargin:
      return "angular-margin";
    case LossFamily::Centre:
      return "centre";
    case LossFamily::Metric:
      return "metric";
  }
  return "?";
}

const char* kindName(ParamKind k) {
  switch (k) {
    case ParamKind::Real:
      return "real";
    case ParamKind::Integer:
      return "integer";
    case ParamKind::Bool:
      return "bool";
    case ParamKind::Choice:
      return "choice";
    case ParamKind::Vector:
      return "vector";
  }
  return "?";
}

std::string num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

json defaultValue(const ParamSpec& p) {
  switch (p.kind) {
    case ParamKind::Bool:
      return p.def != 0;
    case ParamKind::Choice:
      return p.choices.at(size_t(p.def));
    case ParamKind::Integer:
      return int(p.def);
    default:
      return p.def;
  }
}

std::string describe(const ParamSpec& p) {
  switch (p.kind) {
    case ParamKind::Bool:
      return std::string("bool, default ") + (p.def != 0 ? "true" : "false");
    case ParamKind::Choice: {
      std::string s = "one of ";
      for (size_t i = 0; i < p.choices.size(); ++i) s += (i ? "|" : "") + p.choices[i];
      return s + ", default " + p.choices.at(size_t(p.def));
    }
    case ParamKind::Vector:
      return "K values in [" + num(p.lo) + ", " + num(p.hi) + "], default all " + num(p.def);
    default:
      return std::string(kindName(p.kind)) + " in [" + num(p.lo) + ", " + num(p.hi) + "], default " +
             num(p.def);
  }
}

// Numbers as a person writes them: whole numbers in full (1000000, not 1e+06), others to 6 digits.
std::string plain(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char b[32];
    std::snprintf(b, sizeof b, "%.0f", v);
    return b;
  }
  return num(v);
}

std::string escapePipes(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '|' ? std::string("\\|") : std::string(1, c);
  return o;
}

// The README's loss table: one row per loss, printed from the catalogue so that the README cannot drift.
void printMarkdown(const std::vector<LossSpec>& cat) {
  std::cout << "| loss (aliases) | formula (t_j: angle between H_i and W_j) | parameters: default [range] | "
               "source |\n"
               "|---|---|---|---|\n";
  for (const auto& l : cat) {
    std::string name = "`" + l.name + "`";
    for (size_t i = 0; i < l.aliases.size(); ++i) name += (i ? ", " : " (") + l.aliases[i];
    if (!l.aliases.empty()) name += ")";
    std::string params;
    for (const auto& p : l.params) {
      std::string d = "`" + p.name + "` ";
      switch (p.kind) {
        case ParamKind::Real:
          d += plain(p.def) + " [" + plain(p.lo) + ", " + plain(p.hi) + "]";
          break;
        case ParamKind::Integer:
          d += plain(p.def) + " [" + plain(p.lo) + ", " + plain(p.hi) + "] int";
          break;
        case ParamKind::Bool:
          d += p.def != 0 ? "true" : "false";
          break;
        case ParamKind::Choice: {
          d += p.choices.at(size_t(p.def)) + " {";
          for (size_t i = 0; i < p.choices.size(); ++i) d += (i ? "|" : "") + p.choices[i];
          d += "}";
          break;
        }
        case ParamKind::Vector:
          d += "K values, default all " + plain(p.def);
          break;
      }
      params += (params.empty() ? "" : "; ") + d;
    }
    if (params.empty()) params = "\u2014";
    std::cout << "| " << name << " | " << escapePipes(l.formula) << " | " << escapePipes(params) << " | "
              << escapePipes(l.paper) << " |\n";
  }
}

}  // namespace

int cmdLosses(int argc, char** argv) {
  bool as_json = false, as_markdown = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      as_json = true;
    } else if (a == "--markdown") {
      as_markdown = true;
    } else if (a == "--help" || a == "-h") {
      std::fputs(
          "usage: marginscope losses [--json | --markdown]   the loss catalogue: names, aliases, parameters, "
          "formula, paper (--markdown: the README's table)\n",
          stdout);
      return 0;
    } else {
      throw UserError("losses: unknown argument '" + a + "' (allowed: --json, --markdown, --help)");
    }
  }
  const auto& cat = lossCatalogue();
  if (as_markdown) {
    printMarkdown(cat);
    return 0;
  }
  if (as_json) {
    json out = json::array();
    for (const auto& l : cat) {
      json e;
      e["name"] = l.name;
      e["aliases"] = l.aliases;
      e["family"] = familyName(l.family);
      e["formula"] = l.formula;
      e["paper"] = l.paper;
      e["needs_weights"] = l.traits.has_weights;
      e["has_margin"] = l.traits.has_margin;
      if (!l.notes.empty()) e["notes"] = l.notes;
      json ps = json::array();
      for (const auto& p : l.params) {
        json q;
        q["name"] = p.name;
        q["kind"] = kindName(p.kind);
        q["integer"] = p.kind == ParamKind::Integer;
        q["default"] = defaultValue(p);
        if (p.kind == ParamKind::Choice) {
          q["choices"] = p.choices;
        } else if (p.kind != ParamKind::Bool) {
          q["min"] = p.lo;
          q["max"] = p.hi;
        }
        q["help"] = p.help;
        ps.push_back(q);
      }
      e["params"] = ps;
      out.push_back(e);
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& l : cat) {
    std::cout << l.name;
    if (!l.aliases.empty()) {
      std::cout << " (";
      for (size_t i = 0; i < l.aliases.size(); ++i) std::cout << (i ? ", " : "") << l.aliases[i];
      std::cout << ")";
    }
    std::cout << "  [" << familyName(l.family) << "]\n";
    std::cout << "  " << l.formula << "\n";
    std::cout << "  source: " << l.paper << "\n";
    for (const auto& p : l.params)
      std::cout << "  --param " << p.name << ": " << describe(p) << ". " << p.help << "\n";
    std::cout << "\n";
  }
  return 0;
}

}  // namespace ms
