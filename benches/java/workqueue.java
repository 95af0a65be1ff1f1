// Work queue: insertion-ordered maps under many removals. An {int: int} map
// is a FIFO queue of jobs (take the oldest from a keys() snapshot, remove it,
// requeue or spawn jobs, cancel random ones); a {str: int} map is an LRU
// cache (a hit moves its key to the back, misses evict the oldest quarter).
// Port of benches/pvm/workqueue.pvm. pvm maps iterate in insertion order, like
// LinkedHashMap (in its default insertion-order mode).
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;

public class workqueue {
    static final class Rng {
        long seed;

        Rng(long seed) {
            this.seed = seed;
        }

        // MINSTD: the product stays below 2^47.
        long next() {
            seed = seed * 48271L % 2147483647L;
            return seed;
        }
    }

    static final long P = 1000000007L;
    static final long TARGET = 1000;

    public static void main(String[] args) {
        Rng rng = new Rng(7);

        // The queue: job id -> payload, oldest first.
        LinkedHashMap<Long, Long> q = new LinkedHashMap<>();
        long nextId = 0;
        for (long i = 0; i < TARGET; i++) {
            q.put(nextId, rng.next() % 1000);
            nextId += 1;
        }
        long done = 0;
        long requeued = 0;
        long cancelled = 0;
        long order = 0;
        long snaps = 0;
        for (long round = 0; round < 2000; round++) {
            ArrayList<Long> ks = new ArrayList<>(q.keySet());
            int batch = Math.min(250, ks.size());
            for (int i = 0; i < batch; i++) {
                long id = ks.get(i);
                if (!q.containsKey(id)) {
                    continue; // cancelled since the snapshot
                }
                long p = q.get(id);
                q.remove(id);
                done += 1;
                order = (order * 31 + id * 7 + p) % P;
                long r = rng.next() % 8;
                if (r == 0) {
                    q.put(id, p + 1); // requeued: back of the queue, same id
                    requeued += 1;
                } else {
                    long spawn = r % 3;
                    if (q.size() < TARGET) {
                        spawn += 1;
                    }
                    for (long j = 0; j < spawn; j++) {
                        q.put(nextId, (p * 3 + j) % 1000);
                        nextId += 1;
                    }
                }
                long c = nextId - 1 - rng.next() % (2 * TARGET);
                if (q.containsKey(c)) {
                    q.remove(c);
                    cancelled += 1;
                }
                long b = nextId - 1 - rng.next() % (2 * TARGET);
                if (q.containsKey(b)) {
                    q.put(b, q.get(b) + 1000); // updated in place: keeps its position
                }
            }
            if (round % 16 == 0) {
                long pos = 0;
                for (Map.Entry<Long, Long> e : q.entrySet()) {
                    snaps = (snaps * 31 + e.getKey() * (pos % 7 + 1) + e.getValue()) % P;
                    pos += 1;
                }
            }
        }
        System.out.println("queue done " + done + " requeued " + requeued + " cancelled " + cancelled
                           + " left " + q.size() + " ids " + nextId);
        System.out.println("queue order " + order + " snapshots " + snaps);

        // The cache: key -> hit count, least recently used first.
        LinkedHashMap<String, Long> cache = new LinkedHashMap<>();
        int cap = 2000;
        long hits = 0;
        long misses = 0;
        long evicted = 0;
        long ev = 0;
        for (long i = 0; i < 600000; i++) {
            long x = rng.next() % 10;
            long id = 0;
            if (x < 7) {
                id = rng.next() % 1500;
            } else {
                id = rng.next() % 100000;
            }
            String key = "user" + Long.toString(id);
            if (cache.containsKey(key)) {
                hits += 1;
                long v = cache.get(key);
                cache.remove(key);
                cache.put(key, v + 1); // most recently used: back of the order
            } else {
                misses += 1;
                cache.put(key, i % 1000);
                if (cache.size() > cap) {
                    ArrayList<String> ks = new ArrayList<>(cache.keySet());
                    for (int j = 0; j < cap / 4; j++) {
                        ev = (ev * 31 + ks.get(j).length() * 1000L + cache.get(ks.get(j))) % P;
                        cache.remove(ks.get(j));
                        evicted += 1;
                    }
                }
            }
        }
        long fin = 0;
        long pos = 0;
        for (Map.Entry<String, Long> e : cache.entrySet()) {
            fin = (fin * 31 + e.getKey().charAt(4) * (pos % 5 + 1) + e.getValue()) % P;
            pos += 1;
        }
        System.out.println("cache hits " + hits + " misses " + misses + " evicted " + evicted
                           + " size " + cache.size());
        System.out.println("cache order " + ev + " " + fin);
    }
}
