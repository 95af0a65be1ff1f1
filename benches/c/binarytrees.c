/* Binary trees: allocation and garbage collection of many short-lived objects.
 * Port of benches/pvm/binarytrees.pvm. Without a GC, every tree is freed
 * explicitly once it has been checked. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Node {
    struct Node *left;
    struct Node *right;
} Node;

static Node *new_node(Node *left, Node *right) {
    Node *n = malloc(sizeof *n);
    if (n == NULL) {
        perror("malloc");
        exit(1);
    }
    n->left = left;
    n->right = right;
    return n;
}

static Node *make(int64_t depth) {
    if (depth == 0) {
        return new_node(NULL, NULL);
    }
    Node *left = make(depth - 1);
    Node *right = make(depth - 1);
    return new_node(left, right);
}

static int64_t check(const Node *node) {
    if (node->left == NULL) {
        return 1;
    }
    return 1 + check(node->left) + check(node->right);
}

static void free_tree(Node *node) {
    if (node->left != NULL) {
        free_tree(node->left);
        free_tree(node->right);
    }
    free(node);
}

int main(void) {
    int64_t max_depth = 16;
    int64_t stretch = max_depth + 1;
    Node *stretch_tree = make(stretch);
    printf("stretch tree of depth %lld\t check: %lld\n", (long long)stretch,
           (long long)check(stretch_tree));
    free_tree(stretch_tree);
    Node *long_lived = make(max_depth);
    int64_t depth = 4;
    while (depth <= max_depth) {
        int64_t iterations = (int64_t)1 << (max_depth - depth + 4);
        int64_t total = 0;
        for (int64_t i = 0; i < iterations; i++) {
            Node *t = make(depth);
            total += check(t);
            free_tree(t);
        }
        printf("%lld\t trees of depth %lld\t check: %lld\n", (long long)iterations,
               (long long)depth, (long long)total);
        depth += 2;
    }
    printf("long lived tree of depth %lld\t check: %lld\n", (long long)max_depth,
           (long long)check(long_lived));
    free_tree(long_lived);
    return 0;
}
