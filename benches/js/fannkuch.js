// Fannkuch-redux: permutations and prefix reversals on small int arrays.
// Port of benches/pvm/fannkuch.pvm.
"use strict";

function fannkuch(n) {
  const perm = new Array(n).fill(0);
  const perm1 = new Array(n).fill(0);
  const count = new Array(n).fill(0);
  for (let i = 0; i < n; i++) {
    perm1[i] = i;
  }
  let maxFlips = 0;
  let checksum = 0;
  let permCount = 0;
  let r = n;
  while (true) {
    while (r !== 1) {
      count[r - 1] = r;
      r -= 1;
    }
    for (let i = 0; i < n; i++) {
      perm[i] = perm1[i];
    }
    let flips = 0;
    let k = perm[0];
    while (k !== 0) {
      let lo = 0;
      let hi = k;
      while (lo < hi) {
        const t = perm[lo];
        perm[lo] = perm[hi];
        perm[hi] = t;
        lo += 1;
        hi -= 1;
      }
      flips += 1;
      k = perm[0];
    }
    if (flips > maxFlips) {
      maxFlips = flips;
    }
    if (permCount % 2 === 0) {
      checksum += flips;
    } else {
      checksum -= flips;
    }
    while (true) {
      if (r === n) {
        return [checksum, maxFlips];
      }
      const perm0 = perm1[0];
      for (let i = 0; i < r; i++) {
        perm1[i] = perm1[i + 1];
      }
      perm1[r] = perm0;
      count[r] -= 1;
      if (count[r] > 0) {
        break;
      }
      r += 1;
    }
    permCount += 1;
  }
}

function main() {
  const n = 10;
  const result = fannkuch(n);
  console.log(String(result[0]));
  console.log("Pfannkuchen(" + n + ") = " + result[1]);
}

main();
