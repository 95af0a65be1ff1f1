//! The instruction set, defined by one table.
//!
//! Every row of [`opcodes!`] names an instruction, its operands and their
//! kinds, and one sentence of meaning. The macro turns the table into the
//! [`Instr`] enum, its mnemonic, a generic view of its operands (used by the
//! disassembler, the binary encoder/decoder and the verifier), so that the
//! table is the only place an instruction is described.
//!
//! ## Encoding
//!
//! In memory an instruction is a Rust enum of 12 bytes. On disk it is the
//! opcode byte followed by each operand in little-endian order, at the width
//! of its kind:
//!
//! ```text
//!  byte 0      1..           (per operand, in table order)
//! +--------+--------------+--------------+-----
//! | opcode | operand 0    | operand 1    | ...
//! +--------+--------------+--------------+-----
//!            r/f/c/t/m/x/n: 2 bytes (u16)  k/g/l: 4 bytes (u32)  i: 4 bytes (i32)
//! ```
//!
//! ## Operand kinds
//!
//! | kind | meaning |
//! | --- | --- |
//! | `r` | register of the current frame (`R[x]`) |
//! | `k` | index into the constant pool |
//! | `g` | global variable index |
//! | `f` | function index |
//! | `c` | class index |
//! | `t` | type-table index |
//! | `m` | interface-method slot (global numbering over all interfaces) |
//! | `x` | native-function import index |
//! | `n` | a small count or field index |
//! | `l` | jump target: absolute instruction index in this function |
//! | `i` | signed 32-bit immediate |
//!
//! ## Notes
//!
//! * Values are untagged 64-bit slots: the verifier has proved from each
//!   function's register types what every slot holds, so `AddI` adds without
//!   checking tags.
//! * Calls take their arguments from consecutive registers `R[args..]`; the
//!   callee's signature says how many. The result lands in `R[dst]` (ignored
//!   for functions returning nothing).
//! * Every reference operation checks for `nil` and raises `nil reference`.
//! * `DivI`/`ModI` raise `division by zero`; `i64::MIN / -1` wraps.
//! * `ForLoop` is the back edge of `for i in a..b`: one instruction per iteration.

/// A register operand.
pub type Reg = u16;

/// How an operand is interpreted (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandKind {
    Reg,
    Const,
    Global,
    Func,
    Class,
    Type,
    Method,
    Native,
    Count,
    Label,
    Imm,
}

impl OperandKind {
    /// Bytes used by this operand in the binary encoding.
    pub fn width(self) -> usize {
        match self {
            OperandKind::Const | OperandKind::Global | OperandKind::Label | OperandKind::Imm => 4,
            _ => 2,
        }
    }
}

macro_rules! kind_of {
    (r) => {
        OperandKind::Reg
    };
    (k) => {
        OperandKind::Const
    };
    (g) => {
        OperandKind::Global
    };
    (f) => {
        OperandKind::Func
    };
    (c) => {
        OperandKind::Class
    };
    (t) => {
        OperandKind::Type
    };
    (m) => {
        OperandKind::Method
    };
    (x) => {
        OperandKind::Native
    };
    (n) => {
        OperandKind::Count
    };
    (l) => {
        OperandKind::Label
    };
    (i) => {
        OperandKind::Imm
    };
}

macro_rules! rust_ty {
    (r) => {
        u16
    };
    (k) => {
        u32
    };
    (g) => {
        u32
    };
    (f) => {
        u16
    };
    (c) => {
        u16
    };
    (t) => {
        u16
    };
    (m) => {
        u16
    };
    (x) => {
        u16
    };
    (n) => {
        u16
    };
    (l) => {
        u32
    };
    (i) => {
        i32
    };
}

macro_rules! opcodes {
    ($( $name:ident { $($field:ident : $kind:ident),* } $doc:literal ;)*) => {
        /// One bytecode instruction. See the table in `opcodes.rs`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Instr {
            $( #[doc = $doc] $name { $($field: rust_ty!($kind)),* }, )*
        }

        /// Opcode numbers, in table order.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[repr(u8)]
        enum Opnum { $($name,)* }

        /// The instruction table as data: name, operand names and kinds, meaning.
        pub const TABLE: &[OpInfo] = &[
            $( OpInfo {
                name: stringify!($name),
                operands: &[$((stringify!($field), kind_of!($kind))),*],
                doc: $doc,
            }, )*
        ];

        impl Instr {
            /// The opcode number used in the binary encoding.
            pub fn opcode(&self) -> u8 {
                match self { $( Instr::$name { .. } => Opnum::$name as u8, )* }
            }

            /// The mnemonic.
            pub fn name(&self) -> &'static str {
                TABLE[self.opcode() as usize].name
            }

            /// The operands as (kind, value) pairs, in table order. Values are
            /// widened to i64 so one loop can treat every kind.
            pub fn operands(&self) -> Vec<(OperandKind, i64)> {
                match *self {
                    $( Instr::$name { $($field),* } => vec![$((kind_of!($kind), $field as i64)),*], )*
                }
            }

            /// Rebuilds an instruction from its opcode and operand values
            /// (the inverse of [`Instr::operands`]); `None` for an unknown
            /// opcode, a wrong operand count, or a value out of its kind's range.
            pub fn from_parts(op: u8, vals: &[i64]) -> Option<Instr> {
                #[allow(unused_mut, unused_variables)]
                match op {
                    $( x if x == Opnum::$name as u8 => {
                        let mut it = vals.iter().copied();
                        let ins = Instr::$name { $($field: {
                            let v = it.next()?;
                            <rust_ty!($kind)>::try_from(v).ok()?
                        }),* };
                        if it.next().is_some() { return None; }
                        Some(ins)
                    } )*
                    _ => None,
                }
            }

            /// Mutable access to the jump target, if this instruction has one
            /// (used by the emitter to patch forward jumps).
            pub fn label_mut(&mut self) -> Option<&mut u32> {
                let info = &TABLE[self.opcode() as usize];
                if !info.operands.iter().any(|o| o.1 == OperandKind::Label) {
                    return None;
                }
                opcodes!(@label self, $( $name { $($field : $kind),* } )*)
            }
        }
    };
    (@label $self:ident, $( $name:ident { $($field:ident : $kind:ident),* } )*) => {
        match $self {
            $( #[allow(unreachable_code)] Instr::$name { $($field: opcodes!(@pat $field $kind)),* } => { $( opcodes!(@pick $field $kind); )* None } )*
        }
    };
    (@pat $field:ident l) => { $field };
    (@pat $field:ident $other:ident) => { _ };
    (@pick $field:ident l) => { return Some($field) };
    (@pick $field:ident $other:ident) => { };
}

/// Static description of one opcode.
#[derive(Debug)]
pub struct OpInfo {
    pub name: &'static str,
    pub operands: &'static [(&'static str, OperandKind)],
    pub doc: &'static str,
}

opcodes! {
    Nop {} "does nothing";
    Move { dst: r, src: r } "R[dst] := R[src]";
    LoadI { dst: r, imm: i } "R[dst] := imm (int)";
    LoadK { dst: r, k: k } "R[dst] := K[k] (int, float or str constant)";
    LoadBool { dst: r, v: n } "R[dst] := v != 0";
    LoadNil { dst: r } "R[dst] := nil";
    LoadFunc { dst: r, func: f } "R[dst] := the function value of top-level function `func`";
    GetGlobal { dst: r, g: g } "R[dst] := G[g]";
    SetGlobal { g: g, src: r } "G[g] := R[src]";

    AddI { dst: r, a: r, b: r } "R[dst] := R[a] + R[b], wrapping";
    SubI { dst: r, a: r, b: r } "R[dst] := R[a] - R[b], wrapping";
    MulI { dst: r, a: r, b: r } "R[dst] := R[a] * R[b], wrapping";
    DivI { dst: r, a: r, b: r } "R[dst] := R[a] / R[b], truncating; error if R[b] == 0";
    ModI { dst: r, a: r, b: r } "R[dst] := R[a] % R[b], sign of dividend; error if R[b] == 0";
    AddIImm { dst: r, a: r, imm: i } "R[dst] := R[a] + imm, wrapping";
    BitAnd { dst: r, a: r, b: r } "R[dst] := R[a] & R[b]";
    BitOr { dst: r, a: r, b: r } "R[dst] := R[a] | R[b]";
    BitXor { dst: r, a: r, b: r } "R[dst] := R[a] ^ R[b]";
    Shl { dst: r, a: r, b: r } "R[dst] := R[a] << (R[b] mod 64)";
    Shr { dst: r, a: r, b: r } "R[dst] := R[a] >> (R[b] mod 64), arithmetic";
    NegI { dst: r, a: r } "R[dst] := -R[a], wrapping";
    BitNot { dst: r, a: r } "R[dst] := ~R[a]";
    EqI { dst: r, a: r, b: r } "R[dst] := R[a] == R[b] (int)";
    NeI { dst: r, a: r, b: r } "R[dst] := R[a] != R[b] (int)";
    LtI { dst: r, a: r, b: r } "R[dst] := R[a] < R[b] (int)";
    LeI { dst: r, a: r, b: r } "R[dst] := R[a] <= R[b] (int)";

    AddF { dst: r, a: r, b: r } "R[dst] := R[a] + R[b] (float)";
    SubF { dst: r, a: r, b: r } "R[dst] := R[a] - R[b] (float)";
    MulF { dst: r, a: r, b: r } "R[dst] := R[a] * R[b] (float)";
    DivF { dst: r, a: r, b: r } "R[dst] := R[a] / R[b] (float, IEEE 754)";
    ModF { dst: r, a: r, b: r } "R[dst] := fmod(R[a], R[b])";
    NegF { dst: r, a: r } "R[dst] := -R[a] (float)";
    EqF { dst: r, a: r, b: r } "R[dst] := R[a] == R[b] (float)";
    NeF { dst: r, a: r, b: r } "R[dst] := R[a] != R[b] (float)";
    LtF { dst: r, a: r, b: r } "R[dst] := R[a] < R[b] (float)";
    LeF { dst: r, a: r, b: r } "R[dst] := R[a] <= R[b] (float)";

    Not { dst: r, a: r } "R[dst] := !R[a] (bool)";
    EqB { dst: r, a: r, b: r } "R[dst] := R[a] == R[b] (bool)";
    NeB { dst: r, a: r, b: r } "R[dst] := R[a] != R[b] (bool)";
    EqRef { dst: r, a: r, b: r } "R[dst] := R[a] and R[b] are the same object (or both nil)";
    NeRef { dst: r, a: r, b: r } "R[dst] := R[a] and R[b] are different objects";
    Concat { dst: r, a: r, b: r } "R[dst] := R[a] + R[b] (str)";
    EqS { dst: r, a: r, b: r } "R[dst] := R[a] == R[b] (str, by value; nil equals only nil)";
    NeS { dst: r, a: r, b: r } "R[dst] := R[a] != R[b] (str, by value)";
    LtS { dst: r, a: r, b: r } "R[dst] := R[a] < R[b] (str, byte-wise)";
    LeS { dst: r, a: r, b: r } "R[dst] := R[a] <= R[b] (str, byte-wise)";

    IntToFloat { dst: r, a: r } "R[dst] := float(R[a])";
    FloatToInt { dst: r, a: r } "R[dst] := int(R[a]), toward zero; error if NaN or out of range";
    AbsI { dst: r, a: r } "R[dst] := abs(R[a]), wrapping";
    AbsF { dst: r, a: r } "R[dst] := abs(R[a]) (float)";
    MinI { dst: r, a: r, b: r } "R[dst] := min(R[a], R[b]) (int)";
    MaxI { dst: r, a: r, b: r } "R[dst] := max(R[a], R[b]) (int)";
    MinF { dst: r, a: r, b: r } "R[dst] := min(R[a], R[b]) (float, as Java)";
    MaxF { dst: r, a: r, b: r } "R[dst] := max(R[a], R[b]) (float, as Java)";
    SqrtF { dst: r, a: r } "R[dst] := sqrt(R[a])";
    ToStr { dst: r, src: r, ty: t } "R[dst] := str(R[src]) where R[src] has type T[ty]";

    Jmp { target: l } "pc := target";
    JmpIf { cond: r, target: l } "if R[cond] then pc := target";
    JmpIfNot { cond: r, target: l } "if !R[cond] then pc := target";
    JLtI { a: r, b: r, target: l } "if R[a] < R[b] (int) then pc := target";
    JLeI { a: r, b: r, target: l } "if R[a] <= R[b] (int) then pc := target";
    JEqI { a: r, b: r, target: l } "if R[a] == R[b] (int) then pc := target";
    JNeI { a: r, b: r, target: l } "if R[a] != R[b] (int) then pc := target";
    JLtF { a: r, b: r, target: l } "if R[a] < R[b] (float) then pc := target";
    JLeF { a: r, b: r, target: l } "if R[a] <= R[b] (float) then pc := target";
    JNLtF { a: r, b: r, target: l } "if !(R[a] < R[b]) (float) then pc := target";
    JNLeF { a: r, b: r, target: l } "if !(R[a] <= R[b]) (float) then pc := target";
    ForLoop { ctr: r, end: r, target: l } "R[ctr] += 1; if R[ctr] < R[end] then pc := target";

    Call { dst: r, func: f, args: r } "R[dst] := func(R[args..])";
    CallMethod { dst: r, func: f, args: r } "R[dst] := func(R[args..]); error if R[args] (self) is nil";
    CallIface { dst: r, slot: m, args: r } "R[dst] := (class of R[args]).method[slot](R[args..]); error if nil";
    CallClosure { dst: r, clo: r, args: r } "R[dst] := R[clo](R[args..]); error if nil";
    CallNative { dst: r, native: x, args: r } "R[dst] := native(R[args..])";
    Ret { src: r } "return R[src]";
    RetVoid {} "return";
    Throw { src: r } "raise the error message R[src] (str)";
    TryBegin { handler: l, reg: r } "push a handler: an error jumps to `handler` with its message in R[reg]";
    TryEnd { count: n } "pop `count` handlers of this frame";

    New { dst: r, class: c, args: r } "R[dst] := new class(R[args..]) (one register per field)";
    GetField { dst: r, obj: r, field: n } "R[dst] := R[obj].field";
    SetField { obj: r, field: n, src: r } "R[obj].field := R[src]";
    NewArray { dst: r, ty: t, args: r, n: n } "R[dst] := [R[args], ..., R[args+n-1]] of array type T[ty]";
    ArrayFill { dst: r, ty: t, n: r, x: r } "R[dst] := array(R[n], R[x]) of array type T[ty]; error if R[n] < 0";
    ArrayGet { dst: r, arr: r, idx: r } "R[dst] := R[arr][R[idx]] (not [bool]); error if out of range";
    ArraySet { arr: r, idx: r, src: r } "R[arr][R[idx]] := R[src] (not [bool]); error if out of range";
    ArrayGetB { dst: r, arr: r, idx: r } "R[dst] := R[arr][R[idx]] of a [bool] (one byte per element); error if out of range";
    ArraySetB { arr: r, idx: r, src: r } "R[arr][R[idx]] := R[src] of a [bool]; error if out of range";
    ArrayLen { dst: r, arr: r } "R[dst] := len(R[arr]) (array)";
    StrLen { dst: r, s: r } "R[dst] := len(R[s]) (bytes of a str)";
    MapLen { dst: r, map: r } "R[dst] := len(R[map]) (entries)";
    Push { arr: r, src: r } "push(R[arr], R[src])";
    Pop { dst: r, arr: r } "R[dst] := pop(R[arr]); error if empty";
    Sort { arr: r } "sort(R[arr]) ([int], [float] or [str])";
    NewMap { dst: r, ty: t } "R[dst] := {} of map type T[ty]";
    MapGet { dst: r, map: r, key: r } "R[dst] := R[map][R[key]]; error if absent";
    MapSet { map: r, key: r, src: r } "R[map][R[key]] := R[src]";
    MapHas { dst: r, map: r, key: r } "R[dst] := has(R[map], R[key])";
    MapRemove { map: r, key: r } "remove(R[map], R[key])";
    MapKeys { dst: r, map: r, ty: t } "R[dst] := keys(R[map]) as array type T[ty]";
    NewCell { dst: r, src: r } "R[dst] := a new cell holding R[src] (a variable captured by reference)";
    CellGet { dst: r, cell: r } "R[dst] := R[cell].value";
    CellSet { cell: r, src: r } "R[cell].value := R[src]";
    MakeClosure { dst: r, func: f, caps: r, n: n } "R[dst] := closure of func capturing R[caps..caps+n]";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_small() {
        assert!(std::mem::size_of::<Instr>() <= 12);
    }

    #[test]
    fn parts_round_trip() {
        let samples = [
            Instr::AddI { dst: 1, a: 2, b: 3 },
            Instr::LoadI { dst: 0, imm: -5 },
            Instr::ForLoop {
                ctr: 1,
                end: 2,
                target: 77,
            },
            Instr::RetVoid {},
            Instr::NewArray {
                dst: 1,
                ty: 2,
                args: 3,
                n: 4,
            },
        ];
        for ins in samples {
            let vals: Vec<i64> = ins.operands().iter().map(|o| o.1).collect();
            assert_eq!(Instr::from_parts(ins.opcode(), &vals), Some(ins));
        }
        assert_eq!(Instr::from_parts(255, &[]), None);
        assert_eq!(Instr::from_parts(Instr::Nop {}.opcode(), &[1]), None);
    }

    #[test]
    fn label_patching() {
        let mut j = Instr::JmpIf { cond: 0, target: 1 };
        *j.label_mut().unwrap() = 9;
        assert_eq!(j, Instr::JmpIf { cond: 0, target: 9 });
        assert!(Instr::Nop {}.label_mut().is_none());
    }
}
