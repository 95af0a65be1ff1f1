// Closures: calls through function values and captured mutable variables.
// Port of benches/pvm/closures.pvm.
"use strict";

function compose(f, g) {
  return (x) => f(g(x));
}

function main() {
  const add1 = (x) => x + 1;
  const dbl = (x) => x * 2;
  const h = compose(add1, dbl);
  let acc = 0;
  for (let i = 0; i < 50000000; i++) {
    acc = (acc + h(i)) % 1000003;
  }
  console.log(String(acc));
  let count = 0;
  const inc = () => {
    count += 1;
  };
  for (let i = 0; i < 30000000; i++) {
    inc();
  }
  console.log(String(count));
}

main();
