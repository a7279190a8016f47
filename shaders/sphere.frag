#version 330 core
// The unit sphere under an orthographic orbit camera, painted with the loss's decision rule per pixel.
// The rule comes as a table (render/decision.h tabulateRule): for class j and angle t in [0, pi], the test,
// target and other logits of sim/loss.h, so this shader needs no per-loss formulas. Class c wins where its
// test logit is largest; the winner claims the point when its target logit beats every other class's other
// logit; unclaimed points are the margin band (hatched). Boundary curves are drawn where the winning margin
// (or the claim margin) is within a pixel of zero, measured with screen-space derivatives.
uniform vec4 u_tile;     // x0, y0, width, height of this tile in image pixels (y down)
uniform vec2 u_centre;   // sphere centre, image pixels
uniform float u_radius;  // sphere radius, pixels
uniform mat3 u_rot;      // world -> camera
uniform int u_K;
uniform vec3 u_w[64];  // unit class directions
uniform vec3 u_colour[64];
uniform sampler2D u_table;  // (K rows, N columns) RGB = test, target, other
uniform int u_N;
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

void main() {
  vec2 px = vec2(gl_FragCoord.x + u_tile.x, u_tile.y + u_tile.w - gl_FragCoord.y);
  vec2 q = (px - u_centre) / u_radius;
  q.y = -q.y;
  float rr = dot(q, q);
  float rlen = sqrt(rr);
  vec3 nc = vec3(q, sqrt(max(0.0, 1.0 - rr)));  // camera-space normal
  if (rr > 1.0) nc = vec3(q / rlen, 0.0);
  vec3 n = nc * u_rot;  // transpose(u_rot) * nc: back to world

  vec3 col = u_base;
  float line_b = 0.0, line_m = 0.0;
  if (u_valid == 1 && u_K > 0) {
    float best = -3.0e38, second = -3.0e38, o1 = -3.0e38, o2 = -3.0e38;
    int win = 0, o1i = -1;
    float tgt_win = 0.0;
    for (int j = 0; j < u_K; ++j) {
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
    }
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
