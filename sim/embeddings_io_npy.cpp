// The .npy header parser (see embeddings_io.h): the Python dict literal NumPy writes ({'descr': '<f4',
// 'fortran_order': False, 'shape': (3, 2), }), read by a small bounded scanner rather than trusted. Every
// index is checked against the header's length, numbers are limited to 18 digits, and the data's size is
// compared with the shape before anything is allocated, so a file that lies about its shape costs nothing.
#include <cstring>

#include "sim/embeddings_io.h"
#include "sim/errors.h"

namespace ms {

// Text from a file or a path, fit for a one-line message: at most `max` bytes, control characters as '?'.
std::string messageText(const std::string& s, size_t max) {
  std::string t = s.size() <= max ? s : s.substr(0, max) + "...";
  for (char& c : t)
    if (static_cast<unsigned char>(c) < 32 || c == 127) c = '?';
  return t;
}

namespace {

// The header dict's scanner: positions are checked against end before every read.
struct Scan {
  const char* p;
  const char* end;
  void ws() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool eat(char c) {
    ws();
    if (p < end && *p == c) {
      ++p;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    if (!eat(c)) throw UserError(std::string("bad .npy header: expected ") + what);
  }
  std::string str() {
    ws();
    if (p >= end || (*p != '\'' && *p != '"')) throw UserError("bad .npy header: expected a quoted string");
    const char q = *p++;
    const char* s = p;
    while (p < end && *p != q) ++p;
    if (p >= end) throw UserError("bad .npy header: unterminated string");
    std::string out(s, size_t(p - s));
    ++p;
    return messageText(out, 64);
  }
  int64_t integer() {
    ws();
    const char* s = p;
    while (p < end && *p >= '0' && *p <= '9' && p - s < 19) ++p;
    if (p == s)
      throw UserError("bad .npy header: the shape holds a value that is not a non-negative integer");
    if (p - s > 18) throw UserError("bad .npy header: a dimension of the shape is too large");
    int64_t v = 0;
    for (const char* c = s; c < p; ++c) v = v * 10 + (*c - '0');
    if (p < end && *p == 'L') ++p;  // Python 2 long
    return v;
  }
  bool word(const char* w) {
    ws();
    const size_t n = std::strlen(w);
    if (size_t(end - p) >= n && std::memcmp(p, w, n) == 0) {
      p += n;
      return true;
    }
    return false;
  }
};

void parseDescr(const std::string& d, NpyHeader& h) {
  if (d.size() < 3 || d.size() > 4 || std::strchr("<>|=", d[0]) == nullptr)
    throw UserError("dtype '" + d + "' is not allowed (float32/float64 data, integer labels)");
  const char kind = d[1];
  const std::string size_text = d.substr(2);
  const int size = size_text == "1"   ? 1
                   : size_text == "2" ? 2
                   : size_text == "4" ? 4
                   : size_text == "8" ? 8
                                      : 0;
  if ((kind != 'f' && kind != 'i' && kind != 'u') || size == 0 || (kind == 'f' && size < 4))
    throw UserError("dtype '" + d + "' is not allowed (float32/float64 data; int8..int64 or uint8 labels)");
  if (d[0] == '>' && size > 1)
    throw UserError("dtype '" + d + "' is big-endian: save it little-endian ('<')");
  h.kind = kind;
  h.itemsize = size;
}

}  // namespace

std::string npyShapeText(const std::vector<int64_t>& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + (s.size() == 1 ? ",)" : ")");
}

NpyHeader parseNpyHeader(const uint8_t* data, size_t size) {
  if (size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0)
    throw UserError("not a .npy file (no \\x93NUMPY magic at the start)");
  const int major = data[6];
  size_t hlen = 0, off = 0;
  if (major == 1) {
    hlen = size_t(data[8]) | size_t(data[9]) << 8;
    off = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) throw UserError("truncated .npy header");
    hlen = size_t(data[8]) | size_t(data[9]) << 8 | size_t(data[10]) << 16 | size_t(data[11]) << 24;
    off = 12;
  } else {
    throw UserError(".npy format version " + std::to_string(major) + " is not known (1, 2 or 3)");
  }
  if (hlen > (size_t(1) << 20)) throw UserError("bad .npy header: longer than 1 MiB");
  if (hlen > size - off) throw UserError("truncated .npy header");
  NpyHeader h;
  h.data_offset = off + hlen;
  Scan s{reinterpret_cast<const char*>(data) + off, reinterpret_cast<const char*>(data) + off + hlen};
  bool have_descr = false, have_order = false, have_shape = false;
  s.expect('{', "'{'");
  while (!s.eat('}')) {
    const std::string key = s.str();
    s.expect(':', "':' after a key");
    if (key == "descr" && !have_descr) {
      parseDescr(s.str(), h);
      have_descr = true;
    } else if (key == "fortran_order" && !have_order) {
      if (s.word("True")) throw UserError("the array is in Fortran order: save np.ascontiguousarray(a)");
      if (!s.word("False")) throw UserError("bad .npy header: fortran_order is not True or False");
      have_order = true;
    } else if (key == "shape" && !have_shape) {
      s.expect('(', "'(' to open the shape");
      while (!s.eat(')')) {
        if (h.shape.size() >= 32) throw UserError("bad .npy header: more than 32 dimensions");
        h.shape.push_back(s.integer());
        if (!s.eat(',')) {
          s.expect(')', "',' or ')' in the shape");
          break;
        }
      }
      have_shape = true;
    } else {
      throw UserError("bad .npy header: unexpected or repeated key '" + key + "'");
    }
    if (!s.eat(',')) {
      s.expect('}', "',' or '}' in the header dict");
      break;
    }
  }
  s.ws();
  if (s.p != s.end) throw UserError("bad .npy header: text after the dict");
  if (!have_descr || !have_order || !have_shape)
    throw UserError("bad .npy header: it needs 'descr', 'fortran_order' and 'shape'");
  const size_t avail = size - h.data_offset;
  const size_t max_items = avail / size_t(h.itemsize);
  size_t count = 1;
  bool over = false;
  for (int64_t d : h.shape) {
    if (d == 0) {
      count = 0;
      over = false;
      break;
    }
    if (over || count > max_items / size_t(d))
      over = true;
    else
      count *= size_t(d);
  }
  if (count > max_items) over = true;  // a scalar, shape (), has no dimension to catch it in the loop
  if (over || count * size_t(h.itemsize) < avail) {
    if (over || count * size_t(h.itemsize) > avail)
      throw UserError("truncated data: shape " + npyShapeText(h.shape) + " needs more than the " +
                      std::to_string(avail) + " bytes the file holds");
    throw UserError("the file holds " + std::to_string(avail - count * size_t(h.itemsize)) +
                    " bytes more than shape " + npyShapeText(h.shape) + " needs");
  }
  h.count = count;
  return h;
}

}  // namespace ms
