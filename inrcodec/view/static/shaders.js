// GLSL ES 3.00 for the viewer: one fragment shader per network kind, generated from the scene manifest.
//
// The shader evaluates, at each screen pixel, the same function `spdr decode --resample network` evaluates
// at each output pixel (inrcodec/nn/latentgrid.py, nn/mlp.py; docs/format.md):
//   * latent levels sampled like torch grid_sample(align_corners=False, padding_mode="border"): the source
//     position ((g + 1) size - 1) / 2, bilinear (clamped position) or bicubic (Keys, A = -0.75, clamped taps);
//     with a stencil, the finest levels again one cell away in the 8 directions, in the decoder's order;
//   * then each layer z = W a + b, sin(omega z) * damping(omega z) (or relu), and a linear head;
//   * then clip to [-1, 1], values.scale and values.offset, and (v + 1) / 2: the framebuffer's rounding to
//     8 bits is the decoder's rounding to 8-bit pixels.
// Weights live in an RGBA32F texture as vec4 texels (scene.py pads every matrix to multiples of 4), latent
// levels in one R32F atlas whose placement per level comes in as uniforms, so bands of one file share a program.

export const WEIGHT_TEXELS_PER_ROW = 2048; // the smallest MAX_TEXTURE_SIZE WebGL2 allows

export const VERTEX = `#version 300 es
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

const HEAD = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
uniform vec2 uOrigin;   // (x, y) of the canvas's top-left pixel centre on the network's [-1, 1] axes
uniform vec2 uStep;     // per pixel rightwards and downwards
uniform float uCanvasHeight;
out vec4 outColor;
// sin to about 1e-7 at any argument a SPDER produces: reduced to [-pi, pi] in two steps (2 pi = 6.28125 +
// 0.0019353...), folded to [-pi/2, pi/2], then its Taylor series to x^11. A GPU's own sin may be far coarser
// (SwiftShader's: 1e-4 near 0), and pre-activations reach thousands of radians.
vec4 sine(vec4 z) {
  vec4 k = floor(z * 0.159154943 + 0.5);
  vec4 r = (z - k * 6.28125) - k * 0.00193530717958647692;
  r = mix(r, sign(r) * 3.14159265 - r, step(1.57079633, abs(r)));
  vec4 q = r * r;
  return r * (1.0 + q * (-1.0 / 6.0 + q * (1.0 / 120.0 + q * (-1.0 / 5040.0 + q * (1.0 / 362880.0 - q * (1.0 / 39916800.0))))));
}
// Keys' cubic convolution weights of the 4 taps around a point t in [0, 1) past the second: A = -0.75 is torch's
// bicubic (the latents), A = -0.5 Pillow's BICUBIC (the comparison).
vec4 cubic(float t, float A) {
  float u = t + 1.0, v = 1.0 - t, w = 2.0 - t;
  return vec4(((A * u - 5.0 * A) * u + 8.0 * A) * u - 4.0 * A,
              ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0,
              ((A + 2.0) * v - (A + 3.0)) * v * v + 1.0,
              ((A * w - 5.0 * A) * w + 8.0 * A) * w - 4.0 * A);
}
vec2 position() {
  vec2 pixel = vec2(gl_FragCoord.x - 0.5, uCanvasHeight - gl_FragCoord.y - 0.5);
  return uOrigin + uStep * pixel;
}
`;

function literal(x) {
  const v = Math.fround(x);
  if (!Number.isFinite(v)) throw new Error(`not a finite number: ${x}`);
  const s = v.toPrecision(9);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const DAMPINGS = {
  sqrt: (z) => `sine(${z}) * sqrt(abs(${z}))`,
  "sqrt-relu": (z) => `sine(${z}) * sqrt(max(${z}, vec4(0.0)))`,
  log: (z) => `sine(${z}) * log(max(abs(${z}), vec4(1e-3)))`,
  atan: (z) => `sine(${z}) * atan(${z})`,
  none: (z) => `sine(${z})`,
};

function activation(layer, z) {
  if (layer.act === "relu") return `max(${z}, vec4(0.0))`;
  if (layer.act === "none") return z;
  const damping = DAMPINGS[layer.damping];
  if (!damping) throw new Error(`unknown damping ${layer.damping}`);
  return `${damping(`(${literal(layer.omega)} * ${z})`)}`;
}

const quads = (n) => Math.ceil(n / 4);

// Sampling of one latent level: o = its top-left texel in the atlas, s = (w, h), g = (x, y) on [-1, 1].
const SAMPLERS = `
uniform sampler2D uLatents;
uniform vec2 uAtlas;    // the atlas's size in texels
float latent(ivec2 o, ivec2 s, int x, int y) {
  return texelFetch(uLatents, o + ivec2(clamp(x, 0, s.x - 1), clamp(y, 0, s.y - 1)), 0).r;
}
vec2 source(ivec2 s, vec2 g) { return ((g + 1.0) * vec2(s) - 1.0) * 0.5; }
float bilinear(ivec2 o, ivec2 s, vec2 g) {
  vec2 p = clamp(source(s, g), vec2(0.0), vec2(s - 1));
  vec2 f = floor(p);
  vec2 t = p - f;
  ivec2 i = ivec2(f);
  float a = latent(o, s, i.x, i.y), b = latent(o, s, i.x + 1, i.y);
  float c = latent(o, s, i.x, i.y + 1), d = latent(o, s, i.x + 1, i.y + 1);
  return (a * (1.0 - t.x) + b * t.x) * (1.0 - t.y) + (c * (1.0 - t.x) + d * t.x) * t.y;
}
float hardware(ivec2 o, ivec2 s, vec2 g) {
  vec2 p = clamp(source(s, g), vec2(0.0), vec2(s - 1));
  return texture(uLatents, (vec2(o) + p + 0.5) / uAtlas).r;
}
float bicubic(ivec2 o, ivec2 s, vec2 g) {
  vec2 p = source(s, g);
  vec2 f = floor(p);
  vec4 cx = cubic(p.x - f.x, -0.75), cy = cubic(p.y - f.y, -0.75);
  ivec2 i = ivec2(f);
  float sum = 0.0;
  for (int r = 0; r < 4; r++) {
    vec4 row = vec4(latent(o, s, i.x - 1, i.y - 1 + r), latent(o, s, i.x, i.y - 1 + r),
                    latent(o, s, i.x + 1, i.y - 1 + r), latent(o, s, i.x + 2, i.y - 1 + r));
    sum += dot(row, cx) * cy[r];
  }
  return sum;
}
`;

function gridFeatures(input, hardware) {
  const levels = input.levels.length;
  const fn = input.interp === 3 ? "bicubic" : hardware ? "hardware" : "bilinear";
  const lines = [`uniform ivec4 uLevel[${levels}];  // per level: atlas x, atlas y, width, height`];
  const body = [];
  let n = 0;
  const sample = (lv, shift) => `${fn}(uLevel[${lv}].xy, uLevel[${lv}].zw, g${shift})`;
  for (let lv = 0; lv < levels; lv++) body.push(`  v[${n++}] = ${sample(lv, "")};`);
  for (let lv = 0; lv < Math.min(input.stencil, levels); lv++) {
    for (const dy of [-1, 0, 1]) {
      for (const dx of [-1, 0, 1]) {
        if (dx || dy) {
          body.push(`  v[${n++}] = ${sample(lv, ` + vec2(${literal(2 * dx)}, ${literal(2 * dy)}) / vec2(uLevel[${lv}].zw)`)};`);
        }
      }
    }
  }
  return { uniforms: SAMPLERS + lines.join("\n"), count: n, body: body.join("\n") };
}

function coordFeatures(input, inFeatures) {
  // the coordinates enter as (y, x); nn/mlp.py's encodings after that
  const body = ["  vec2 c = vec2(g.y, g.x);"];
  if (input.encoding === "none") {
    body.push("  v[0] = c.x;", "  v[1] = c.y;");
    return { uniforms: "", count: 2, body: body.join("\n") };
  }
  if (input.encoding === "pe") {
    const F = input.frequencies;
    body.push("  v[0] = c.x;", "  v[1] = c.y;");
    for (let i = 0; i < 2; i++) {
      for (let k = 0; k < F; k++) {
        const band = literal(Math.pow(2, k) * Math.PI);
        const axis = i === 0 ? "c.x" : "c.y";
        body.push(`  v[${2 + i * F + k}] = sine(vec4(${axis} * ${band})).x;`,
          `  v[${2 + 2 * F + i * F + k}] = sine(vec4(${axis} * ${band} + 1.57079633)).x;`);
      }
    }
    return { uniforms: "", count: 2 + 4 * F, body: body.join("\n") };
  }
  if (input.encoding === "ffn") {
    const m = input.features;
    body.push(`  vec2 tau = ${literal(2 * Math.PI)} * c;`,
      `  for (int j = 0; j < ${m}; j++) {`,
      `    vec4 b = weight(${input.B / 4} + j);`,
      "    float p = tau.x * b.x + tau.y * b.y;",
      `    v[j] = sine(vec4(p)).x;`,
      `    v[${m} + j] = sine(vec4(p + 1.57079633)).x;`,
      "  }");
    return { uniforms: "", count: 2 * m, body: body.join("\n") };
  }
  throw new Error(`unknown coordinate encoding ${input.encoding} (${inFeatures})`);
}

// A layer whose weights are fetched from the band's RGBA32F texture: any size, one fetch per vec4 of weights.
function fetchedLayer(layer, i) {
  const ins = quads(layer.in), outs = quads(layer.out), w = layer.weight / 4, b = layer.bias / 4;
  return [`  vec4 a${i + 1}[${outs}];`,
    `  for (int j = 0; j < ${outs}; j++) {`,
    `    vec4 z = weight(${b} + j);`,
    `    int row = ${w} + 4 * j * ${ins};`,
    `    for (int k = 0; k < ${ins}; k++) {`,
    `      vec4 x = a${i}[k];`,
    `      z += vec4(dot(weight(row + k), x), dot(weight(row + ${ins} + k), x), dot(weight(row + ${2 * ins} + k), x), dot(weight(row + ${3 * ins} + k), x));`,
    "    }",
    `    a${i + 1}[j] = ${activation(layer, "z")};`,
    "  }"];
}

// A layer whose weights are written into the shader as constants: no fetches at all (4-6x faster under
// software rendering), for networks of up to INLINE_FLOATS values.
function inlineLayer(layer, i, data) {
  const ins = quads(layer.in), outs = quads(layer.out), w = layer.weight / 4, b = layer.bias / 4;
  const texel = (t) => `vec4(${Array.from(data.subarray(4 * t, 4 * t + 4), literal).join(", ")})`;
  const lines = [`  vec4 a${i + 1}[${outs}];`];
  for (let j = 0; j < outs; j++) {
    const row = w + 4 * j * ins, terms = [texel(b + j)];
    for (let k = 0; k < ins; k++) {
      const x = `a${i}[${k}]`;
      terms.push(`vec4(${[0, 1, 2, 3].map((r) => `dot(${texel(row + r * ins + k)}, ${x})`).join(", ")})`);
    }
    lines.push(`  { vec4 z = ${terms.join(" + ")}; a${i + 1}[${j}] = ${activation(layer, "z")}; }`);
  }
  return lines;
}

export const INLINE_FLOATS = 16384; // the latent-grid engine's largest synthesis (width 48, depth 2) is about 6,500

// The fragment shader of one network. `net.layers[i].weight/bias` are float offsets into `data`, the band's own
// weights (viewer.js repacks each band's layers from offset 0). hardware: latent bilinear by the GPU's filter;
// inline: weights as constants (else fetched from the uWeights texture).
export function networkShader(net, channels, { hardware, inline, data }) {
  const features = net.input.kind === "grid" ? gridFeatures(net.input, hardware) : coordFeatures(net.input, net.layers[0].in);
  if (features.count !== net.layers[0].in) {
    throw new Error(`the first layer takes ${net.layers[0].in} inputs, the input stage gives ${features.count}`);
  }
  const in4 = quads(features.count);
  const code = [HEAD, "uniform sampler2D uWeights;", "uniform vec2 uScale;  // coords.scale, (x, y)",
    `vec4 weight(int i) { return texelFetch(uWeights, ivec2(i % ${WEIGHT_TEXELS_PER_ROW}, i / ${WEIGHT_TEXELS_PER_ROW}), 0); }`,
    features.uniforms,
    "void main() {",
    "  vec2 u = position();",
    "  if (u.x < -1.0 || u.x >= 1.0) discard;",
    "  vec2 g = u * uScale;",
    `  float v[${in4 * 4}];`,
    `  for (int i = ${features.count}; i < ${in4 * 4}; i++) v[i] = 0.0;`,
    features.body,
    `  vec4 a0[${in4}];`];
  for (let k = 0; k < in4; k++) code.push(`  a0[${k}] = vec4(v[${4 * k}], v[${4 * k + 1}], v[${4 * k + 2}], v[${4 * k + 3}]);`);
  net.layers.forEach((layer, i) => code.push(...(inline ? inlineLayer(layer, i, data) : fetchedLayer(layer, i))));
  const last = net.layers.length;
  const pad = (list, fill) => [...list, ...Array(4 - list.length).fill(fill)].map(literal).join(", ");
  code.push(`  vec4 y = clamp(a${last}[0], -1.0, 1.0) * vec4(${pad(net.values.scale, 0)}) + vec4(${pad(net.values.offset, 0)});`,
    "  vec4 p = clamp((y + 1.0) * 0.5, 0.0, 1.0);",
    `  outColor = ${{ 1: "vec4(p.xxx, 1.0)", 2: "vec4(p.xxx, p.y)", 3: "vec4(p.xyz, 1.0)", 4: "p" }[channels]};`,
    "}");
  return code.join("\n");
}

// The comparison: the stored-size pixels (spdr decode's own output) upscaled bicubically (Keys, a = -0.5,
// as Pillow's BICUBIC), on the same screen mapping; positions here are in stored pixels, centres at i + 0.5.
export const BICUBIC_SHADER = `${HEAD}
uniform sampler2D uNative;
void main() {
  ivec2 size = textureSize(uNative, 0);
  vec2 q = position();
  if (q.x < 0.0 || q.y < 0.0 || q.x >= float(size.x) || q.y >= float(size.y)) discard;
  vec2 p = q - 0.5;
  vec2 f = floor(p);
  vec4 cx = cubic(p.x - f.x, -0.5), cy = cubic(p.y - f.y, -0.5);
  ivec2 i = ivec2(f);
  vec4 sum = vec4(0.0);
  for (int r = 0; r < 4; r++) {
    int y = clamp(i.y - 1 + r, 0, size.y - 1);
    for (int c = 0; c < 4; c++) {
      sum += texelFetch(uNative, ivec2(clamp(i.x - 1 + c, 0, size.x - 1), y), 0) * cx[c] * cy[r];
    }
  }
  outColor = clamp(sum, 0.0, 1.0);
}`;
