/* JSON parsing: generate a JSON text (string building), then parse it byte by
 * byte into objects, arrays and small maps.
 * Port of benches/pvm/jsonparse.pvm. The text is built from freshly allocated
 * pieces joined at the end; the parser reads bytes (C has no one-character
 * strings to allocate) and builds each string in a growing buffer. Values
 * have a method table pointer (the interface call); objects are
 * insertion-ordered hash maps (entries plus an open-addressing index), like
 * pvm's maps. Every document is freed after it has been summarised. */
#include <stdarg.h>
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

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (p == NULL) {
        perror("realloc");
        exit(1);
    }
    return p;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
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

static const char *const KEYS[] = {"id", "name", "type", "value", "tags", "count", "items", "enabled",
                                   "owner", "size", "path", "mode", "ratio", "child", "next", "meta"};
static const char *const WORDS[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
#define MAX_DEPTH 5

/* out: [str]. Constant pieces are not copied (pvm pushes the literal itself);
 * built pieces are fresh allocations. */
typedef struct {
    const char *s;
    int owned;
} Piece;

typedef struct {
    Piece *items;
    size_t len, cap;
} Pieces;

static void push_piece(Pieces *out, const char *s, int owned) {
    if (out->len == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 16;
        out->items = xrealloc(out->items, out->cap * sizeof *out->items);
    }
    out->items[out->len].s = s;
    out->items[out->len].owned = owned;
    out->len++;
}

static void push_const(Pieces *out, const char *s) { push_piece(out, s, 0); }

/* A built piece: a new string, like pvm's "..." + w + str(k). */
static void push_fmt(Pieces *out, const char *fmt, ...) {
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    push_piece(out, xstrdup(tmp), 1);
}

static void gen_object(Rng *rng, Pieces *out, int64_t depth);

static void gen_value(Rng *rng, Pieces *out, int64_t depth) {
    int64_t r = rng_next(rng) % 20;
    if (depth < MAX_DEPTH && r < 4) {
        gen_object(rng, out, depth);
    } else if (depth < MAX_DEPTH && r < 8) {
        int64_t n = rng_next(rng) % 8;
        push_const(out, "[");
        for (int64_t i = 0; i < n; i++) {
            if (i > 0) {
                push_const(out, ", ");
            }
            gen_value(rng, out, depth + 1);
        }
        push_const(out, "]");
    } else if (r < 12) {
        push_fmt(out, "%lld", (long long)(rng_next(rng) % 2000001 - 1000000));
    } else if (r < 17) {
        const char *w = WORDS[rng_next(rng) % 8];
        int64_t k = rng_next(rng) % 10;
        if (k == 0) {
            push_fmt(out, "\"%s\\nline\"", w);
        } else if (k == 1) {
            push_fmt(out, "\"say \\\"%s\\\"\"", w);
        } else {
            push_fmt(out, "\"%s%lld\"", w, (long long)(k * 37));
        }
    } else if (r == 17) {
        push_const(out, "true");
    } else if (r == 18) {
        push_const(out, "false");
    } else {
        push_const(out, "null");
    }
}

static void gen_object(Rng *rng, Pieces *out, int64_t depth) {
    int64_t n = 2 + rng_next(rng) % 6;
    push_const(out, "{");
    for (int64_t i = 0; i < n; i++) {
        if (i > 0) {
            push_const(out, ",\n");
        }
        const char *key = KEYS[rng_next(rng) % 16];
        push_fmt(out, "\"%s\": ", key);
        gen_value(rng, out, depth + 1);
    }
    push_const(out, "}");
}

/* join(out, ""), then the pieces become garbage. */
static char *generate(Rng *rng, int64_t records, size_t *len_out) {
    Pieces out = {NULL, 0, 0};
    push_const(&out, "[");
    for (int64_t i = 0; i < records; i++) {
        if (i > 0) {
            push_const(&out, ",\n");
        }
        gen_object(rng, &out, 1);
    }
    push_const(&out, "]\n");
    size_t total = 0;
    size_t *lens = xmalloc(out.len * sizeof *lens);
    for (size_t i = 0; i < out.len; i++) {
        lens[i] = strlen(out.items[i].s);
        total += lens[i];
    }
    char *text = xmalloc(total + 1);
    size_t at = 0;
    for (size_t i = 0; i < out.len; i++) {
        memcpy(text + at, out.items[i].s, lens[i]);
        at += lens[i];
        if (out.items[i].owned) {
            free((void *)out.items[i].s);
        }
    }
    text[at] = '\0';
    free(lens);
    free(out.items);
    *len_out = total;
    return text;
}

#define P 1000000007LL

typedef struct {
    int64_t objects, arrays, strings, numbers, literals, keys, chars;
} Stats;

typedef struct JValue JValue;
typedef struct {
    int64_t (*sum)(JValue *self, Stats *st);
    void (*destroy)(JValue *self);
} VTable;
struct JValue {
    const VTable *vt;
};

/* ---- JNull, JBool, JNum, JStr ---- */

static int64_t jnull_sum(JValue *self, Stats *st) {
    (void)self;
    st->literals += 1;
    return 1;
}
static void plain_destroy(JValue *self) { free(self); }
static const VTable JNULL_VT = {jnull_sum, plain_destroy};

typedef struct {
    JValue base;
    int v;
} JBool;
static int64_t jbool_sum(JValue *self, Stats *st) {
    st->literals += 1;
    if (((JBool *)self)->v) {
        return 2;
    }
    return 3;
}
static const VTable JBOOL_VT = {jbool_sum, plain_destroy};

typedef struct {
    JValue base;
    int64_t v;
} JNum;
static int64_t jnum_sum(JValue *self, Stats *st) {
    st->numbers += 1;
    return ((JNum *)self)->v + 1000000;
}
static const VTable JNUM_VT = {jnum_sum, plain_destroy};

typedef struct {
    JValue base;
    char *v;
    size_t len;
} JStr;
static int64_t jstr_sum(JValue *self, Stats *st) {
    JStr *s = (JStr *)self;
    st->strings += 1;
    st->chars += (int64_t)s->len;
    return (int64_t)s->len * 131 + (unsigned char)s->v[0];
}
static void jstr_destroy(JValue *self) {
    free(((JStr *)self)->v);
    free(self);
}
static const VTable JSTR_VT = {jstr_sum, jstr_destroy};

/* ---- JArr ---- */

typedef struct {
    JValue base;
    JValue **items;
    size_t len, cap;
} JArr;
static int64_t jarr_sum(JValue *self, Stats *st) {
    JArr *a = (JArr *)self;
    st->arrays += 1;
    int64_t h = 7;
    for (size_t i = 0; i < a->len; i++) {
        h = (h * 31 + a->items[i]->vt->sum(a->items[i], st)) % P;
    }
    return h;
}
static void jarr_destroy(JValue *self) {
    JArr *a = (JArr *)self;
    for (size_t i = 0; i < a->len; i++) {
        a->items[i]->vt->destroy(a->items[i]);
    }
    free(a->items);
    free(a);
}
static const VTable JARR_VT = {jarr_sum, jarr_destroy};

/* ---- JObj: an insertion-ordered {str: JValue} ---- */

typedef struct {
    char *key;
    size_t len;
    uint64_t hash;
    JValue *value;
} Entry;

typedef struct {
    JValue base;
    Entry *entries; /* insertion order */
    size_t len, cap;
    int32_t *slots; /* index into entries, or -1 */
    size_t mask;
} JObj;

static uint64_t hash_bytes(const char *s, size_t n) { /* FNV-1a */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t obj_probe(const JObj *m, const char *key, size_t len, uint64_t h) {
    size_t i = (size_t)h & m->mask;
    for (;;) {
        int32_t e = m->slots[i];
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

static void obj_grow(JObj *m) {
    free(m->slots);
    m->mask = m->mask * 2 + 1;
    m->slots = xmalloc((m->mask + 1) * sizeof *m->slots);
    memset(m->slots, 0xff, (m->mask + 1) * sizeof *m->slots);
    for (size_t e = 0; e < m->len; e++) {
        size_t i = (size_t)m->entries[e].hash & m->mask;
        while (m->slots[i] >= 0) {
            i = (i + 1) & m->mask;
        }
        m->slots[i] = (int32_t)e;
    }
}

static JObj *obj_new(void) {
    JObj *m = xmalloc(sizeof *m);
    m->base.vt = NULL;
    m->len = 0;
    m->cap = 4;
    m->entries = xmalloc(m->cap * sizeof *m->entries);
    m->mask = 7;
    m->slots = xmalloc((m->mask + 1) * sizeof *m->slots);
    memset(m->slots, 0xff, (m->mask + 1) * sizeof *m->slots);
    return m;
}

/* fields[key] = value; the map takes ownership of key and value. */
static void obj_set(JObj *m, char *key, size_t len, JValue *value) {
    uint64_t h = hash_bytes(key, len);
    size_t i = obj_probe(m, key, len, h);
    if (m->slots[i] >= 0) {
        Entry *en = &m->entries[m->slots[i]];
        en->value->vt->destroy(en->value);
        en->value = value;
        free(key);
        return;
    }
    if ((m->len + 1) * 2 > m->mask + 1) {
        obj_grow(m);
        i = obj_probe(m, key, len, h);
    }
    if (m->len == m->cap) {
        m->cap *= 2;
        m->entries = xrealloc(m->entries, m->cap * sizeof *m->entries);
    }
    Entry *en = &m->entries[m->len];
    en->key = key;
    en->len = len;
    en->hash = h;
    en->value = value;
    m->slots[i] = (int32_t)m->len;
    m->len++;
}

/* Independent of the order of the keys. */
static int64_t jobj_sum(JValue *self, Stats *st) {
    JObj *m = (JObj *)self;
    st->objects += 1;
    st->keys += (int64_t)m->len;
    int64_t h = 11;
    for (size_t e = 0; e < m->len; e++) {
        const Entry *en = &m->entries[e];
        int64_t kh = (int64_t)en->len * 131 + (unsigned char)en->key[0];
        h = (h + kh * en->value->vt->sum(en->value, st)) % P;
    }
    return h;
}
static void jobj_destroy(JValue *self) {
    JObj *m = (JObj *)self;
    for (size_t e = 0; e < m->len; e++) {
        free(m->entries[e].key);
        m->entries[e].value->vt->destroy(m->entries[e].value);
    }
    free(m->entries);
    free(m->slots);
    free(m);
}
static const VTable JOBJ_VT = {jobj_sum, jobj_destroy};

/* ---- Parser ---- */

typedef struct {
    const char *s;
    int64_t pos;
} Parser;

static char peek(const Parser *p) { return p->s[p->pos]; }

static void expect(Parser *p, char c) {
    if (peek(p) != c) {
        fprintf(stderr, "expected %c at %lld\n", c, (long long)p->pos);
        exit(1);
    }
    p->pos += 1;
}

static void skip_ws(Parser *p) {
    for (;;) {
        char c = peek(p);
        if (c == ' ' || c == '\n') {
            p->pos += 1;
        } else {
            return;
        }
    }
}

static JValue *parse_value(Parser *p);

static JValue *parse_number(Parser *p) {
    int neg = 0;
    if (peek(p) == '-') {
        neg = 1;
        p->pos += 1;
    }
    int64_t n = 0;
    for (;;) {
        int d = (unsigned char)peek(p);
        if (d < 48 || d > 57) {
            break;
        }
        n = n * 10 + (d - 48);
        p->pos += 1;
    }
    if (neg) {
        n = -n;
    }
    JNum *v = xmalloc(sizeof *v);
    v->base.vt = &JNUM_VT;
    v->v = n;
    return &v->base;
}

/* Builds the string one character at a time, in a growing buffer. */
static char *parse_string(Parser *p, size_t *len_out) {
    expect(p, '"');
    size_t len = 0, cap = 16;
    char *buf = xmalloc(cap);
    for (;;) {
        char c = peek(p);
        p->pos += 1;
        if (c == '"') {
            buf[len] = '\0';
            *len_out = len;
            return buf;
        }
        if (c == '\\') {
            char e = peek(p);
            p->pos += 1;
            c = e == 'n' ? '\n' : e;
        }
        if (len + 2 > cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        buf[len++] = c;
    }
}

static JValue *parse_array(Parser *p) {
    expect(p, '[');
    JArr *a = xmalloc(sizeof *a);
    a->base.vt = &JARR_VT;
    a->items = NULL;
    a->len = a->cap = 0;
    skip_ws(p);
    if (peek(p) == ']') {
        p->pos += 1;
        return &a->base;
    }
    for (;;) {
        JValue *v = parse_value(p);
        if (a->len == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 4;
            a->items = xrealloc(a->items, a->cap * sizeof *a->items);
        }
        a->items[a->len++] = v;
        skip_ws(p);
        if (peek(p) == ']') {
            p->pos += 1;
            return &a->base;
        }
        expect(p, ',');
    }
}

static JValue *parse_object(Parser *p) {
    expect(p, '{');
    JObj *m = obj_new();
    m->base.vt = &JOBJ_VT;
    skip_ws(p);
    if (peek(p) == '}') {
        p->pos += 1;
        return &m->base;
    }
    for (;;) {
        skip_ws(p);
        size_t klen;
        char *k = parse_string(p, &klen);
        skip_ws(p);
        expect(p, ':');
        obj_set(m, k, klen, parse_value(p));
        skip_ws(p);
        if (peek(p) == '}') {
            p->pos += 1;
            return &m->base;
        }
        expect(p, ',');
    }
}

static JValue *parse_value(Parser *p) {
    skip_ws(p);
    char c = peek(p);
    if (c == '{') {
        return parse_object(p);
    }
    if (c == '[') {
        return parse_array(p);
    }
    if (c == '"') {
        JStr *s = xmalloc(sizeof *s);
        s->base.vt = &JSTR_VT;
        s->v = parse_string(p, &s->len);
        return &s->base;
    }
    if (c == 't' || c == 'f') {
        p->pos += c == 't' ? 4 : 5;
        JBool *b = xmalloc(sizeof *b);
        b->base.vt = &JBOOL_VT;
        b->v = c == 't';
        return &b->base;
    }
    if (c == 'n') {
        p->pos += 4;
        JValue *v = xmalloc(sizeof *v);
        v->vt = &JNULL_VT;
        return v;
    }
    return parse_number(p);
}

int main(void) {
    Rng rng = {42};
    Stats st = {0, 0, 0, 0, 0, 0, 0};
    int64_t bytes = 0;
    int64_t checksum = 0;
    for (int64_t round = 0; round < 3; round++) {
        size_t len;
        char *text = generate(&rng, 2500, &len);
        bytes += (int64_t)len;
        Parser p = {text, 0};
        JValue *doc = parse_value(&p);
        checksum = (checksum * 31 + doc->vt->sum(doc, &st)) % P;
        doc->vt->destroy(doc);
        free(text);
    }
    printf("bytes %lld\n", (long long)bytes);
    printf("objects %lld arrays %lld keys %lld\n", (long long)st.objects, (long long)st.arrays,
           (long long)st.keys);
    printf("strings %lld chars %lld numbers %lld literals %lld\n", (long long)st.strings,
           (long long)st.chars, (long long)st.numbers, (long long)st.literals);
    printf("checksum %lld\n", (long long)checksum);
    return 0;
}
