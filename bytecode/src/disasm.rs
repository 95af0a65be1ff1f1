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

/// Renders the whole module.
pub fn disassemble(m: &Module, sources: Sources<'_>) -> String {
    let mut out = String::new();
    for (i, g) in m.globals.iter().enumerate() {
        let _ = writeln!(out, "global {i} {}: {}", g.name, m.type_name(g.ty));
    }
    if !m.globals.is_empty() {
        out.push('\n');
    }
    for (i, f) in m.functions.iter().enumerate() {
        disassemble_function(m, i, f, sources, &mut out);
        out.push('\n');
    }
    out
}

fn disassemble_function(m: &Module, index: usize, f: &Function, sources: Sources<'_>, out: &mut String) {
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
        let _ = writeln!(out, "       {pc:>4}  {}", instruction(m, ins));
    }
}

/// One instruction as text, e.g. `AddI r2, r0, r1` or `LoadK r0, k3 ; "hi"`.
pub fn instruction(m: &Module, ins: &Instr) -> String {
    let info = &TABLE[ins.opcode() as usize];
    let mut parts = Vec::new();
    let mut notes = Vec::new();
    for ((_, kind), (_, v)) in info.operands.iter().zip(ins.operands()) {
        parts.push(match kind {
            OperandKind::Reg if v == u16::MAX as i64 => "_".to_string(),
            OperandKind::Reg => format!("r{v}"),
            OperandKind::Const => {
                match m.consts.get(v as usize) {
                    Some(Const::Int(i)) => notes.push(i.to_string()),
                    Some(Const::Float(x)) => notes.push(format!("{x:?}")),
                    Some(Const::Str(s)) => notes.push(format!("{s:?}")),
                    None => {}
                }
                format!("k{v}")
            }
            OperandKind::Global => {
                if let Some(g) = m.globals.get(v as usize) {
                    notes.push(g.name.clone());
                }
                format!("g{v}")
            }
            OperandKind::Func => {
                if let Some(f) = m.functions.get(v as usize) {
                    notes.push(f.name.clone());
                }
                format!("f{v}")
            }
            OperandKind::Class => {
                if let Some(c) = m.classes.get(v as usize) {
                    notes.push(c.name.clone());
                }
                format!("c{v}")
            }
            OperandKind::Type => {
                notes.push(m.type_name(v as u16));
                format!("t{v}")
            }
            OperandKind::Native => {
                if let Some(n) = m.natives.get(v as usize) {
                    notes.push(n.name.clone());
                }
                format!("x{v}")
            }
            OperandKind::Method => format!("m{v}"),
            OperandKind::Label => format!("@{v}"),
            OperandKind::Count | OperandKind::Imm => v.to_string(),
        });
    }
    let mut s = format!("{:<12}{}", info.name, parts.join(", "));
    if !notes.is_empty() {
        let _ = write!(s, "  ; {}", notes.join(", "));
    }
    s
}
