// Spectral norm: small function calls and float arrays.
// Port of benches/pvm/spectralnorm.pvm.
"use strict";

function a(i, j) {
  const ij = i + j;
  // pvm's int division: ij * (ij + 1) is even, so "/ 2" is exact.
  return 1.0 / ((ij * (ij + 1)) / 2 + i + 1);
}

function mulAv(n, v, av) {
  for (let i = 0; i < n; i++) {
    let sum = 0.0;
    for (let j = 0; j < n; j++) {
      sum += a(i, j) * v[j];
    }
    av[i] = sum;
  }
}

function mulAtv(n, v, atv) {
  for (let i = 0; i < n; i++) {
    let sum = 0.0;
    for (let j = 0; j < n; j++) {
      sum += a(j, i) * v[j];
    }
    atv[i] = sum;
  }
}

function mulAtav(n, v, out, tmp) {
  mulAv(n, v, tmp);
  mulAtv(n, tmp, out);
}

function main() {
  const n = 2000;
  const u = new Array(n).fill(1.0);
  const v = new Array(n).fill(0.0);
  const tmp = new Array(n).fill(0.0);
  for (let i = 0; i < 10; i++) {
    mulAtav(n, u, v, tmp);
    mulAtav(n, v, u, tmp);
  }
  let vbv = 0.0;
  let vv = 0.0;
  for (let i = 0; i < n; i++) {
    vbv += u[i] * v[i];
    vv += v[i] * v[i];
  }
  // toFixed equals C's %.9f except on exact binary ties, which this value is not.
  console.log(Math.sqrt(vbv / vv).toFixed(9));
}

main();
