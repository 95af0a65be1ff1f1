# Spectral norm: small function calls and float arrays.
# Port of benches/pvm/spectralnorm.pvm.
from math import sqrt


def a(i, j):
    ij = i + j
    return 1.0 / float(ij * (ij + 1) // 2 + i + 1)


def mul_av(n, v, av):
    for i in range(n):
        sum_ = 0.0
        for j in range(n):
            sum_ += a(i, j) * v[j]
        av[i] = sum_


def mul_atv(n, v, atv):
    for i in range(n):
        sum_ = 0.0
        for j in range(n):
            sum_ += a(j, i) * v[j]
        atv[i] = sum_


def mul_atav(n, v, out, tmp):
    mul_av(n, v, tmp)
    mul_atv(n, tmp, out)


def main():
    n = 2000
    u = [1.0] * n
    v = [0.0] * n
    tmp = [0.0] * n
    for i in range(10):
        mul_atav(n, u, v, tmp)
        mul_atav(n, v, u, tmp)
    vbv = 0.0
    vv = 0.0
    for i in range(n):
        vbv += u[i] * v[i]
        vv += v[i] * v[i]
    print("%.9f" % sqrt(vbv / vv))


main()
