// Sieve of Eratosthenes: array stores and loads in tight loops.
// Port of benches/pvm/sieve.pvm.
"use strict";

function sieve(n) {
  const flags = new Array(n + 1).fill(true);
  let count = 0;
  let i = 2;
  while (i <= n) {
    if (flags[i]) {
      count += 1;
      let j = i * i;
      while (j <= n) {
        flags[j] = false;
        j += i;
      }
    }
    i += 1;
  }
  return count;
}

function main() {
  let total = 0;
  for (let round = 0; round < 40; round++) {
    total += sieve(2000000);
  }
  console.log(String(total));
}

main();
