#!/usr/bin/env python3
"""Cross-language benchmark runner for pvm.

Runs every benchmark in benches/pvm/ on pvm and on the ports in benches/lua,
benches/python, benches/java, benches/js and benches/c (Lua 5.4, LuaJIT,
Python 3, Java, Node.js, C), checks each output against benches/expected/,
and prints a Markdown table of median wall time and peak resident memory.

Standard library only; installs nothing. See benches/README.md.
"""

import argparse
import difflib
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
EXPECTED_DIR = os.path.join(BENCH_DIR, "expected")
HELPER_SRC = os.path.join(BENCH_DIR, "tools", "maxrss.c")


# --------------------------------------------------------------------------
# Runtimes
# --------------------------------------------------------------------------

class Runtime:
    """One column of the table: how to find, prepare and run a port."""

    def __init__(self, key, title, src_dir, ext, install):
        self.key = key          # name used by --langs
        self.title = title      # column title
        self.src_dir = src_dir  # directory of the sources, under benches/
        self.ext = ext          # source file extension
        self.install = install  # how to install it on Debian
        self.missing = None     # reason it is skipped, or None
        self.failed = {}        # benchmark -> preparation error (compile errors)
        self.version = ""

    def source(self, name):
        return os.path.join(BENCH_DIR, self.src_dir, name + "." + self.ext)

    def locate(self, args):
        """Find the executables; set self.missing if unavailable."""
        raise NotImplementedError

    def prepare(self, names, tmp, args, log):
        """Compile what needs compiling (into tmp)."""

    def command(self, name):
        raise NotImplementedError


def which(*candidates):
    for c in candidates:
        p = shutil.which(c)
        if p:
            return p
    return None


def first_line(cmd):
    """First non-empty line a version command prints (stdout or stderr)."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    if p.returncode != 0:
        return ""
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if line.strip():
            return line.strip()
    return ""


class Pvm(Runtime):
    """pvm as built (the JIT on), or with `mode` flags added (the interpreter
    alone: --jit=off)."""

    def __init__(self, key="pvm", title="pvm", mode=()):
        super().__init__(key, title, "pvm", "pvm",
                         "cargo build --release (or pass --pvm PATH)")
        self.mode = list(mode)

    def locate(self, args):
        self.exe = os.path.abspath(args.pvm)
        self.extra = self.mode + (args.pvm_args.split() if args.pvm_args else [])
        if not (os.path.isfile(self.exe) and os.access(self.exe, os.X_OK)):
            self.missing = "no pvm binary at " + self.exe
            return
        self.version = first_line([self.exe, "--version"])

    def command(self, name):
        return [self.exe, "run"] + self.extra + [self.source(name)]


class Interpreter(Runtime):
    def __init__(self, key, title, src_dir, ext, install, names, version_args):
        super().__init__(key, title, src_dir, ext, install)
        self.names = names
        self.version_args = version_args
        self.exe = None

    def locate(self, args):
        override = getattr(args, "exe_" + self.key, None)
        self.exe = which(override) if override else which(*self.names)
        if self.exe is None:
            self.missing = "%s not found" % (override or " / ".join(self.names))
            return
        self.version = first_line([self.exe] + self.version_args)

    def command(self, name):
        return [self.exe, self.source(name)]


class Python(Interpreter):
    def locate(self, args):
        # Default to the interpreter running this script: it is a Python 3, and
        # "python3" on PATH may be a wrapper script (pyenv shims) that adds
        # start-up time and memory of its own.
        if args.exe_python:
            return super().locate(args)
        self.exe = sys.executable
        self.version = "Python " + platform.python_version()


class Java(Runtime):
    def __init__(self):
        super().__init__("java", "java", "java", "java", "apt-get install default-jdk")

    def locate(self, args):
        self.java = which(args.exe_java) if args.exe_java else which("java")
        self.javac = which("javac")
        if self.java is None or self.javac is None:
            self.missing = "java/javac not found"
            return
        self.version = first_line([self.java, "-version"])

    def prepare(self, names, tmp, args, log):
        self.classes = os.path.join(tmp, "java")
        os.makedirs(self.classes, exist_ok=True)
        srcs = [self.source(n) for n in names if os.path.isfile(self.source(n))]
        if not srcs:
            return
        log("compiling %d Java programs" % len(srcs))
        p = subprocess.run([self.javac, "-d", self.classes] + srcs,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode == 0:
            return
        # Compile one at a time to find out which ones are broken.
        for n in names:
            if not os.path.isfile(self.source(n)):
                continue
            q = subprocess.run([self.javac, "-d", self.classes, self.source(n)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if q.returncode != 0:
                self.failed[n] = q.stdout.decode("utf-8", "replace")

    def command(self, name):
        # The public class of NAME.java is NAME.
        return [self.java, "-cp", self.classes, name]


class C(Runtime):
    def __init__(self):
        super().__init__("c", "C", "c", "c", "apt-get install gcc")

    def locate(self, args):
        self.cc = which(args.cc)
        if self.cc is None:
            self.missing = "%s not found" % args.cc
            return
        self.cflags = args.cflags.split()
        self.version = first_line([self.cc, "--version"]) + " " + " ".join(self.cflags)

    def prepare(self, names, tmp, args, log):
        self.bin = os.path.join(tmp, "c")
        os.makedirs(self.bin, exist_ok=True)
        for n in names:
            if not os.path.isfile(self.source(n)):
                continue
            log("compiling %s.c" % n)
            out = os.path.join(self.bin, n)
            p = subprocess.run([self.cc] + self.cflags + ["-o", out, self.source(n), "-lm"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if p.returncode != 0:
                self.failed[n] = p.stdout.decode("utf-8", "replace")

    def command(self, name):
        return [os.path.join(self.bin, name)]


def all_runtimes():
    return [
        Pvm(),
        Pvm("pvmi", "pvm --jit=off", ["--jit=off"]),
        Interpreter("lua", "lua5.4", "lua", "lua", "apt-get install lua5.4",
                    ["lua5.4"], ["-v"]),
        Interpreter("luajit", "luajit", "lua", "lua", "apt-get install luajit",
                    ["luajit"], ["-v"]),
        Python("python", "python3", "python", "py", "apt-get install python3",
               ["python3"], ["--version"]),
        Java(),
        Interpreter("js", "node", "js", "js", "apt-get install nodejs",
                    ["node", "nodejs"], ["--version"]),
        C(),
    ]


LANG_ALIASES = {
    "pvm": "pvm",
    "pvmi": "pvmi", "pvm-interp": "pvmi",
    "lua": "lua", "lua5.4": "lua", "lua54": "lua",
    "luajit": "luajit",
    "python": "python", "python3": "python", "py": "python",
    "java": "java",
    "js": "js", "node": "js", "nodejs": "js", "javascript": "js",
    "c": "c", "gcc": "c",
}


# --------------------------------------------------------------------------
# Measuring one run
# --------------------------------------------------------------------------

def exit_code(status):
    if hasattr(os, "waitstatus_to_exitcode"):
        return os.waitstatus_to_exitcode(status)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


class Measurer:
    """Runs a command with stdout/stderr to files; returns wall time and peak RSS.

    With the helper (tools/maxrss.c, compiled at start-up when a C compiler is
    present) the command is forked from a ~1 MiB process, so small peaks are
    exact. Without it the command is a direct child of this script and its
    ru_maxrss (from os.wait4) cannot be below this script's own resident size.
    """

    def __init__(self, helper, tmp, timeout):
        self.helper = helper
        self.tmp = tmp
        self.timeout = timeout
        self.result_file = os.path.join(tmp, "maxrss.result")

    def run(self, cmd, stdout_path, stderr_path):
        """-> (exit code or None on timeout, wall seconds, peak RSS KiB)"""
        argv = [self.helper, self.result_file] + cmd if self.helper else cmd
        if self.helper and os.path.exists(self.result_file):
            os.unlink(self.result_file)
        timed_out = []
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 start_new_session=True)
            timer = None
            if self.timeout:
                def kill():
                    timed_out.append(True)
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except OSError:
                        pass
                timer = threading.Timer(self.timeout, kill)
                timer.start()
            while True:
                try:
                    _, status, ru = os.wait4(p.pid, 0)
                    break
                except InterruptedError:
                    continue
            wall = time.perf_counter() - t0
            if timer:
                timer.cancel()
            p.returncode = exit_code(status)  # reaped here, not by Popen
        if timed_out:
            return None, wall, ru.ru_maxrss
        if not self.helper:
            return p.returncode, wall, ru.ru_maxrss
        try:
            with open(self.result_file) as f:
                code, hwall, kib = f.read().split()
            return int(code), float(hwall), int(kib)
        except (OSError, ValueError):
            # The helper itself failed; report its status.
            return (p.returncode or 125), wall, ru.ru_maxrss


def build_helper(tmp, cc, log):
    if cc is None or not os.path.isfile(HELPER_SRC):
        return None
    out = os.path.join(tmp, "maxrss")
    p = subprocess.run([cc, "-O2", "-o", out, HELPER_SRC],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        log("warning: could not build tools/maxrss.c:\n" + p.stdout.decode("utf-8", "replace"))
        return None
    return out


# --------------------------------------------------------------------------
# Running the suite
# --------------------------------------------------------------------------

class Cell:
    def __init__(self):
        self.times = []
        self.rss_kib = []
        self.status = "ok"    # ok | mismatch | failed | timeout | skipped | no port | compile error
        self.detail = ""

    @property
    def ok(self):
        return self.status == "ok" and bool(self.times)

    def median_time(self):
        return statistics.median(self.times)

    def peak_mib(self):
        # median over runs of each run's peak RSS
        return statistics.median(self.rss_kib) / 1024.0

    def as_json(self):
        return {"status": self.status, "detail": self.detail, "times_s": self.times,
                "peak_rss_kib": self.rss_kib}


def show_diff(expected, actual, limit=20):
    lines = list(difflib.unified_diff(
        expected.decode("utf-8", "replace").splitlines(True),
        actual.decode("utf-8", "replace").splitlines(True),
        "expected", "actual"))
    text = "".join(lines[:limit])
    if len(lines) > limit:
        text += "... (%d more diff lines)\n" % (len(lines) - limit)
    if text and not text.endswith("\n"):
        text += "\n"
    return text


def tail(path, n=15):
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-n:])


def run_suite(names, runtimes, measurer, args, tmp, log):
    results = {}
    failures = []
    out_path = os.path.join(tmp, "stdout")
    err_path = os.path.join(tmp, "stderr")
    for name in names:
        with open(os.path.join(EXPECTED_DIR, name + ".out"), "rb") as f:
            expected = f.read()
        results[name] = {}
        for rt in runtimes:
            cell = Cell()
            results[name][rt.key] = cell
            if rt.missing:
                cell.status = "skipped"
                continue
            if not os.path.isfile(rt.source(name)):
                cell.status = "no port"
                log("%-13s %-8s no port: %s" % (name, rt.title, rt.source(name)))
                continue
            if name in rt.failed:
                cell.status = "compile error"
                cell.detail = rt.failed[name]
                failures.append((name, rt.title, "compile error"))
                log("!!! %s %s: COMPILE ERROR\n%s" % (name, rt.title, rt.failed[name]))
                continue
            cmd = rt.command(name)
            for i in range(args.runs):
                code, wall, kib = measurer.run(cmd, out_path, err_path)
                with open(out_path, "rb") as f:
                    actual = f.read()
                if code is None:
                    cell.status = "timeout"
                    cell.detail = "killed after %gs" % args.timeout
                elif code != 0:
                    cell.status = "failed"
                    cell.detail = "exit %d" % code if code > 0 else "signal %d" % -code
                elif actual != expected:
                    cell.status = "mismatch"
                    cell.detail = show_diff(expected, actual)
                if cell.status != "ok":
                    failures.append((name, rt.title, cell.status))
                    log("!!! %s %s run %d/%d: %s%s" % (
                        name, rt.title, i + 1, args.runs, cell.status.upper(),
                        "" if cell.status == "mismatch" else " (%s)" % cell.detail))
                    if cell.status == "mismatch":
                        log("!!! output differs from expected/%s.out:\n%s" % (name, cell.detail))
                    else:
                        log("!!! command: %s\n!!! stderr (tail):\n%s" % (
                            " ".join(cmd), tail(err_path)))
                    break
                cell.times.append(wall)
                cell.rss_kib.append(kib)
                log("%-13s %-8s run %d/%d: %8.3f s %8.1f MiB  ok" % (
                    name, rt.title, i + 1, args.runs, wall, kib / 1024.0))
    return results, failures


def fmt_ratio(r):
    return "%.2f" % r if r >= 0.1 else "%.2g" % r


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt_cell(cell):
    if cell.ok:
        return "%.3f s, %.1f MiB" % (cell.median_time(), cell.peak_mib())
    if cell.status in ("skipped", "no port"):
        return cell.status
    return "**%s**" % (cell.status.upper() + (" (%s)" % cell.detail
                                               if cell.status in ("failed", "timeout") else ""))


# Ratio columns: pvm's time over each of these, when both are in the run.
RATIOS = [("c", "C"), ("luajit", "luajit"), ("lua", "lua5.4")]


def markdown_table(names, runtimes, results):
    keys = [rt.key for rt in runtimes]
    ratios = [(k, t) for k, t in RATIOS if "pvm" in keys and k in keys]
    with_mem = "pvm" in keys and "lua" in keys
    head = ["benchmark"] + [rt.title for rt in runtimes]
    head += ["pvm/%s time" % t for _, t in ratios]
    if with_mem:
        head += ["pvm/lua5.4 mem"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    t_ratios = {k: [] for k, _ in ratios}
    m_ratios = []
    for name in names:
        row = [name] + [fmt_cell(results[name][k]) for k in keys]
        p = results[name]["pvm"] if "pvm" in keys else None
        for k, _ in ratios:
            o = results[name][k]
            if p.ok and o.ok:
                r = p.median_time() / o.median_time()
                t_ratios[k].append(r)
                row.append(fmt_ratio(r))
            else:
                row.append("-")
        if with_mem:
            l = results[name]["lua"]
            if p.ok and l.ok:
                mr = p.peak_mib() / l.peak_mib()
                m_ratios.append(mr)
                row.append(fmt_ratio(mr))
            else:
                row.append("-")
        lines.append("| " + " | ".join(row) + " |")
    if ratios or with_mem:
        row = ["**geometric mean**"] + [""] * len(keys)
        for k, _ in ratios:
            g = geomean(t_ratios[k])
            row.append("**%s**" % fmt_ratio(g) if g else "-")
        if with_mem:
            g = geomean(m_ratios)
            row.append("**%s**" % fmt_ratio(g) if g else "-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# --hello: start-up time and memory
# --------------------------------------------------------------------------

HELLO_SOURCES = {
    "lua": ("hello.lua", 'print("Hello, world!")\n'),
    "luajit": ("hello.lua", 'print("Hello, world!")\n'),
    "python": ("hello.py", 'print("Hello, world!")\n'),
    "js": ("hello.js", 'console.log("Hello, world!");\n'),
    "java": ("hello.java", 'public class hello { public static void main(String[] a) '
                           '{ System.out.println("Hello, world!"); } }\n'),
    "c": ("hello.c", '#include <stdio.h>\nint main(void) { puts("Hello, world!"); return 0; }\n'),
}


def hello_mode(args, runtimes, measurer, tmp, log):
    hello = os.path.abspath(args.hello_file)
    pvm = next((rt for rt in runtimes if rt.key == "pvm"), None)
    rows = []
    failed = False
    out_path = os.path.join(tmp, "stdout")
    err_path = os.path.join(tmp, "stderr")
    expected = None
    exp_path = os.path.splitext(hello)[0] + ".out"
    if os.path.isfile(exp_path):
        with open(exp_path, "rb") as f:
            expected = f.read()

    # (title, command, expected output or None)
    cases = []
    if pvm is not None:
        if pvm.missing:
            log("pvm: %s" % pvm.missing)
        elif not os.path.isfile(hello):
            log("error: %s does not exist (use --hello-file PATH)" % hello)
            return 2
        else:
            cases.append(("pvm", [pvm.exe, "run"] + pvm.extra + [hello], expected))
    if not args.no_baselines:
        hdir = os.path.join(tmp, "hello")
        os.makedirs(hdir, exist_ok=True)
        for rt in runtimes:
            if rt.key == "pvm" or rt.missing:
                continue
            fname, text = HELLO_SOURCES[rt.key]
            src = os.path.join(hdir, fname)
            with open(src, "w") as f:
                f.write(text)
            if rt.key == "java":
                subprocess.run([rt.javac, "-d", hdir, src], check=True)
                cmd = [rt.java, "-cp", hdir, "hello"]
            elif rt.key == "c":
                exe = os.path.join(hdir, "hello_c")
                subprocess.run([rt.cc] + rt.cflags + ["-o", exe, src], check=True)
                cmd = [exe]
            else:
                cmd = [rt.exe, src]
            cases.append((rt.title, cmd, b"Hello, world!\n"))

    for title, cmd, want in cases:
        times, kibs = [], []
        for i in range(args.hello_runs):
            code, wall, kib = measurer.run(cmd, out_path, err_path)
            with open(out_path, "rb") as f:
                actual = f.read()
            if code != 0 or (want is not None and actual != want):
                failed = True
                why = "exit %s" % code if code != 0 else "output mismatch"
                log("!!! hello %s: %s\n%s%s" % (title, why.upper(),
                                              show_diff(want or b"", actual), tail(err_path)))
                break
            times.append(wall)
            kibs.append(kib)
        if title == "pvm" and times and want is None:
            log("pvm hello output (no %s to compare with): %r" % (exp_path, actual[:200]))
        if times:
            shown = " ".join(os.path.basename(c) if os.path.isabs(c) else c for c in cmd)
            rows.append((title, shown,
                         statistics.median(times) * 1000, min(times) * 1000,
                         statistics.median(kibs) / 1024.0, max(kibs) / 1024.0))
        else:
            rows.append((title, " ".join(cmd), None, None, None, None))

    print("Start-up: %d runs each of a program printing one line" % args.hello_runs)
    print()
    print("| runtime | command | median ms | min ms | peak MiB (median) | peak MiB (max) |")
    print("|---|---|---:|---:|---:|---:|")
    for title, cmd, med, mn, mib, mx in rows:
        if med is None:
            print("| %s | `%s` | **FAILED** | | | |" % (title, cmd))
        else:
            print("| %s | `%s` | %.2f | %.2f | %.1f | %.1f |" % (title, cmd, med, mn, mib, mx))
    by = {r[0]: r for r in rows}
    if "pvm" in by and "lua5.4" in by and by["pvm"][2] and by["lua5.4"][2]:
        print()
        print("pvm/lua5.4: time %.2f, memory %.2f" % (
            by["pvm"][2] / by["lua5.4"][2], by["pvm"][4] / by["lua5.4"][4]))
    return 1 if failed else 0


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(
        description="Run the pvm cross-language benchmarks and print a Markdown table.")
    ap.add_argument("--pvm", default=os.path.join(REPO_DIR, "target", "release", "pvm"),
                    help="path to the pvm binary (default: target/release/pvm in the repo)")
    ap.add_argument("--pvm-args", default="",
                    help="extra arguments for pvm, inserted between 'run' and the file, "
                         "e.g. --pvm-args=--no-sandbox")
    ap.add_argument("--runs", type=int, default=3, help="repetitions per benchmark and runtime (default 3)")
    ap.add_argument("--only", default="", help="comma-separated benchmark names")
    ap.add_argument("--langs", default="",
                    help="comma-separated runtimes: pvm,pvmi,lua,luajit,python,java,js,c (default: all; "
                         "pvmi is pvm with --jit=off, the interpreter alone)")
    ap.add_argument("--timeout", type=float, default=0,
                    help="kill a run after this many seconds (default: no limit)")
    ap.add_argument("--hello", action="store_true",
                    help="measure start-up instead: many runs of 'pvm run HELLO_FILE'")
    ap.add_argument("--hello-file", default=os.path.join(REPO_DIR, "examples", "hello.pvm"),
                    help="program for --hello (default: examples/hello.pvm in the repo)")
    ap.add_argument("--hello-runs", type=int, default=50, help="runs per runtime for --hello (default 50)")
    ap.add_argument("--no-baselines", action="store_true",
                    help="with --hello, measure only pvm, not hello-world in the other runtimes")
    ap.add_argument("--cc", default="gcc", help="C compiler (default gcc)")
    ap.add_argument("--cflags", default="-O2 -ffp-contract=off",
                    help="C compiler flags (default '-O2 -ffp-contract=off'; -lm is always added)")
    ap.add_argument("--lua", dest="exe_lua", help="Lua 5.4 interpreter (default lua5.4)")
    ap.add_argument("--luajit", dest="exe_luajit", help="LuaJIT (default luajit)")
    ap.add_argument("--python", dest="exe_python",
                    help="Python 3 interpreter (default: the one running this script)")
    ap.add_argument("--java", dest="exe_java", help="java launcher (default java; javac from PATH)")
    ap.add_argument("--node", dest="exe_js", help="Node.js (default node)")
    ap.add_argument("--no-helper", action="store_true",
                    help="measure with os.wait4 on a direct child instead of tools/maxrss.c "
                         "(peak RSS then includes this script's ~10-15 MiB)")
    ap.add_argument("--json", help="also write raw results to this file")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    names = sorted(f[:-4] for f in os.listdir(os.path.join(BENCH_DIR, "pvm")) if f.endswith(".pvm"))
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            log("error: unknown benchmark(s): %s (have: %s)" % (", ".join(unknown), ", ".join(names)))
            return 2
        names = [n for n in names if n in wanted]
    if args.runs < 1 or args.hello_runs < 1:
        log("error: --runs and --hello-runs must be at least 1")
        return 2

    runtimes = all_runtimes()
    if args.langs:
        keys = []
        for k in args.langs.split(","):
            k = k.strip().lower()
            if not k:
                continue
            if k not in LANG_ALIASES:
                log("error: unknown runtime %r (use pvm,pvmi,lua,luajit,python,java,js,c)" % k)
                return 2
            keys.append(LANG_ALIASES[k])
        runtimes = [rt for rt in runtimes if rt.key in keys]

    for rt in runtimes:
        rt.locate(args)
    for rt in runtimes:
        if rt.missing:
            log("skipping %s: %s. To install: %s" % (rt.title, rt.missing, rt.install))
    pvm = next((rt for rt in runtimes if rt.key == "pvm"), None)
    if pvm is not None and pvm.missing:
        log("error: %s; build it with 'cargo build --release', pass --pvm PATH, "
            "or leave pvm out with --langs" % pvm.missing)
        return 2

    with tempfile.TemporaryDirectory(prefix="pvm-bench-") as tmp:
        helper = None
        if not args.no_helper:
            helper = build_helper(tmp, which(args.cc, "gcc", "cc"), log)
            if helper is None:
                log("note: no C compiler for tools/maxrss.c; peak RSS is measured with "
                    "os.wait4 and includes this script's own resident size")
        measurer = Measurer(helper, tmp, args.timeout)
        _, _, floor_kib = measurer.run(["true"], os.devnull, os.devnull)
        method = ("tools/maxrss.c (fork + wait4)" if helper else "os.wait4 on a direct child")

        if args.hello:
            return hello_mode(args, runtimes, measurer, tmp, log)

        for rt in runtimes:
            if not rt.missing:
                rt.prepare(names, tmp, args, log)
        results, failures = run_suite(names, runtimes, measurer, args, tmp, log)

    print("Median wall time of %d run(s) and median peak RSS per benchmark." % args.runs)
    print()
    print(markdown_table(names, runtimes, results))
    print()
    print("Runtimes:")
    for rt in runtimes:
        print("- %s: %s" % (rt.title, rt.missing and ("skipped (%s; install: %s)" % (rt.missing, rt.install))
                            or rt.version or "?"))
    print()
    print("Wall time includes start-up (JVM, node, interpreters); compile time of Java and C "
          "is excluded. Peak RSS measured with %s; `true` measures %.1f MiB this way."
          % (method, floor_kib / 1024.0))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": args.runs,
                       "runtimes": {rt.key: {"title": rt.title, "version": rt.version,
                                             "missing": rt.missing} for rt in runtimes},
                       "results": {n: {k: c.as_json() for k, c in r.items()}
                                   for n, r in results.items()}}, f, indent=1)
    if failures:
        print()
        print("**%d FAILURE(S):** %s" % (len(failures), ", ".join(
            "%s/%s: %s" % f for f in failures)))
        log("\n!!! %d benchmark run(s) failed or produced wrong output:" % len(failures))
        for f in failures:
            log("!!!   %s on %s: %s" % f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
