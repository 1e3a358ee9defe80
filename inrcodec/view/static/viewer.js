// spdr view: the page. Loads the server's scene (scene.json + scene.bin, inrcodec/view/scene.py), uploads every
// band's latents and weights as float textures, and renders the network per canvas pixel (shaders.js) for the
// current view (view.js). Wheel or pinch zooms around the pointer, drag pans; while the pointer moves and a
// full frame is slow, frames are drawn at a fraction of the resolution and the full one follows when it stops.

import { BICUBIC_SHADER, INLINE_FLOATS, VERTEX, WEIGHT_TEXELS_PER_ROW, networkShader } from "./shaders.js";
import * as V from "./view.js";

const IDLE_MS = 180; // a full-resolution frame follows this long after the last input
const BUDGET_MS = 33; // an interactive frame aims at this

const $ = (id) => document.getElementById(id);

function fail(message) {
  $("message").textContent = message;
  $("message").hidden = false;
  throw new Error(message);
}

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    console.error(source);
    fail(`the GPU could not compile the network's shader: ${gl.getShaderInfoLog(shader)}`);
  }
  return shader;
}

function link(gl, fragment) {
  const program = gl.createProgram();
  gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragment));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) fail(`the GPU could not link the network's shader: ${gl.getProgramInfoLog(program)}`);
  const uniforms = {};
  for (let i = 0; i < gl.getProgramParameter(program, gl.ACTIVE_UNIFORMS); i++) {
    const name = gl.getActiveUniform(program, i).name.replace(/\[0\]$/, "");
    uniforms[name] = gl.getUniformLocation(program, name);
  }
  return { program, uniforms };
}

function floatTexture(gl, internal, format, width, height, data, filter) {
  const tex = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.texImage2D(gl.TEXTURE_2D, 0, internal, width, height, 0, format, gl.FLOAT, data);
  for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, filter], [gl.TEXTURE_MAG_FILTER, filter],
    [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(gl.TEXTURE_2D, k, v);
  return tex;
}

// A band's layers copied from the blob into one array from offset 0; the copy of the net points at it.
function packWeights(net, blob) {
  const quads = (n) => Math.ceil(n / 4) * 4;
  const pieces = [];
  let size = 0;
  const take = (offset, length) => {
    pieces.push(blob.subarray(offset, offset + length));
    size += length;
    return size - length;
  };
  const layers = net.layers.map((l) => ({ ...l, weight: take(l.weight, quads(l.out) * quads(l.in)), bias: take(l.bias, quads(l.out)) }));
  const input = net.input.encoding === "ffn" ? { ...net.input, B: take(net.input.B, quads(net.input.features) * 4) } : net.input;
  const texels = Math.max(1, size / 4);
  const width = Math.min(texels, WEIGHT_TEXELS_PER_ROW), height = Math.ceil(texels / WEIGHT_TEXELS_PER_ROW);
  const data = new Float32Array(width * height * 4);
  let at = 0;
  for (const p of pieces) { data.set(p, at); at += p.length; }
  return { net: { ...net, layers, input }, data, width, height };
}

// Where each latent level sits in one R32F atlas: stacked, or beside the finest level when a stack is too tall.
function atlasLayout(levels, limit) {
  const stack = levels.reduce((h, l) => h + l.h, 0);
  if (levels[0].w <= limit && stack <= limit) {
    let y = 0;
    return { width: levels[0].w, height: stack, places: levels.map((l) => { y += l.h; return [0, y - l.h]; }) };
  }
  const rest = stack - levels[0].h, width = levels[0].w + (levels[1] ? levels[1].w : 0);
  if (width <= limit && Math.max(levels[0].h, rest) <= limit) {
    let y = 0;
    return { width, height: Math.max(levels[0].h, rest),
      places: levels.map((l, i) => { if (i === 0) return [0, 0]; y += l.h; return [levels[0].w, y - l.h]; }) };
  }
  fail(`this photo's latent grids (${levels[0].w}x${levels[0].h}) exceed this GPU's ${limit}-texel textures`);
}

class Renderer {
  constructor(canvas, scene, blob, options) {
    const gl = canvas.getContext("webgl2", { antialias: false, alpha: true, premultipliedAlpha: false, preserveDrawingBuffer: true,
      depth: false, stencil: false });
    if (!gl) fail("this browser has no WebGL2: spdr view needs it to render the network on the GPU");
    this.gl = gl;
    this.scene = scene;
    this.canvas = canvas;
    this.linear = !!gl.getExtension("OES_texture_float_linear");
    this.limit = gl.getParameter(gl.MAX_TEXTURE_SIZE);
    this.programs = new Map();
    this.hardware = false;
    this.inline = false;
    this.bands = scene.bands.map((band) => this.upload(band, blob, options));
    this.bicubic = link(gl, BICUBIC_SHADER);
    this.native = null;
    this.reduced = null;
  }

  // A band's textures now; its program on first draw (a photo of many bands compiles only what is seen).
  // options.sampling "exact" turns the GPU's bilinear filter off; options.weights "texture" never inlines.
  upload(band, blob, options) {
    const gl = this.gl;
    const packed = packWeights(band.net, blob);
    const input = packed.net.input;
    const hardware = input.kind === "grid" && input.interp === 1 && this.linear && options.sampling !== "exact";
    const inline = packed.data.length <= INLINE_FLOATS && input.encoding !== "ffn" && options.weights !== "texture";
    this.hardware ||= hardware;
    this.inline ||= inline;
    const out = { start: band.start, rows: band.rows, net: packed.net, program: null,
      source: () => networkShader(packed.net, this.scene.channels, { hardware, inline, data: packed.data }) };
    if (!inline) out.weights = floatTexture(gl, gl.RGBA32F, gl.RGBA, packed.width, packed.height, packed.data, gl.NEAREST);
    if (input.kind === "grid") {
      const layout = atlasLayout(input.levels, this.limit);
      out.atlas = floatTexture(gl, gl.R32F, gl.RED, layout.width, layout.height, null, hardware ? gl.LINEAR : gl.NEAREST);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
      input.levels.forEach((l, i) => gl.texSubImage2D(gl.TEXTURE_2D, 0, layout.places[i][0], layout.places[i][1], l.w, l.h, gl.RED,
        gl.FLOAT, blob.subarray(l.offset, l.offset + l.w * l.h)));
      out.atlasSize = [layout.width, layout.height];
      out.levels = new Int32Array(input.levels.flatMap((l, i) => [...layout.places[i], l.w, l.h]));
    }
    return out;
  }

  program(band) {
    if (!band.program) {
      const source = band.source();
      if (!this.programs.has(source)) this.programs.set(source, link(this.gl, source));
      band.program = this.programs.get(source);
    }
    return band.program;
  }

  async loadNative() {
    if (this.native) return;
    const { width, height } = this.scene;
    if (width > this.limit || height > this.limit) fail(`the stored ${width}x${height} pixels exceed this GPU's ${this.limit}-texel textures`);
    const response = await fetch("native.bin");
    if (!response.ok) fail(`the server could not decode the stored pixels (${response.status})`);
    const pixels = new Uint8Array(await response.arrayBuffer());
    const gl = this.gl;
    const tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    this.native = tex;
  }

  // Render `view` into the bound framebuffer of width x height: the networks band by band, or the comparison.
  draw(view, width, height, compare) {
    const gl = this.gl;
    gl.viewport(0, 0, width, height);
    gl.disable(gl.SCISSOR_TEST);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (compare) {
      const { program, uniforms } = this.bicubic;
      const axes = V.pixelAxes(view);
      gl.useProgram(program);
      gl.uniform2fv(uniforms.uOrigin, axes.origin);
      gl.uniform2fv(uniforms.uStep, axes.step);
      gl.uniform1f(uniforms.uCanvasHeight, height);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, this.native);
      gl.uniform1i(uniforms.uNative, 0);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      return;
    }
    gl.enable(gl.SCISSOR_TEST);
    for (const band of this.bands) {
      const [first, stop] = V.rowsIn(view, band.start, band.start + band.rows, height);
      if (first >= stop) continue;
      gl.scissor(0, height - stop, width, stop - first);
      const { program, uniforms } = this.program(band);
      const axes = V.bandAxes(view, this.scene, band.start, band.rows);
      gl.useProgram(program);
      gl.uniform2fv(uniforms.uOrigin, axes.origin);
      gl.uniform2fv(uniforms.uStep, axes.step);
      gl.uniform1f(uniforms.uCanvasHeight, height);
      gl.uniform2f(uniforms.uScale, band.net.coords_scale[1], band.net.coords_scale[0]);
      if (band.weights) {
        gl.activeTexture(gl.TEXTURE1);
        gl.bindTexture(gl.TEXTURE_2D, band.weights);
        gl.uniform1i(uniforms.uWeights, 1);
      }
      if (band.atlas) {
        gl.activeTexture(gl.TEXTURE0);
        gl.bindTexture(gl.TEXTURE_2D, band.atlas);
        gl.uniform1i(uniforms.uLatents, 0);
        gl.uniform2fv(uniforms.uAtlas, band.atlasSize);
        gl.uniform4iv(uniforms.uLevel, band.levels);
      }
      gl.drawArrays(gl.TRIANGLES, 0, 3);
    }
  }

  // One frame on the canvas at 1/scale of its resolution (scale 1: every canvas pixel); returns milliseconds.
  frame(view, compare, scale = 1) {
    const gl = this.gl, { width, height } = this.canvas;
    const t0 = performance.now();
    if (scale === 1) {
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      this.draw(view, width, height, compare);
    } else {
      const w = Math.ceil(width / scale), h = Math.ceil(height / scale);
      const fbo = this.target(w, h);
      gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
      this.draw({ ...view, zoom: view.zoom / scale }, w, h, compare);
      gl.bindFramebuffer(gl.READ_FRAMEBUFFER, fbo);
      gl.bindFramebuffer(gl.DRAW_FRAMEBUFFER, null);
      gl.disable(gl.SCISSOR_TEST);
      gl.blitFramebuffer(0, h - Math.ceil(height / scale), w, h, 0, height - h * scale, w * scale, height, gl.COLOR_BUFFER_BIT, gl.LINEAR);
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    }
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4)); // wait for the GPU, so the time is real
    return performance.now() - t0;
  }

  target(w, h) {
    const gl = this.gl;
    if (this.reduced && this.reduced.w === w && this.reduced.h === h) return this.reduced.fbo;
    const tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    const fbo = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
    this.reduced = { w, h, fbo };
    return fbo;
  }

  renderer() {
    const debug = this.gl.getExtension("WEBGL_debug_renderer_info");
    return this.gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : this.gl.RENDERER);
  }

  // The canvas's RGBA bytes, top row first.
  pixels() {
    const gl = this.gl, { width, height } = this.canvas;
    const data = new Uint8Array(width * height * 4);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, data);
    const rows = new Uint8Array(data.length), stride = width * 4;
    for (let r = 0; r < height; r++) rows.set(data.subarray((height - 1 - r) * stride, (height - r) * stride), r * stride);
    return rows;
  }
}

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

class Viewer {
  constructor(renderer) {
    this.r = renderer;
    this.scene = renderer.scene;
    this.canvas = renderer.canvas;
    this.compare = false;
    this.fullMs = 0;
    this.lastInput = -Infinity;
    this.pending = false;
    this.idleTimer = null;
    this.frames = 0;
    this.lastScale = 1;
    this.resize();
    this.view = V.fitView(this.scene, this.canvas);
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr)), h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (w !== this.canvas.width || h !== this.canvas.height) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
  }

  setView(view) {
    this.view = { ...view, zoom: V.clampZoom(view.zoom) };
    this.request();
  }

  request(interactive = false) {
    if (interactive) this.lastInput = performance.now();
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => this.paint());
    }
  }

  // Full resolution unless the pointer is moving and a full frame would take longer than the budget.
  paint() {
    this.pending = false;
    const moving = performance.now() - this.lastInput < IDLE_MS;
    const scale = moving && this.fullMs > BUDGET_MS ? Math.min(8, Math.ceil(Math.sqrt(this.fullMs / BUDGET_MS))) : 1;
    const ms = this.r.frame(this.view, this.compare, scale);
    this.frames += 1;
    this.lastScale = scale;
    if (scale === 1) this.fullMs = ms;
    clearTimeout(this.idleTimer);
    if (scale !== 1) this.idleTimer = setTimeout(() => this.request(), IDLE_MS);
    this.readout(ms, scale);
  }

  readout(ms, scale) {
    const [w, h] = V.decodedSize(this.view, this.scene);
    const zoom = this.view.zoom;
    $("zoom").textContent = `${zoom >= 10 ? zoom.toFixed(1) : zoom.toFixed(2)}×`;
    $("size").textContent = `${w}×${h}`;
    $("source").textContent = this.compare
      ? `bicubic from the stored ${this.scene.width}×${this.scene.height}`
      : `network, every screen pixel${this.r.hardware ? " (GPU bilinear latents)" : ""}`;
    $("timing").textContent = `${ms.toFixed(0)} ms${scale > 1 ? ` at 1/${scale}` : ""}`;
    $("compare").setAttribute("aria-pressed", String(this.compare));
  }

  async setCompare(on) {
    if (on) await this.r.loadNative();
    this.compare = on;
    this.request();
  }

  // Synchronous full frames while panning by dx canvas pixels a frame: milliseconds per frame (for benchmarks).
  benchmarkPan(frames, dx) {
    const t0 = performance.now();
    for (let i = 0; i < frames; i++) {
      this.view = V.panBy(this.view, dx, 0);
      this.r.frame(this.view, this.compare, 1);
    }
    return (performance.now() - t0) / frames;
  }

  attach() {
    const c = this.canvas, pointers = new Map();
    let pinch = null;
    const at = (e) => {
      const box = c.getBoundingClientRect(), dpr = c.width / box.width;
      return [(e.clientX - box.left) * dpr, (e.clientY - box.top) * dpr];
    };
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      const [x, y] = at(e);
      const lines = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
      this.view = V.zoomAt(this.view, Math.exp(-e.deltaY * lines * 0.002), x, y);
      this.request(true);
    }, { passive: false });
    c.addEventListener("pointerdown", (e) => {
      c.setPointerCapture(e.pointerId);
      pointers.set(e.pointerId, at(e));
      pinch = null;
    });
    c.addEventListener("pointermove", (e) => {
      if (!pointers.has(e.pointerId)) return;
      const [x, y] = at(e), [px, py] = pointers.get(e.pointerId);
      pointers.set(e.pointerId, [x, y]);
      if (pointers.size === 1) {
        this.view = V.panBy(this.view, x - px, y - py);
      } else if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], dist = Math.hypot(a[0] - b[0], a[1] - b[1]);
        if (pinch) {
          this.view = V.panBy(this.view, mid[0] - pinch.mid[0], mid[1] - pinch.mid[1]);
          this.view = V.zoomAt(this.view, dist / Math.max(1, pinch.dist), mid[0], mid[1]);
        }
        pinch = { mid, dist };
      }
      this.request(true);
    });
    const up = (e) => { pointers.delete(e.pointerId); pinch = null; };
    c.addEventListener("pointerup", up);
    c.addEventListener("pointercancel", up);
    window.addEventListener("resize", () => { this.resize(); this.request(); });
    $("reset").addEventListener("click", () => this.setView(V.fitView(this.scene, this.canvas)));
    $("one").addEventListener("click", () => this.setView(V.centred(this.scene, this.canvas, 1)));
    $("compare").addEventListener("click", () => this.setCompare(!this.compare));
    window.addEventListener("keydown", (e) => {
      const step = 64;
      const keys = {
        "0": () => V.fitView(this.scene, this.canvas), "1": () => V.centred(this.scene, this.canvas, 1),
        "+": () => V.zoomAt(this.view, 1.25, c.width / 2, c.height / 2), "=": () => V.zoomAt(this.view, 1.25, c.width / 2, c.height / 2),
        "-": () => V.zoomAt(this.view, 0.8, c.width / 2, c.height / 2),
        ArrowLeft: () => V.panBy(this.view, step, 0), ArrowRight: () => V.panBy(this.view, -step, 0),
        ArrowUp: () => V.panBy(this.view, 0, step), ArrowDown: () => V.panBy(this.view, 0, -step),
      };
      if (e.key === "c") return this.setCompare(!this.compare);
      if (keys[e.key]) { this.view = keys[e.key](); this.request(true); }
    });
  }
}

async function load() {
  const [manifest, body] = await Promise.all([fetch("scene.json"), fetch("scene.bin")]);
  if (!manifest.ok || !body.ok) fail("the spdr view server did not send the file's scene");
  const scene = await manifest.json();
  if (scene.format !== 1) fail(`this page reads scene format 1, the server sent ${scene.format}`);
  const blob = new Float32Array(await body.arrayBuffer());
  if (blob.length !== scene.floats) fail("the scene's numbers are incomplete");
  document.title = `${scene.name} · spdr view`;
  $("name").textContent = `${scene.name} · ${scene.width}×${scene.height} ${scene.mode} · spdr ${scene.version}, ${scene.file_bytes.toLocaleString()} bytes`;
  const query = new URLSearchParams(location.search);
  const viewer = new Viewer(new Renderer($("canvas"), scene, blob, { sampling: query.get("sampling"), weights: query.get("weights") }));
  viewer.attach();
  viewer.request();
  return viewer;
}

// What tests and benchmarks drive (tests/test_view_browser.py): the page's own functions, nothing more.
const ready = load();
window.spdrViewer = {
  ready: ready.then((v) => ({ width: v.scene.width, height: v.scene.height, canvas: [v.canvas.width, v.canvas.height],
    bands: v.scene.bands.length, hardware: v.r.hardware, inline: v.r.inline, renderer: v.r.renderer() })),
  setView: async (view) => { (await ready).setView(view); },
  view: async () => (await ready).view,
  // a full frame and its pixels in one task, so no animation frame can come between them
  snapshot: async (compare = false) => {
    const v = await ready;
    await v.setCompare(compare);
    v.r.frame(v.view, compare, 1);
    return base64(v.r.pixels());
  },
  benchmarkPan: async (frames, dx) => (await ready).benchmarkPan(frames, dx),
  stats: async () => { const v = await ready; return { frames: v.frames, scale: v.lastScale, fullMs: v.fullMs }; },
};
