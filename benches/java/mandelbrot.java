// Mandelbrot set membership: float arithmetic in a nested loop with early exit.
// Port of benches/pvm/mandelbrot.pvm.
public class mandelbrot {
    static long countInside(long size, long maxIter) {
        long count = 0;
        for (long y = 0; y < size; y++) {
            double ci = 2.0 * (double) y / (double) size - 1.0;
            for (long x = 0; x < size; x++) {
                double cr = 2.0 * (double) x / (double) size - 1.5;
                double zr = 0.0;
                double zi = 0.0;
                long i = 0;
                boolean escaped = false;
                while (i < maxIter) {
                    double tr = zr * zr - zi * zi + cr;
                    zi = 2.0 * zr * zi + ci;
                    zr = tr;
                    if (zr * zr + zi * zi > 4.0) {
                        escaped = true;
                        break;
                    }
                    i += 1;
                }
                if (!escaped) {
                    count += 1;
                }
            }
        }
        return count;
    }

    public static void main(String[] args) {
        System.out.println(countInside(2400, 50));
    }
}
