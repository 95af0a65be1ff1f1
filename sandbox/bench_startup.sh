#!/usr/bin/env bash
# Container start-up overhead of `pvm run`, measured with hyperfine in one run:
#   1. pvm run --no-sandbox hello.pvm  (process start, compile, run; no container)
#   2. pvm run hello.pvm               (the same plus loading in a bounded child and the full
#                                       container: namespaces, pivot_root, cgroups or
#                                       fallbacks, caps, seccomp, supervision, cleanup)
#   3. bwrap --ro-bind / / --unshare-all true
#   4. unshare -Urpf --mount-proc true
# The difference 2 - 1 is the sandbox's start-up overhead (target: under 5 ms).
#
# Usage: sandbox/bench_startup.sh [--user nobody] [hyperfine options...]
# Environment: RUNS (default 300), CARGO_TARGET_DIR (default target).
set -euo pipefail
cd "$(dirname "$0")/.."

as_user=()
if [[ "${1:-}" == "--user" ]]; then
    as_user=(setpriv --reuid="$2" --regid="$2" --clear-groups)
    [[ "$2" == nobody ]] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    shift 2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build -j1 --release -p pvm-cli >&2
pvm="$(cd "$CARGO_TARGET_DIR" && pwd)/release/pvm"

prog="$(mktemp -d /tmp/pvm-bench.XXXXXX)"
chmod 755 "$prog"
trap 'rm -rf "$prog"' EXIT
echo 'fn main() { println("hello"); }' >"$prog/hello.pvm"
chmod 644 "$prog/hello.pvm"

run() { printf '%q ' "${as_user[@]}" "$@"; }

export PVM_QUIET_FALLBACK=1
hyperfine -N --warmup 30 --runs "${RUNS:-300}" "$@" \
    -n "pvm run --no-sandbox" "$(run "$pvm" run --no-sandbox "$prog/hello.pvm")" \
    -n "pvm run (sandboxed)" "$(run "$pvm" run "$prog/hello.pvm")" \
    -n "bwrap --ro-bind / / --unshare-all true" "$(run bwrap --ro-bind / / --unshare-all true)" \
    -n "unshare -Urpf --mount-proc true" "$(run unshare -Urpf --mount-proc true)"
