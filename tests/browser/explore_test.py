#!/usr/bin/env python3
"""A real-browser test of `pvm explore`'s page.

Builds the page for a small program (a recursive function, an object, a
caught exception), opens it from file:// in headless Chromium driven over the
W3C WebDriver protocol (chromedriver, started here on a free port; Python's
standard library only), clicks "next" a number of times, jumps to a step with
the number box and with the arrow keys, reads the call stack, registers and
heap back from the DOM, and checks them against `pvm run --no-sandbox
--trace=json` of the same program, replayed here. Screenshots of the page
and of each pane go to target/browser-artifacts/.

Exit status: 0 all checks passed, 1 a mismatch (or the page failed),
77 skipped: chromium/chromedriver not installed.

    python3 tests/browser/explore_test.py [--pvm target/release/pvm]
    python3 tests/browser/explore_test.py --measure PAGE.html   # load time only
"""

import argparse
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAM = """class Point {
    x: int;
    y: int;
}

fn fact(n: int) -> int {
    if n < 2 {
        return 1;
    }
    return n * fact(n - 1);
}

fn check(d: int) -> int {
    if d == 0 {
        throw "boom";
    }
    return check(d - 1);
}

fn main() {
    let p = Point(3, 4);
    p.x = fact(4);
    let xs = [1, 2, 3];
    push(xs, p.x);
    try {
        check(2);
    } catch e {
        println("caught " + e);
    }
    println(str(p.x + xs[3]));
}
"""

CALLS = {"Call", "CallMethod", "CallIface", "CallClosure"}


def find_browser():
    chromium = None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        chromium = shutil.which(name)
        if chromium:
            break
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None
    )
    return chromium, driver


class WebDriver:
    """Just enough of the W3C WebDriver protocol."""

    def __init__(self, driver, chromium, profile):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [driver, f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                if self.req("GET", "/status").get("value", {}).get("ready"):
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        args = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--window-size=1500,1400",
        ]
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args}}}}
        r = self.req("POST", "/session", caps)
        self.sid = r["value"]["sessionId"]

    def req(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        rq = urllib.request.Request(self.base + path, data=data, method=method,
                                    headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(rq, timeout=120) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"WebDriver {method} {path}: {e.read()[:500]!r}") from None

    def s(self, method, path, body=None):
        return self.req(method, f"/session/{self.sid}{path}", body)["value"]

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def el(self, css):
        v = self.s("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(v.values()))

    def click(self, css):
        self.s("POST", f"/element/{self.el(css)}/click", {})

    def keys(self, css, text):
        self.s("POST", f"/element/{self.el(css)}/value", {"text": text})

    def shot(self, path, css=None):
        png = self.s("GET", f"/element/{self.el(css)}/screenshot") if css else self.s("GET", "/screenshot")
        with open(path, "wb") as f:
            f.write(base64.b64decode(png))

    def quit(self):
        try:
            self.req("DELETE", f"/session/{self.sid}")
        except Exception:  # noqa: BLE001 - closing down anyway
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def open_page(wd, page):
    t0 = time.monotonic()
    wd.s("POST", "/url", {"url": "file://" + os.path.abspath(page)})
    for _ in range(1200):
        if wd.js("return window.exploreReady === true;"):
            return time.monotonic() - t0, wd.js("return window.exploreReadyMs;")
        err = wd.js("return window.__err || null;")
        if err:
            raise RuntimeError(err)
        time.sleep(0.05)
    raise RuntimeError("the page never set window.exploreReady")


def trace_states(events):
    """Replays a --trace=json run: the frames after each instruction step."""
    frames, states = [], []

    def snap():
        states.append([(f["func"], dict(f["regs"])) for f in frames])

    started = False
    for ev in events:
        kind = ev["ev"]
        if kind == "instr":
            if started:
                snap()
            started = True
            top = frames[-1]
            for rv in ev["reads"] + ev["writes"]:
                top["regs"][rv["r"]] = (rv["t"], rv["v"])
            parts = ev["text"].split()
            if ev["op"] in CALLS and len(parts) > 1:
                top["dst"] = int(parts[1].strip("r,"))
        elif kind == "call":
            frames.append({"func": ev["func"], "regs": {a["r"]: (a["t"], a["v"]) for a in ev["args"]}, "dst": None})
        elif kind == "return":
            frames.pop()
            if frames:
                if frames[-1]["dst"] is not None and "value" in ev:
                    frames[-1]["regs"][frames[-1]["dst"]] = (ev["t"], ev["value"])
                frames[-1]["dst"] = None
        elif kind == "unwind":
            del frames[len(frames) - ev["frames"]:]
    if started:
        snap()
    return states


REF = re.compile(r"^<(.*)#(\d+)(?: len \d+)?>$")


def check_step(k, page, states, ids, problems):
    """Compares the DOM's frames at step k with the trace's."""
    want = states[k]
    got = page["frames"]
    if [f for f, _ in want] != [f["func"] for f in got]:
        problems.append(f"step {k}: stack {[f for f, _ in want]} in the trace, {[f['func'] for f in got]} in the page")
        return
    compared = 0
    for (func, regs), fr in zip(want, got):
        for r, (t, v) in regs.items():
            text = fr["regs"].get(str(r))
            if text is None or text == "\u2013" or t == "float":
                continue
            if isinstance(v, dict):
                m = REF.match(text)
                if not m or m.group(1) != v["ref"]:
                    problems.append(f"step {k}: {func}.r{r} is {text} in the page, <{v['ref']}#{v['id']}> in the trace")
                    continue
                pid = int(m.group(2))
                if ids.setdefault(("p", pid), v["id"]) != v["id"] or ids.setdefault(("t", v["id"]), pid) != pid:
                    problems.append(f"step {k}: {func}.r{r}: object #{pid} in the page is not #{v['id']} in the trace")
                compared += 1
                continue
            if v is None:
                expect = "nil"
            elif isinstance(v, bool):
                expect = "true" if v else "false"
            elif isinstance(v, str):
                expect = json.dumps(v, ensure_ascii=False)
            else:
                expect = str(v)
            if text != expect:
                problems.append(f"step {k}: {func}.r{r} is {text} in the page, {expect} in the trace")
            compared += 1
    return compared


READ_DOM = """
const frames = [...document.querySelectorAll('#stack .frame')].map(f => ({
  func: f.dataset.func,
  regs: Object.fromEntries([...f.querySelectorAll('tr')].map(tr => [tr.dataset.r, tr.querySelector('.v').textContent]))
}));
const heap = [...document.querySelectorAll('#heapcanvas .obj')].map(o => ({id: o.dataset.id, text: o.innerText}));
return {step: Number(document.getElementById('stepno').value), frames, heap,
        code: (document.querySelector('#code .cur') || {}).textContent || '',
        line: (document.querySelector('#source .cur') || {}).textContent || '',
        output: document.getElementById('output').textContent};
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pvm", default=os.path.join(ROOT, "target", "release", "pvm"))
    ap.add_argument("--artifacts", default=os.path.join(ROOT, "target", "browser-artifacts"))
    ap.add_argument("--clicks", type=int, default=12)
    ap.add_argument("--measure", metavar="PAGE", help="only time loading PAGE (prints JSON)")
    a = ap.parse_args()
    chromium, driver = find_browser()
    if not chromium or not driver:
        print("skipped: chromium/chromedriver not installed")
        return 77
    os.makedirs(a.artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wd = WebDriver(driver, chromium, os.path.join(tmp, "profile"))
        try:
            if a.measure:
                wall, ready_ms = open_page(wd, a.measure)
                steps = wd.js("return window.explore.steps;")
                wd.js("window.explore.go(Math.floor(window.explore.steps / 2));")
                t0 = time.monotonic()
                wd.js("window.explore.go(window.explore.steps - 1);")
                jump = time.monotonic() - t0
                wd.shot(os.path.join(a.artifacts, "measure.png"))
                print(json.dumps({"page": a.measure, "bytes": os.path.getsize(a.measure), "steps": steps,
                                  "load_s": round(wall, 3), "ready_ms": ready_ms, "jump_to_last_s": round(jump, 3)}))
                return 0
            try:
                return run_checks(a, wd, tmp)
            except (RuntimeError, KeyError, StopIteration, ValueError) as e:
                print(f"FAIL: {e}")
                return 1
        finally:
            wd.quit()


def run_checks(a, wd, tmp):
    prog = os.path.join(tmp, "prog.pvm")
    with open(prog, "w") as f:
        f.write(PROGRAM)
    page = os.path.join(tmp, "prog.html")
    r = subprocess.run([a.pvm, "explore", prog, "-o", page], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"note: the sandboxed recording failed ({r.stderr.strip()}); recording with --no-sandbox")
        r = subprocess.run([a.pvm, "explore", "--no-sandbox", prog, "-o", page], capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL: pvm explore:", r.stderr)
            return 1
    t = subprocess.run([a.pvm, "run", "--no-sandbox", "--trace=json", prog], capture_output=True, text=True)
    events = [json.loads(line) for line in t.stderr.splitlines() if line.startswith("{")]
    states = trace_states(events)
    problems = []
    wall, _ = open_page(wd, page)
    print(f"page loaded in {wall:.3f} s")
    n = wd.js("return window.explore.steps;")
    if n != len(states):
        problems.append(f"{n} steps in the page, {len(states)} instructions in the trace")
    ids, compared = {}, 0

    def look(k, how):
        nonlocal compared
        dom = wd.js(READ_DOM)
        if dom["step"] != k:
            problems.append(f"{how}: the page shows step {dom['step']}, not {k}")
            return dom
        compared += check_step(k, dom, states, ids, problems) or 0
        return dom

    if look(0, "first")["output"] != "":
        problems.append("output shown before anything was printed")
    wd.shot(os.path.join(a.artifacts, "step-0.png"))
    for i in range(1, a.clicks + 1):
        wd.click("#next")
        look(i, f"next x{i}")
    # Jump with the number box to where the exception is caught (after the unwind).
    caught = next(i for i, e in enumerate([e for e in events if e["ev"] == "instr"]) if e["func"] == "main"
                  and any(isinstance(w["v"], str) and "boom" in w["v"] for w in e["reads"]))
    wd.js("const e = document.getElementById('stepno'); e.value = ''; e.focus();")
    wd.keys("#stepno", f"{caught}\ue007")
    dom = look(caught, "number box")
    if dom["line"].strip().split(None, 1)[-1:] != ['println("caught " + e);']:
        problems.append(f"step {caught}: the source pane highlights {dom['line']!r}")
    wd.shot(os.path.join(a.artifacts, f"step-{caught}-caught.png"))
    # The arrow keys step back and forward.
    wd.js("document.activeElement.blur();")
    wd.keys("body", "\ue012")
    look(caught - 1, "left arrow")
    wd.keys("body", "\ue014\ue014")
    look(caught + 1, "right arrow x2")
    # Every step from the page's replay, compared (through window.explore.state).
    for k in range(len(states)):
        st = wd.js("const s = window.explore.state(arguments[0]); return s.frames.map(f => ({func: "
                   "META.funcs[f.f].name, regs: Object.fromEntries(Array.from(f.regs, (v, r) => "
                   "[r, window.explore.fmt(v, arguments[0])]))}));", k)
        compared += check_step(k, {"frames": st}, states, ids, problems) or 0
    deep = max(range(len(states)), key=lambda k: len(states[k]))
    wd.js(f"window.explore.go({deep});")
    dom = look(deep, "deepest recursion")
    wd.shot(os.path.join(a.artifacts, f"step-{deep}-deepest.png"))
    # The heap before main returns: the Point with x = 24 and the array of 4.
    last = len(states) - 2
    wd.js(f"window.explore.go({last});")
    dom = look(last, "last step")
    if dom["output"] != "caught boom\n48\n":
        problems.append(f"output at the end: {dom['output']!r}")
    heap_text = " | ".join(o["text"].replace("\n", " ") for o in dom["heap"])
    if "Point" not in heap_text or "24" not in heap_text or "[int]" not in heap_text:
        problems.append(f"heap at the last step: {heap_text!r}")
    for pane in ("src-pane", "code-pane", "stack-pane", "heap-pane", "jit-pane"):
        wd.shot(os.path.join(a.artifacts, f"pane-{pane}.png"), "#" + pane)
    wd.shot(os.path.join(a.artifacts, "last.png"))
    return report(problems, f"ok: {len(states)} steps; {compared} register values agree with --trace=json; "
                            f"screenshots in {a.artifacts}")


def report(problems, ok):
    """Prints the problems found (status 1), or `ok` (status 0)."""
    if problems:
        print("FAIL:")
        for p in problems[:40]:
            print("  " + p)
        return 1
    print(ok)
    return 0


if __name__ == "__main__":
    sys.exit(main())
