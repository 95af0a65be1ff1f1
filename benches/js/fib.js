// Recursive calls: call/return overhead and integer arithmetic.
// Port of benches/pvm/fib.pvm.
"use strict";

function fib(n) {
  if (n < 2) {
    return n;
  }
  return fib(n - 1) + fib(n - 2);
}

console.log(String(fib(40)));
