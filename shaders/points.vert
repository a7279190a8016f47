#version 330 core
// No vertex attributes: point i reads its data from two buffer textures. Live frames draw GL_POINTS sprites
// (u_sprite = 1, one vertex per point: llvmpipe rasterises points far cheaper than two triangles, and
// instancing would run its vertex pipeline once per instance). Exports draw six vertices (two triangles) per
// point instead (u_sprite = 0), because GL clips a point by its centre, which would cut discs at tile seams.
// Model position -> image pixels by u_model_to_px (2-D: scale and offset; sphere: rotation + orthographic).
uniform samplerBuffer u_pos;     // (n) xyz, w = 1 for a hollow (test) point
uniform samplerBuffer u_colour;  // (n) RGBA8
uniform int u_first;             // first point of this layer
uniform mat4 u_model_to_px;
uniform vec4 u_tile;
uniform float u_radius;  // pixels
uniform int u_sprite;
out vec2 v_local;        // pixels from the centre
out vec4 v_colour;
out float v_hollow;
void main() {
  int i = u_first + (u_sprite == 1 ? gl_VertexID : gl_VertexID / 6);
  int c = gl_VertexID % 6;
  // corners of the two triangles (0,1,2) (2,1,3) of the quad
  int k = c < 3 ? c : (c == 3 ? 2 : (c == 4 ? 1 : 3));
  vec2 corner = vec2(float(k & 1) * 2.0 - 1.0, float(k >> 1) * 2.0 - 1.0);
  vec4 pos = texelFetch(u_pos, i);
  vec4 p = u_model_to_px * vec4(pos.xyz, 1.0);
  v_local = u_sprite == 1 ? vec2(0.0) : corner * (u_radius + 1.0);
  gl_PointSize = 2.0 * (u_radius + 1.0);
  v_colour = texelFetch(u_colour, i);
  v_hollow = pos.w;
  vec2 px = p.xy + v_local;
  gl_Position = vec4((px.x - u_tile.x) / u_tile.z * 2.0 - 1.0, 1.0 - (px.y - u_tile.y) / u_tile.w * 2.0, p.z, 1.0);
}
