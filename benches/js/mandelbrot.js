// Mandelbrot set membership: float arithmetic in a nested loop with early exit.
// Port of benches/pvm/mandelbrot.pvm.
"use strict";

function countInside(size, maxIter) {
  let count = 0;
  for (let y = 0; y < size; y++) {
    const ci = (2.0 * y) / size - 1.0;
    for (let x = 0; x < size; x++) {
      const cr = (2.0 * x) / size - 1.5;
      let zr = 0.0;
      let zi = 0.0;
      let i = 0;
      let escaped = false;
      while (i < maxIter) {
        const tr = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = tr;
        if (zr * zr + zi * zi > 4.0) {
          escaped = true;
          break;
        }
        i += 1;
      }
      if (!escaped) {
        count += 1;
      }
    }
  }
  return count;
}

console.log(String(countInside(2400, 50)));
