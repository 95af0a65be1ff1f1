#!/usr/bin/env bash
# Container start-up overhead of pvm-sandbox, measured with hyperfine:
#   1. the probe with a trivial body and --no-sandbox   (process start, no container)
#   2. the probe with a trivial body in the sandbox       (the full container: namespaces,
#      pivot_root, cgroups or fallbacks, caps, seccomp, supervision, cleanup)
#   3. bwrap running `true` in comparable namespaces
#   4. util-linux unshare running `true` (namespaces only, no filesystem)
# The difference 2 - 1 is the sandbox's start-up overhead. Final README numbers will be taken
# with the real `pvm` binary; this script gives the same comparison for the probe.
#
# Usage: sandbox/bench_startup.sh [--user nobody] [hyperfine options...]
# Environment: RUNS (default 200), CARGO_TARGET_DIR (default target-sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."

as_user=()
if [[ "${1:-}" == "--user" ]]; then
    as_user=(setpriv --reuid="$2" --regid="$2" --clear-groups)
    [[ "$2" == nobody ]] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    shift 2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target-sandbox}"
cargo build -j1 --release -p pvm-sandbox --bin pvm-sandbox-probe >&2
probe="$(cd "$CARGO_TARGET_DIR" && pwd)/release/pvm-sandbox-probe"

prog="$(mktemp -d /tmp/pvm-bench.XXXXXX)"
chmod 755 "$prog"
trap 'rm -rf "$prog"' EXIT
echo 'program' >"$prog/app.pvm"

run() { printf '%q ' "${as_user[@]}" "$@"; }

bwrap_cmd=(bwrap --unshare-all --die-with-parent --new-session
    --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/bin /bin
    --ro-bind "$prog" "$prog" --tmpfs /tmp --proc /proc --dev /dev /usr/bin/true)
unshare_cmd=(unshare --user --map-root-user --mount --pid --fork --net --uts --ipc --cgroup /usr/bin/true)

hyperfine -N --warmup 20 --runs "${RUNS:-200}" "$@" \
    -n "probe --no-sandbox" "$(run "$probe" --no-sandbox --program-dir "$prog" trivial)" \
    -n "probe (pvm-sandbox)" "$(run "$probe" --quiet-fallback --program-dir "$prog" trivial)" \
    -n "bwrap true" "$(run "${bwrap_cmd[@]}")" \
    -n "unshare true" "$(run "${unshare_cmd[@]}")"
