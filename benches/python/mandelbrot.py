# Mandelbrot set membership: float arithmetic in a nested loop with early exit.
# Port of benches/pvm/mandelbrot.pvm.


def count_inside(size, max_iter):
    count = 0
    for y in range(size):
        ci = 2.0 * float(y) / float(size) - 1.0
        for x in range(size):
            cr = 2.0 * float(x) / float(size) - 1.5
            zr = 0.0
            zi = 0.0
            i = 0
            escaped = False
            while i < max_iter:
                tr = zr * zr - zi * zi + cr
                zi = 2.0 * zr * zi + ci
                zr = tr
                if zr * zr + zi * zi > 4.0:
                    escaped = True
                    break
                i += 1
            if not escaped:
                count += 1
    return count


def main():
    print(count_inside(2400, 50))


main()
