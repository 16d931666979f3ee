// Sizes a canvas's backing store to its CSS box at the device pixel ratio and returns a
// cleared 2D context in CSS pixels, with the box's width and height.
export function fitCanvas(canvas, fallbackW = 300, fallbackH = 100) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || fallbackW, h = canvas.clientHeight || fallbackH;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}
