// Binary trees: allocation and garbage collection of many short-lived objects.
// Port of benches/pvm/binarytrees.pvm.
public class binarytrees {
    static final class Node {
        Node left;
        Node right;

        Node(Node left, Node right) {
            this.left = left;
            this.right = right;
        }
    }

    static Node make(long depth) {
        if (depth == 0) {
            return new Node(null, null);
        }
        return new Node(make(depth - 1), make(depth - 1));
    }

    static long check(Node node) {
        if (node.left == null) {
            return 1;
        }
        return 1 + check(node.left) + check(node.right);
    }

    public static void main(String[] args) {
        long maxDepth = 16;
        long stretch = maxDepth + 1;
        System.out.println("stretch tree of depth " + stretch + "\t check: " + check(make(stretch)));
        Node longLived = make(maxDepth);
        long depth = 4;
        while (depth <= maxDepth) {
            long iterations = 1L << (maxDepth - depth + 4);
            long total = 0;
            for (long i = 0; i < iterations; i++) {
                total += check(make(depth));
            }
            System.out.println(iterations + "\t trees of depth " + depth + "\t check: " + total);
            depth += 2;
        }
        System.out.println("long lived tree of depth " + maxDepth + "\t check: " + check(longLived));
    }
}
