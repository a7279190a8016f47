#version 330 core
// One instanced quad per point (triangle strip of 4, corners from gl_VertexID): model position -> image
// pixels by u_model_to_px (2-D views: scale and offset; sphere: rotation and orthographic projection).
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec4 a_colour;
layout(location = 2) in float a_hollow;
uniform mat4 u_model_to_px;
uniform vec4 u_tile;
uniform float u_radius;  // pixels
out vec2 v_local;        // pixels from the centre
out vec4 v_colour;
out float v_hollow;
void main() {
  vec2 corner = vec2(float(gl_VertexID & 1) * 2.0 - 1.0, float(gl_VertexID >> 1) * 2.0 - 1.0);
  vec4 p = u_model_to_px * vec4(a_pos, 1.0);
  v_local = corner * (u_radius + 1.0);
  v_colour = a_colour;
  v_hollow = a_hollow;
  vec2 px = p.xy + v_local;
  gl_Position = vec4((px.x - u_tile.x) / u_tile.z * 2.0 - 1.0, 1.0 - (px.y - u_tile.y) / u_tile.w * 2.0, p.z, 1.0);
}
