/* Sieve of Eratosthenes: array stores and loads in tight loops.
 * Port of benches/pvm/sieve.pvm: a fresh flag array per call. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int64_t sieve(int64_t n) {
    bool *flags = malloc((size_t)(n + 1) * sizeof *flags);
    if (flags == NULL) {
        perror("malloc");
        exit(1);
    }
    for (int64_t k = 0; k <= n; k++) { /* array(n + 1, true) */
        flags[k] = true;
    }
    int64_t count = 0;
    int64_t i = 2;
    while (i <= n) {
        if (flags[i]) {
            count += 1;
            int64_t j = i * i;
            while (j <= n) {
                flags[j] = false;
                j += i;
            }
        }
        i += 1;
    }
    free(flags);
    return count;
}

int main(void) {
    int64_t total = 0;
    for (int round = 0; round < 40; round++) {
        total += sieve(2000000);
    }
    printf("%lld\n", (long long)total);
    return 0;
}
