/* String building: lines built by concatenation in a loop from str() of ints
 * and floats and small pieces; a string grown piece by piece; blocks of lines
 * joined, split back into lines and fields, and the numbers parsed again.
 * Port of benches/pvm/strbuild.pvm. Strings are immutable as in pvm: every
 * concatenation allocates a new string and frees the old one, split returns
 * newly allocated strings, and everything is freed once it is dead. */
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

#define P 1000000007LL

/* A string: its bytes (NUL-terminated for strtod and printf) and length. */
typedef struct {
    char *s;
    size_t len;
} Str;

static Str str_new(const char *b, size_t n) {
    Str r;
    r.s = xmalloc(n + 1);
    memcpy(r.s, b, n);
    r.s[n] = '\0';
    r.len = n;
    return r;
}

/* *dst += b: a new string; the old one is freed. */
static void str_append(Str *dst, const char *b, size_t n) {
    char *s = xmalloc(dst->len + n + 1);
    memcpy(s, dst->s, dst->len);
    memcpy(s + dst->len, b, n);
    s[dst->len + n] = '\0';
    free(dst->s);
    dst->s = s;
    dst->len += n;
}

/* pvm's str(float): the shortest round-trip form, with ".0" on whole numbers.
 * For the values here (multiples of 1/8 below 12500) "%.17g" prints exactly
 * that: their exact decimal expansion has at most 3 decimals. */
static Str float_str(double x) {
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.17g", x);
    if (strchr(tmp, '.') == NULL) {
        memcpy(tmp + n, ".0", 3);
        n += 2;
    }
    return str_new(tmp, (size_t)n);
}

static Str int_str(int64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    return str_new(tmp, (size_t)n);
}

/* split(s, sep): a new array of new strings. */
static Str *split(Str s, char sep, size_t *count) {
    size_t n = 1;
    for (size_t i = 0; i < s.len; i++) {
        if (s.s[i] == sep) {
            n++;
        }
    }
    Str *out = xmalloc(n * sizeof *out);
    size_t k = 0, start = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.s[i] == sep) {
            out[k++] = str_new(s.s + start, i - start);
            start = i + 1;
        }
    }
    out[k] = str_new(s.s + start, s.len - start);
    *count = n;
    return out;
}

static void free_strs(Str *a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(a[i].s);
    }
    free(a);
}

int main(void) {
    Rng rng = {3};
    Str lines[500];
    size_t nlines = 0;
    Str grow = str_new("", 0);
    int64_t grown = 0, blocks = 0, bytes = 0, fields = 0, sum = 0, h = 0;
    Str last = str_new("", 0);
    int last_owned = 1; /* else last is also lines[nlines - 1] */
    for (int64_t i = 0; i < 800000; i++) {
        int64_t nf = 3 + rng_next(&rng) % 6;
        Str line = str_new("", 0);
        for (int64_t f = 0; f < nf; f++) {
            int64_t v = rng_next(&rng) % 100000;
            if (f > 0) {
                str_append(&line, ",", 1);
            }
            int64_t kind = v % 3;
            Str piece;
            if (kind == 0) {
                piece = int_str(v);
            } else if (kind == 1) {
                /* v / 8 is exact, and its shortest form has at most 3 decimals. */
                piece = float_str((double)v / 8.0);
            } else {
                char tmp[48];
                int n = snprintf(tmp, sizeof tmp, "w%lld_%lld", (long long)(v % 97), (long long)f);
                piece = str_new(tmp, (size_t)n);
            }
            str_append(&line, piece.s, piece.len);
            free(piece.s);
        }
        lines[nlines++] = line;
        if (last_owned) {
            free(last.s);
        }
        last = line;
        last_owned = 0;
        size_t cut = line.len < 8 ? line.len : 8;
        Str piece = str_new(line.s, cut);
        str_append(&piece, ";", 1);
        str_append(&grow, piece.s, piece.len);
        free(piece.s);
        if (grow.len > 4000) {
            h = (h * 31 + (int64_t)grow.len + (unsigned char)grow.s[1000]) % P;
            free(grow.s);
            grow = str_new("", 0);
            grown += 1;
        }
        if (nlines == 500) {
            /* join(lines, "\n") */
            size_t total = nlines - 1;
            for (size_t j = 0; j < nlines; j++) {
                total += lines[j].len;
            }
            Str block;
            block.s = xmalloc(total + 1);
            block.len = total;
            size_t at = 0;
            for (size_t j = 0; j < nlines; j++) {
                if (j > 0) {
                    block.s[at++] = '\n';
                }
                memcpy(block.s + at, lines[j].s, lines[j].len);
                at += lines[j].len;
            }
            block.s[at] = '\0';
            bytes += (int64_t)block.len;
            blocks += 1;
            size_t nl;
            Str *ls = split(block, '\n', &nl);
            for (size_t j = 0; j < nl; j++) {
                size_t nfs;
                Str *fs = split(ls[j], ',', &nfs);
                for (size_t k = 0; k < nfs; k++) {
                    Str fld = fs[k];
                    fields += 1;
                    if ((unsigned char)fld.s[0] == 119) { /* "w" */
                        h = (h * 31 + (int64_t)fld.len) % P;
                    } else if (memchr(fld.s, '.', fld.len) != NULL) {
                        sum += (int64_t)(strtod(fld.s, NULL) * 8.0);
                    } else {
                        sum += strtoll(fld.s, NULL, 10);
                    }
                }
                free_strs(fs, nfs);
            }
            free_strs(ls, nl);
            free(block.s);
            /* lines = []: the old lines are garbage, except the last one */
            for (size_t j = 0; j + 1 < nlines; j++) {
                free(lines[j].s);
            }
            last_owned = 1;
            nlines = 0;
        }
    }
    printf("blocks %lld bytes %lld fields %lld\n", (long long)blocks, (long long)bytes, (long long)fields);
    printf("sum %lld hash %lld grown %lld %zu\n", (long long)sum, (long long)h, (long long)grown, grow.len);
    printf("last %s\n", last.s);
    for (size_t j = 0; j < nlines; j++) {
        free(lines[j].s);
    }
    if (last_owned) {
        free(last.s);
    }
    free(grow.s);
    return 0;
}
