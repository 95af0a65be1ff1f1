// Spectral norm: small function calls and float arrays.
// Port of benches/pvm/spectralnorm.pvm.
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;

public class spectralnorm {
    static double a(long i, long j) {
        long ij = i + j;
        return 1.0 / (double) (ij * (ij + 1) / 2 + i + 1);
    }

    static void mulAv(int n, double[] v, double[] av) {
        for (int i = 0; i < n; i++) {
            double sum = 0.0;
            for (int j = 0; j < n; j++) {
                sum += a(i, j) * v[j];
            }
            av[i] = sum;
        }
    }

    static void mulAtv(int n, double[] v, double[] atv) {
        for (int i = 0; i < n; i++) {
            double sum = 0.0;
            for (int j = 0; j < n; j++) {
                sum += a(j, i) * v[j];
            }
            atv[i] = sum;
        }
    }

    static void mulAtav(int n, double[] v, double[] out, double[] tmp) {
        mulAv(n, v, tmp);
        mulAtv(n, tmp, out);
    }

    // pvm's fixed(x, d) is C's "%.*f": the exact binary value rounded half to even.
    static String fixed(double x, int d) {
        return new BigDecimal(x).setScale(d, RoundingMode.HALF_EVEN).toPlainString();
    }

    public static void main(String[] args) {
        int n = 2000;
        double[] u = new double[n];
        Arrays.fill(u, 1.0);
        double[] v = new double[n];
        double[] tmp = new double[n];
        for (int i = 0; i < 10; i++) {
            mulAtav(n, u, v, tmp);
            mulAtav(n, v, u, tmp);
        }
        double vbv = 0.0;
        double vv = 0.0;
        for (int i = 0; i < n; i++) {
            vbv += u[i] * v[i];
            vv += v[i] * v[i];
        }
        System.out.println(fixed(Math.sqrt(vbv / vv), 9));
    }
}
