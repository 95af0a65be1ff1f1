# Work queue: insertion-ordered maps under many removals. An {int: int} map
# is a FIFO queue of jobs (take the oldest from a keys() snapshot, remove it,
# requeue or spawn jobs, cancel random ones); a {str: int} map is an LRU
# cache (a hit moves its key to the back, misses evict the oldest quarter).
# Port of benches/pvm/workqueue.pvm. Python dicts keep insertion order.


class Rng:
    __slots__ = ("seed",)

    def __init__(self, seed):
        self.seed = seed

    # MINSTD: the product stays below 2^47, exact in every port.
    def next(self):
        self.seed = self.seed * 48271 % 2147483647
        return self.seed


P = 1000000007
TARGET = 1000


def main():
    rng = Rng(7)

    # The queue: job id -> payload, oldest first.
    q = {}
    next_id = 0
    for i in range(TARGET):
        q[next_id] = rng.next() % 1000
        next_id += 1
    done = 0
    requeued = 0
    cancelled = 0
    order = 0
    snaps = 0
    for round_ in range(2000):
        ks = list(q)
        batch = min(250, len(ks))
        for i in range(batch):
            id_ = ks[i]
            if id_ not in q:
                continue  # cancelled since the snapshot
            p = q[id_]
            del q[id_]
            done += 1
            order = (order * 31 + id_ * 7 + p) % P
            r = rng.next() % 8
            if r == 0:
                q[id_] = p + 1  # requeued: back of the queue, same id
                requeued += 1
            else:
                spawn = r % 3
                if len(q) < TARGET:
                    spawn += 1
                for j in range(spawn):
                    q[next_id] = (p * 3 + j) % 1000
                    next_id += 1
            c = next_id - 1 - rng.next() % (2 * TARGET)
            if c in q:
                del q[c]
                cancelled += 1
            b = next_id - 1 - rng.next() % (2 * TARGET)
            if b in q:
                q[b] += 1000  # updated in place: keeps its position
        if round_ % 16 == 0:
            pos = 0
            for k in q:
                snaps = (snaps * 31 + k * (pos % 7 + 1) + q[k]) % P
                pos += 1
    print("queue done " + str(done) + " requeued " + str(requeued) + " cancelled " +
          str(cancelled) + " left " + str(len(q)) + " ids " + str(next_id))
    print("queue order " + str(order) + " snapshots " + str(snaps))

    # The cache: key -> hit count, least recently used first.
    cache = {}
    cap = 2000
    hits = 0
    misses = 0
    evicted = 0
    ev = 0
    for i in range(600000):
        x = rng.next() % 10
        id_ = 0
        if x < 7:
            id_ = rng.next() % 1500
        else:
            id_ = rng.next() % 100000
        key = "user" + str(id_)
        if key in cache:
            hits += 1
            v = cache[key]
            del cache[key]
            cache[key] = v + 1  # most recently used: back of the order
        else:
            misses += 1
            cache[key] = i % 1000
            if len(cache) > cap:
                ks = list(cache)
                for j in range(cap // 4):
                    ev = (ev * 31 + len(ks[j]) * 1000 + cache[ks[j]]) % P
                    del cache[ks[j]]
                    evicted += 1
    fin = 0
    pos = 0
    for k in cache:
        fin = (fin * 31 + ord(k[4]) * (pos % 5 + 1) + cache[k]) % P
        pos += 1
    print("cache hits " + str(hits) + " misses " + str(misses) + " evicted " + str(evicted) +
          " size " + str(len(cache)))
    print("cache order " + str(ev) + " " + str(fin))


main()
