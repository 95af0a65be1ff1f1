# Recursive calls: call/return overhead and integer arithmetic.
# Port of benches/pvm/fib.pvm.


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    print(fib(40))


main()
