#version 330 core
// Flat 2-D geometry (regions, wedges, strokes, arrows) given in image pixels (y down) with an NDC depth.
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec4 a_colour;
layout(location = 2) in float a_hatch;
uniform vec4 u_tile;  // x0, y0, width, height of the rendered tile in image pixels
out vec4 v_colour;
out float v_hatch;
void main() {
  v_colour = a_colour;
  v_hatch = a_hatch;
  gl_Position = vec4((a_pos.x - u_tile.x) / u_tile.z * 2.0 - 1.0, 1.0 - (a_pos.y - u_tile.y) / u_tile.w * 2.0,
                     a_pos.z, 1.0);
}
