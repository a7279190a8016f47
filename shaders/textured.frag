#version 330 core
// u_mode 0: an 8-bit glyph coverage atlas tinted by the vertex colour; 1: an RGBA image.
in vec2 v_uv;
in vec4 v_colour;
uniform sampler2D u_tex;
uniform int u_mode;
out vec4 o_colour;
void main() {
  vec4 t = texture(u_tex, v_uv);
  if (u_mode == 0) {
    o_colour = vec4(v_colour.rgb, v_colour.a * t.r);
  } else {
    o_colour = t * v_colour;
  }
  if (o_colour.a <= 0.0) discard;
}
