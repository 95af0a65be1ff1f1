# Live graph: a large live set of small objects (30,000 trees of 15 nodes, each
# node with its own label string) that is slowly mutated, replacing random
# subtrees, while every step also builds and drops a short-lived tree.
# Port of benches/pvm/livegraph.pvm.


class Node:
    __slots__ = ("id", "weight", "label", "left", "right")

    def __init__(self, id_, weight, label, left, right):
        self.id = id_
        self.weight = weight
        self.label = label
        self.left = left
        self.right = right


P = 1000000007


class Gen:
    __slots__ = ("seed", "ids")

    def __init__(self, seed, ids):
        self.seed = seed
        self.ids = ids

    # MINSTD: the product stays below 2^47, exact in every port.
    def next(self):
        self.seed = self.seed * 48271 % 2147483647
        return self.seed

    # A full tree of the given depth; a node's children are built after it.
    def tree(self, depth):
        id_ = self.ids
        self.ids += 1
        w = self.next() % 1000
        label = "n" + str(id_)
        if depth == 0:
            return Node(id_, w, label, None, None)
        l = self.tree(depth - 1)
        r = self.tree(depth - 1)
        return Node(id_, w, label, l, r)


def check(n):
    if n is None:
        return 0
    return (n.weight + len(n.label) + check(n.left) * 3 + check(n.right) * 5) % P


def main():
    slots_n = 30000
    depth = 3
    g = Gen(11, 0)
    slots = []
    for i in range(slots_n):
        slots.append(g.tree(depth))
    temp = 0
    replaced = 0
    for step in range(200000):
        # Short-lived garbage: a small tree, checked and dropped.
        t = g.tree(2)
        temp = (temp + check(t)) % P
        # A little mutation of the live set.
        s = g.next() % slots_n
        node = slots[s]
        node.weight = (node.weight + step) % 1000
        if step % 4 == 0:
            k = g.next() % 4
            if k == 0:
                slots[s] = g.tree(depth)
            elif k == 1:
                node.left = g.tree(depth - 1)
            elif k == 2:
                node.right = g.tree(depth - 1)
            else:
                node.left.right = g.tree(depth - 2)
            replaced += 1
    live = 0
    for n in slots:
        live = (live * 31 + check(n)) % P
    print("nodes " + str(g.ids) + " replaced " + str(replaced))
    print("temp " + str(temp) + " live " + str(live))


main()
