#version 330 core
// The unit sphere under an orthographic orbit camera, painted with the loss's decision rule per pixel.
// The rule comes as a table (render/decision.h tabulateRule): for class j and angle t in [0, pi], the test,
// target and other logits of sim/loss.h, so this shader needs no per-loss formulas. Class c wins where its
// test logit is largest; the winner claims the point when its target logit beats every other class's other
// logit; unclaimed points are the margin band (hatched). Boundary curves are drawn where the winning margin
// (or the claim margin) is within a pixel of zero, measured with screen-space derivatives. Each pixel asks
// only the few classes that can matter in its patch of the sphere (render/decision.h shortlistSphere), which
// gives the same numbers as asking all K.
uniform vec4 u_tile;     // x0, y0, width, height of this tile in image pixels (y down)
uniform vec2 u_centre;   // sphere centre, image pixels
uniform float u_radius;  // sphere radius, pixels
uniform mat3 u_rot;      // world -> camera
uniform int u_K;
uniform vec3 u_w[64];  // unit class directions
uniform vec3 u_colour[64];
uniform sampler2D u_table;  // (K rows, N columns) RGB = test, target, other
uniform int u_N;
uniform usampler2D u_short;  // (6 R, R) RG: up to 8 classes that may matter there (render/decision.h)
uniform int u_short_res;     // R
uniform int u_valid;     // 0: no rule (plain sphere)
uniform vec3 u_base;     // sphere colour
uniform vec3 u_fg;       // lines
uniform vec3 u_band;     // band hatching
uniform float u_region;  // class tint strength
uniform float u_line;    // line width, pixels
uniform vec2 u_hatch;    // period, width (pixels)
uniform int u_regions, u_bounds, u_margins, u_lighting;
out vec4 o_colour;

vec3 logits(int j, vec3 n) {
  // Nearest angle sample (the table is fine enough, 0.05 deg apart): one fetch is llvmpipe's cheapest.
  float t = acos(clamp(dot(n, u_w[j]), -1.0, 1.0)) * (float(u_N - 1) / 3.14159265358979);
  return texelFetch(u_table, ivec2(int(t + 0.5), j), 0).rgb;
}

// The patch of unit direction n in the shortlist's cube map (render/decision.h shortlistSphere).
ivec2 patch(vec3 n) {
  vec3 a = abs(n);
  int face;
  vec2 uv;
  if (a.x >= a.y && a.x >= a.z) {
    face = n.x >= 0.0 ? 0 : 1;
    uv = n.yz / a.x;
  } else if (a.y >= a.z) {
    face = n.y >= 0.0 ? 2 : 3;
    uv = n.xz / a.y;
  } else {
    face = n.z >= 0.0 ? 4 : 5;
    uv = n.xy / a.z;
  }
  ivec2 t = clamp(ivec2((uv * 0.5 + 0.5) * float(u_short_res)), ivec2(0), ivec2(u_short_res - 1));
  return ivec2(t.x, face * u_short_res + t.y);
}

void main() {
  vec2 px = vec2(gl_FragCoord.x + u_tile.x, u_tile.y + u_tile.w - gl_FragCoord.y);
  vec2 q = (px - u_centre) / u_radius;
  q.y = -q.y;
  float rr = dot(q, q);
  float rlen = sqrt(rr);
  vec3 nc = vec3(q, sqrt(max(0.0, 1.0 - rr)));  // camera-space normal
  if (rr > 1.0) nc = vec3(q / rlen, 0.0);
  // Nothing of the disc or its outline here (a <= 0 below from 0.5 u_line + 0.5 on): skip the rule; whole
  // 4x4 blocks of the bounding square outside the disc then cost llvmpipe almost nothing. Two pixels further
  // out than needed, so that no visible pixel shares a 2x2 quad (and its derivatives) with a discarded one.
  if ((rlen - 1.0) * u_radius >= 0.5 * u_line + 2.5) discard;
  vec3 n = nc * u_rot;  // transpose(u_rot) * nc: back to world

  vec3 col = u_base;
  float line_b = 0.0, line_m = 0.0;
  if (u_valid == 1 && u_K > 0) {
    float best = -3.0e38, second = -3.0e38, o1 = -3.0e38, o2 = -3.0e38;
    int win = 0, o1i = -1;
    float tgt_win = 0.0;
    // Only the classes of this pixel's shortlist, in ascending order: the same winner, runner-up and
    // margins as a loop over all K (ties included), at a fraction of the texture fetches.
    uvec2 sl = texelFetch(u_short, patch(n), 0).xy;
    bool every = (sl.x & 255u) == 254u;
    // do-while, tested at the end: llvmpipe runs a loop body once more than the most iterations of any of
    // its lanes when the exit test is at the top, and that spare pass would cost as much as a real one.
    int c = 0;
    int j = every ? 0 : int(sl.x & 255u);  // a list is never empty
    do {
      vec3 l = logits(j, n);
      if (l.x > best) {
        second = best;
        best = l.x;
        win = j;
        tgt_win = l.y;
      } else if (l.x > second) {
        second = l.x;
      }
      if (l.z > o1) {
        o2 = o1;
        o1 = l.z;
        o1i = j;
      } else if (l.z > o2) {
        o2 = l.z;
      }
      ++c;
      j = every ? c : (c < 8 ? int(((c < 4 ? sl.x : sl.y) >> uint(8 * (c & 3))) & 255u) : 255);
    } while (every ? c < u_K : j != 255);
    float other_max = (o1i == win) ? o2 : o1;
    float g = tgt_win - other_max;  // > 0: the winner claims this point at training time
    float d = best - second;        // >= 0, zero on a test boundary
    if (u_regions == 1) col = mix(u_base, u_colour[win], u_region);
    if (u_margins == 1 && u_K > 1 && g <= 0.0) {
      col = mix(col, u_band, 0.18);
      float t = (px.x + px.y) * 0.70710678;
      float hd = abs(fract(t / u_hatch.x + 0.5) - 0.5) * u_hatch.x;
      col = mix(col, u_band, 0.32 * clamp(0.5 * u_hatch.y - hd + 0.5, 0.0, 1.0));
    }
    float fd = max(fwidth(d), 1e-30);
    float fg = max(fwidth(g), 1e-30);
    if (u_bounds == 1 && u_K > 1) line_b = clamp(0.5 * u_line - d / fd + 0.5, 0.0, 1.0);
    if (u_margins == 1 && u_K > 1) line_m = clamp(0.5 * u_line * 0.8 - abs(g) / fg + 0.5, 0.0, 1.0);
    col = mix(col, mix(u_colour[win], u_fg, 0.3), line_m);
  }
  if (u_lighting == 1) {
    vec3 L = normalize(vec3(-0.45, 0.6, 0.75));
    float diff = max(dot(nc, L), 0.0);
    float spec = pow(max(dot(reflect(-L, nc), vec3(0.0, 0.0, 1.0)), 0.0), 40.0);
    col = col * (0.62 + 0.45 * diff) + vec3(0.15 * spec);
  }
  col = mix(col, u_fg, line_b);
  // Silhouette: coverage from the distance to the rim, plus an outline.
  float edge = (1.0 - rlen) * u_radius;
  float fill = clamp(edge + 0.5, 0.0, 1.0);
  float outline = clamp(0.5 * u_line - abs(edge) + 0.5, 0.0, 1.0);
  col = mix(col, u_fg, outline);
  float a = max(fill, outline);
  if (a <= 0.0) discard;
  o_colour = vec4(col, a);
  gl_FragDepth = 0.5 - 0.125 * nc.z;  // NDC z = -z/4, as the points and overlay use
}
