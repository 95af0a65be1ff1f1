/* maxrss: run a command and report its wall time and peak resident set size.
 *
 *   maxrss RESULT_FILE PROGRAM [ARGS...]
 *
 * Forks, execs PROGRAM (searched in PATH) with the inherited stdin/stdout/stderr,
 * waits for it with wait4() and writes one line to RESULT_FILE:
 *
 *   EXIT WALL_SECONDS MAXRSS_KIB
 *
 * EXIT is the exit status, or -N if the program was killed by signal N.
 * Used by run.py. Why a separate process: on Linux a child's ru_maxrss is
 * never below the resident size of the process that forked it (the forked copy
 * of the parent's memory counts until exec), so a child of the Python runner
 * would report at least ~10-15 MiB. Forking from this small program keeps that
 * floor at about 1 MiB. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s RESULT_FILE PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("maxrss: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "maxrss: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("maxrss: wait4");
            return 2;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
    FILE *out = fopen(argv[1], "w");
    if (out == NULL) {
        perror("maxrss: result file");
        return 2;
    }
    fprintf(out, "%d %.9f %ld\n", code, wall, (long)ru.ru_maxrss);
    if (fclose(out) != 0) {
        perror("maxrss: result file");
        return 2;
    }
    return 0;
}
