/* Word frequencies: string building, hashing and map updates, then a sort.
 * Port of benches/pvm/wordfreq.pvm. The map is an insertion-ordered hash map
 * (entries in insertion order plus an open-addressing index), like pvm's maps;
 * each word is a freshly allocated string, freed when its key already exists. */
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
    char *key;
    size_t len;
    uint64_t hash;
    int64_t value;
} Entry;

typedef struct {
    Entry *entries; /* insertion order */
    size_t len;
    size_t cap;
    int64_t *slots; /* index into entries, or -1 */
    size_t mask;
} Map;

static uint64_t hash_bytes(const char *s, size_t n) { /* FNV-1a */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void map_init(Map *m) {
    m->len = 0;
    m->cap = 8;
    m->entries = xmalloc(m->cap * sizeof *m->entries);
    m->mask = 15;
    m->slots = xmalloc((m->mask + 1) * sizeof *m->slots);
    memset(m->slots, 0xff, (m->mask + 1) * sizeof *m->slots);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t map_probe(const Map *m, const char *key, size_t len, uint64_t h) {
    size_t i = (size_t)h & m->mask;
    for (;;) {
        int64_t e = m->slots[i];
        if (e < 0) {
            return i;
        }
        const Entry *en = &m->entries[e];
        if (en->hash == h && en->len == len && memcmp(en->key, key, len) == 0) {
            return i;
        }
        i = (i + 1) & m->mask;
    }
}

static int map_has(const Map *m, const char *key, size_t len, uint64_t h) {
    return m->slots[map_probe(m, key, len, h)] >= 0;
}

/* counts[key]: the key must be present. */
static int64_t *map_get(Map *m, const char *key, size_t len, uint64_t h) {
    return &m->entries[m->slots[map_probe(m, key, len, h)]].value;
}

static void map_grow(Map *m) {
    free(m->slots);
    m->mask = m->mask * 2 + 1;
    m->slots = xmalloc((m->mask + 1) * sizeof *m->slots);
    memset(m->slots, 0xff, (m->mask + 1) * sizeof *m->slots);
    for (size_t e = 0; e < m->len; e++) {
        size_t i = (size_t)m->entries[e].hash & m->mask;
        while (m->slots[i] >= 0) {
            i = (i + 1) & m->mask;
        }
        m->slots[i] = (int64_t)e;
    }
}

/* counts[key] = value for a new key; the map takes ownership of key. */
static void map_insert(Map *m, char *key, size_t len, uint64_t h, int64_t value) {
    if ((m->len + 1) * 2 > m->mask + 1) {
        map_grow(m);
    }
    if (m->len == m->cap) {
        m->cap *= 2;
        m->entries = realloc(m->entries, m->cap * sizeof *m->entries);
        if (m->entries == NULL) {
            perror("realloc");
            exit(1);
        }
    }
    size_t i = map_probe(m, key, len, h);
    Entry *en = &m->entries[m->len];
    en->key = key;
    en->len = len;
    en->hash = h;
    en->value = value;
    m->slots[i] = (int64_t)m->len;
    m->len++;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b); /* byte-wise */
}

int main(void) {
    static const char *const words[] = {"alpha", "beta", "gamma", "delta",
                                        "epsilon", "zeta", "eta", "theta"};
    Map counts;
    map_init(&counts);
    int64_t seed = 42;
    for (int64_t i = 0; i < 10000000; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648LL;
        /* w = words[seed % 8] + str(seed % 1000) */
        const char *word = words[seed % 8];
        char num[24];
        int nlen = snprintf(num, sizeof num, "%lld", (long long)(seed % 1000));
        size_t wlen = strlen(word);
        size_t len = wlen + (size_t)nlen;
        char *w = xmalloc(len + 1);
        memcpy(w, word, wlen);
        memcpy(w + wlen, num, (size_t)nlen + 1);
        uint64_t h = hash_bytes(w, len);
        if (map_has(&counts, w, len, h)) {
            *map_get(&counts, w, len, h) += 1;
            free(w);
        } else {
            map_insert(&counts, w, len, h, 1);
        }
    }
    /* keys(counts), then sort */
    char **ks = xmalloc(counts.len * sizeof *ks);
    for (size_t e = 0; e < counts.len; e++) {
        ks[e] = counts.entries[e].key;
    }
    qsort(ks, counts.len, sizeof *ks, cmp_str);
    int64_t checksum = 0;
    for (size_t e = 0; e < counts.len; e++) {
        size_t len = strlen(ks[e]);
        int64_t c = *map_get(&counts, ks[e], len, hash_bytes(ks[e], len));
        checksum = (checksum * 31 + c * (int64_t)len) % 1000000007;
    }
    printf("%zu\n", counts.len);
    printf("%lld\n", (long long)checksum);
    free(ks);
    for (size_t e = 0; e < counts.len; e++) {
        free(counts.entries[e].key);
    }
    free(counts.entries);
    free(counts.slots);
    return 0;
}
