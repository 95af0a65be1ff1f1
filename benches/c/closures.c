/* Closures: calls through function values and captured mutable variables.
 * Port of benches/pvm/closures.pvm. A closure is a heap object holding a code
 * pointer and its captured environment; every call goes through the pointer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct IntFn IntFn; /* fn(int) -> int */
struct IntFn {
    int64_t (*call)(IntFn *self, int64_t x);
    IntFn *f; /* captured by compose */
    IntFn *g;
};

typedef struct VoidFn VoidFn; /* fn() */
struct VoidFn {
    void (*call)(VoidFn *self);
    int64_t *count; /* captured by reference: a heap box shared with main */
};

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) {
        perror("malloc");
        exit(1);
    }
    return p;
}

static IntFn *new_int_fn(int64_t (*call)(IntFn *, int64_t), IntFn *f, IntFn *g) {
    IntFn *c = xmalloc(sizeof *c);
    c->call = call;
    c->f = f;
    c->g = g;
    return c;
}

static int64_t composed_call(IntFn *self, int64_t x) {
    return self->f->call(self->f, self->g->call(self->g, x));
}

static IntFn *compose(IntFn *f, IntFn *g) {
    return new_int_fn(composed_call, f, g);
}

static int64_t add1_call(IntFn *self, int64_t x) {
    (void)self;
    return x + 1;
}

static int64_t dbl_call(IntFn *self, int64_t x) {
    (void)self;
    return x * 2;
}

static void inc_call(VoidFn *self) {
    *self->count += 1;
}

int main(void) {
    IntFn *add1 = new_int_fn(add1_call, NULL, NULL);
    IntFn *dbl = new_int_fn(dbl_call, NULL, NULL);
    IntFn *h = compose(add1, dbl);
    int64_t acc = 0;
    for (int64_t i = 0; i < 50000000; i++) {
        acc = (acc + h->call(h, i)) % 1000003;
    }
    printf("%lld\n", (long long)acc);
    int64_t *count = xmalloc(sizeof *count);
    *count = 0;
    VoidFn *inc = xmalloc(sizeof *inc);
    inc->call = inc_call;
    inc->count = count;
    for (int64_t i = 0; i < 30000000; i++) {
        inc->call(inc);
    }
    printf("%lld\n", (long long)*count);
    free(h);
    free(dbl);
    free(add1);
    free(inc);
    free(count);
    return 0;
}
