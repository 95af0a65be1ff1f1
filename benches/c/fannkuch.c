/* Fannkuch-redux: permutations and prefix reversals on small int arrays.
 * Port of benches/pvm/fannkuch.pvm. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    int64_t checksum;
    int64_t max_flips;
} Result;

static Result fannkuch(int n) {
    int *perm = calloc(n, sizeof *perm);
    int *perm1 = calloc(n, sizeof *perm1);
    int *count = calloc(n, sizeof *count);
    if (perm == NULL || perm1 == NULL || count == NULL) {
        perror("calloc");
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        perm1[i] = i;
    }
    int64_t max_flips = 0;
    int64_t checksum = 0;
    int64_t perm_count = 0;
    int r = n;
    for (;;) {
        while (r != 1) {
            count[r - 1] = r;
            r -= 1;
        }
        for (int i = 0; i < n; i++) {
            perm[i] = perm1[i];
        }
        int64_t flips = 0;
        int k = perm[0];
        while (k != 0) {
            int lo = 0;
            int hi = k;
            while (lo < hi) {
                int t = perm[lo];
                perm[lo] = perm[hi];
                perm[hi] = t;
                lo += 1;
                hi -= 1;
            }
            flips += 1;
            k = perm[0];
        }
        if (flips > max_flips) {
            max_flips = flips;
        }
        if (perm_count % 2 == 0) {
            checksum += flips;
        } else {
            checksum -= flips;
        }
        for (;;) {
            if (r == n) {
                free(perm);
                free(perm1);
                free(count);
                Result res = {checksum, max_flips};
                return res;
            }
            int perm0 = perm1[0];
            for (int i = 0; i < r; i++) {
                perm1[i] = perm1[i + 1];
            }
            perm1[r] = perm0;
            count[r] -= 1;
            if (count[r] > 0) {
                break;
            }
            r += 1;
        }
        perm_count += 1;
    }
}

int main(void) {
    int n = 10;
    Result result = fannkuch(n);
    printf("%lld\n", (long long)result.checksum);
    printf("Pfannkuchen(%d) = %lld\n", n, (long long)result.max_flips);
    return 0;
}
