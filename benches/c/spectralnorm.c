/* Spectral norm: small function calls and float arrays.
 * Port of benches/pvm/spectralnorm.pvm. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static double a(int64_t i, int64_t j) {
    int64_t ij = i + j;
    return 1.0 / (double)(ij * (ij + 1) / 2 + i + 1);
}

static void mul_av(int64_t n, const double *v, double *av) {
    for (int64_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (int64_t j = 0; j < n; j++) {
            sum += a(i, j) * v[j];
        }
        av[i] = sum;
    }
}

static void mul_atv(int64_t n, const double *v, double *atv) {
    for (int64_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (int64_t j = 0; j < n; j++) {
            sum += a(j, i) * v[j];
        }
        atv[i] = sum;
    }
}

static void mul_atav(int64_t n, const double *v, double *out, double *tmp) {
    mul_av(n, v, tmp);
    mul_atv(n, tmp, out);
}

static double *array(int64_t n, double x) {
    double *p = malloc((size_t)n * sizeof *p);
    if (p == NULL) {
        perror("malloc");
        exit(1);
    }
    for (int64_t i = 0; i < n; i++) {
        p[i] = x;
    }
    return p;
}

int main(void) {
    int64_t n = 2000;
    double *u = array(n, 1.0);
    double *v = array(n, 0.0);
    double *tmp = array(n, 0.0);
    for (int i = 0; i < 10; i++) {
        mul_atav(n, u, v, tmp);
        mul_atav(n, v, u, tmp);
    }
    double vbv = 0.0;
    double vv = 0.0;
    for (int64_t i = 0; i < n; i++) {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    printf("%.9f\n", sqrt(vbv / vv));
    free(u);
    free(v);
    free(tmp);
    return 0;
}
