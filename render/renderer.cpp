// The GL side of the views: a Scene (render/scene.h) is triangulated into vertex buffers and drawn into a
// multisampled FBO, which is resolved into the caller's framebuffer (draw) or read back tile by tile
// (export), so MSAA works whatever the window's own framebuffer is. Every piece of GL state touched by draw()
// is saved and restored, because the app draws ImGui into the same context around it.
#include "render/renderer.h"

#include <epoxy/gl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <stdexcept>
#include <thread>

#include "render/image_io.h"
#include "render/scene.h"
#include "render/shader.h"
#include "render/text.h"
#include "sim/errors.h"

namespace ms {

namespace {

constexpr int kMaxSphereClasses = 64;

struct TriVertex {
  float x, y, z;
  uint32_t rgba;
  float hatch;
};

struct TexVertex {
  float x, y, u, v;
  uint32_t rgba;
};

void pushTri(std::vector<TriVertex>& out, const TriVertex& a, const TriVertex& b, const TriVertex& c) {
  out.push_back(a);
  out.push_back(b);
  out.push_back(c);
}

// Thick polyline as quads with mitred joins (miter length capped), optionally dashed.
void strokePolyline(std::vector<TriVertex>& out, const std::vector<P2>& pts, const std::vector<float>& z,
                    bool closed, float width, uint32_t rgba) {
  const size_t n = pts.size();
  if (n < 2) return;
  const float hw = 0.5f * width;
  auto zAt = [&](size_t i) { return z.empty() ? 0.0f : z[i % z.size()]; };
  auto dir = [&](size_t i, size_t j) {
    float dx = pts[j].x - pts[i].x, dy = pts[j].y - pts[i].y;
    const float l = std::sqrt(dx * dx + dy * dy);
    return l > 1e-6f ? P2{dx / l, dy / l} : P2{0, 0};
  };
  std::vector<P2> off(n);
  for (size_t i = 0; i < n; ++i) {
    P2 d0, d1;
    if (closed) {
      d0 = dir((i + n - 1) % n, i);
      d1 = dir(i, (i + 1) % n);
    } else {
      d0 = i > 0 ? dir(i - 1, i) : dir(0, 1);
      d1 = i + 1 < n ? dir(i, i + 1) : dir(n - 2, n - 1);
    }
    P2 nrm{-(d0.y + d1.y), d0.x + d1.x};
    float l = std::sqrt(nrm.x * nrm.x + nrm.y * nrm.y);
    if (l < 1e-6f) nrm = {-d1.y, d1.x}, l = 1;
    nrm.x /= l, nrm.y /= l;
    const float c = nrm.x * -d1.y + nrm.y * d1.x;  // cos of half the turn
    const float s = hw / std::max(0.5f, std::fabs(c));
    off[i] = {nrm.x * s, nrm.y * s};
  }
  const size_t segs = closed ? n : n - 1;
  for (size_t i = 0; i < segs; ++i) {
    const size_t j = (i + 1) % n;
    TriVertex a{pts[i].x + off[i].x, pts[i].y + off[i].y, zAt(i), rgba, 0};
    TriVertex b{pts[i].x - off[i].x, pts[i].y - off[i].y, zAt(i), rgba, 0};
    TriVertex c{pts[j].x + off[j].x, pts[j].y + off[j].y, zAt(j), rgba, 0};
    TriVertex d{pts[j].x - off[j].x, pts[j].y - off[j].y, zAt(j), rgba, 0};
    pushTri(out, a, b, c);
    pushTri(out, b, d, c);
  }
}

void triangulate(const Shape& s, std::vector<TriVertex>& out) {
  const uint32_t c = packRgba(s.colour);
  auto zAt = [&](size_t i) { return s.z.empty() ? 0.0f : s.z[i]; };
  switch (s.kind) {
    case Shape::Kind::Fill:
      for (size_t i = 1; i + 1 < s.pts.size(); ++i)
        pushTri(out, {s.pts[0].x, s.pts[0].y, zAt(0), c, s.hatch ? 1.0f : 0.0f},
                {s.pts[i].x, s.pts[i].y, zAt(i), c, s.hatch ? 1.0f : 0.0f},
                {s.pts[i + 1].x, s.pts[i + 1].y, zAt(i + 1), c, s.hatch ? 1.0f : 0.0f});
      break;
    case Shape::Kind::Stroke:
      if (s.dash > 0 && s.pts.size() >= 2) {
        // Walk the polyline emitting dash-long pieces every 2 dash.
        double along = 0;
        const double dash = s.dash;
        for (size_t i = 0; i + 1 < s.pts.size(); ++i) {
          const P2 a = s.pts[i], b = s.pts[i + 1];
          const double len = std::hypot(b.x - a.x, b.y - a.y);
          for (double t = 0; t < len;) {
            const double phase = std::fmod(along, 2 * dash);
            const double step = std::min(len - t, std::max(1e-3, (phase < dash ? dash : 2 * dash) - phase));
            if (phase < dash) {
              const float t0 = float(t / len), t1 = float((t + step) / len);
              const P2 p{a.x + (b.x - a.x) * t0, a.y + (b.y - a.y) * t0};
              const P2 q{a.x + (b.x - a.x) * t1, a.y + (b.y - a.y) * t1};
              std::vector<float> z;  // depth along the piece (a dashed class-mean arrow on the sphere)
              if (s.z.size() == s.pts.size())
                z = {s.z[i] + (s.z[i + 1] - s.z[i]) * t0, s.z[i] + (s.z[i + 1] - s.z[i]) * t1};
              strokePolyline(out, {p, q}, z, false, s.width, c);
            }
            t += step;
            along += step;
          }
        }
      } else {
        strokePolyline(out, s.pts, s.z, s.closed, s.width, c);
      }
      break;
    case Shape::Kind::Segments:
      for (size_t i = 0; i + 1 < s.pts.size(); i += 2) {
        std::vector<float> z;
        if (!s.z.empty()) z = {s.z[i], s.z[i + 1]};
        strokePolyline(out, {s.pts[i], s.pts[i + 1]}, z, false, s.width, c);
      }
      break;
    case Shape::Kind::Image:
      break;
  }
}

// Colour, plus depth only when asked: llvmpipe zero-fills every new buffer, and a 4x multisampled depth
// buffer for a 1600x1200 export is 31 MB the circle view never reads.
struct Fbo {
  GLuint fbo = 0, colour = 0, depth = 0;  // depth: GL_DEPTH_COMPONENT32F (see render())
  int w = 0, h = 0, samples = 0;
  bool with_depth = false;
  void release() {
    if (fbo) glDeleteFramebuffers(1, &fbo);
    if (colour) glDeleteRenderbuffers(1, &colour);
    if (depth) glDeleteRenderbuffers(1, &depth);
    fbo = colour = depth = 0;
    w = h = 0;
  }
  void ensure(int width, int height, int nsamples, bool need_depth) {
    if (fbo && w == width && h == height && samples == nsamples && with_depth == need_depth) return;
    release();
    w = width, h = height, samples = nsamples, with_depth = need_depth;
    glGenFramebuffers(1, &fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    auto attach = [&](GLuint* rb, GLenum format, GLenum attachment) {
      glGenRenderbuffers(1, rb);
      glBindRenderbuffer(GL_RENDERBUFFER, *rb);
      if (samples > 0)
        glRenderbufferStorageMultisample(GL_RENDERBUFFER, samples, format, w, h);
      else
        glRenderbufferStorage(GL_RENDERBUFFER, format, w, h);
      glFramebufferRenderbuffer(GL_FRAMEBUFFER, attachment, GL_RENDERBUFFER, *rb);
    };
    attach(&colour, GL_RGBA8, GL_COLOR_ATTACHMENT0);
    if (with_depth) attach(&depth, GL_DEPTH_COMPONENT32F, GL_DEPTH_ATTACHMENT);
    if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
      throw std::runtime_error("render: framebuffer " + std::to_string(w) + "x" + std::to_string(h) +
                               " is incomplete");
  }
};

// The GL state draw() changes, restored on exit (the app draws ImGui into the same context).
struct SavedState {
  GLint viewport[4], scissor[4], program, vao, array_buffer, texture, active_texture, draw_fb, read_fb;
  GLint blend_src_rgb, blend_dst_rgb, blend_src_a, blend_dst_a, blend_eq_rgb, blend_eq_a, depth_func;
  GLboolean blend, depth_test, scissor_test, cull, depth_mask;
  GLfloat clear[4];
  SavedState() {
    glGetIntegerv(GL_VIEWPORT, viewport);
    glGetIntegerv(GL_SCISSOR_BOX, scissor);
    glGetIntegerv(GL_CURRENT_PROGRAM, &program);
    glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &vao);
    glGetIntegerv(GL_ARRAY_BUFFER_BINDING, &array_buffer);
    glGetIntegerv(GL_ACTIVE_TEXTURE, &active_texture);
    glActiveTexture(GL_TEXTURE0);
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &texture);
    glGetIntegerv(GL_DRAW_FRAMEBUFFER_BINDING, &draw_fb);
    glGetIntegerv(GL_READ_FRAMEBUFFER_BINDING, &read_fb);
    glGetIntegerv(GL_BLEND_SRC_RGB, &blend_src_rgb);
    glGetIntegerv(GL_BLEND_DST_RGB, &blend_dst_rgb);
    glGetIntegerv(GL_BLEND_SRC_ALPHA, &blend_src_a);
    glGetIntegerv(GL_BLEND_DST_ALPHA, &blend_dst_a);
    glGetIntegerv(GL_BLEND_EQUATION_RGB, &blend_eq_rgb);
    glGetIntegerv(GL_BLEND_EQUATION_ALPHA, &blend_eq_a);
    glGetIntegerv(GL_DEPTH_FUNC, &depth_func);
    blend = glIsEnabled(GL_BLEND);
    depth_test = glIsEnabled(GL_DEPTH_TEST);
    scissor_test = glIsEnabled(GL_SCISSOR_TEST);
    cull = glIsEnabled(GL_CULL_FACE);
    glGetBooleanv(GL_DEPTH_WRITEMASK, &depth_mask);
    glGetFloatv(GL_COLOR_CLEAR_VALUE, clear);
  }
  ~SavedState() {
    glViewport(viewport[0], viewport[1], viewport[2], viewport[3]);
    glScissor(scissor[0], scissor[1], scissor[2], scissor[3]);
    glUseProgram(program);
    glBindVertexArray(vao);
    glBindBuffer(GL_ARRAY_BUFFER, array_buffer);
    glBindTexture(GL_TEXTURE_2D, texture);
    glActiveTexture(active_texture);
    glBindFramebuffer(GL_DRAW_FRAMEBUFFER, draw_fb);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, read_fb);
    glBlendFuncSeparate(blend_src_rgb, blend_dst_rgb, blend_src_a, blend_dst_a);
    glBlendEquationSeparate(blend_eq_rgb, blend_eq_a);
    glDepthFunc(depth_func);
    glDepthMask(depth_mask);
    auto set = [](GLenum cap, GLboolean on) { on ? glEnable(cap) : glDisable(cap); };
    set(GL_BLEND, blend);
    set(GL_DEPTH_TEST, depth_test);
    set(GL_SCISSOR_TEST, scissor_test);
    set(GL_CULL_FACE, cull);
    glClearColor(clear[0], clear[1], clear[2], clear[3]);
  }
};

}  // namespace

bool sameView(const ViewOptions& a, const ViewOptions& b) {
  return a.kind == b.kind && a.theme == b.theme && a.show_points == b.show_points &&
         a.show_raw == b.show_raw && a.show_weights == b.show_weights &&
         a.weights_true_norm == b.weights_true_norm && a.show_regions == b.show_regions &&
         a.show_boundaries == b.show_boundaries && a.show_margins == b.show_margins &&
         a.show_annotations == b.show_annotations && a.show_test == b.show_test &&
         a.show_legend == b.show_legend && a.lighting == b.lighting && a.point_size == b.point_size &&
         a.yaw == b.yaw && a.pitch == b.pitch && a.zoom == b.zoom;
}

struct Renderer::Impl {
  GLuint tri_prog = 0, tex_prog = 0, pts_prog = 0, sph_prog = 0;
  GLuint vao = 0, tri_vbo = 0, tex_vbo = 0, pts_vbo = 0;
  GLuint table_tex = 0, image_tex = 0, short_tex = 0;
  GLuint pos_buf = 0, col_buf = 0, pos_tex = 0, col_tex = 0;  // point data as buffer textures
  std::map<int, std::pair<std::shared_ptr<BakedFont>, GLuint>> fonts;
  Fbo msaa, resolve;        // live draw(): holds the last frame's image between calls
  Fbo ex_msaa, ex_resolve;  // exports, so that an export never clobbers the live image
  bool image_ok = false;    // msaa/resolve hold the image of the cached scene
  int table_n = 4096;       // samples over [0, pi] of the sphere's rule table (capped by GL_MAX_TEXTURE_SIZE)
  int short_res = 32;       // patches per cube-face side of the sphere's class shortlist (0: no shortlist)
  int short_tex_res = 1;    // of the one in short_tex
  int samples = 4;          // live draw()
  int export_samples = 4;   // exports
  int tile_size = 2048;

  SnapshotPtr snap;
  bool dirty = true;
  // What depends on the snapshot alone, kept while only the view changes (a lecturer turning the sphere):
  // the decision rule (a pass over every point for the median norm), and the sphere's rule table and class
  // shortlist in table_tex and short_tex (some milliseconds of loss evaluations). Keyed by the snapshot
  // itself: a Snapshot is immutable, and holding the pointer keeps its address from being reused.
  SnapshotPtr rule_snap, table_snap;
  bool rule_ok = false, table_ok = false;
  DecisionRule rule;
  // Cache of the last scene built for draw(), keyed by what it depends on.
  Scene scene;
  bool scene_ok = false;
  ViewOptions scene_view;
  int scene_w = 0, scene_h = 0;
  float scene_scale = 0;
  Rgba scene_bg;
  // GPU mirror of the scene: uploaded only when the scene was rebuilt.
  std::vector<TriVertex> under_v, over_v;
  std::vector<float> point_pos;      // (n,4) xyz + hollow
  std::vector<uint32_t> point_rgba;  // (n)
  struct LayerRange {
    size_t first, count;
    float radius, alpha;
  };
  std::vector<LayerRange> layer_ranges;
  size_t under_n = 0, over_n = 0;
  bool uploaded = false;
  bool live = false;  // the scene was built for draw(), not for an export
  void prepareExport(const ViewOptions& view, const ExportOptions& ex, int* W, int* H);

  void init() {
    tri_prog = compileProgram("tri.vert", "tri.frag");
    tex_prog = compileProgram("textured.vert", "textured.frag");
    pts_prog = compileProgram("points.vert", "points.frag");
    sph_prog = compileProgram("sphere.vert", "sphere.frag");
    glGenVertexArrays(1, &vao);
    glGenBuffers(1, &tri_vbo);
    glGenBuffers(1, &tex_vbo);
    glGenBuffers(1, &pts_vbo);
    glGenBuffers(1, &pos_buf);
    glGenBuffers(1, &col_buf);
    glGenTextures(1, &pos_tex);
    glGenTextures(1, &col_tex);
    glGenTextures(1, &table_tex);
    glGenTextures(1, &image_tex);
    glGenTextures(1, &short_tex);
    GLint max_tex = 0;
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_tex);
    table_n = std::min(table_n, std::max(256, static_cast<int>(max_tex)));
    GLint max_samples = 0;
    glGetIntegerv(GL_MAX_SAMPLES, &max_samples);
    samples = std::min(4, std::max(0, max_samples));
    export_samples = samples;
    // Live frames: llvmpipe pays ~3x per frame for 4x MSAA (clear, per-sample blending, resolve), which would
    // cost the frame-rate targets; points, sphere and hatching are anti-aliased in their shaders anyway.
    // Exports always use MSAA. MS_MSAA=N overrides the live setting.
    const char* gl_renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
    if (gl_renderer && std::strstr(gl_renderer, "llvmpipe")) samples = 0;
    if (const char* env = std::getenv("MS_MSAA"))
      samples = std::clamp(std::atoi(env), 0, std::max(0, max_samples));
    // MS_SPHERE_SHORTLIST=0: the sphere shader loops over every class (the shortlist must not change a pixel;
    // the tests compare the two).
    if (const char* env = std::getenv("MS_SPHERE_SHORTLIST"))
      if (std::strcmp(env, "0") == 0) short_res = 0;
  }

  ~Impl() {
    msaa.release();
    resolve.release();
    ex_msaa.release();
    ex_resolve.release();
    for (auto& f : fonts) glDeleteTextures(1, &f.second.second);
    GLuint bufs[] = {tri_vbo, tex_vbo, pts_vbo, pos_buf, col_buf};
    glDeleteBuffers(5, bufs);
    GLuint texs[] = {table_tex, image_tex, pos_tex, col_tex, short_tex};
    glDeleteTextures(5, texs);
    glDeleteVertexArrays(1, &vao);
    for (GLuint p : {tri_prog, tex_prog, pts_prog, sph_prog}) glDeleteProgram(p);
  }

  // Builds the scene unless the cached one has the same inputs; returns true when rebuilt.
  bool prepare(const ViewOptions& view, int w, int h, float scale, Rgba bg) {
    if (scene_ok && !dirty && w == scene_w && h == scene_h && scale == scene_scale &&
        sameView(view, scene_view) && std::memcmp(&bg, &scene_bg, sizeof bg) == 0)
      return false;
    static const Snapshot empty;
    if (!rule_ok || rule_snap != snap) {
      rule = makeDecisionRule(snap ? *snap : empty);
      rule_snap = snap;
      rule_ok = true;
    }
    scene = buildScene(snap ? *snap : empty, view, w, h, scale, bg, &rule);
    scene_ok = true;
    dirty = false;
    scene_view = view;
    scene_w = w, scene_h = h, scene_scale = scale, scene_bg = bg;
    uploaded = false;
    return true;
  }

  // Live frames only: of the points that land in the same pixel (same side of the sphere, same fill), only
  // the last one drawn is kept. It would cover the others up to a sub-pixel sliver, and 100,000 points on a
  // circle of ~2,000 pixels are mostly such repeats: this is what makes 100k points cheap under llvmpipe.
  // Exports draw every point.
  // last_at is -1 everywhere between calls: a call resets only the slots it touched, because refilling all
  // 4 W H entries (16 MB at 1280x800) cost more than the points themselves.
  std::vector<int32_t> last_at;  // (4, H, W) index of the last point per pixel, side and fill
  std::vector<size_t> touched;   // slots of last_at this call set
  std::vector<uint8_t> keep;
  void appendDeduplicated(const PointLayer& L) {
    const int W = scene.width, H = scene.height;
    const size_t plane = static_cast<size_t>(W) * H, n = L.rgba.size();
    if (last_at.size() != plane * 4) last_at.assign(plane * 4, -1);
    touched.clear();
    keep.assign(n, 0);
    const float* M = scene.model_to_px;
    for (size_t i = 0; i < n; ++i) {
      const float x = L.pos[i * 3], y = L.pos[i * 3 + 1], z = L.pos[i * 3 + 2];
      const float px = M[0] * x + M[4] * y + M[8] * z + M[12];
      const float py = M[1] * x + M[5] * y + M[9] * z + M[13];
      const float depth = M[2] * x + M[6] * y + M[10] * z + M[14];
      // Sphere: a point on the far hemisphere is behind the opaque sphere; the depth test would reject it.
      if (scene.sphere && depth > 0 && x * x + y * y + z * z <= 1.0001f) continue;
      const int ix = static_cast<int>(std::floor(px)), iy = static_cast<int>(std::floor(py));
      if (ix < 0 || iy < 0 || ix >= W || iy >= H) {
        keep[i] = 1;  // off screen but its disc may reach in: keep
        continue;
      }
      const size_t slot =
          (static_cast<size_t>(depth < 0) * 2 + L.hollow[i]) * plane + static_cast<size_t>(iy) * W + ix;
      if (last_at[slot] >= 0)
        keep[static_cast<size_t>(last_at[slot])] = 0;
      else
        touched.push_back(slot);
      last_at[slot] = static_cast<int32_t>(i);
      keep[i] = 1;
    }
    for (size_t slot : touched) last_at[slot] = -1;
    for (size_t i = 0; i < n; ++i)
      if (keep[i]) {
        point_pos.insert(point_pos.end(),
                         {L.pos[i * 3], L.pos[i * 3 + 1], L.pos[i * 3 + 2], float(L.hollow[i])});
        point_rgba.push_back(L.rgba[i]);
      }
  }

  void upload() {
    if (uploaded) return;
    under_v.clear();
    over_v.clear();
    for (const Shape& s : scene.under) triangulate(s, under_v);
    for (const Shape& s : scene.over) triangulate(s, over_v);
    under_n = under_v.size();
    over_n = over_v.size();
    std::vector<TriVertex> all = under_v;
    all.insert(all.end(), over_v.begin(), over_v.end());
    glBindBuffer(GL_ARRAY_BUFFER, tri_vbo);
    glBufferData(GL_ARRAY_BUFFER, all.size() * sizeof(TriVertex), all.data(), GL_DYNAMIC_DRAW);
    point_pos.clear();
    point_rgba.clear();
    layer_ranges.clear();
    for (const PointLayer& L : scene.layers) {
      const size_t first = point_rgba.size();
      if (live)
        appendDeduplicated(L);
      else
        for (size_t i = 0; i < L.rgba.size(); ++i) {
          point_pos.insert(point_pos.end(),
                           {L.pos[i * 3], L.pos[i * 3 + 1], L.pos[i * 3 + 2], float(L.hollow[i])});
          point_rgba.push_back(L.rgba[i]);
        }
      layer_ranges.push_back({first, point_rgba.size() - first, L.radius, L.alpha});
    }
    if (point_pos.empty()) point_pos.assign(4, 0.0f), point_rgba.assign(1, 0u);  // never an empty buffer
    glBindBuffer(GL_TEXTURE_BUFFER, pos_buf);
    glBufferData(GL_TEXTURE_BUFFER, point_pos.size() * sizeof(float), point_pos.data(), GL_DYNAMIC_DRAW);
    glBindBuffer(GL_TEXTURE_BUFFER, col_buf);
    glBufferData(GL_TEXTURE_BUFFER, point_rgba.size() * sizeof(uint32_t), point_rgba.data(), GL_DYNAMIC_DRAW);
    glBindBuffer(GL_TEXTURE_BUFFER, 0);
    glBindTexture(GL_TEXTURE_BUFFER, pos_tex);
    glTexBuffer(GL_TEXTURE_BUFFER, GL_RGBA32F, pos_buf);
    glBindTexture(GL_TEXTURE_BUFFER, col_tex);
    glTexBuffer(GL_TEXTURE_BUFFER, GL_RGBA8, col_buf);
    glBindTexture(GL_TEXTURE_BUFFER, 0);
    // Sphere rule table and class shortlist (once per snapshot), and the input-space image.
    if (scene.sphere && scene.rule.valid() && !(table_ok && table_snap == rule_snap)) {
      const int K = std::min(scene.rule.K, kMaxSphereClasses);
      // The shader sees the first K <= 64 classes only, and so do the table and the shortlist.
      DecisionRule first = scene.rule;
      first.K = K;
      first.dirs.resize(static_cast<size_t>(K) * 3);
      first.wnorm.resize(K);
      // K x 4096 x 3 loss evaluations are a few milliseconds, and a new snapshot needs them before the
      // sphere can be drawn; the rasteriser threads are idle at this point, so half the classes go to a
      // helper thread.
      std::vector<float> rgb(static_cast<size_t>(K) * table_n * 3);
      const int half = K / 2;
      std::exception_ptr helper_error;
      std::thread helper([&] {
        try {
          tabulateRuleRows(first, table_n, half, K, rgb.data());
        } catch (...) {
          helper_error = std::current_exception();
        }
      });
      tabulateRuleRows(first, table_n, 0, half, rgb.data());
      helper.join();
      if (helper_error) std::rethrow_exception(helper_error);
      // RGBA32F rather than RGB32F: llvmpipe samples 16-byte texels on its fast path (about 2x faster here).
      std::vector<float> table(rgb.size() / 3 * 4, 0.0f);
      for (size_t i = 0; i < rgb.size() / 3; ++i)
        for (int c = 0; c < 3; ++c) table[i * 4 + c] = rgb[i * 3 + c];
      glBindTexture(GL_TEXTURE_2D, table_tex);
      glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
      glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32F, table_n, K, 0, GL_RGBA, GL_FLOAT, table.data());
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
      // (An invalid rule gives the 1 x 1 x 6 shortlist of "every class".)
      const SphereShortlist sl = short_res > 0 ? shortlistSphere(first, rgb, table_n, short_res)
                                               : shortlistSphere({}, {}, table_n, 1);
      short_tex_res = sl.res;
      glBindTexture(GL_TEXTURE_2D, short_tex);
      glTexImage2D(GL_TEXTURE_2D, 0, GL_RG32UI, sl.res, 6 * sl.res, 0, GL_RG_INTEGER, GL_UNSIGNED_INT,
                   sl.texels.data());
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
      table_snap = rule_snap;
      table_ok = true;
    }
    for (const Shape& s : scene.under)
      if (s.kind == Shape::Kind::Image) {
        glBindTexture(GL_TEXTURE_2D, image_tex);
        glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, s.img_w, s.img_h, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                     s.rgba.data());
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
      }
    uploaded = true;
  }

  GLuint fontTexture(int px, std::shared_ptr<BakedFont>* font) {
    auto it = fonts.find(px);
    if (it == fonts.end()) {
      if (fonts.size() > 12) {  // sizes change with the window; keep a bounded cache
        for (auto& f : fonts) glDeleteTextures(1, &f.second.second);
        fonts.clear();
      }
      std::shared_ptr<BakedFont> f = bakeFont(px);
      GLuint tex = 0;
      if (f) {
        glGenTextures(1, &tex);
        glBindTexture(GL_TEXTURE_2D, tex);
        glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, f->width, f->height, 0, GL_RED, GL_UNSIGNED_BYTE,
                     f->pixels.data());
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
        glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
      }
      it = fonts.emplace(px, std::make_pair(f, tex)).first;
    }
    *font = it->second.first;
    return it->second.second;
  }

  void bindTriLayout() {
    glBindBuffer(GL_ARRAY_BUFFER, tri_vbo);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 3, GL_FLOAT, GL_FALSE, sizeof(TriVertex), (void*)offsetof(TriVertex, x));
    glEnableVertexAttribArray(1);
    glVertexAttribPointer(1, 4, GL_UNSIGNED_BYTE, GL_TRUE, sizeof(TriVertex),
                          (void*)offsetof(TriVertex, rgba));
    glEnableVertexAttribArray(2);
    glVertexAttribPointer(2, 1, GL_FLOAT, GL_FALSE, sizeof(TriVertex), (void*)offsetof(TriVertex, hatch));
    glVertexAttribDivisor(0, 0);
    glVertexAttribDivisor(1, 0);
    glVertexAttribDivisor(2, 0);
  }

  void drawTris(size_t first, size_t count, const float tile[4]) {
    if (count == 0) return;
    glUseProgram(tri_prog);
    glUniform4fv(glGetUniformLocation(tri_prog, "u_tile"), 1, tile);
    glUniform2f(glGetUniformLocation(tri_prog, "u_hatch"), 9.0f * scene.ui, 1.6f * scene.ui);
    bindTriLayout();
    glDrawArrays(GL_TRIANGLES, static_cast<GLint>(first), static_cast<GLsizei>(count));
  }

  void drawTextured(const std::vector<TexVertex>& v, GLuint tex, int mode, const float tile[4]) {
    if (v.empty()) return;
    glUseProgram(tex_prog);
    glUniform4fv(glGetUniformLocation(tex_prog, "u_tile"), 1, tile);
    glUniform1i(glGetUniformLocation(tex_prog, "u_mode"), mode);
    glUniform1i(glGetUniformLocation(tex_prog, "u_tex"), 0);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, tex);
    glBindBuffer(GL_ARRAY_BUFFER, tex_vbo);
    glBufferData(GL_ARRAY_BUFFER, v.size() * sizeof(TexVertex), v.data(), GL_STREAM_DRAW);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, sizeof(TexVertex), (void*)offsetof(TexVertex, x));
    glEnableVertexAttribArray(1);
    glVertexAttribPointer(1, 2, GL_FLOAT, GL_FALSE, sizeof(TexVertex), (void*)offsetof(TexVertex, u));
    glEnableVertexAttribArray(2);
    glVertexAttribPointer(2, 4, GL_UNSIGNED_BYTE, GL_TRUE, sizeof(TexVertex),
                          (void*)offsetof(TexVertex, rgba));
    glVertexAttribDivisor(0, 0);
    glVertexAttribDivisor(1, 0);
    glVertexAttribDivisor(2, 0);
    glDrawArrays(GL_TRIANGLES, 0, static_cast<GLsizei>(v.size()));
  }

  void quad(std::vector<TexVertex>& v, float x0, float y0, float x1, float y1, float u0, float v0, float u1,
            float v1, uint32_t c) {
    v.push_back({x0, y0, u0, v0, c});
    v.push_back({x1, y0, u1, v0, c});
    v.push_back({x1, y1, u1, v1, c});
    v.push_back({x0, y0, u0, v0, c});
    v.push_back({x1, y1, u1, v1, c});
    v.push_back({x0, y1, u0, v1, c});
  }

  void drawImages(const float tile[4]) {
    for (const Shape& s : scene.under)
      if (s.kind == Shape::Kind::Image && s.pts.size() == 2) {
        std::vector<TexVertex> v;
        quad(v, s.pts[0].x, s.pts[0].y, s.pts[1].x, s.pts[1].y, 0, 0, 1, 1, 0xFFFFFFFFu);
        drawTextured(v, image_tex, 1, tile);
      }
  }

  void drawTexts(const float tile[4]) {
    std::map<int, std::vector<TexVertex>> by_size;
    std::vector<GlyphQuad> q;
    for (const TextItem& t : scene.texts) {
      const int px = std::max(6, static_cast<int>(std::lround(t.size)));
      std::shared_ptr<BakedFont> font;
      fontTexture(px, &font);
      if (!font) continue;
      float x = t.x;
      if (t.anchor != 0) x -= textWidth(t.text, static_cast<float>(px)) * (t.anchor == 1 ? 0.5f : 1.0f);
      q.clear();
      layoutText(*font, t.text, std::round(x), std::round(t.y), q);
      std::vector<TexVertex>& v = by_size[px];
      if (t.halo) {  // eight offset copies in the background colour under the text
        const Rgba bg = scene.background.a > 0 ? scene.background : scene.theme.background;
        const uint32_t hc = packRgba(withAlpha(bg, 0.85f));
        const float r = std::max(1.0f, 0.1f * px);
        for (int k = 0; k < 8; ++k) {
          const float ox = r * std::cos(k * 0.785398f), oy = r * std::sin(k * 0.785398f);
          for (const GlyphQuad& g : q)
            quad(v, g.x0 + ox, g.y0 + oy, g.x1 + ox, g.y1 + oy, g.u0, g.v0, g.u1, g.v1, hc);
        }
      }
      const uint32_t c = packRgba(t.colour);
      for (const GlyphQuad& g : q) quad(v, g.x0, g.y0, g.x1, g.y1, g.u0, g.v0, g.u1, g.v1, c);
    }
    for (auto& [px, v] : by_size) {
      std::shared_ptr<BakedFont> font;
      const GLuint tex = fontTexture(px, &font);
      drawTextured(v, tex, 0, tile);
    }
  }

  void drawPoints(const float tile[4], bool sprites) {
    if (layer_ranges.empty()) return;
    glUseProgram(pts_prog);
    glUniform1i(glGetUniformLocation(pts_prog, "u_sprite"), sprites ? 1 : 0);
    if (sprites) glEnable(GL_PROGRAM_POINT_SIZE);
    glUniform4fv(glGetUniformLocation(pts_prog, "u_tile"), 1, tile);
    glUniformMatrix4fv(glGetUniformLocation(pts_prog, "u_model_to_px"), 1, GL_FALSE, scene.model_to_px);
    glActiveTexture(GL_TEXTURE1);
    glBindTexture(GL_TEXTURE_BUFFER, pos_tex);
    glActiveTexture(GL_TEXTURE2);
    glBindTexture(GL_TEXTURE_BUFFER, col_tex);
    glActiveTexture(GL_TEXTURE0);
    glUniform1i(glGetUniformLocation(pts_prog, "u_pos"), 1);
    glUniform1i(glGetUniformLocation(pts_prog, "u_colour"), 2);
    for (const LayerRange& L : layer_ranges) {
      if (L.count == 0) continue;
      glUniform1i(glGetUniformLocation(pts_prog, "u_first"), static_cast<GLint>(L.first));
      glUniform1f(glGetUniformLocation(pts_prog, "u_radius"), L.radius);
      glUniform1f(glGetUniformLocation(pts_prog, "u_alpha"), L.alpha);
      if (sprites)
        glDrawArrays(GL_POINTS, 0, static_cast<GLsizei>(L.count));
      else
        glDrawArrays(GL_TRIANGLES, 0, static_cast<GLsizei>(L.count * 6));
    }
    if (sprites) glDisable(GL_PROGRAM_POINT_SIZE);
    glActiveTexture(GL_TEXTURE1);
    glBindTexture(GL_TEXTURE_BUFFER, 0);
    glActiveTexture(GL_TEXTURE2);
    glBindTexture(GL_TEXTURE_BUFFER, 0);
    glActiveTexture(GL_TEXTURE0);
  }

  void drawSphere(const float tile[4]) {
    const Scene& sc = scene;
    const ThemeColours& th = sc.theme;
    glUseProgram(sph_prog);
    auto U = [&](const char* n) { return glGetUniformLocation(sph_prog, n); };
    glUniform4fv(U("u_tile"), 1, tile);
    glUniform2f(U("u_centre"), sc.sphere_cx, sc.sphere_cy);
    glUniform1f(U("u_radius"), sc.sphere_r);
    glUniformMatrix3fv(U("u_rot"), 1, GL_TRUE, sc.rot);
    const bool valid = sc.rule.valid() && sc.rule.dim == 3;
    const int K = valid ? std::min(sc.rule.K, kMaxSphereClasses) : 0;
    std::vector<float> w(static_cast<size_t>(K) * 3), col(static_cast<size_t>(K) * 3);
    for (int j = 0; j < K; ++j) {
      for (int k = 0; k < 3; ++k) w[j * 3 + k] = static_cast<float>(sc.rule.dirs[j * 3 + k]);
      const Rgba c = classColour(j, sc.palette_K);
      col[j * 3] = c.r, col[j * 3 + 1] = c.g, col[j * 3 + 2] = c.b;
    }
    glUniform1i(U("u_K"), K);
    if (K > 0) {
      glUniform3fv(U("u_w"), K, w.data());
      glUniform3fv(U("u_colour"), K, col.data());
    }
    glUniform1i(U("u_valid"), valid ? 1 : 0);
    glUniform1i(U("u_N"), table_n);
    glUniform1i(U("u_table"), 0);
    glUniform1i(U("u_short"), 3);
    glUniform1i(U("u_short_res"), short_tex_res);
    glActiveTexture(GL_TEXTURE3);
    glBindTexture(GL_TEXTURE_2D, short_tex);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, table_tex);
    glUniform3f(U("u_base"), th.sphere.r, th.sphere.g, th.sphere.b);
    glUniform3f(U("u_fg"), th.foreground.r, th.foreground.g, th.foreground.b);
    glUniform3f(U("u_band"), th.band.r, th.band.g, th.band.b);
    glUniform1f(U("u_region"), sc.view.theme == Theme::Paper ? 0.5f : 0.6f);
    glUniform1f(U("u_line"), 1.8f * sc.ui);
    glUniform2f(U("u_hatch"), 9.0f * sc.ui, 1.6f * sc.ui);
    glUniform1i(U("u_regions"), sc.view.show_regions ? 1 : 0);
    glUniform1i(U("u_bounds"), sc.view.show_boundaries ? 1 : 0);
    glUniform1i(U("u_margins"), sc.view.show_margins ? 1 : 0);
    glUniform1i(U("u_lighting"), sc.view.lighting ? 1 : 0);
    glDrawArrays(GL_TRIANGLES, 0, 6);
    glActiveTexture(GL_TEXTURE3);
    glBindTexture(GL_TEXTURE_2D, 0);
    glActiveTexture(GL_TEXTURE0);
  }

  // Renders the cached scene into the bound framebuffer; tile = (x0, y0, w, h) of the image it covers.
  // scissor > 0: rasterise only that many pixels square in the corner (warmUp: every draw is issued, so
  // every shader variant is compiled, but almost no pixel is shaded).
  void render(const float tile[4], bool sprites, int scissor = 0) {
    upload();
    glBindVertexArray(vao);
    if (scissor > 0) {
      glEnable(GL_SCISSOR_TEST);
      glScissor(0, 0, scissor, scissor);
    } else {
      glDisable(GL_SCISSOR_TEST);
    }
    glDisable(GL_CULL_FACE);
    glEnable(GL_BLEND);
    glBlendEquation(GL_FUNC_ADD);
    // Straight-alpha sources composited "over" into premultiplied destination colour: correct for both opaque
    // and transparent backgrounds (readback divides by alpha).
    glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
    const Rgba& bg = scene.background;
    glClearColor(bg.r * bg.a, bg.g * bg.a, bg.b * bg.a, bg.a);
    glDepthMask(GL_TRUE);
    glClearDepth(1.0);
    // 32-bit float depth: llvmpipe clears a 24-bit depth format with a read-modify-write of every pixel (to
    // keep the 8 bits beside it), a float one with a plain fill. Only the sphere view uses depth at all.
    glClear(scene.depth ? GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT : GL_COLOR_BUFFER_BIT);  // see Fbo
    glDisable(GL_DEPTH_TEST);
    drawImages(tile);
    drawTris(0, under_n, tile);
    if (scene.depth) {
      glEnable(GL_DEPTH_TEST);
      glDepthFunc(GL_LESS);
    }
    if (scene.sphere) {
      glDepthFunc(GL_ALWAYS);
      drawSphere(tile);
      glDepthFunc(GL_LESS);
    }
    drawPoints(tile, sprites);
    if (scene.depth) glDepthMask(GL_FALSE);  // overlay tests against the sphere but does not occlude itself
    drawTris(under_n, over_n, tile);
    glDisable(GL_DEPTH_TEST);
    glDepthMask(GL_TRUE);
    drawTexts(tile);
    glBindVertexArray(0);
  }
};

Renderer::Renderer() : impl_(std::make_unique<Impl>()) {
  impl_->init();
}
Renderer::~Renderer() = default;

void Renderer::setExportTileSize(int pixels) {
  impl_->tile_size = std::clamp(pixels, 64, 8192);
}

void Renderer::setSnapshot(SnapshotPtr s) {
  impl_->snap = std::move(s);
  impl_->dirty = true;
}

void Renderer::draw(const ViewOptions& view, int x, int y, int w, int h, float pixel_scale) {
  if (w <= 0 || h <= 0) return;
  SavedState saved;
  Impl& I = *impl_;
  if (!I.live) I.scene_ok = false;
  I.live = true;
  const bool rebuilt = I.prepare(view, w, h, pixel_scale, backgroundColour(view.theme, Background::Theme));
  // Same snapshot, view and size as the last call: the image from then is still right, so only the copy
  // to the caller's framebuffer is paid. The app draws at display rate but gets a snapshot at most 30 times
  // a second, and not at all while paused.
  if (rebuilt || !I.image_ok || I.msaa.w != w || I.msaa.h != h) {
    I.msaa.ensure(w, h, I.samples, I.scene.depth);
    if (I.samples > 0) I.resolve.ensure(w, h, 0, false);
    glBindFramebuffer(GL_FRAMEBUFFER, I.msaa.fbo);
    glViewport(0, 0, w, h);
    const float tile[4] = {0, 0, float(w), float(h)};
    I.render(tile, true);
    if (I.samples > 0) {
      // Resolve first: a multisampled window framebuffer cannot take a resolve blit directly.
      glBindFramebuffer(GL_READ_FRAMEBUFFER, I.msaa.fbo);
      glBindFramebuffer(GL_DRAW_FRAMEBUFFER, I.resolve.fbo);
      glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL_COLOR_BUFFER_BIT, GL_NEAREST);
    }
    I.image_ok = true;
  }
  glBindFramebuffer(GL_READ_FRAMEBUFFER, I.samples > 0 ? I.resolve.fbo : I.msaa.fbo);
  glBindFramebuffer(GL_DRAW_FRAMEBUFFER, saved.draw_fb);
  glBlitFramebuffer(0, 0, w, h, x, y, x + w, y + h, GL_COLOR_BUFFER_BIT, GL_NEAREST);
}

void Renderer::exportPng(const ViewOptions& view, const ExportOptions& ex, const std::string& path) {
  int W = 0, H = 0;
  const std::vector<uint8_t> img = renderImage(view, ex, &W, &H);
  writePngAtomic(path, W, H, img, ex.info);
}

// Validates the export options and builds the scene and the export buffers for them; returns the image size.
void Renderer::Impl::prepareExport(const ViewOptions& view, const ExportOptions& ex, int* W, int* H) {
  if (!(ex.scale >= 0.25f && ex.scale <= 8.0f))
    throw UserError("export scale " + std::to_string(ex.scale) + " is out of range: allowed 0.25..8");
  if (ex.width < 16 || ex.height < 16 || ex.width > 16384 || ex.height > 16384)
    throw UserError("export size " + std::to_string(ex.width) + "x" + std::to_string(ex.height) +
                    " is out of range: allowed 16..16384 per side");
  *W = static_cast<int>(std::lround(ex.width * ex.scale));
  *H = static_cast<int>(std::lround(ex.height * ex.scale));
  // Exports never reuse draw()'s cache: it is keyed by window size.
  scene_ok = false;
  live = false;
  prepare(view, *W, *H, ex.scale, backgroundColour(view.theme, ex.background));
  scene_ok = false;  // the next draw() rebuilds its own
  // Tiles keep the multisampled buffer small whatever the export size (8x of 1600x1200 is 12800x9600).
  ex_msaa.ensure(std::min(*W, tile_size), std::min(*H, tile_size), export_samples, scene.depth);
  ex_resolve.ensure(std::min(*W, tile_size), std::min(*H, tile_size), 0, false);
}

void Renderer::warmUp(const ViewOptions& view, const ExportOptions& ex) {
  SavedState saved;
  Impl& I = *impl_;
  int W = 0, H = 0;
  I.prepareExport(view, ex, &W, &H);
  glBindFramebuffer(GL_FRAMEBUFFER, I.ex_msaa.fbo);
  glViewport(0, 0, I.ex_msaa.w, I.ex_msaa.h);
  const float tile[4] = {0, 0, float(I.ex_msaa.w), float(I.ex_msaa.h)};
  I.render(tile, false, 16);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, I.ex_msaa.fbo);
  glBindFramebuffer(GL_DRAW_FRAMEBUFFER, I.ex_resolve.fbo);
  glBlitFramebuffer(0, 0, 16, 16, 0, 0, 16, 16, GL_COLOR_BUFFER_BIT, GL_NEAREST);
  glFinish();
}

std::vector<uint8_t> Renderer::renderImage(const ViewOptions& view, const ExportOptions& ex, int* width,
                                           int* height) {
  SavedState saved;
  Impl& I = *impl_;
  int W = 0, H = 0;
  I.prepareExport(view, ex, &W, &H);
  const int tw = I.ex_msaa.w, th = I.ex_msaa.h;
  std::vector<uint8_t> img(static_cast<size_t>(W) * H * 4);
  std::vector<uint8_t> rows(static_cast<size_t>(tw) * th * 4);
  for (int ty = 0; ty < H; ty += th)
    for (int tx = 0; tx < W; tx += tw) {
      const int cw = std::min(tw, W - tx), ch = std::min(th, H - ty);
      glBindFramebuffer(GL_FRAMEBUFFER, I.ex_msaa.fbo);
      glViewport(0, 0, tw, th);
      // The tile spans tw x th pixels of the image starting at (tx, ty); only cw x ch of it is kept.
      const float tile[4] = {float(tx), float(ty), float(tw), float(th)};
      I.render(tile, false);
      glBindFramebuffer(GL_READ_FRAMEBUFFER, I.ex_msaa.fbo);
      glBindFramebuffer(GL_DRAW_FRAMEBUFFER, I.ex_resolve.fbo);
      glBlitFramebuffer(0, 0, tw, th, 0, 0, tw, th, GL_COLOR_BUFFER_BIT, GL_NEAREST);
      glBindFramebuffer(GL_READ_FRAMEBUFFER, I.ex_resolve.fbo);
      glPixelStorei(GL_PACK_ALIGNMENT, 1);
      // GL rows run bottom-up: the tile's top row (image row ty) is GL row th-1.
      glReadPixels(0, th - ch, cw, ch, GL_RGBA, GL_UNSIGNED_BYTE, rows.data());
      for (int r = 0; r < ch; ++r) {
        const uint8_t* src = &rows[static_cast<size_t>(ch - 1 - r) * cw * 4];
        std::memcpy(&img[(static_cast<size_t>(ty + r) * W + tx) * 4], src, static_cast<size_t>(cw) * 4);
      }
    }
  // The export buffers stay for the next export: `render` warms up with an export of the same size while it
  // trains, so the real one finds its (up to 2048^2 x 4 samples) buffers allocated and faulted in.
  // Premultiplied -> straight alpha (a no-op on opaque backgrounds).
  for (size_t i = 0; i < img.size(); i += 4) {
    const int a = img[i + 3];
    if (a == 0 || a == 255) continue;
    for (int c = 0; c < 3; ++c)
      img[i + c] = static_cast<uint8_t>(std::min(255, (img[i + c] * 255 + a / 2) / a));
  }
  *width = W;
  *height = H;
  return img;
}

}  // namespace ms
