// Live graph: a large live set of small objects (30,000 trees of 15 nodes, each
// node with its own label string) that is slowly mutated, replacing random
// subtrees, while every step also builds and drops a short-lived tree.
// Port of benches/pvm/livegraph.pvm.
"use strict";

class Node {
  constructor(id, weight, label, left, right) {
    this.id = id;
    this.weight = weight;
    this.label = label;
    this.left = left;
    this.right = right;
  }
}

const P = 1000000007;

class Gen {
  constructor(seed, ids) {
    this.seed = seed;
    this.ids = ids;
  }

  // MINSTD: the product stays below 2^47, exact in doubles.
  next() {
    this.seed = (this.seed * 48271) % 2147483647;
    return this.seed;
  }

  // A full tree of the given depth; a node's children are built after it.
  tree(depth) {
    const id = this.ids;
    this.ids += 1;
    const w = this.next() % 1000;
    const label = "n" + String(id);
    if (depth === 0) {
      return new Node(id, w, label, null, null);
    }
    const l = this.tree(depth - 1);
    const r = this.tree(depth - 1);
    return new Node(id, w, label, l, r);
  }
}

function check(n) {
  if (n === null) {
    return 0;
  }
  return (n.weight + n.label.length + check(n.left) * 3 + check(n.right) * 5) % P;
}

function main() {
  const slotsN = 30000;
  const depth = 3;
  const g = new Gen(11, 0);
  const slots = [];
  for (let i = 0; i < slotsN; i++) {
    slots.push(g.tree(depth));
  }
  let temp = 0;
  let replaced = 0;
  for (let step = 0; step < 200000; step++) {
    // Short-lived garbage: a small tree, checked and dropped.
    const t = g.tree(2);
    temp = (temp + check(t)) % P;
    // A little mutation of the live set.
    const s = g.next() % slotsN;
    const node = slots[s];
    node.weight = (node.weight + step) % 1000;
    if (step % 4 === 0) {
      const k = g.next() % 4;
      if (k === 0) {
        slots[s] = g.tree(depth);
      } else if (k === 1) {
        node.left = g.tree(depth - 1);
      } else if (k === 2) {
        node.right = g.tree(depth - 1);
      } else {
        node.left.right = g.tree(depth - 2);
      }
      replaced += 1;
    }
  }
  let live = 0;
  for (const n of slots) {
    live = (live * 31 + check(n)) % P;
  }
  console.log("nodes " + String(g.ids) + " replaced " + String(replaced));
  console.log("temp " + String(temp) + " live " + String(live));
}

main();
