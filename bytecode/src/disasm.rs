//! The disassembler behind `pvm dis`: a readable listing of a module.
//!
//! Each function is printed with its signature and register types, then
//! one line per instruction: index, mnemonic and operands, where operands
//! are decorated with what they refer to (constant values, function and
//! global names). When the source text is at hand, each source line is
//! printed above the first instruction compiled from it.

use crate::*;
use std::fmt::Write as _;

/// Source text of the module's files, by file index (missing files are `None`).
pub type Sources<'s> = &'s [Option<&'s str>];

/// What to print besides the code.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The module's tables first: types, constants, globals, classes with
    /// their fields and method tables, interfaces, natives, files.
    pub tables: bool,
    /// Each instruction's byte offset in the module's `.pvmc` encoding
    /// (what [`crate::format::encode`] writes, and so what `pvm build`
    /// writes), in hex.
    pub offsets: bool,
    /// The module did not pass the verifier (or was not given to it): the
    /// listing opens with a warning, this text. Nothing of the module is
    /// trusted in any case: every index is bounds-checked before it is
    /// followed, and one out of range is printed as `?`.
    pub unverified: Option<String>,
}

/// Renders the whole module.
pub fn disassemble(m: &Module, sources: Sources<'_>) -> String {
    disassemble_with(m, sources, &Options::default())
}

/// Renders the whole module, with options.
pub fn disassemble_with(m: &Module, sources: Sources<'_>, opts: &Options) -> String {
    let mut out = String::new();
    if let Some(why) = &opts.unverified {
        let _ = writeln!(out, "UNVERIFIED: {why}");
        let _ = writeln!(
            out,
            "UNVERIFIED: the VM would not run this module; indices out of range are shown as ?\n"
        );
    }
    if opts.tables {
        tables(m, &mut out);
    }
    for (i, g) in m.globals.iter().enumerate() {
        let _ = writeln!(out, "global {i} {}: {}", g.name, m.type_name(g.ty));
    }
    if !m.globals.is_empty() {
        out.push('\n');
    }
    let offsets = if opts.offsets { crate::format::code_offsets(m) } else { Vec::new() };
    for (i, f) in m.functions.iter().enumerate() {
        disassemble_function(m, i, f, sources, offsets.get(i).map(Vec::as_slice), &mut out);
        out.push('\n');
    }
    out
}

/// The name of function `f`, or `?`.
fn func_name(m: &Module, f: usize) -> &str {
    m.functions.get(f).map(|f| f.name.as_str()).unwrap_or("?")
}

/// The module's tables, one entry per line.
fn tables(m: &Module, out: &mut String) {
    let _ = writeln!(out, "types ({}):", m.types.len());
    for i in 0..m.types.len() {
        let _ = writeln!(out, "  t{i:<5} {}", m.type_name(i as TypeId));
    }
    let _ = writeln!(out, "constants ({}):", m.consts.len());
    for (i, c) in m.consts.iter().enumerate() {
        let v = match c {
            Const::Int(v) => format!("int {v}"),
            Const::Float(v) => format!("float {v:?}"),
            Const::Str(s) => format!("str {s:?}"),
        };
        let _ = writeln!(out, "  k{i:<5} {v}");
    }
    let _ = writeln!(out, "globals ({}):", m.globals.len());
    for (i, g) in m.globals.iter().enumerate() {
        let _ = writeln!(out, "  g{i:<5} {}: {}", g.name, m.type_name(g.ty));
    }
    let _ = writeln!(out, "classes ({}):", m.classes.len());
    for (i, c) in m.classes.iter().enumerate() {
        let ifaces: Vec<String> = c
            .interfaces
            .iter()
            .map(|x| m.interfaces.get(*x as usize).map(|x| x.name.clone()).unwrap_or_else(|| "?".into()))
            .collect();
        let imp = if ifaces.is_empty() {
            String::new()
        } else {
            format!(" : {}", ifaces.join(", "))
        };
        let _ = writeln!(out, "  c{i:<5} {}{imp}", c.name);
        for (j, f) in c.fields.iter().enumerate() {
            let _ = writeln!(out, "           field {j} {}: {}", f.name, m.type_name(f.ty));
        }
        for (j, (name, f)) in c.methods.iter().enumerate() {
            let _ = writeln!(out, "           vtable {j} {name} -> f{f} {}", func_name(m, *f as usize));
        }
    }
    let _ = writeln!(out, "interfaces ({}):", m.interfaces.len());
    for (i, x) in m.interfaces.iter().enumerate() {
        let _ = writeln!(out, "  i{i:<5} {}", x.name);
        for (j, (name, t)) in x.methods.iter().enumerate() {
            let slot = usize::from(x.first_slot) + j;
            let _ = writeln!(out, "           slot m{slot} {name}: {}", m.type_name(*t));
        }
    }
    let _ = writeln!(out, "natives ({}):", m.natives.len());
    for (i, n) in m.natives.iter().enumerate() {
        let _ = writeln!(out, "  x{i:<5} {}: {}", n.name, m.type_name(n.sig));
    }
    let _ = writeln!(out, "files ({}):", m.files.len());
    for (i, f) in m.files.iter().enumerate() {
        let _ = writeln!(out, "  {i:<6} {f}");
    }
    let inits: Vec<String> = m.inits.iter().map(|f| format!("f{f} {}", func_name(m, *f as usize))).collect();
    let _ = writeln!(
        out,
        "initialisers: {}",
        if inits.is_empty() { "none".into() } else { inits.join(", ") }
    );
    match m.main {
        Some(f) => {
            let _ = writeln!(out, "main: f{f} {}\n", func_name(m, f as usize));
        }
        None => out.push_str("main: none\n\n"),
    }
}

fn disassemble_function(m: &Module, index: usize, f: &Function, sources: Sources<'_>, offsets: Option<&[usize]>, out: &mut String) {
    let params: Vec<String> = f.regs.iter().take(f.params as usize).map(|t| m.type_name(*t)).collect();
    let file = m.files.get(f.file as usize).map(String::as_str).unwrap_or("?");
    let _ = writeln!(
        out,
        "fn #{index} {}({}) -> {}  [{file}]",
        f.name,
        params.join(", "),
        m.type_name(f.ret)
    );
    let regs: Vec<String> = f
        .regs
        .iter()
        .enumerate()
        .map(|(i, t)| format!("r{i}:{}", m.type_name(*t)))
        .collect();
    let _ = writeln!(
        out,
        "  registers: {}",
        if regs.is_empty() { "none".to_string() } else { regs.join(" ") }
    );
    if f.captures > 0 {
        let _ = writeln!(out, "  captures: r{}..r{}", f.params, u32::from(f.params) + u32::from(f.captures));
    }
    if offsets.is_some() {
        let _ = writeln!(out, "       offset    pc  instruction");
    }
    let source: Option<Vec<&str>> = sources.get(f.file as usize).copied().flatten().map(|s| s.lines().collect());
    let mut last_line = 0;
    for (pc, ins) in f.code.iter().enumerate() {
        let line = f.lines.get(pc).copied().unwrap_or(0);
        if line != last_line {
            if let Some(text) = source.as_ref().and_then(|s| s.get(line.wrapping_sub(1) as usize)) {
                let _ = writeln!(out, "  {line:>4} | {}", text.trim());
            }
            last_line = line;
        }
        let at = match offsets.and_then(|o| o.get(pc)) {
            Some(o) => format!("{o:#07x} "),
            None if offsets.is_some() => "?       ".to_string(),
            None => String::new(),
        };
        let _ = writeln!(out, "       {at}{pc:>4}  {}", instruction_in(m, Some(f), ins));
    }
}

/// One instruction as text, e.g. `AddI r2, r0, r1` or `LoadK r0, k3 ; "hi"`.
pub fn instruction(m: &Module, ins: &Instr) -> String {
    instruction_in(m, None, ins)
}

/// One instruction of function `f` as text. With the function at hand,
/// field operands are named (the class is the object register's type) and
/// registers outside the frame are flagged. Every index is bounds-checked:
/// one out of range is noted as `?`.
pub fn instruction_in(m: &Module, f: Option<&Function>, ins: &Instr) -> String {
    let info = &TABLE[ins.opcode() as usize];
    let mut parts = Vec::new();
    let mut notes = Vec::new();
    for ((name, kind), (_, v)) in info.operands.iter().zip(ins.operands()) {
        let i = usize::try_from(v).unwrap_or(usize::MAX);
        parts.push(match kind {
            OperandKind::Reg if v == u16::MAX as i64 => "_".to_string(),
            OperandKind::Reg => {
                // A window (`args`, `caps`) of no registers may start past the frame.
                let window = matches!(*name, "args" | "caps");
                if !window && f.is_some_and(|f| i >= f.regs.len()) {
                    notes.push(format!("r{v}=?"));
                }
                format!("r{v}")
            }
            OperandKind::Const => {
                notes.push(match m.consts.get(i) {
                    Some(Const::Int(i)) => i.to_string(),
                    Some(Const::Float(x)) => format!("{x:?}"),
                    Some(Const::Str(s)) => format!("{s:?}"),
                    None => "?".into(),
                });
                format!("k{v}")
            }
            OperandKind::Global => {
                notes.push(m.globals.get(i).map(|g| g.name.clone()).unwrap_or_else(|| "?".into()));
                format!("g{v}")
            }
            OperandKind::Func => {
                notes.push(func_name(m, i).to_string());
                format!("f{v}")
            }
            OperandKind::Class => {
                notes.push(m.classes.get(i).map(|c| c.name.clone()).unwrap_or_else(|| "?".into()));
                format!("c{v}")
            }
            OperandKind::Type => {
                notes.push(if i < m.types.len() { m.type_name(v as u16) } else { "?".into() });
                format!("t{v}")
            }
            OperandKind::Native => {
                notes.push(m.natives.get(i).map(|n| n.name.clone()).unwrap_or_else(|| "?".into()));
                format!("x{v}")
            }
            OperandKind::Method => {
                notes.push(slot_name(m, i));
                format!("m{v}")
            }
            OperandKind::Label => {
                if f.is_some_and(|f| i >= f.code.len()) {
                    notes.push(format!("@{v}=?"));
                }
                format!("@{v}")
            }
            OperandKind::Count | OperandKind::Imm => v.to_string(),
        });
    }
    if let (Some(f), Instr::GetField { obj, field, .. } | Instr::SetField { obj, field, .. }) = (f, ins) {
        notes.push(field_name(m, f, *obj, *field));
    }
    let mut s = format!("{:<12}{}", info.name, parts.join(", "));
    if !notes.is_empty() {
        let _ = write!(s, "  ; {}", notes.join(", "));
    }
    s
}

/// `.name` of field `field` of the class register `obj` holds, or `.?`.
fn field_name(m: &Module, f: &Function, obj: Reg, field: u16) -> String {
    let class = match f.regs.get(obj as usize).and_then(|t| m.types.get(*t as usize)) {
        Some(Type::Class(c)) => m.classes.get(*c as usize),
        _ => None,
    };
    match class.and_then(|c| Some((c, c.fields.get(field as usize)?))) {
        Some((c, fd)) => format!("{}.{}", c.name, fd.name),
        None => ".?".into(),
    }
}

/// The interface method at global slot `slot`, e.g. `Shape.area`, or `?`.
/// Interfaces are in slot order (the verifier checks it), so a binary search
/// finds the candidate; a listing of a module that breaks the order may say
/// `?` where a name exists, but never names the wrong method.
fn slot_name(m: &Module, slot: usize) -> String {
    let after = m.interfaces.partition_point(|x| usize::from(x.first_slot) <= slot);
    after
        .checked_sub(1)
        .and_then(|i| m.interfaces.get(i))
        .and_then(|x| {
            let (name, _) = x.methods.get(slot.checked_sub(usize::from(x.first_slot))?)?;
            Some(format!("{}.{name}", x.name))
        })
        .unwrap_or_else(|| "?".into())
}
