/* Live graph: a large live set of small objects (30,000 trees of 15 nodes, each
 * node with its own label string) that is slowly mutated, replacing random
 * subtrees, while every step also builds and drops a short-lived tree.
 * Port of benches/pvm/livegraph.pvm. Without a GC, the short-lived tree is
 * freed after it has been checked and a replaced subtree when it is replaced.
 * Each label is its own allocation, as in pvm. */
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

typedef struct Node {
    int64_t id;
    int64_t weight;
    char *label;
    size_t label_len;
    struct Node *left;
    struct Node *right;
} Node;

#define P 1000000007LL

typedef struct {
    int64_t seed;
    int64_t ids;
} Gen;

/* MINSTD: the product stays below 2^47. */
static int64_t gen_next(Gen *g) {
    g->seed = g->seed * 48271 % 2147483647;
    return g->seed;
}

/* A full tree of the given depth; a node's children are built after it. */
static Node *gen_tree(Gen *g, int64_t depth) {
    int64_t id = g->ids;
    g->ids += 1;
    int64_t w = gen_next(g) % 1000;
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "n%lld", (long long)id);
    char *label = xmalloc((size_t)len + 1);
    memcpy(label, tmp, (size_t)len + 1);
    Node *l = NULL, *r = NULL;
    if (depth != 0) {
        l = gen_tree(g, depth - 1);
        r = gen_tree(g, depth - 1);
    }
    Node *n = xmalloc(sizeof *n);
    n->id = id;
    n->weight = w;
    n->label = label;
    n->label_len = (size_t)len;
    n->left = l;
    n->right = r;
    return n;
}

static void free_tree(Node *n) {
    if (n == NULL) {
        return;
    }
    free_tree(n->left);
    free_tree(n->right);
    free(n->label);
    free(n);
}

static int64_t check(const Node *n) {
    if (n == NULL) {
        return 0;
    }
    return (n->weight + (int64_t)n->label_len + check(n->left) * 3 + check(n->right) * 5) % P;
}

int main(void) {
    int64_t slots_n = 30000;
    int64_t depth = 3;
    Gen g = {11, 0};
    Node **slots = xmalloc((size_t)slots_n * sizeof *slots);
    for (int64_t i = 0; i < slots_n; i++) {
        slots[i] = gen_tree(&g, depth);
    }
    int64_t temp = 0;
    int64_t replaced = 0;
    for (int64_t step = 0; step < 200000; step++) {
        /* Short-lived garbage: a small tree, checked and dropped. */
        Node *t = gen_tree(&g, 2);
        temp = (temp + check(t)) % P;
        free_tree(t);
        /* A little mutation of the live set. */
        int64_t s = gen_next(&g) % slots_n;
        Node *node = slots[s];
        node->weight = (node->weight + step) % 1000;
        if (step % 4 == 0) {
            int64_t k = gen_next(&g) % 4;
            if (k == 0) {
                Node *fresh = gen_tree(&g, depth);
                free_tree(slots[s]);
                slots[s] = fresh;
            } else if (k == 1) {
                Node *fresh = gen_tree(&g, depth - 1);
                free_tree(node->left);
                node->left = fresh;
            } else if (k == 2) {
                Node *fresh = gen_tree(&g, depth - 1);
                free_tree(node->right);
                node->right = fresh;
            } else {
                Node *fresh = gen_tree(&g, depth - 2);
                free_tree(node->left->right);
                node->left->right = fresh;
            }
            replaced += 1;
        }
    }
    int64_t live = 0;
    for (int64_t i = 0; i < slots_n; i++) {
        live = (live * 31 + check(slots[i])) % P;
    }
    printf("nodes %lld replaced %lld\n", (long long)g.ids, (long long)replaced);
    printf("temp %lld live %lld\n", (long long)temp, (long long)live);
    for (int64_t i = 0; i < slots_n; i++) {
        free_tree(slots[i]);
    }
    free(slots);
    return 0;
}
