// Closures: calls through function values and captured mutable variables.
// Port of benches/pvm/closures.pvm.
import java.util.function.LongUnaryOperator;

public class closures {
    static LongUnaryOperator compose(LongUnaryOperator f, LongUnaryOperator g) {
        return x -> f.applyAsLong(g.applyAsLong(x));
    }

    public static void main(String[] args) {
        LongUnaryOperator add1 = x -> x + 1;
        LongUnaryOperator dbl = x -> x * 2;
        LongUnaryOperator h = compose(add1, dbl);
        long acc = 0;
        for (long i = 0; i < 50000000L; i++) {
            acc = (acc + h.applyAsLong(i)) % 1000003;
        }
        System.out.println(acc);
        // A Java lambda cannot assign a captured local, so the captured variable
        // lives in a heap box, as a captured-by-reference variable does in pvm.
        long[] count = {0};
        Runnable inc = () -> count[0] += 1;
        for (long i = 0; i < 30000000L; i++) {
            inc.run();
        }
        System.out.println(count[0]);
    }
}
