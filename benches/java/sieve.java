// Sieve of Eratosthenes: array stores and loads in tight loops.
// Port of benches/pvm/sieve.pvm.
import java.util.Arrays;

public class sieve {
    static long sieve(int n) {
        boolean[] flags = new boolean[n + 1];
        Arrays.fill(flags, true);
        long count = 0;
        long i = 2;
        while (i <= n) {
            if (flags[(int) i]) {
                count += 1;
                long j = i * i; // 64-bit like pvm's int: i * i overflows 32 bits
                while (j <= n) {
                    flags[(int) j] = false;
                    j += i;
                }
            }
            i += 1;
        }
        return count;
    }

    public static void main(String[] args) {
        long total = 0;
        for (int round = 0; round < 40; round++) {
            total += sieve(2000000);
        }
        System.out.println(total);
    }
}
