/* Interface dispatch: virtual calls over a mixed array of objects.
 * Port of benches/pvm/dispatch.pvm. Each object starts with a pointer to its
 * class's method table; s.area() is an indirect call through it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Shape Shape;
typedef struct {
    double (*area)(const Shape *self);
} ShapeVTable;
struct Shape {
    const ShapeVTable *vt;
};

typedef struct {
    Shape base;
    double r;
} Circle;
typedef struct {
    Shape base;
    double w;
    double h;
} Rect;
typedef struct {
    Shape base;
    double side;
} Square;

static double circle_area(const Shape *s) {
    const Circle *c = (const Circle *)s;
    return 3.0 * c->r * c->r;
}
static double rect_area(const Shape *s) {
    const Rect *r = (const Rect *)s;
    return r->w * r->h;
}
static double square_area(const Shape *s) {
    const Square *q = (const Square *)s;
    return q->side * q->side;
}

static const ShapeVTable CIRCLE_VT = {circle_area};
static const ShapeVTable RECT_VT = {rect_area};
static const ShapeVTable SQUARE_VT = {square_area};

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) {
        perror("malloc");
        exit(1);
    }
    return p;
}

/* A growable array of Shape references, like pvm's [Shape]. */
typedef struct {
    Shape **items;
    size_t len;
    size_t cap;
} ShapeArray;

static void push(ShapeArray *a, Shape *s) {
    if (a->len == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4;
        a->items = realloc(a->items, a->cap * sizeof *a->items);
        if (a->items == NULL) {
            perror("realloc");
            exit(1);
        }
    }
    a->items[a->len++] = s;
}

int main(void) {
    ShapeArray shapes = {NULL, 0, 0};
    for (int64_t i = 0; i < 1000; i++) {
        int64_t k = i % 3;
        if (k == 0) {
            Circle *c = xmalloc(sizeof *c);
            c->base.vt = &CIRCLE_VT;
            c->r = (double)(i % 7);
            push(&shapes, &c->base);
        } else if (k == 1) {
            Rect *r = xmalloc(sizeof *r);
            r->base.vt = &RECT_VT;
            r->w = (double)(i % 5);
            r->h = 2.0;
            push(&shapes, &r->base);
        } else {
            Square *q = xmalloc(sizeof *q);
            q->base.vt = &SQUARE_VT;
            q->side = (double)(i % 11);
            push(&shapes, &q->base);
        }
    }
    double total = 0.0;
    for (int64_t round = 0; round < 100000; round++) {
        for (size_t j = 0; j < shapes.len; j++) {
            Shape *s = shapes.items[j];
            total += s->vt->area(s);
        }
    }
    printf("%.1f\n", total);
    for (size_t j = 0; j < shapes.len; j++) {
        free(shapes.items[j]);
    }
    free(shapes.items);
    return 0;
}
