# Sieve of Eratosthenes: array stores and loads in tight loops.
# Port of benches/pvm/sieve.pvm (element by element, no slice assignment).


def sieve(n):
    flags = [True] * (n + 1)
    count = 0
    i = 2
    while i <= n:
        if flags[i]:
            count += 1
            j = i * i
            while j <= n:
                flags[j] = False
                j += i
        i += 1
    return count


def main():
    total = 0
    for round_ in range(40):
        total += sieve(2000000)
    print(total)


main()
