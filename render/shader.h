// GLSL programs from the files in shaders/, embedded at build time (cmake/embed_shaders.cmake). A compile or
// link error names the shader file and the line GL complains about, e.g. "shaders/points.frag:12: ...".
#pragma once
#include <string>

namespace ms {

// Source of shaders/<file_name>, or null when no such file was embedded (generated/embedded_shaders.cpp).
const char* embeddedShader(const char* file_name);

// Compiles and links a program from two embedded files; throws std::runtime_error naming file and line.
unsigned compileProgram(const char* vert_file, const char* frag_file);
// Same from explicit sources; the names are only used in messages (tests feed broken sources through here).
unsigned compileProgramSource(const std::string& vert_name, const std::string& vert_src,
                              const std::string& frag_name, const std::string& frag_src);

}  // namespace ms
