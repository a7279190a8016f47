// A colour renderbuffer to draw into and read back, for the tests that need a GL framebuffer (the headless
// context has none of its own). Construct with a context current; it stays bound as GL_FRAMEBUFFER.
#pragma once
#include <epoxy/gl.h>

#include <cstdint>
#include <vector>

namespace ms {

struct GlTarget {
  GLuint fbo = 0, rb = 0;
  int w, h;
  GlTarget(int width, int height) : w(width), h(height) {
    glGenFramebuffers(1, &fbo);
    glGenRenderbuffers(1, &rb);
    glBindRenderbuffer(GL_RENDERBUFFER, rb);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, w, h);
    bind();
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
  }
  ~GlTarget() {
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glDeleteFramebuffers(1, &fbo);
    glDeleteRenderbuffers(1, &rb);
  }
  GlTarget(const GlTarget&) = delete;
  GlTarget& operator=(const GlTarget&) = delete;
  void bind() const { glBindFramebuffer(GL_FRAMEBUFFER, fbo); }
  // RGBA8 rows in GL order (bottom row first).
  std::vector<uint8_t> read() const {
    std::vector<uint8_t> px(static_cast<size_t>(w) * h * 4);
    bind();
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
    return px;
  }
};

}  // namespace ms
