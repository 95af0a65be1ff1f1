// Word frequencies: string building, hashing and map updates, then a sort.
// Port of benches/pvm/wordfreq.pvm.
"use strict";

function main() {
  const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
  const counts = new Map();
  let seed = 42;
  for (let i = 0; i < 10000000; i++) {
    // (seed * 1103515245 + 12345) % 2^31 in 64-bit ints. JS numbers are doubles, and
    // the product (up to 2^62) would be rounded; only its low 31 bits matter, so
    // the exact 32-bit product from Math.imul gives the same result.
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    const w = words[seed % 8] + String(seed % 1000);
    if (counts.has(w)) {
      counts.set(w, counts.get(w) + 1);
    } else {
      counts.set(w, 1);
    }
  }
  const ks = Array.from(counts.keys());
  ks.sort(); // UTF-16 code-unit order == byte order for these ASCII keys
  let checksum = 0;
  for (const k of ks) {
    checksum = (checksum * 31 + counts.get(k) * k.length) % 1000000007;
  }
  console.log(String(ks.length));
  console.log(String(checksum));
}

main();
