// Fannkuch-redux: permutations and prefix reversals on small int arrays.
// Port of benches/pvm/fannkuch.pvm.
public class fannkuch {
    static long[] fannkuch(int n) {
        int[] perm = new int[n];
        int[] perm1 = new int[n];
        int[] count = new int[n];
        for (int i = 0; i < n; i++) {
            perm1[i] = i;
        }
        long maxFlips = 0;
        long checksum = 0;
        long permCount = 0;
        int r = n;
        while (true) {
            while (r != 1) {
                count[r - 1] = r;
                r -= 1;
            }
            for (int i = 0; i < n; i++) {
                perm[i] = perm1[i];
            }
            long flips = 0;
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
            if (flips > maxFlips) {
                maxFlips = flips;
            }
            if (permCount % 2 == 0) {
                checksum += flips;
            } else {
                checksum -= flips;
            }
            while (true) {
                if (r == n) {
                    return new long[] {checksum, maxFlips};
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
            permCount += 1;
        }
    }

    public static void main(String[] args) {
        int n = 10;
        long[] result = fannkuch(n);
        System.out.println(result[0]);
        System.out.println("Pfannkuchen(" + n + ") = " + result[1]);
    }
}
