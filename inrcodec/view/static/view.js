// The view: where the canvas looks on the image, and how that becomes each band's shader uniforms.
//
// A view is { zoom, left, top }: zoom is canvas pixels per stored pixel, (left, top) the image position, in
// stored pixels, of the canvas's top-left corner. Canvas pixel (c, r) has its centre at image position
// (left + (c + 1/2) / zoom, top + (r + 1/2) / zoom): with zoom = k and left = i / k, top = j / k that is pixel
// (i + c, j + r) of `spdr decode --size kWxkH`, whose output pixel centres follow the same rule
// (nn/coords.py), so the canvas shows a window of that decode.

export const MIN_ZOOM = 1 / 64;
export const MAX_ZOOM = 1024; // float32 positions still resolve 1/20 of a canvas pixel at this zoom on an 8K-wide photo

export function clampZoom(zoom) {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

// The whole image centred in the canvas, as large as fits.
export function fitView(image, canvas) {
  const zoom = clampZoom(Math.min(canvas.width / image.width, canvas.height / image.height));
  return centred(image, canvas, zoom);
}

export function centred(image, canvas, zoom) {
  return { zoom, left: image.width / 2 - canvas.width / (2 * zoom), top: image.height / 2 - canvas.height / (2 * zoom) };
}

// Zoom by `factor` keeping the image point under canvas position (x, y) where it is.
export function zoomAt(view, factor, x, y) {
  const zoom = clampZoom(view.zoom * factor);
  const px = view.left + x / view.zoom, py = view.top + y / view.zoom;
  return { zoom, left: px - x / zoom, top: py - y / zoom };
}

// Drag by (dx, dy) canvas pixels: the image moves with the pointer.
export function panBy(view, dx, dy) {
  return { zoom: view.zoom, left: view.left - dx / view.zoom, top: view.top - dy / view.zoom };
}

// The rows [first, stop) of a canvas `height` pixels tall whose centres fall in image rows [start, end):
// row r is in when start <= top + (r + 1/2) / zoom < end, the decoder's rule for a band (codec/image.py).
export function rowsIn(view, start, end, height) {
  const edge = (row) => Math.min(height, Math.max(0, Math.ceil((row - view.top) * view.zoom - 0.5)));
  return [edge(start), edge(end)];
}

// One band's uniforms: origin and step of the network's own axes. x spans the image's width on [-1, 1];
// y spans the band's `rows` rows from `start` (a plain image: one band of all rows). Positions include the
// half-pixel of the pixel centre.
export function bandAxes(view, image, start, rows) {
  const sx = 2 / (view.zoom * image.width), sy = 2 / (view.zoom * rows);
  return {
    origin: [-1 + (2 * view.left) / image.width + sx / 2, -1 + (2 * (view.top - start)) / rows + sy / 2],
    step: [sx, sy],
  };
}

// The comparison's uniforms: positions in stored pixels.
export function pixelAxes(view) {
  return { origin: [view.left + 0.5 / view.zoom, view.top + 0.5 / view.zoom], step: [1 / view.zoom, 1 / view.zoom] };
}

// The size `spdr decode --size` would write for the whole image at this zoom.
export function decodedSize(view, image) {
  return [Math.max(1, Math.round(view.zoom * image.width)), Math.max(1, Math.round(view.zoom * image.height))];
}
