# Closures: calls through function values and captured mutable variables.
# Port of benches/pvm/closures.pvm.


def compose(f, g):
    def composed(x):
        return f(g(x))
    return composed


def main():
    add1 = lambda x: x + 1
    dbl = lambda x: x * 2
    h = compose(add1, dbl)
    acc = 0
    for i in range(50000000):
        acc = (acc + h(i)) % 1000003
    print(acc)
    count = 0

    def inc():
        nonlocal count
        count += 1

    for i in range(30000000):
        inc()
    print(count)


main()
