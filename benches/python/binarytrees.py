# Binary trees: allocation and garbage collection of many short-lived objects.
# Port of benches/pvm/binarytrees.pvm.


class Node:
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right


def make(depth):
    if depth == 0:
        return Node(None, None)
    return Node(make(depth - 1), make(depth - 1))


def check(node):
    if node.left is None:
        return 1
    return 1 + check(node.left) + check(node.right)


def main():
    max_depth = 16
    stretch = max_depth + 1
    print("stretch tree of depth " + str(stretch) + "\t check: " + str(check(make(stretch))))
    long_lived = make(max_depth)
    depth = 4
    while depth <= max_depth:
        iterations = 1 << (max_depth - depth + 4)
        total = 0
        for i in range(iterations):
            total += check(make(depth))
        print(str(iterations) + "\t trees of depth " + str(depth) + "\t check: " + str(total))
        depth += 2
    print("long lived tree of depth " + str(max_depth) + "\t check: " + str(check(long_lived)))


main()
