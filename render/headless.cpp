// Surfaceless EGL: no X server, no pbuffer. eglGetPlatformDisplayEXT is used rather than the EGL 1.5 entry
// point because epoxy can only resolve the latter once a display exists.
#include "render/headless.h"

#include <epoxy/egl.h>
#include <epoxy/gl.h>

#include <stdexcept>

namespace ms {

namespace {

std::string eglErrorText(const char* what) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "headless EGL: %s failed (EGL error 0x%04x)", what, eglGetError());
  return buf;
}

}  // namespace

HeadlessContext::HeadlessContext() {
  if (!epoxy_has_egl_extension(EGL_NO_DISPLAY, "EGL_MESA_platform_surfaceless"))
    throw std::runtime_error("headless EGL: EGL_MESA_platform_surfaceless is missing (install libegl-mesa0)");
  EGLDisplay d = eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
  if (d == EGL_NO_DISPLAY) throw std::runtime_error(eglErrorText("eglGetPlatformDisplayEXT"));
  EGLint major = 0, minor = 0;
  if (!eglInitialize(d, &major, &minor)) throw std::runtime_error(eglErrorText("eglInitialize"));
  display_ = d;
  if (!eglBindAPI(EGL_OPENGL_API)) throw std::runtime_error(eglErrorText("eglBindAPI(OpenGL)"));
  const EGLint attrs[] = {EGL_CONTEXT_MAJOR_VERSION,
                          3,
                          EGL_CONTEXT_MINOR_VERSION,
                          3,
                          EGL_CONTEXT_OPENGL_PROFILE_MASK,
                          EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                          EGL_NONE};
  EGLContext c = eglCreateContext(d, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attrs);
  if (c == EGL_NO_CONTEXT) {
    eglTerminate(d);
    throw std::runtime_error(eglErrorText("eglCreateContext(OpenGL 3.3 core)"));
  }
  context_ = c;
  makeCurrent();
}

HeadlessContext::~HeadlessContext() {
  EGLDisplay d = static_cast<EGLDisplay>(display_);
  eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  if (context_) eglDestroyContext(d, static_cast<EGLContext>(context_));
  eglTerminate(d);
}

void HeadlessContext::makeCurrent() {
  if (!eglMakeCurrent(static_cast<EGLDisplay>(display_), EGL_NO_SURFACE, EGL_NO_SURFACE,
                      static_cast<EGLContext>(context_)))
    throw std::runtime_error(eglErrorText("eglMakeCurrent"));
}

void HeadlessContext::release() {
  eglMakeCurrent(static_cast<EGLDisplay>(display_), EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
}

std::string HeadlessContext::description() const {
  return std::string(reinterpret_cast<const char*>(glGetString(GL_VERSION))) + " | " +
         reinterpret_cast<const char*>(glGetString(GL_RENDERER));
}

}  // namespace ms
