// Work queue: insertion-ordered maps under many removals. An {int: int} map
// is a FIFO queue of jobs (take the oldest from a keys() snapshot, remove it,
// requeue or spawn jobs, cancel random ones); a {str: int} map is an LRU
// cache (a hit moves its key to the back, misses evict the oldest quarter).
// Port of benches/pvm/workqueue.pvm. A Map keeps insertion order.
"use strict";

class Rng {
  constructor(seed) {
    this.seed = seed;
  }
  // MINSTD: the product stays below 2^47, exact in doubles.
  next() {
    this.seed = (this.seed * 48271) % 2147483647;
    return this.seed;
  }
}

const P = 1000000007;
const TARGET = 1000;

function main() {
  const rng = new Rng(7);

  // The queue: job id -> payload, oldest first.
  const q = new Map();
  let nextId = 0;
  for (let i = 0; i < TARGET; i++) {
    q.set(nextId, rng.next() % 1000);
    nextId += 1;
  }
  let done = 0;
  let requeued = 0;
  let cancelled = 0;
  let order = 0;
  let snaps = 0;
  for (let round = 0; round < 2000; round++) {
    const ks = Array.from(q.keys());
    const batch = Math.min(250, ks.length);
    for (let i = 0; i < batch; i++) {
      const id = ks[i];
      if (!q.has(id)) {
        continue; // cancelled since the snapshot
      }
      const p = q.get(id);
      q.delete(id);
      done += 1;
      order = (order * 31 + id * 7 + p) % P;
      const r = rng.next() % 8;
      if (r === 0) {
        q.set(id, p + 1); // requeued: back of the queue, same id
        requeued += 1;
      } else {
        let spawn = r % 3;
        if (q.size < TARGET) {
          spawn += 1;
        }
        for (let j = 0; j < spawn; j++) {
          q.set(nextId, (p * 3 + j) % 1000);
          nextId += 1;
        }
      }
      const c = nextId - 1 - (rng.next() % (2 * TARGET));
      if (q.has(c)) {
        q.delete(c);
        cancelled += 1;
      }
      const b = nextId - 1 - (rng.next() % (2 * TARGET));
      if (q.has(b)) {
        q.set(b, q.get(b) + 1000); // updated in place: keeps its position
      }
    }
    if (round % 16 === 0) {
      let pos = 0;
      for (const [k, v] of q) {
        snaps = (snaps * 31 + k * ((pos % 7) + 1) + v) % P;
        pos += 1;
      }
    }
  }
  console.log("queue done " + String(done) + " requeued " + String(requeued) + " cancelled " +
              String(cancelled) + " left " + String(q.size) + " ids " + String(nextId));
  console.log("queue order " + String(order) + " snapshots " + String(snaps));

  // The cache: key -> hit count, least recently used first.
  const cache = new Map();
  const cap = 2000;
  let hits = 0;
  let misses = 0;
  let evicted = 0;
  let ev = 0;
  for (let i = 0; i < 600000; i++) {
    const x = rng.next() % 10;
    let id = 0;
    if (x < 7) {
      id = rng.next() % 1500;
    } else {
      id = rng.next() % 100000;
    }
    const key = "user" + String(id);
    if (cache.has(key)) {
      hits += 1;
      const v = cache.get(key);
      cache.delete(key);
      cache.set(key, v + 1); // most recently used: back of the order
    } else {
      misses += 1;
      cache.set(key, i % 1000);
      if (cache.size > cap) {
        const ks = Array.from(cache.keys());
        for (let j = 0; j < cap / 4; j++) {
          ev = (ev * 31 + ks[j].length * 1000 + cache.get(ks[j])) % P;
          cache.delete(ks[j]);
          evicted += 1;
        }
      }
    }
  }
  let fin = 0;
  let pos = 0;
  for (const [k, v] of cache) {
    fin = (fin * 31 + k.charCodeAt(4) * ((pos % 5) + 1) + v) % P;
    pos += 1;
  }
  console.log("cache hits " + String(hits) + " misses " + String(misses) + " evicted " +
              String(evicted) + " size " + String(cache.size));
  console.log("cache order " + String(ev) + " " + String(fin));
}

main();
