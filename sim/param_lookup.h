// Looking a parameter up by name in a loss's spec: the one definition of findParam/hasParam, which sim/,
// render/ and app/ used to write out for themselves. Kept apart from sim/loss.h so that the loss files can
// change without touching it. Include it only from .cpp files that have no local findParam/hasParam of their
// own.
#pragma once
#include <string_view>

#include "sim/loss.h"

namespace ms {

// The spec of parameter `name` of `spec`, or nullptr when the loss has no such parameter.
inline const ParamSpec* findParam(const LossSpec& spec, std::string_view name) {
  for (const ParamSpec& p : spec.params)
    if (p.name == name) return &p;
  return nullptr;
}

inline bool hasParam(const LossSpec& spec, std::string_view name) {
  return findParam(spec, name) != nullptr;
}

}  // namespace ms
