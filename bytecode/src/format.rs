//! The `.pvmc` binary format: [`encode`] and [`decode`].
//!
//! ```text
//! "PVMC"  u16 version  u16 flags(0)
//! types      u32 n, n × (u8 tag, operands)
//! consts     u32 n, n × (u8 tag: 0 int i64 | 1 float f64 | 2 str)
//! files      u32 n, n × str
//! globals    u32 n, n × (str name, u16 type)
//! natives    u32 n, n × (str name, u16 sig)
//! interfaces u32 n, n × (str name, u16 first_slot, u32 m, m × (str, u16))
//! classes    u32 n, n × (str name, fields, methods, interfaces)
//! functions  u32 n, n × (str name, u8 kind, u16 file, u16 params, u16 captures,
//!                        u16 ret, u32 r, r × u16 reg type,
//!                        u32 c, c × instruction, c × u32 line)
//! inits      u32 n, n × u16;   u16 main
//! ```
//! All integers are little-endian; `str` is a u32 byte length and UTF-8 bytes.
//! Instructions are encoded as described in [`super::opcodes`].
//!
//! Decoding never trusts a length: every count is checked against the bytes
//! that remain before anything is allocated, so a hostile file cannot make
//! the loader allocate more than a small multiple of its own size. Decoding
//! only checks the shape; the VM's verifier checks the meaning.

use crate::*;
use std::fmt;

pub const MAGIC: &[u8; 4] = b"PVMC";
pub const VERSION: u16 = 2;

/// Why a file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed bytecode at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for DecodeError {}

// ------------------------------------------------------------------ encode

struct Writer(Vec<u8>, Option<Vec<Vec<usize>>>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(n as u32);
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
}

/// Serialises a module.
pub fn encode(m: &Module) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(4096), None);
    write_module(m, &mut w);
    w.0
}

/// The byte offset in [`encode`]'s output of every instruction (of its
/// opcode byte), by function and pc: where a hex editor finds it. A module
/// read by [`decode`] encodes to the very bytes it was read from, so these
/// are offsets in its file too.
pub fn code_offsets(m: &Module) -> Vec<Vec<usize>> {
    let mut w = Writer(Vec::with_capacity(4096), Some(Vec::with_capacity(m.functions.len())));
    write_module(m, &mut w);
    w.1.unwrap_or_default()
}

fn write_module(m: &Module, w: &mut Writer) {
    w.0.extend_from_slice(MAGIC);
    w.u16(VERSION);
    w.u16(0);
    w.len(m.types.len());
    for t in &m.types {
        match t {
            Type::Void => w.u8(0),
            Type::Int => w.u8(1),
            Type::Float => w.u8(2),
            Type::Bool => w.u8(3),
            Type::Str => w.u8(4),
            Type::Nil => w.u8(5),
            Type::Array(e) => {
                w.u8(6);
                w.u16(*e);
            }
            Type::Map(k, v) => {
                w.u8(7);
                w.u16(*k);
                w.u16(*v);
            }
            Type::Func(ps, r) => {
                w.u8(8);
                w.len(ps.len());
                ps.iter().for_each(|p| w.u16(*p));
                w.u16(*r);
            }
            Type::Class(c) => {
                w.u8(9);
                w.u16(*c);
            }
            Type::Interface(i) => {
                w.u8(10);
                w.u16(*i);
            }
            Type::Cell(e) => {
                w.u8(11);
                w.u16(*e);
            }
            Type::Error => w.u8(12),
        }
    }
    w.len(m.consts.len());
    for c in &m.consts {
        match c {
            Const::Int(v) => {
                w.u8(0);
                w.0.extend_from_slice(&v.to_le_bytes());
            }
            Const::Float(v) => {
                w.u8(1);
                w.0.extend_from_slice(&v.to_bits().to_le_bytes());
            }
            Const::Str(s) => {
                w.u8(2);
                w.str(s);
            }
        }
    }
    w.len(m.files.len());
    m.files.iter().for_each(|f| w.str(f));
    w.len(m.globals.len());
    for g in &m.globals {
        w.str(&g.name);
        w.u16(g.ty);
    }
    w.len(m.natives.len());
    for n in &m.natives {
        w.str(&n.name);
        w.u16(n.sig);
    }
    w.len(m.interfaces.len());
    for i in &m.interfaces {
        w.str(&i.name);
        w.u16(i.first_slot);
        w.len(i.methods.len());
        for (name, ty) in &i.methods {
            w.str(name);
            w.u16(*ty);
        }
    }
    w.len(m.classes.len());
    for c in &m.classes {
        w.str(&c.name);
        w.len(c.fields.len());
        for f in &c.fields {
            w.str(&f.name);
            w.u16(f.ty);
        }
        w.len(c.methods.len());
        for (name, f) in &c.methods {
            w.str(name);
            w.u16(*f);
        }
        w.len(c.interfaces.len());
        c.interfaces.iter().for_each(|i| w.u16(*i));
    }
    w.len(m.functions.len());
    for f in &m.functions {
        w.str(&f.name);
        w.u8(match f.kind {
            FuncKind::Function => 0,
            FuncKind::Method => 1,
            FuncKind::Lambda => 2,
            FuncKind::Init => 3,
        });
        w.u16(f.file);
        w.u16(f.params);
        w.u16(f.captures);
        w.u16(f.ret);
        w.len(f.regs.len());
        f.regs.iter().for_each(|r| w.u16(*r));
        w.len(f.code.len());
        if let Some(o) = &mut w.1 {
            o.push(Vec::with_capacity(f.code.len()));
        }
        for ins in &f.code {
            let at = w.0.len();
            if let Some(o) = w.1.as_mut().and_then(|o| o.last_mut()) {
                o.push(at);
            }
            w.u8(ins.opcode());
            for (kind, v) in ins.operands() {
                match kind.width() {
                    2 => w.u16(v as u16),
                    _ => w.u32(v as u32),
                }
            }
        }
        f.lines.iter().for_each(|l| w.u32(*l));
    }
    w.len(m.inits.len());
    m.inits.iter().for_each(|i| w.u16(*i));
    // 0xFFFF: no `main` (a function index is at most 0xFFFE).
    w.u16(m.main.unwrap_or(u16::MAX));
}

// ------------------------------------------------------------------ decode

struct Reader<'b> {
    buf: &'b [u8],
    pos: usize,
}

type R<T> = Result<T, DecodeError>;

impl<'b> Reader<'b> {
    fn err<T>(&self, msg: impl Into<String>) -> R<T> {
        Err(DecodeError {
            offset: self.pos,
            message: msg.into(),
        })
    }
    fn bytes(&mut self, n: usize) -> R<&'b [u8]> {
        if self.buf.len() - self.pos < n {
            return self.err("unexpected end of file");
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> R<u8> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> R<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> R<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> R<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    /// A count of items each at least `min_size` bytes long: rejected if
    /// the file is too short to hold them, before anything is allocated.
    fn count(&mut self, min_size: usize) -> R<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size.max(1)) > self.buf.len() - self.pos {
            return self.err(format!("count {n} exceeds the remaining file size"));
        }
        Ok(n)
    }
    fn str(&mut self) -> R<String> {
        let n = self.count(1)?;
        let at = self.pos;
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError {
            offset: at,
            message: "string is not valid UTF-8".into(),
        })
    }
}

/// Reads a module from bytes. Checks structure only; verify before running.
pub fn decode(buf: &[u8]) -> Result<Module, DecodeError> {
    let mut r = Reader { buf, pos: 0 };
    if r.bytes(4).ok() != Some(MAGIC.as_slice()) {
        return Err(DecodeError {
            offset: 0,
            message: "not a pvm bytecode file (bad magic number)".into(),
        });
    }
    let version = r.u16()?;
    if version != VERSION {
        return r.err(format!("unsupported bytecode version {version} (this pvm reads version {VERSION})"));
    }
    if r.u16()? != 0 {
        return r.err("unknown flags");
    }
    let mut m = Module::default();
    let n = r.count(1)?;
    for _ in 0..n {
        let t = match r.u8()? {
            0 => Type::Void,
            1 => Type::Int,
            2 => Type::Float,
            3 => Type::Bool,
            4 => Type::Str,
            5 => Type::Nil,
            6 => Type::Array(r.u16()?),
            7 => Type::Map(r.u16()?, r.u16()?),
            8 => {
                let np = r.count(2)?;
                let ps = (0..np).map(|_| r.u16()).collect::<R<Vec<_>>>()?;
                Type::Func(ps, r.u16()?)
            }
            9 => Type::Class(r.u16()?),
            10 => Type::Interface(r.u16()?),
            11 => Type::Cell(r.u16()?),
            12 => Type::Error,
            t => return r.err(format!("unknown type tag {t}")),
        };
        m.types.push(t);
    }
    let n = r.count(2)?;
    for _ in 0..n {
        let c = match r.u8()? {
            0 => Const::Int(r.u64()? as i64),
            1 => Const::Float(f64::from_bits(r.u64()?)),
            2 => Const::Str(r.str()?),
            t => return r.err(format!("unknown constant tag {t}")),
        };
        m.consts.push(c);
    }
    let n = r.count(4)?;
    for _ in 0..n {
        m.files.push(r.str()?);
    }
    let n = r.count(6)?;
    for _ in 0..n {
        m.globals.push(Global {
            name: r.str()?,
            ty: r.u16()?,
        });
    }
    let n = r.count(6)?;
    for _ in 0..n {
        m.natives.push(NativeImport {
            name: r.str()?,
            sig: r.u16()?,
        });
    }
    let n = r.count(10)?;
    for _ in 0..n {
        let name = r.str()?;
        let first_slot = r.u16()?;
        let nm = r.count(6)?;
        let methods = (0..nm).map(|_| Ok((r.str()?, r.u16()?))).collect::<R<Vec<_>>>()?;
        m.interfaces.push(Interface { name, methods, first_slot });
    }
    let n = r.count(16)?;
    for _ in 0..n {
        let name = r.str()?;
        let nf = r.count(6)?;
        let fields = (0..nf)
            .map(|_| {
                Ok(Field {
                    name: r.str()?,
                    ty: r.u16()?,
                })
            })
            .collect::<R<Vec<_>>>()?;
        let nm = r.count(6)?;
        let methods = (0..nm).map(|_| Ok((r.str()?, r.u16()?))).collect::<R<Vec<_>>>()?;
        let ni = r.count(2)?;
        let interfaces = (0..ni).map(|_| r.u16()).collect::<R<Vec<_>>>()?;
        m.classes.push(Class {
            name,
            fields,
            methods,
            interfaces,
        });
    }
    let n = r.count(24)?;
    for _ in 0..n {
        let name = r.str()?;
        let kind = match r.u8()? {
            0 => FuncKind::Function,
            1 => FuncKind::Method,
            2 => FuncKind::Lambda,
            3 => FuncKind::Init,
            k => return r.err(format!("unknown function kind {k}")),
        };
        let file = r.u16()?;
        let params = r.u16()?;
        let captures = r.u16()?;
        let ret = r.u16()?;
        let nr = r.count(2)?;
        let regs = (0..nr).map(|_| r.u16()).collect::<R<Vec<_>>>()?;
        let nc = r.count(5)?;
        let mut code = Vec::with_capacity(nc);
        let mut vals = Vec::with_capacity(4);
        for _ in 0..nc {
            let at = r.pos;
            let op = r.u8()?;
            let Some(info) = TABLE.get(op as usize) else {
                return Err(DecodeError {
                    offset: at,
                    message: format!("unknown opcode {op}"),
                });
            };
            vals.clear();
            for (_, kind) in info.operands {
                vals.push(match kind {
                    OperandKind::Imm => r.u32()? as i32 as i64,
                    k if k.width() == 4 => r.u32()? as i64,
                    _ => r.u16()? as i64,
                });
            }
            match Instr::from_parts(op, &vals) {
                Some(ins) => code.push(ins),
                None => {
                    return Err(DecodeError {
                        offset: at,
                        message: format!("bad operands for {}", info.name),
                    })
                }
            }
        }
        let lines = (0..nc).map(|_| r.u32()).collect::<R<Vec<_>>>()?;
        m.functions.push(Function {
            name,
            kind,
            file,
            params,
            captures,
            regs,
            ret,
            code,
            lines,
        });
    }
    let n = r.count(2)?;
    m.inits = (0..n).map(|_| r.u16()).collect::<R<Vec<_>>>()?;
    m.main = Some(r.u16()?).filter(|&i| i != u16::MAX);
    if r.pos != buf.len() {
        return r.err("trailing bytes after the module");
    }
    Ok(m)
}
