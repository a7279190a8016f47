// Bounded JSON input and short values for messages, shared by presets (--config, the GUI) and eval-loss.
// Nothing from the user is walked, printed or kept before its size and nesting are known to be small.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace ms {

// Bounded JSON input: a preset or request is read only up to max_bytes, and its nesting is measured by a
// scan of the brackets outside strings before the parser sees it, so a value nested 200,000 deep is one
// line of error and not a stack overflow wherever it is later walked or printed. Errors begin with `label`
// (e.g. "config 'a.json'") and say the limit.
constexpr size_t kMaxConfigBytes = size_t(4) << 20;
constexpr int kMaxJsonDepth = 16;
nlohmann::json parseJsonBounded(const std::string& label, const std::string& text, int max_depth);
// Reads and parses a JSON file (not a folder, at most kMaxConfigBytes, nesting at most kMaxJsonDepth), or the
// JSON a marginscope PNG or SVG figure carries (render/image_io.h FigureInfo).
nlohmann::json readJsonFile(const std::string& label, const std::string& path);
// A value or text shortened for a one-line message (about 40 characters; never walks a whole value).
std::string shortJson(const nlohmann::json& v);
std::string shortText(const std::string& s, size_t max = 40);

}  // namespace ms
