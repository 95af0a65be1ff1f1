/* Mandelbrot set membership: float arithmetic in a nested loop with early exit.
 * Port of benches/pvm/mandelbrot.pvm. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

static int64_t count_inside(int64_t size, int64_t max_iter) {
    int64_t count = 0;
    for (int64_t y = 0; y < size; y++) {
        double ci = 2.0 * (double)y / (double)size - 1.0;
        for (int64_t x = 0; x < size; x++) {
            double cr = 2.0 * (double)x / (double)size - 1.5;
            double zr = 0.0;
            double zi = 0.0;
            int64_t i = 0;
            bool escaped = false;
            while (i < max_iter) {
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

int main(void) {
    printf("%lld\n", (long long)count_inside(2400, 50));
    return 0;
}
