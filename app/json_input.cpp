// Bounded JSON input (see json_input.h). Why a bracket scan before parsing: nlohmann's parser and
// destructor cope with any depth, but every recursive walk afterwards (dump() in a message, a conversion)
// does not; a value nested 200,000 deep overflowed the stack in an error message. The scan is one pass
// over the bytes, so it costs nothing next to the parse.
#include "app/json_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "render/image_io.h"
#include "sim/errors.h"

namespace ms {

using json = nlohmann::json;

std::string shortText(const std::string& s, size_t max) {
  std::string out = s.size() > max ? s.substr(0, utf8Prefix(s, max - 3)) + "..." : s;
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

namespace {
// Appends v to out, stopping once out passes `limit` characters: a huge or deep value costs nothing.
void shortJsonInto(const json& v, std::string& out, size_t limit, int depth) {
  if (out.size() > limit) return;
  if (v.is_array() || v.is_object()) {
    if (depth >= 4) {
      out += v.is_array() ? "[...]" : "{...}";
      return;
    }
    out += v.is_array() ? '[' : '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end() && out.size() <= limit; ++it) {
      if (!first) out += ',';
      first = false;
      if (v.is_object()) out += json(shortText(it.key())).dump() + ":";
      shortJsonInto(it.value(), out, limit, depth + 1);
    }
    out += v.is_array() ? ']' : '}';
  } else if (v.is_string()) {
    out += json(shortText(v.get<std::string>(), limit)).dump();
  } else {
    out += v.dump();
  }
}

std::string byteCount(size_t n) {
  return n >= (size_t(1) << 20) ? std::to_string(n >> 20) + " MB" : std::to_string(n) + " bytes";
}
}  // namespace

std::string shortJson(const json& v) {
  std::string s;
  shortJsonInto(v, s, 40, 0);
  return s.size() > 40 ? s.substr(0, utf8Prefix(s, 37)) + "..." : s;
}

json parseJsonBounded(const std::string& label, const std::string& text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        throw UserError(label + ": nested more than " + std::to_string(max_depth) + " levels deep at byte " +
                        std::to_string(i) + " (allowed: at most " + std::to_string(max_depth) + ")");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw UserError(label + ": not valid JSON (" + shortText(e.what(), 160) + ")");
  }
}

json readJsonFile(const std::string& label, const std::string& path) {
  const std::string where = label + " '" + shortText(path, 200) + "'";
  // POSIX reads: std::ifstream opens a folder and then throws ios_base::failure from inside the parser.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw UserError(label + ": cannot open '" + shortText(path, 200) + "' (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw UserError(where + ": that is a folder (allowed: a JSON file)");
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      throw UserError(where + ": cannot read (" + std::strerror(e) + ")");
    }
    if (n == 0) break;
    text.append(buf, size_t(n));
    // A figure keeps the JSON that made it near its start (before the pixels): its head is enough.
    if (text.size() > kMaxConfigBytes && !figureJson(text).empty()) break;
    if (text.size() > kMaxConfigBytes) {
      ::close(fd);
      throw UserError(where + ": larger than " + byteCount(kMaxConfigBytes) + " (allowed: at most " +
                      byteCount(kMaxConfigBytes) + ")");
    }
  }
  ::close(fd);
  // A PNG or SVG figure that marginscope wrote: the JSON it carries (see FigureInfo).
  if (const std::string fig = figureJson(text); !fig.empty())
    return parseJsonBounded(where, fig, kMaxJsonDepth);
  if (text.compare(0, 4, "\x89PNG") == 0 || text.find("<svg") != std::string::npos)
    throw UserError(where +
                    ": a figure that carries no marginscope settings (allowed: a JSON file, or a PNG "
                    "or SVG that marginscope render wrote)");
  return parseJsonBounded(where, text, kMaxJsonDepth);
}

}  // namespace ms
