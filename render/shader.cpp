// Compilation with messages a person can act on: GL info logs say "0:12(5): error: ..." (Mesa) or
// "ERROR: 0:12: ..." (others); both are rewritten to "shaders/<file>:12: ..." so the file is named.
#include "render/shader.h"

#include <epoxy/gl.h>

#include <regex>
#include <sstream>
#include <stdexcept>

namespace ms {

namespace {

std::string rewriteLog(const std::string& file, const std::string& log) {
  static const std::regex mesa(R"(^\s*\d+:(\d+)\(\d+\):\s*(.*)$)");
  static const std::regex other(R"(^\s*(?:ERROR|WARNING):\s*\d+:(\d+):\s*(.*)$)");
  std::istringstream in(log);
  std::ostringstream out;
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, mesa) || std::regex_match(line, m, other)) {
      out << (any ? "\n" : "") << "shaders/" << file << ":" << m[1] << ": " << m[2];
      any = true;
    } else if (!line.empty()) {
      out << (any ? "\n" : "") << "shaders/" << file << ": " << line;
      any = true;
    }
  }
  if (!any) out << "shaders/" << file << ": compilation failed (empty log)";
  return out.str();
}

GLuint compileStage(GLenum stage, const std::string& name, const std::string& src) {
  GLuint sh = glCreateShader(stage);
  const char* text = src.c_str();
  glShaderSource(sh, 1, &text, nullptr);
  glCompileShader(sh);
  GLint ok = 0;
  glGetShaderiv(sh, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    GLint len = 0;
    glGetShaderiv(sh, GL_INFO_LOG_LENGTH, &len);
    std::string log(static_cast<size_t>(len > 1 ? len : 1), '\0');
    glGetShaderInfoLog(sh, len, nullptr, log.data());
    glDeleteShader(sh);
    throw std::runtime_error(rewriteLog(name, log.c_str()));
  }
  return sh;
}

}  // namespace

unsigned compileProgramSource(const std::string& vert_name, const std::string& vert_src,
                              const std::string& frag_name, const std::string& frag_src) {
  GLuint vs = compileStage(GL_VERTEX_SHADER, vert_name, vert_src);
  GLuint fs = 0;
  try {
    fs = compileStage(GL_FRAGMENT_SHADER, frag_name, frag_src);
  } catch (...) {
    glDeleteShader(vs);
    throw;
  }
  GLuint prog = glCreateProgram();
  glAttachShader(prog, vs);
  glAttachShader(prog, fs);
  glLinkProgram(prog);
  glDeleteShader(vs);
  glDeleteShader(fs);
  GLint ok = 0;
  glGetProgramiv(prog, GL_LINK_STATUS, &ok);
  if (!ok) {
    GLint len = 0;
    glGetProgramiv(prog, GL_INFO_LOG_LENGTH, &len);
    std::string log(static_cast<size_t>(len > 1 ? len : 1), '\0');
    glGetProgramInfoLog(prog, len, nullptr, log.data());
    glDeleteProgram(prog);
    throw std::runtime_error("shaders/" + vert_name + " + shaders/" + frag_name +
                             ": link failed: " + log.c_str());
  }
  return prog;
}

unsigned compileProgram(const char* vert_file, const char* frag_file) {
  const char* vs = embeddedShader(vert_file);
  const char* fs = embeddedShader(frag_file);
  if (!vs) throw std::runtime_error(std::string("shaders/") + vert_file + ": not embedded in this build");
  if (!fs) throw std::runtime_error(std::string("shaders/") + frag_file + ": not embedded in this build");
  return compileProgramSource(vert_file, vs, frag_file, fs);
}

}  // namespace ms
