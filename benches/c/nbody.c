/* N-body simulation: float arithmetic on object fields.
 * Port of benches/pvm/nbody.pvm. Bodies are separate heap objects referenced
 * from an array, as in pvm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const double PI = 3.141592653589793;
#define SOLAR_MASS (4.0 * PI * PI)
static const double DAYS_PER_YEAR = 365.24;

typedef struct {
    double x, y, z, vx, vy, vz, mass;
} Body;

static Body *new_body(double x, double y, double z, double vx, double vy, double vz,
                      double mass) {
    Body *b = malloc(sizeof *b);
    if (b == NULL) {
        perror("malloc");
        exit(1);
    }
    b->x = x;
    b->y = y;
    b->z = z;
    b->vx = vx;
    b->vy = vy;
    b->vz = vz;
    b->mass = mass;
    return b;
}

#define NBODIES 5

static void planets(Body **bodies) {
    bodies[0] = new_body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, SOLAR_MASS);
    bodies[1] = new_body(
        4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
        1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
        -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS);
    bodies[2] = new_body(
        8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
        -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
        2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS);
    bodies[3] = new_body(
        1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
        2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
        -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS);
    bodies[4] = new_body(
        1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
        2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
        -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS);
}

static void offset_momentum(Body **bodies, int n) {
    double px = 0.0;
    double py = 0.0;
    double pz = 0.0;
    for (int i = 0; i < n; i++) {
        Body *b = bodies[i];
        px += b->vx * b->mass;
        py += b->vy * b->mass;
        pz += b->vz * b->mass;
    }
    Body *sun = bodies[0];
    sun->vx = -px / SOLAR_MASS;
    sun->vy = -py / SOLAR_MASS;
    sun->vz = -pz / SOLAR_MASS;
}

static double energy(Body **bodies, int n) {
    double e = 0.0;
    for (int i = 0; i < n; i++) {
        Body *bi = bodies[i];
        e += 0.5 * bi->mass * (bi->vx * bi->vx + bi->vy * bi->vy + bi->vz * bi->vz);
        for (int j = i + 1; j < n; j++) {
            Body *bj = bodies[j];
            double dx = bi->x - bj->x;
            double dy = bi->y - bj->y;
            double dz = bi->z - bj->z;
            e -= bi->mass * bj->mass / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void advance(Body **bodies, int n, double dt) {
    for (int i = 0; i < n; i++) {
        Body *bi = bodies[i];
        for (int j = i + 1; j < n; j++) {
            Body *bj = bodies[j];
            double dx = bi->x - bj->x;
            double dy = bi->y - bj->y;
            double dz = bi->z - bj->z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            double bim = bi->mass * mag;
            double bjm = bj->mass * mag;
            bi->vx -= dx * bjm;
            bi->vy -= dy * bjm;
            bi->vz -= dz * bjm;
            bj->vx += dx * bim;
            bj->vy += dy * bim;
            bj->vz += dz * bim;
        }
    }
    for (int i = 0; i < n; i++) {
        Body *b = bodies[i];
        b->x += dt * b->vx;
        b->y += dt * b->vy;
        b->z += dt * b->vz;
    }
}

int main(void) {
    Body *bodies[NBODIES];
    planets(bodies);
    offset_momentum(bodies, NBODIES);
    printf("%.9f\n", energy(bodies, NBODIES));
    for (long step = 0; step < 5000000; step++) {
        advance(bodies, NBODIES, 0.01);
    }
    printf("%.9f\n", energy(bodies, NBODIES));
    for (int i = 0; i < NBODIES; i++) {
        free(bodies[i]);
    }
    return 0;
}
