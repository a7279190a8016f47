// The loss catalogue: the definitions that each family file appends (loss_linear.cpp, loss_cosine_rules.cpp,
// loss_cosine_modern.cpp, loss_centre.cpp, loss_pair.cpp), assembled in display order, and the parameter
// look-up and checks every caller shares. The command line (`marginscope losses`, whose --markdown prints the
// README's table), the app's sliders, eval-loss's parameter checks and the trainer all read this one list, so
// a parameter's range is written exactly once.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <sstream>

#include "sim/errors.h"
#include "sim/loss_internal.h"

namespace ms {
namespace detail {

ParamSpec real(const char* name, double def, double lo, double hi, const char* help) {
  ParamSpec p;
  p.name = name;
  p.kind = ParamKind::Real;
  p.def = def;
  p.lo = lo;
  p.hi = hi;
  p.help = help;
  return p;
}
ParamSpec integer(const char* name, double def, double lo, double hi, const char* help) {
  ParamSpec p = real(name, def, lo, hi, help);
  p.kind = ParamKind::Integer;
  return p;
}
ParamSpec boolean(const char* name, bool def, const char* help) {
  ParamSpec p = real(name, def ? 1 : 0, 0, 1, help);
  p.kind = ParamKind::Bool;
  return p;
}
ParamSpec choice(const char* name, int def, std::vector<std::string> choices, const char* help) {
  ParamSpec p = real(name, def, 0, double(choices.size()) - 1, help);
  p.kind = ParamKind::Choice;
  p.choices = std::move(choices);
  return p;
}
ParamSpec vec(const char* name, double fill, double lo, double hi, const char* help) {
  ParamSpec p = real(name, fill, lo, hi, help);
  p.kind = ParamKind::Vector;
  return p;
}

}  // namespace detail

namespace {

// Each family file appends its definitions; the catalogue's order is the display order.
std::vector<LossSpec> build() {
  std::vector<LossSpec> c;
  detail::appendLinearLosses(c);
  detail::appendCosineLosses(c);
  detail::appendCentreLosses(c);
  detail::appendPairLosses(c);
  // Programmer checks of the table itself; tests/sim/test_loss_catalogue.cpp holds the same in every build.
  for (size_t i = 0; i < c.size(); ++i)
    assert(c[i].resolve && c[i].rule.test && (c[i].rule.closed_form || *c[i].rule.no_closed_form));
  return c;
}

std::string joinNames(const std::vector<LossSpec>& cat) {
  std::string s;
  for (const auto& l : cat) {
    s += (s.empty() ? "" : ", ") + l.name;
    for (size_t i = 0; i < l.aliases.size(); ++i) s += (i ? ", " : " (") + l.aliases[i];
    if (!l.aliases.empty()) s += ")";
  }
  return s;
}

std::string fmt(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

const std::vector<LossSpec>& lossCatalogue() {
  static const std::vector<LossSpec> cat = build();  // immutable after first use; not a mutable global
  return cat;
}

const LossSpec& findLoss(const std::string& name_or_alias) {
  for (const auto& l : lossCatalogue()) {
    if (l.name == name_or_alias) return l;
    for (const auto& a : l.aliases)
      if (a == name_or_alias) return l;
  }
  throw UserError("loss: unknown loss " + shownValue(name_or_alias) +
                  " (allowed: " + joinNames(lossCatalogue()) + ")");
}

double paramValue(const LossSpec& spec, const LossParams& p, const std::string& name) {
  auto it = p.values.find(name);
  if (it != p.values.end()) return it->second;
  for (const auto& ps : spec.params)
    if (ps.name == name) return ps.def;
  assert(false && "paramValue: parameter not in the spec");
  return 0;
}

void validateParams(const LossSpec& spec, const LossParams& p, int K) {
  auto names = [&] {
    std::string s;
    for (const auto& ps : spec.params) s += (s.empty() ? "" : ", ") + ps.name;
    return s.empty() ? std::string("none") : s;
  };
  auto find = [&](const std::string& n) -> const ParamSpec* {
    for (const auto& ps : spec.params)
      if (ps.name == n) return &ps;
    return nullptr;
  };
  auto range = [](const ParamSpec& ps) { return "[" + fmt(ps.lo) + ", " + fmt(ps.hi) + "]"; };
  for (const auto& [name, v] : p.values) {
    const ParamSpec* ps = find(name);
    if (!ps)
      throw UserError("loss " + spec.name + ": unknown parameter " + shownValue(name) +
                      " (allowed: " + names() + ")");
    const std::string where = "loss " + spec.name + ": parameter " + name + " = " + fmt(v);
    if (!std::isfinite(v)) throw UserError(where + " is not a finite number");
    switch (ps->kind) {
      case ParamKind::Vector:
        throw UserError("loss " + spec.name + ": parameter " + name + " takes " + std::to_string(K) +
                        " values, not one");
      case ParamKind::Bool:
        if (v != 0 && v != 1) throw UserError(where + " is not a boolean (allowed: true, false)");
        break;
      case ParamKind::Choice:
        if (v != std::floor(v) || v < 0 || v >= double(ps->choices.size())) {
          std::string ch;
          for (const auto& c : ps->choices) ch += (ch.empty() ? "" : ", ") + c;
          throw UserError(where + " is not one of the choices (allowed: " + ch + ")");
        }
        break;
      case ParamKind::Integer:
        if (v != std::floor(v))
          throw UserError(where + " is not an integer (allowed: integers in " + range(*ps) + ")");
        [[fallthrough]];
      case ParamKind::Real:
        if (v < ps->lo || v > ps->hi)
          throw UserError(where + " is out of range (allowed: " + range(*ps) + ")");
        break;
    }
  }
  for (const auto& [name, v] : p.vectors) {
    const ParamSpec* ps = find(name);
    if (!ps)
      throw UserError("loss " + spec.name + ": unknown parameter " + shownValue(name) +
                      " (allowed: " + names() + ")");
    if (ps->kind != ParamKind::Vector)
      throw UserError("loss " + spec.name + ": parameter " + name + " takes one value, not a list");
    if (int(v.size()) != K)
      throw UserError("loss " + spec.name + ": parameter " + name + " has " + std::to_string(v.size()) +
                      " values (allowed: exactly K = " + std::to_string(K) + ", one per class)");
    for (double x : v)
      if (!std::isfinite(x) || x < ps->lo || x > ps->hi)
        throw UserError("loss " + spec.name + ": parameter " + name + " has the value " + fmt(x) +
                        " (allowed: finite values in " + range(*ps) + ")");
  }
  if (spec.check) {
    const std::string why = spec.check(ParamReader(spec, p));
    if (!why.empty()) throw UserError("loss " + spec.name + ": parameters " + why);
  }
}

}  // namespace ms
