// The playground: an editor whose program is compiled, verified and run by
// pvm built for WebAssembly (playground/src/lib.rs), then shown by the
// explore page's stepper (show(), above). Put into the page by
// playground/pack; pvmGlue (the glue wasm-bindgen-cli wrote, which makes
// one instance), PVM_WASM (the module, base64) and PVM_EXAMPLES come before
// this script.
(function playground() {
  const ed = $("src"), hl = $("hl"), gutter = $("gutter"), status = $("pgstatus");
  let errors = [];            // the last compile's errors, located
  let stage = "";             // the compiler stage shown under the editor
  let checkTimer = 0;
  let pvm = null;             // the instance (from pvmGlue)

  function say(text, bad) { status.textContent = text; status.className = bad ? "bad" : ""; }

  // ---- the editor: a textarea over a copy of its text that marks errors --
  /** Character offset of 1-based (line, column) in `text` (columns count characters). */
  function offsetOf(text, line, col) {
    const lines = text.split("\n");
    let off = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) off += [...lines[i]].length + 1;
    return off + Math.max(0, col - 1);
  }
  function paint() {
    const lines = ed.value.split("\n");
    const byLine = new Map();     // line -> the errors that start on it
    for (const e of errors) {
      if (e.line < 1) continue;
      if (!byLine.has(e.line)) byLine.set(e.line, []);
      byLine.get(e.line).push(e);
    }
    let g = "", html = "";
    lines.forEach((text, i) => {
      const no = i + 1, here = byLine.get(no) || [];
      g += here.length ? `<span class="bad" title="${esc(here.map(e => e.message).join("; "))}">${no}</span>\n` : no + "\n";
      const chars = [...text];
      // Marks end with their line; an error with no extent marks the
      // character it points at (or a blank at the end of the line).
      const spans = here.map(e => {
        const a = Math.min(Math.max(0, e.column - 1), chars.length);
        const b = e.endLine === no ? Math.min(Math.max(e.endColumn - 1, a + 1), chars.length) : chars.length;
        return [a, Math.max(b, a)];
      }).sort((x, y) => x[0] - y[0]);
      let at = 0, blank = false;
      for (const [a, b] of spans) {
        if (a < at) continue;
        html += esc(chars.slice(at, a).join(""));
        if (b > a) { html += `<mark>${esc(chars.slice(a, b).join(""))}</mark>`; at = b; }
        else blank = true;
      }
      html += esc(chars.slice(at).join(""));
      if (blank) html += "<mark> </mark>";
      // The message itself after the line's end, where it moves nothing.
      if (here.length) {
        html += `<span class="msg">   \u2716 ${esc(here[0].message)}${here.length > 1 ? ` (and ${here.length - 1} more)` : ""}</span>`;
      }
      html += "\n";
    });
    gutter.innerHTML = g;
    hl.innerHTML = html;
    syncScroll();
  }
  function syncScroll() { hl.scrollTop = ed.scrollTop; hl.scrollLeft = ed.scrollLeft; gutter.scrollTop = ed.scrollTop; }
  function listErrors() {
    $("errors").innerHTML = errors.map((e, i) =>
      `<div data-i="${i}">${esc(FILE)}:${e.line}:${e.column}: error: ${esc(e.message)}</div>`).join("");
  }
  const FILE = "playground.pvm";
  $("errors").onclick = ev => {
    const e = errors[Number(ev.target.dataset.i)];
    if (!e) return;
    const a = offsetOf(ed.value, e.line, e.column), b = Math.max(a + 1, offsetOf(ed.value, e.endLine, e.endColumn));
    // Selection offsets count UTF-16 units.
    const units = s => s.length;
    const chars = [...ed.value];
    ed.focus();
    ed.setSelectionRange(units(chars.slice(0, a).join("")), units(chars.slice(0, b).join("")));
  };

  /** Calls into the instance. A trap (the browser's stack, smaller than a
   *  native one, ran out compiling a deeply nested program, say) may leave
   *  its memory half-updated, so the next call gets a fresh instance; the
   *  trap comes back as text. */
  function guarded(call) {
    try {
      return { value: call() };
    } catch (e) {
      pvm = fresh();
      return { trap: `pvm stopped: ${e} (a native pvm has more stack; this page started a fresh pvm)` };
    }
  }

  /** Shows a compile's errors (`r` as `check` and `run` return it). */
  function showErrors(r) {
    errors = r.ok ? [] : r.errors;
    paint();
    listErrors();
    if (stage) showStage(stage);
  }

  /** Compiles without running: the errors as the student types. */
  function check() {
    const g = guarded(() => JSON.parse(pvm.check(ed.value)));
    if (g.trap) { say(g.trap, true); return null; }
    showErrors(g.value);
    return g.value;
  }

  function runNow() {
    const max = Math.max(1, Math.min(1000000, Number($("maxsteps").value) || 100000));
    const t0 = performance.now();
    const g = guarded(() => JSON.parse(pvm.run(ed.value, max)));
    if (g.trap) { say(g.trap, true); return; }
    const r = g.value;
    showErrors(r);
    if (!r.ok) {
      say(errors.length ? `${errors.length} error${errors.length > 1 ? "s" : ""}: not run` : r.text, true);
      return;
    }
    show(r.meta, r.rec);
    say(`ran ${explore.steps} steps in ${Math.round(performance.now() - t0)} ms`, false);
  }

  function showStage(s) {
    stage = s;
    for (const b of document.querySelectorAll("#stages button")) b.classList.toggle("on", b.dataset.stage === s && s !== "");
    const g = guarded(() => (s ? pvm.dump(ed.value, s) : ""));
    $("stage").textContent = g.trap || g.value;
  }

  // ---- wiring ------------------------------------------------------------
  ed.addEventListener("input", () => {
    paint();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 300);
  });
  ed.addEventListener("scroll", syncScroll);
  ed.addEventListener("keydown", e => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { runNow(); e.preventDefault(); }
    else if (e.key === "Tab" && !e.shiftKey) {
      // Four spaces, as the examples are indented.
      const a = ed.selectionStart, b = ed.selectionEnd;
      ed.setRangeText("    ", a, b, "end");
      ed.dispatchEvent(new Event("input"));
      e.preventDefault();
    }
  });
  $("run").onclick = runNow;
  for (const b of document.querySelectorAll("#stages button")) b.onclick = () => showStage(b.dataset.stage);
  const sel = $("example");
  const names = Object.keys(PVM_EXAMPLES).sort();
  sel.innerHTML = names.map(n => `<option value="${esc(n)}">${esc(n.replace(/^\d+-/, "").replace(/\.pvm$/, ""))}</option>`).join("");
  sel.onchange = () => { ed.value = PVM_EXAMPLES[sel.value]; ed.scrollTop = 0; runNow(); };

  // One compiled module; an instance of it (its own memory) runs the programs.
  let compiled;
  const fresh = () => { const w = pvmGlue(); w.initSync({ module: compiled }); return w; };
  try {
    compiled = new WebAssembly.Module(Uint8Array.from(atob(PVM_WASM), c => c.charCodeAt(0)));
    pvm = fresh();
  } catch (e) {
    say("pvm could not start in this browser: " + e, true);
    return;
  }
  document.title = "pvm playground";
  // The address may choose the program: #example=2-fib.pvm, or
  // #src=<the program, UTF-8, base64url>; &hide=jit leaves the JIT pane out
  // (the book embeds the page so).
  const params = new URLSearchParams(location.hash.slice(1));
  let first = PVM_EXAMPLES[names[0]];
  if (params.has("example") && PVM_EXAMPLES[params.get("example")] !== undefined) {
    sel.value = params.get("example");
    first = PVM_EXAMPLES[sel.value];
  } else if (params.has("src")) {
    try {
      const b64 = params.get("src").replace(/-/g, "+").replace(/_/g, "/");
      first = new TextDecoder().decode(Uint8Array.from(atob(b64), c => c.charCodeAt(0)));
    } catch (e) {
      say("the address's program could not be read: " + e, true);
    }
  }
  for (const pane of (params.get("hide") || "").split(",")) {
    const el = document.getElementById(pane + "-pane");
    if (pane && el) el.style.display = "none";
  }
  ed.value = first;
  runNow();
  window.playground = {
    run: runNow, check,
    setSource(text) { ed.value = text; paint(); },
    get errors() { return errors; },
    stage: showStage,
    version: pvm.version(),
  };
  window.playgroundReady = true;
})();
