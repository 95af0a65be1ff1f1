// Live graph: a large live set of small objects (30,000 trees of 15 nodes, each
// node with its own label string) that is slowly mutated, replacing random
// subtrees, while every step also builds and drops a short-lived tree.
// Port of benches/pvm/livegraph.pvm.
import java.util.ArrayList;

public class livegraph {
    static final class Node {
        long id;
        long weight;
        String label;
        Node left;
        Node right;

        Node(long id, long weight, String label, Node left, Node right) {
            this.id = id;
            this.weight = weight;
            this.label = label;
            this.left = left;
            this.right = right;
        }
    }

    static final long P = 1000000007L;

    static final class Gen {
        long seed;
        long ids;

        Gen(long seed, long ids) {
            this.seed = seed;
            this.ids = ids;
        }

        // MINSTD: the product stays below 2^47.
        long next() {
            seed = seed * 48271L % 2147483647L;
            return seed;
        }

        // A full tree of the given depth; a node's children are built after it.
        Node tree(long depth) {
            long id = ids;
            ids += 1;
            long w = next() % 1000;
            String label = "n" + Long.toString(id);
            if (depth == 0) {
                return new Node(id, w, label, null, null);
            }
            Node l = tree(depth - 1);
            Node r = tree(depth - 1);
            return new Node(id, w, label, l, r);
        }
    }

    static long check(Node n) {
        if (n == null) {
            return 0;
        }
        return (n.weight + n.label.length() + check(n.left) * 3 + check(n.right) * 5) % P;
    }

    public static void main(String[] args) {
        int slotsN = 30000;
        long depth = 3;
        Gen g = new Gen(11, 0);
        ArrayList<Node> slots = new ArrayList<>();
        for (int i = 0; i < slotsN; i++) {
            slots.add(g.tree(depth));
        }
        long temp = 0;
        long replaced = 0;
        for (long step = 0; step < 200000; step++) {
            // Short-lived garbage: a small tree, checked and dropped.
            Node t = g.tree(2);
            temp = (temp + check(t)) % P;
            // A little mutation of the live set.
            int s = (int) (g.next() % slotsN);
            Node node = slots.get(s);
            node.weight = (node.weight + step) % 1000;
            if (step % 4 == 0) {
                long k = g.next() % 4;
                if (k == 0) {
                    slots.set(s, g.tree(depth));
                } else if (k == 1) {
                    node.left = g.tree(depth - 1);
                } else if (k == 2) {
                    node.right = g.tree(depth - 1);
                } else {
                    node.left.right = g.tree(depth - 2);
                }
                replaced += 1;
            }
        }
        long live = 0;
        for (Node n : slots) {
            live = (live * 31 + check(n)) % P;
        }
        System.out.println("nodes " + g.ids + " replaced " + replaced);
        System.out.println("temp " + temp + " live " + live);
    }
}
