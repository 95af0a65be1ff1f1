#!/usr/bin/env python3
"""Differential testing: run generated programs in every tier and compare.

Each program is run with the interpreter only (--jit=off) and in the other
modes below; stdout, stderr and the exit status must be identical. A
generator is any command that prints one pvm program for a seed, e.g. a
random-program generator taking `--seed N`.

    python3 fuzz/differential.py --gen 'python3 path/to/gen.py --seed {seed}' \
        --seeds 1-500 [--pvm target/release/pvm] [--jobs 2] [--keep DIR]

Exit status 0 when every seed agrees in every mode; otherwise the failing
seeds are listed and, with --keep, their programs saved for replay.
"""

import argparse
import concurrent.futures
import os
import shlex
import subprocess
import sys
import tempfile

# The reference first. Threshold 2 makes nearly everything hot at once (and
# moves loops to compiled code mid-run); `always` compiles before running.
MODES = [
    ["--jit=off"],
    ["--jit=on"],
    ["--jit-threshold=2"],
    ["--jit=always"],
    ["--jit=always", "--gc-stress=incremental"],
]


def seeds(spec):
    out = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def run(pvm, mode, path, timeout):
    cmd = [pvm, "run", "--no-sandbox", *mode, path]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return (p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired:
        return ("timeout", b"", b"")


def check(seed, args, workdir):
    gen = shlex.split(args.gen.replace("{seed}", str(seed)))
    src = subprocess.run(gen, capture_output=True, check=True).stdout
    path = os.path.join(workdir, f"p{seed}.pvm")
    with open(path, "wb") as f:
        f.write(src)
    ref = run(args.pvm, MODES[0], path, args.timeout)
    problems = []
    if ref[0] == 2:
        problems.append("does not compile (a generator bug?): " + ref[2].decode(errors="replace")[:300])
    for mode in MODES[1:]:
        got = run(args.pvm, mode, path, args.timeout)
        if got != ref:
            what = []
            if got[0] != ref[0]:
                what.append(f"status {got[0]} vs {ref[0]}")
            if got[1] != ref[1]:
                what.append("stdout differs")
            if got[2] != ref[2]:
                what.append("stderr differs: " + got[2].decode(errors="replace")[:300])
            problems.append(" ".join(mode) + ": " + "; ".join(what))
    if problems and args.keep:
        os.makedirs(args.keep, exist_ok=True)
        with open(os.path.join(args.keep, f"seed{seed}.pvm"), "wb") as f:
            f.write(src)
    os.unlink(path)
    return seed, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gen", required=True, help="generator command; {seed} is replaced by the seed")
    ap.add_argument("--seeds", default="1-100", help="e.g. 1-500 or 3,17,40-60")
    ap.add_argument("--pvm", default="target/release/pvm")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--keep", help="save failing programs here")
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as d, concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        all_seeds = seeds(args.seeds)
        for seed, problems in ex.map(lambda s: check(s, args, d), all_seeds):
            if problems:
                failed += 1
                print(f"seed {seed}:")
                for p in problems:
                    print("   ", p)
                sys.stdout.flush()
    n = len(all_seeds)
    print(f"{n - failed} of {n} seeds agree in all {len(MODES)} modes")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
