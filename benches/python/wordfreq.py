# Word frequencies: string building, hashing and map updates, then a sort.
# Port of benches/pvm/wordfreq.pvm.


def main():
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    counts = {}
    seed = 42
    for i in range(10000000):
        seed = (seed * 1103515245 + 12345) % 2147483648
        w = words[seed % 8] + str(seed % 1000)
        if w in counts:
            counts[w] += 1
        else:
            counts[w] = 1
    ks = list(counts.keys())
    ks.sort()
    checksum = 0
    for k in ks:  # keys are ASCII: len() in characters == bytes
        checksum = (checksum * 31 + counts[k] * len(k)) % 1000000007
    print(len(ks))
    print(checksum)


main()
