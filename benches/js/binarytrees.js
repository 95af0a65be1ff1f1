// Binary trees: allocation and garbage collection of many short-lived objects.
// Port of benches/pvm/binarytrees.pvm.
"use strict";

class Node {
  constructor(left, right) {
    this.left = left;
    this.right = right;
  }
}

function make(depth) {
  if (depth === 0) {
    return new Node(null, null);
  }
  return new Node(make(depth - 1), make(depth - 1));
}

function check(node) {
  if (node.left === null) {
    return 1;
  }
  return 1 + check(node.left) + check(node.right);
}

function main() {
  const maxDepth = 16;
  const stretch = maxDepth + 1;
  console.log("stretch tree of depth " + stretch + "\t check: " + check(make(stretch)));
  const longLived = make(maxDepth);
  let depth = 4;
  while (depth <= maxDepth) {
    const iterations = 1 << (maxDepth - depth + 4);
    let total = 0;
    for (let i = 0; i < iterations; i++) {
      total += check(make(depth));
    }
    console.log(iterations + "\t trees of depth " + depth + "\t check: " + total);
    depth += 2;
  }
  console.log("long lived tree of depth " + maxDepth + "\t check: " + check(longLived));
}

main();
