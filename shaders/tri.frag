#version 330 core
// Flat colour, or diagonal hatching (margin bands) in image pixels so that tiles of an export line up.
in vec4 v_colour;
in float v_hatch;
uniform vec4 u_tile;
uniform vec2 u_hatch;  // period, line width (pixels)
out vec4 o_colour;
void main() {
  float a = v_colour.a;
  if (v_hatch > 0.5) {
    vec2 px = vec2(gl_FragCoord.x + u_tile.x, u_tile.y + u_tile.w - gl_FragCoord.y);
    float t = (px.x + px.y) * 0.70710678;
    float d = abs(fract(t / u_hatch.x + 0.5) - 0.5) * u_hatch.x;
    a *= clamp(0.5 * u_hatch.y - d + 0.5, 0.0, 1.0);
  }
  if (a <= 0.0) discard;
  o_colour = vec4(v_colour.rgb, a);
}
