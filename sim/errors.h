// User-facing errors. Anything the user can get wrong (a name, a value, a file) throws UserError with one
// line naming the key, the value and what is allowed; the command line turns it into exit code 2 and the GUI
// into a message. Programmer mistakes are asserts, not UserErrors.
#pragma once
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace ms {

struct UserError : std::runtime_error {
  explicit UserError(const std::string& what) : std::runtime_error(what) {}
};

// The longest prefix of s no longer than max bytes that does not split a UTF-8 character: a message cut
// inside one is invalid UTF-8, and nlohmann::json refuses to dump it (found by fuzz_eval_loss).
inline size_t utf8Prefix(const std::string& s, size_t max) {
  size_t cut = std::min(s.size(), max);
  if (cut < s.size())
    while (cut > 0 && (uint8_t(s[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

// A value as a message shows it, quoted: control bytes as '?', at most 40 characters (cut at a UTF-8
// character boundary) and then its length, so that a 10 MB token is never echoed back whole.
inline std::string shownValue(const std::string& v) {
  constexpr size_t kMax = 40;
  const size_t cut = utf8Prefix(v, kMax);
  std::string s = v.substr(0, cut);
  for (char& ch : s)
    if (uint8_t(ch) < 0x20 || uint8_t(ch) == 0x7F) ch = '?';
  if (cut == v.size()) return "'" + s + "'";
  return "'" + s + "...' (" + std::to_string(v.size()) + " characters)";
}

}  // namespace ms
