#version 330 core
// Glyph quads and images in image pixels (y down).
layout(location = 0) in vec2 a_pos;
layout(location = 1) in vec2 a_uv;
layout(location = 2) in vec4 a_colour;
uniform vec4 u_tile;
out vec2 v_uv;
out vec4 v_colour;
void main() {
  v_uv = a_uv;
  v_colour = a_colour;
  gl_Position = vec4((a_pos.x - u_tile.x) / u_tile.z * 2.0 - 1.0, 1.0 - (a_pos.y - u_tile.y) / u_tile.w * 2.0,
                     0.0, 1.0);
}
