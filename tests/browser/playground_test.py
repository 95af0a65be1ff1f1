#!/usr/bin/env python3
"""A real-browser test of the playground (pvm compiled to WebAssembly).

Opens the page playground/build.sh made, from file://, in headless Chromium
(over WebDriver, as tests/browser/explore_test.py does, whose helpers this
reuses) and checks, as a student would see it:

* the page starts: the module is instantiated and the first example runs;
* typing a program with a type error into the editor marks the error inline
  (the gutter, the underlined text, the list under the editor) without
  running it;
* a program run in the browser shows, at every step, the registers of every
  frame that `pvm run --no-sandbox --trace=json` of the same program reports
  natively (the call stack, the values, the objects' identities), its output
  and its heap;
* the JIT pane shows the Cranelift IR and x86-64 code of a function,
  printed in the browser;
* the compiler's stages print (the bytecode tab is `pvm dis --tables`);
* a program too deeply nested for the browser's stack is reported, and the
  next program runs in a fresh instance.

Screenshots of the page and of each pane go to target/browser-artifacts/
(playground-*.png). Exit status: 0 passed, 1 failed, 77 skipped (no
chromium/chromedriver).

    python3 tests/browser/playground_test.py --page target/playground/index.html [--pvm target/release/pvm]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from explore_test import (  # noqa: E402 - the sibling test's helpers
    PROGRAM, READ_DOM, ROOT, WebDriver, check_step, find_browser, report, trace_states,
)

BAD = "fn main() {\n    let x: int = true;\n    println(str(x));\n}\n"


def wait_for(wd, cond, what, secs=60):
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        if wd.js(f"return !!({cond});"):
            return time.monotonic() - t0
        status = wd.js("const s = document.getElementById('pgstatus'); return s && s.className === 'bad' ? s.textContent : null;")
        if status and "could not start" in status:
            raise RuntimeError(status)
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def run_checks(a, wd, tmp):
    problems = []
    t0 = time.monotonic()
    wd.s("POST", "/url", {"url": "file://" + os.path.abspath(a.page)})
    wait_for(wd, "window.playgroundReady === true", "the playground to start")
    print(f"playground ready in {time.monotonic() - t0:.3f} s ({os.path.getsize(a.page)} bytes), "
          f"pvm {wd.js('return window.playground.version;')}")
    # The first example (the book's counter program) ran on loading.
    wd.js("window.explore.go(window.explore.steps - 1);")
    out = wd.js("return document.getElementById('output').textContent;")
    if out != "caught: index out of range: index 2 for length 2\n":
        problems.append(f"the first example's output: {out!r}")
    wd.shot(os.path.join(a.artifacts, "playground-loaded.png"))

    # Typing a program with an error: marked where it is, not run.
    wd.js("const e = document.getElementById('src'); e.value = ''; e.focus();")
    wd.keys("#src", BAD.replace("    ", ""))
    wait_for(wd, "document.querySelector('#hl mark')", "the error mark", 10)
    marked = wd.js("return [...document.querySelectorAll('#hl mark')].map(m => m.textContent);")
    listed = wd.js("return document.getElementById('errors').innerText;")
    gutter = wd.js("return [...document.querySelectorAll('#gutter .bad')].map(g => g.textContent);")
    if marked != ["true"]:
        problems.append(f"marked text: {marked!r} (expected the literal `true`)")
    if gutter != ["2"]:
        problems.append(f"gutter marks: {gutter!r} (expected line 2)")
    if not listed.startswith("playground.pvm:2:14: error:"):
        problems.append(f"error list: {listed!r}")
    with open(os.path.join(tmp, "playground.pvm"), "w") as f:
        f.write(BAD.replace("    ", ""))
    native = subprocess.run([a.pvm, "check", "playground.pvm"], cwd=tmp, capture_output=True, text=True)
    if native.returncode == 0 or listed.splitlines()[0] not in native.stderr:
        problems.append(f"pvm check (natively) disagrees: {native.stderr!r}")
    wd.shot(os.path.join(a.artifacts, "playground-error.png"), "#editor-pane")
    wd.click("#run")
    status = wd.js("return document.getElementById('pgstatus').textContent;")
    if "not run" not in status:
        problems.append(f"a program with an error was run? status {status!r}")

    # A program run in the browser, step by step against the native trace.
    prog = os.path.join(tmp, "prog.pvm")
    with open(prog, "w") as f:
        f.write(PROGRAM)
    t = subprocess.run([a.pvm, "run", "--no-sandbox", "--trace=json", prog], capture_output=True, text=True)
    events = [json.loads(line) for line in t.stderr.splitlines() if line.startswith("{")]
    states = trace_states(events)
    wd.js("window.playground.setSource(arguments[0]);", PROGRAM)
    wd.click("#run")
    wait_for(wd, f"window.explore.steps === {len(states)}", f"{len(states)} steps (the native trace's count)", 20)
    if wd.js("return window.playground.errors.length;"):
        problems.append("errors listed after a good program ran")
    ids, compared = {}, 0
    for i in range(0, 10):
        if i:
            wd.click("#next")
        dom = wd.js(READ_DOM)
        if dom["step"] != i:
            problems.append(f"next x{i}: the page shows step {dom['step']}")
        compared += check_step(i, dom, states, ids, problems) or 0
    for k in range(len(states)):
        st = wd.js("const s = window.explore.state(arguments[0]); return s.frames.map(f => ({func: "
                   "META.funcs[f.f].name, regs: Object.fromEntries(Array.from(f.regs, (v, r) => "
                   "[r, window.explore.fmt(v, arguments[0])]))}));", k)
        compared += check_step(k, {"frames": st}, states, ids, problems) or 0
    last = len(states) - 2
    wd.js(f"window.explore.go({last});")
    dom = wd.js(READ_DOM)
    if dom["output"] != "caught boom\n48\n":
        problems.append(f"output at the end: {dom['output']!r}")
    heap_text = " | ".join(o["text"].replace("\n", " ") for o in dom["heap"])
    if "Point" not in heap_text or "24" not in heap_text or "[int]" not in heap_text:
        problems.append(f"heap at the last step: {heap_text!r}")
    # The JIT pane: the Cranelift IR and x86-64 code of the current function
    # (printed in the browser by Cranelift built for wasm32; nothing runs).
    wd.js("const s = document.getElementById('jitfn'); s.value = String(META.funcs.findIndex(f => f.name === 'fact')); s.onchange();")
    clif = wd.js("return document.getElementById('jitclif').textContent;")
    asm = wd.js("return document.getElementById('jitasm').textContent;")
    if "function %fact(i64, i64, i32) -> i64, i64 system_v" not in clif or "imul" not in clif:
        problems.append(f"the JIT pane's IR of fact: {clif[:300]!r}")
    if "retq" not in asm or "imulq" not in asm:
        problems.append(f"the JIT pane's x86-64 code of fact: {asm[:300]!r}")
    for pane in ("editor-pane", "src-pane", "code-pane", "stack-pane", "heap-pane", "out-pane", "jit-pane"):
        wd.shot(os.path.join(a.artifacts, f"playground-{pane}.png"), "#" + pane)

    # The compiler's stages: the bytecode tab is what `pvm dis --tables` prints.
    wd.js("window.scrollTo(0, 0);")
    wd.click("#stages button[data-stage='dis']")
    shown = wd.js("return document.getElementById('stage').textContent;")
    dis = subprocess.run([a.pvm, "dis", "--tables", prog], capture_output=True, text=True)
    if dis.returncode != 0 or shown != dis.stdout.replace(prog, "playground.pvm"):
        problems.append("the bytecode tab differs from `pvm dis --tables`:\n" + shown[:400] + "\n---\n" + dis.stdout[:400])
    for stage, needle in (("tokens", "KIND"), ("ast", "File"), ("hir", " main(")):
        wd.click(f"#stages button[data-stage='{stage}']")
        text = wd.js("return document.getElementById('stage').textContent;")
        if needle not in text:
            problems.append(f"the {stage} tab: {text[:200]!r}")
    wd.shot(os.path.join(a.artifacts, "playground-stages.png"), "#editor-pane")

    # A program nested too deeply for the browser's stack: the trap is
    # reported, and a fresh instance runs the next program.
    deep = "fn main() { println(str(" + "(" * 100000 + "1" + ")" * 100000 + ")); }\n"
    wd.js("window.playground.setSource(arguments[0]);", deep)
    wd.click("#run")
    status = wd.js("return document.getElementById('pgstatus').textContent;")
    if not status.startswith("pvm stopped:") and not status.startswith("ran "):
        problems.append(f"after a too deeply nested program: {status!r}")
    wd.js("window.playground.setSource('fn main() { println(\"still here\"); }\\n');")
    wd.click("#run")
    wd.js("window.explore.go(window.explore.steps - 1);")
    out = wd.js("return document.getElementById('output').textContent;")
    if out != "still here\n":
        problems.append(f"the run after a trap printed {out!r}")

    # The garbage example: "next collection" goes to the collector's slice,
    # drawn with marked and freed objects.
    wd.js("const s = document.getElementById('example'); s.value = '3-garbage.pvm'; s.onchange();")
    wd.click("#nextgc")
    gc = wd.js("return {k: window.explore.cur, info: document.getElementById('gcinfo').textContent, "
               "marked: document.querySelectorAll('#heapcanvas .obj.marked').length, "
               "freed: document.querySelectorAll('#heapcanvas .obj.freed').length};")
    if not gc["info"].startswith("collector slice") or not gc["marked"]:
        problems.append(f"next collection: {gc!r}")
    wd.shot(os.path.join(a.artifacts, "playground-collection.png"), "#heap-pane")

    # A runaway program stops at the step bound and says so.
    wd.js("document.getElementById('maxsteps').value = '5000';")
    wd.js("window.playground.setSource('fn main() { let n = 0; while true { n += 1; } }\\n');")
    wd.click("#run")
    wait_for(wd, "window.explore.steps >= 5000 && window.explore.steps <= 5002", "a run cut at 5000 steps", 20)
    notice = wd.js("return document.getElementById('notice').textContent;")
    if "Recording stopped after" not in notice:
        problems.append(f"the notice after a runaway run: {notice!r}")
    wd.shot(os.path.join(a.artifacts, "playground-last.png"))

    return report(problems, f"ok: {len(states)} steps; {compared} register values agree with the native "
                            f"--trace=json; screenshots in {a.artifacts}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", default=os.path.join(ROOT, "target", "playground", "index.html"))
    ap.add_argument("--pvm", default=os.path.join(ROOT, "target", "release", "pvm"))
    ap.add_argument("--artifacts", default=os.path.join(ROOT, "target", "browser-artifacts"))
    a = ap.parse_args()
    chromium, driver = find_browser()
    if not chromium or not driver:
        print("skipped: chromium/chromedriver not installed")
        return 77
    if not os.path.exists(a.page):
        print(f"FAIL: no page at {a.page} (playground/build.sh makes it)")
        return 1
    os.makedirs(a.artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wd = WebDriver(driver, chromium, os.path.join(tmp, "profile"))
        try:
            return run_checks(a, wd, tmp)
        except (RuntimeError, KeyError, StopIteration, ValueError) as e:
            print(f"FAIL: {e}")
            return 1
        finally:
            wd.quit()


if __name__ == "__main__":
    sys.exit(main())
