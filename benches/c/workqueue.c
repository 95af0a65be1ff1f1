/* Work queue: insertion-ordered maps under many removals. An {int: int} map
 * is a FIFO queue of jobs (take the oldest from a keys() snapshot, remove it,
 * requeue or spawn jobs, cancel random ones); a {str: int} map is an LRU
 * cache (a hit moves its key to the back, misses evict the oldest quarter).
 * Port of benches/pvm/workqueue.pvm.
 *
 * The map keeps its entries in insertion order in an array, with an
 * open-addressing index over them. Removing marks the entry dead and its
 * index slot deleted; the entries are compacted (and the index rebuilt) when
 * more than half are dead. String keys are owned by the map and freed when
 * removed; each lookup key is a freshly allocated string, as in pvm. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) {
        perror("malloc");
        exit(1);
    }
    return p;
}

typedef struct {
    int64_t seed;
} Rng;

/* MINSTD: the product stays below 2^47. */
static int64_t rng_next(Rng *r) {
    r->seed = r->seed * 48271 % 2147483647;
    return r->seed;
}

#define EMPTY (-1)
#define DELETED (-2)

typedef struct {
    int64_t ikey;
    char *skey; /* for string keys: owned, NUL-terminated */
    size_t len;
    uint64_t hash;
    int64_t value;
    int live;
} Entry;

typedef struct {
    int str_keys;
    Entry *entries; /* insertion order, dead ones included */
    size_t n, cap;  /* entries used / allocated */
    size_t count;   /* live entries */
    int32_t *slots; /* index into entries, EMPTY or DELETED */
    size_t mask;
    size_t used;    /* slots that are not EMPTY */
} Map;

static uint64_t hash_int(int64_t k) { /* splitmix64 finaliser */
    uint64_t z = (uint64_t)k + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t hash_str(const char *s, size_t n) { /* FNV-1a */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void map_init(Map *m, int str_keys) {
    m->str_keys = str_keys;
    m->n = 0;
    m->cap = 8;
    m->entries = xmalloc(m->cap * sizeof *m->entries);
    m->count = 0;
    m->mask = 15;
    m->slots = xmalloc((m->mask + 1) * sizeof *m->slots);
    memset(m->slots, 0xff, (m->mask + 1) * sizeof *m->slots); /* EMPTY */
    m->used = 0;
}

static void map_free(Map *m) {
    if (m->str_keys) {
        for (size_t e = 0; e < m->n; e++) {
            if (m->entries[e].live) {
                free(m->entries[e].skey);
            }
        }
    }
    free(m->entries);
    free(m->slots);
}

/* Drops dead entries and rebuilds the index, sized for the live ones. */
static void map_rebuild(Map *m) {
    size_t j = 0;
    for (size_t e = 0; e < m->n; e++) {
        if (m->entries[e].live) {
            m->entries[j++] = m->entries[e];
        }
    }
    m->n = j;
    size_t size = 16;
    while (size < (m->count + 1) * 4) {
        size *= 2;
    }
    if (size != m->mask + 1) {
        free(m->slots);
        m->mask = size - 1;
        m->slots = xmalloc(size * sizeof *m->slots);
    }
    memset(m->slots, 0xff, size * sizeof *m->slots);
    for (size_t e = 0; e < m->n; e++) {
        size_t i = (size_t)m->entries[e].hash & m->mask;
        while (m->slots[i] != EMPTY) {
            i = (i + 1) & m->mask;
        }
        m->slots[i] = (int32_t)e;
    }
    m->used = m->n;
}

/* The slot holding the key, or -1. */
static int64_t map_find(const Map *m, int64_t ikey, const char *skey, size_t len, uint64_t h) {
    size_t i = (size_t)h & m->mask;
    for (;;) {
        int32_t e = m->slots[i];
        if (e == EMPTY) {
            return -1;
        }
        if (e >= 0) {
            const Entry *en = &m->entries[e];
            if (en->hash == h &&
                (m->str_keys ? en->len == len && memcmp(en->skey, skey, len) == 0 : en->ikey == ikey)) {
                return (int64_t)i;
            }
        }
        i = (i + 1) & m->mask;
    }
}

/* m[key] = value. A string key is handed over to the map (freed if present). */
static void map_set(Map *m, int64_t ikey, char *skey, size_t len, uint64_t h, int64_t value) {
    int64_t s = map_find(m, ikey, skey, len, h);
    if (s >= 0) {
        m->entries[m->slots[s]].value = value;
        free(skey);
        return;
    }
    if ((m->used + 1) * 2 > m->mask + 1) {
        map_rebuild(m);
    }
    if (m->n == m->cap) {
        m->cap *= 2;
        m->entries = realloc(m->entries, m->cap * sizeof *m->entries);
        if (m->entries == NULL) {
            perror("realloc");
            exit(1);
        }
    }
    size_t i = (size_t)h & m->mask;
    while (m->slots[i] >= 0) {
        i = (i + 1) & m->mask;
    }
    if (m->slots[i] == EMPTY) {
        m->used++;
    }
    Entry *en = &m->entries[m->n];
    en->ikey = ikey;
    en->skey = skey;
    en->len = len;
    en->hash = h;
    en->value = value;
    en->live = 1;
    m->slots[i] = (int32_t)m->n;
    m->n++;
    m->count++;
}

static void map_remove(Map *m, int64_t ikey, const char *skey, size_t len, uint64_t h) {
    int64_t s = map_find(m, ikey, skey, len, h);
    if (s < 0) {
        return;
    }
    Entry *en = &m->entries[m->slots[s]];
    en->live = 0;
    if (m->str_keys) {
        free(en->skey);
        en->skey = NULL;
    }
    m->slots[s] = DELETED;
    m->count--;
    if (m->n > 32 && m->count * 2 < m->n) {
        map_rebuild(m);
    }
}

/* keys(m) of an int map: a new array, in insertion order. */
static int64_t *int_keys(const Map *m) {
    int64_t *ks = xmalloc((m->count + 1) * sizeof *ks);
    size_t j = 0;
    for (size_t e = 0; e < m->n; e++) {
        if (m->entries[e].live) {
            ks[j++] = m->entries[e].ikey;
        }
    }
    return ks;
}

/* keys(m) of a string map: the map's own strings, in insertion order. */
static char **str_keys(const Map *m) {
    char **ks = xmalloc((m->count + 1) * sizeof *ks);
    size_t j = 0;
    for (size_t e = 0; e < m->n; e++) {
        if (m->entries[e].live) {
            ks[j++] = m->entries[e].skey;
        }
    }
    return ks;
}

/* Int map helpers. */
static int ihas(const Map *m, int64_t k) { return map_find(m, k, NULL, 0, hash_int(k)) >= 0; }
static int64_t iget(const Map *m, int64_t k) {
    return m->entries[m->slots[map_find(m, k, NULL, 0, hash_int(k))]].value;
}
static void iset(Map *m, int64_t k, int64_t v) { map_set(m, k, NULL, 0, hash_int(k), v); }
static void iremove(Map *m, int64_t k) { map_remove(m, k, NULL, 0, hash_int(k)); }

/* String map helpers. */
static int shas(const Map *m, const char *k, size_t len) { return map_find(m, 0, k, len, hash_str(k, len)) >= 0; }
static int64_t sget(const Map *m, const char *k, size_t len) {
    return m->entries[m->slots[map_find(m, 0, k, len, hash_str(k, len))]].value;
}

#define P 1000000007LL
#define TARGET 1000

int main(void) {
    Rng rng = {7};

    /* The queue: job id -> payload, oldest first. */
    Map q;
    map_init(&q, 0);
    int64_t next_id = 0;
    for (int64_t i = 0; i < TARGET; i++) {
        iset(&q, next_id, rng_next(&rng) % 1000);
        next_id += 1;
    }
    int64_t done = 0, requeued = 0, cancelled = 0, order = 0, snaps = 0;
    for (int64_t round = 0; round < 2000; round++) {
        size_t nks = q.count;
        int64_t *ks = int_keys(&q);
        size_t batch = nks < 250 ? nks : 250;
        for (size_t i = 0; i < batch; i++) {
            int64_t id = ks[i];
            if (!ihas(&q, id)) {
                continue; /* cancelled since the snapshot */
            }
            int64_t p = iget(&q, id);
            iremove(&q, id);
            done += 1;
            order = (order * 31 + id * 7 + p) % P;
            int64_t r = rng_next(&rng) % 8;
            if (r == 0) {
                iset(&q, id, p + 1); /* requeued: back of the queue, same id */
                requeued += 1;
            } else {
                int64_t spawn = r % 3;
                if (q.count < TARGET) {
                    spawn += 1;
                }
                for (int64_t j = 0; j < spawn; j++) {
                    iset(&q, next_id, (p * 3 + j) % 1000);
                    next_id += 1;
                }
            }
            int64_t c = next_id - 1 - rng_next(&rng) % (2 * TARGET);
            if (ihas(&q, c)) {
                iremove(&q, c);
                cancelled += 1;
            }
            int64_t b = next_id - 1 - rng_next(&rng) % (2 * TARGET);
            if (ihas(&q, b)) {
                iset(&q, b, iget(&q, b) + 1000); /* updated in place: keeps its position */
            }
        }
        free(ks);
        if (round % 16 == 0) {
            int64_t pos = 0;
            int64_t *snap = int_keys(&q);
            size_t ns = q.count;
            for (size_t j = 0; j < ns; j++) {
                int64_t k = snap[j];
                snaps = (snaps * 31 + k * (pos % 7 + 1) + iget(&q, k)) % P;
                pos += 1;
            }
            free(snap);
        }
    }
    printf("queue done %lld requeued %lld cancelled %lld left %zu ids %lld\n", (long long)done,
           (long long)requeued, (long long)cancelled, q.count, (long long)next_id);
    printf("queue order %lld snapshots %lld\n", (long long)order, (long long)snaps);
    map_free(&q);

    /* The cache: key -> hit count, least recently used first. */
    Map cache;
    map_init(&cache, 1);
    size_t cap = 2000;
    int64_t hits = 0, misses = 0, evicted = 0, ev = 0;
    for (int64_t i = 0; i < 600000; i++) {
        int64_t x = rng_next(&rng) % 10;
        int64_t id = 0;
        if (x < 7) {
            id = rng_next(&rng) % 1500;
        } else {
            id = rng_next(&rng) % 100000;
        }
        char tmp[32];
        int len = snprintf(tmp, sizeof tmp, "user%lld", (long long)id);
        char *key = xmalloc((size_t)len + 1);
        memcpy(key, tmp, (size_t)len + 1);
        uint64_t h = hash_str(key, (size_t)len);
        if (shas(&cache, key, (size_t)len)) {
            hits += 1;
            int64_t v = sget(&cache, key, (size_t)len);
            map_remove(&cache, 0, key, (size_t)len, h);
            map_set(&cache, 0, key, (size_t)len, h, v + 1); /* most recently used: back of the order */
        } else {
            misses += 1;
            map_set(&cache, 0, key, (size_t)len, h, i % 1000);
            if (cache.count > cap) {
                char **ks = str_keys(&cache);
                for (size_t j = 0; j < cap / 4; j++) {
                    size_t kl = strlen(ks[j]);
                    ev = (ev * 31 + (int64_t)kl * 1000 + sget(&cache, ks[j], kl)) % P;
                    map_remove(&cache, 0, ks[j], kl, hash_str(ks[j], kl)); /* frees ks[j] */
                    evicted += 1;
                }
                free(ks);
            }
        }
    }
    int64_t fin = 0, pos = 0;
    char **ks = str_keys(&cache);
    size_t nk = cache.count;
    for (size_t j = 0; j < nk; j++) {
        size_t kl = strlen(ks[j]);
        fin = (fin * 31 + (unsigned char)ks[j][4] * (pos % 5 + 1) + sget(&cache, ks[j], kl)) % P;
        pos += 1;
    }
    free(ks);
    printf("cache hits %lld misses %lld evicted %lld size %zu\n", (long long)hits, (long long)misses,
           (long long)evicted, cache.count);
    printf("cache order %lld %lld\n", (long long)ev, (long long)fin);
    map_free(&cache);
    return 0;
}
