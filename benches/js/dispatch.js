// Interface dispatch: virtual calls over a mixed array of objects.
// Port of benches/pvm/dispatch.pvm.
"use strict";

class Circle {
  constructor(r) {
    this.r = r;
  }
  area() {
    return 3.0 * this.r * this.r;
  }
}

class Rect {
  constructor(w, h) {
    this.w = w;
    this.h = h;
  }
  area() {
    return this.w * this.h;
  }
}

class Square {
  constructor(side) {
    this.side = side;
  }
  area() {
    return this.side * this.side;
  }
}

function main() {
  const shapes = [];
  for (let i = 0; i < 1000; i++) {
    const k = i % 3;
    if (k === 0) {
      shapes.push(new Circle(i % 7));
    } else if (k === 1) {
      shapes.push(new Rect(i % 5, 2.0));
    } else {
      shapes.push(new Square(i % 11));
    }
  }
  let total = 0.0;
  for (let round = 0; round < 100000; round++) {
    for (const s of shapes) {
      total += s.area();
    }
  }
  // toFixed matches C's %.1f here: the total is an exact integer below 2^53.
  console.log(total.toFixed(1));
}

main();
