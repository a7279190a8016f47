#version 330 core
// The square around the sphere's disc (plus a pixel of outline), as two triangles; sphere.frag ray-casts the
// unit sphere per pixel. Only the disc's bounding square is shaded, not the whole view.
uniform vec4 u_tile;     // x0, y0, width, height of this tile in image pixels (y down)
uniform vec2 u_centre;   // pixels
uniform float u_radius;  // pixels
uniform float u_line;    // outline width, pixels
void main() {
  int c = gl_VertexID % 6;
  int k = c < 3 ? c : (c == 3 ? 2 : (c == 4 ? 1 : 3));
  vec2 corner = vec2(float(k & 1) * 2.0 - 1.0, float(k >> 1) * 2.0 - 1.0);
  vec2 px = u_centre + corner * (u_radius + u_line + 2.0);
  gl_Position = vec4((px.x - u_tile.x) / u_tile.z * 2.0 - 1.0, 1.0 - (px.y - u_tile.y) / u_tile.w * 2.0, 0.0, 1.0);
}
