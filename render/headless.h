// A GL 3.3 core context with no display: Mesa's surfaceless EGL platform (llvmpipe when there is no GPU).
// Used by `marginscope render`, the render tests and the benchmark; the app uses its GLFW window instead.
// The context has no default framebuffer: the Renderer draws into its own FBOs.
#pragma once
#include <string>

namespace ms {

class HeadlessContext {
 public:
  HeadlessContext();  // creates and makes current; throws std::runtime_error saying what failed
  ~HeadlessContext();
  HeadlessContext(const HeadlessContext&) = delete;
  HeadlessContext& operator=(const HeadlessContext&) = delete;
  void makeCurrent();
  void release();                   // makes no context current on this thread (so another thread may take it)
  std::string description() const;  // GL_VERSION and GL_RENDERER

 private:
  void* display_ = nullptr;
  void* context_ = nullptr;
};

}  // namespace ms
