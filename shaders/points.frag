#version 330 core
// Anti-aliased disc (train) or ring (test) with a darker rim so that overlapping points stay apart.
in vec2 v_local;
in vec4 v_colour;
in float v_hollow;
uniform float u_radius;
uniform float u_alpha;
uniform int u_sprite;
out vec4 o_colour;
void main() {
  vec2 local = u_sprite == 1 ? (gl_PointCoord * 2.0 - 1.0) * (u_radius + 1.0) : v_local;
  float d = length(local);
  float r = u_radius;
  float cover;
  vec3 c = v_colour.rgb;
  if (v_hollow > 0.5) {
    float w = max(1.2, 0.32 * r);
    cover = clamp(0.5 * w - abs(d - (r - 0.5 * w)) + 0.5, 0.0, 1.0);
  } else {
    cover = clamp(r - d + 0.5, 0.0, 1.0);
    float rim = clamp(d - (r - max(1.0, 0.22 * r)) + 0.5, 0.0, 1.0);
    c = mix(c, c * 0.55, rim);
  }
  float a = cover * v_colour.a * u_alpha;
  if (a <= 0.002) discard;
  o_colour = vec4(c, a);
}
