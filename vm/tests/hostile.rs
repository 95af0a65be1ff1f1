//! Hand-crafted hostile modules, one per finding of the bytecode audit:
//! each must be refused by the verifier or linker, or run to a clean end
//! (a result or a pvm error), and load in time and memory proportional to
//! its size. Built as `Module` values, so every field can be set to what an
//! attacker would write in a `.pvmc` file.

use pvm::bytecode::{Class, Const, FuncKind, Function, Instr, Interface, Module, NativeImport, Type};
use pvm::{Config, Host, LoadError, RunError, Vm};

// The compiler's fixed type ids.
const VOID: u16 = 0;
const INT: u16 = 1;
const STR: u16 = 4;

fn base_types() -> Vec<Type> {
    vec![Type::Void, Type::Int, Type::Float, Type::Bool, Type::Str, Type::Nil, Type::Error]
}

fn func(name: &str, kind: FuncKind, params: u16, regs: Vec<u16>, ret: u16, code: Vec<Instr>) -> Function {
    let n = code.len();
    Function {
        name: name.into(),
        kind,
        file: 0,
        params,
        captures: 0,
        regs,
        ret,
        code,
        lines: vec![1; n],
    }
}

fn module(types: Vec<Type>, functions: Vec<Function>) -> Module {
    Module {
        types,
        functions,
        files: vec!["crafted.pvm".into()],
        main: Some(0),
        ..Module::default()
    }
}

fn load(m: Module) -> Result<Vm, LoadError> {
    Vm::new(m, &Host::new(), Config::default())
}

fn refused(m: Module, why: &str) {
    match load(m) {
        Err(LoadError::Verify(e)) => assert!(e.0.iter().any(|p| p.contains(why)), "refused, but not for `{why}`: {e:?}"),
        Err(e) => panic!("refused by the linker, not the verifier: {e}"),
        Ok(_) => panic!("a hostile module verified (expected `{why}`)"),
    }
}

/// A class `C` with one `int` field implementing interface `I { fn m(self) -> int; }`.
fn class_and_interface(types: &mut Vec<Type>) -> (u16, u16) {
    types.push(Type::Class(0));
    let class_ty = (types.len() - 1) as u16;
    types.push(Type::Interface(0));
    let iface_ty = (types.len() - 1) as u16;
    types.push(Type::Func(vec![], INT));
    (class_ty, iface_ty)
}

#[test]
fn call_iface_window_does_not_wrap() {
    // 1. `CallIface` with args = 65535: the window starts at args + 1,
    // which wrapped to 0 in u16 arithmetic.
    let mut types = base_types();
    let (class_ty, iface_ty) = class_and_interface(&mut types);
    let sig = (types.len() - 1) as u16;
    let mut m = module(
        types,
        vec![
            func(
                "main",
                FuncKind::Function,
                0,
                vec![iface_ty, INT],
                VOID,
                vec![
                    Instr::CallIface {
                        dst: 1,
                        slot: 0,
                        args: 65535,
                    },
                    Instr::RetVoid {},
                ],
            ),
            func(
                "C.m",
                FuncKind::Method,
                1,
                vec![class_ty, INT],
                INT,
                vec![Instr::LoadI { dst: 1, imm: 1 }, Instr::Ret { src: 1 }],
            ),
        ],
    );
    m.classes = vec![Class {
        name: "C".into(),
        fields: vec![],
        methods: vec![("m".into(), 1)],
        interfaces: vec![0],
    }];
    m.interfaces = vec![Interface {
        name: "I".into(),
        methods: vec![("m".into(), sig)],
        first_slot: 0,
    }];
    refused(m, "out of range");
}

#[test]
fn registers_beyond_what_operands_address_are_refused() {
    // 2. 70,000 registers, the last a `str`: GC roots were kept as u16.
    let mut regs = vec![INT; 70_000];
    regs[69_999] = STR;
    let m = module(
        base_types(),
        vec![func("main", FuncKind::Function, 0, regs, VOID, vec![Instr::RetVoid {}])],
    );
    refused(m, "registers, more than");
}

#[test]
fn natives_must_be_imported_at_their_exact_signature() {
    // 3. `split` imported as returning `[int]`: the array it makes would be
    // typed wrongly (and its strings not traced).
    let mut types = base_types();
    types.push(Type::Array(INT)); // 7
    types.push(Type::Func(vec![STR, STR], 7)); // 8
    let mut m = module(
        types,
        vec![func("main", FuncKind::Function, 0, vec![], VOID, vec![Instr::RetVoid {}])],
    );
    m.natives = vec![NativeImport {
        name: "split".into(),
        sig: 8,
    }];
    match load(m) {
        Err(LoadError::Link(msg)) => assert!(msg.contains("split"), "{msg}"),
        other => panic!("linked a native at the wrong signature: {:?}", other.err()),
    }
}

#[test]
fn a_cell_read_before_it_is_written_is_a_nil_error_not_a_crash() {
    // 4. `CellGet` of a register never written: it is nil (registers are
    // zeroed on entry), and reading through it is `nil reference`.
    let mut types = base_types();
    types.push(Type::Cell(INT)); // 7
    let m = module(
        types,
        vec![func(
            "main",
            FuncKind::Function,
            0,
            vec![7, INT],
            VOID,
            vec![Instr::CellGet { dst: 1, cell: 0 }, Instr::RetVoid {}],
        )],
    );
    let mut vm = load(m).expect("verifies");
    match vm.run_main() {
        Err(RunError::Error { message, .. }) => assert_eq!(message, "nil reference"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn call_method_needs_a_receiver() {
    // 5. `CallMethod` on a method without parameters: the interpreter read
    // R[args] outside the checked window.
    let m = module(
        base_types(),
        vec![
            func(
                "main",
                FuncKind::Function,
                0,
                vec![INT],
                VOID,
                vec![Instr::CallMethod { dst: 0, func: 1, args: 0 }, Instr::RetVoid {}],
            ),
            func("C.m", FuncKind::Method, 0, vec![], VOID, vec![Instr::RetVoid {}]),
        ],
    );
    refused(m, "receiver");
}

#[test]
fn parameter_and_capture_counts_do_not_overflow() {
    // 6. params + captures = 40,000 + 40,000 overflowed u16 (a panic).
    let mut f = func("l", FuncKind::Lambda, 40_000, vec![INT; 10], VOID, vec![Instr::RetVoid {}]);
    f.captures = 40_000;
    let m = module(
        base_types(),
        vec![func("main", FuncKind::Function, 0, vec![], VOID, vec![Instr::RetVoid {}]), f],
    );
    refused(m, "more parameters and captures than registers");
    // The disassembler takes the same module without panicking.
    let mut f = func("l", FuncKind::Lambda, 40_000, vec![INT; 10], VOID, vec![Instr::RetVoid {}]);
    f.captures = 40_000;
    let m = module(base_types(), vec![f]);
    assert!(pvm::bytecode::disasm::disassemble(&m, &[]).contains("r40000..r80000"));
}

#[test]
fn a_huge_main_frame_is_a_clean_stack_overflow_or_runs() {
    // 6. `main` with the most registers allowed, run as the first frame.
    let m = module(
        base_types(),
        vec![func(
            "main",
            FuncKind::Function,
            0,
            vec![INT; 65_536],
            VOID,
            vec![Instr::RetVoid {}],
        )],
    );
    let mut vm = load(m).expect("verifies");
    assert_eq!(vm.run_main(), Ok(()));
}

/// Loading takes time proportional to the module: each case below blew up
/// (minutes, gigabytes) before. (Not timed here: that is for benchmarks;
/// these load the shapes that were quadratic, which a regression would
/// turn into a test run far longer than the suite's.)
fn loads_quickly(m: Module) -> Result<Vm, LoadError> {
    load(m)
}

#[test]
fn many_classes_and_interface_slots_load_in_linear_time() {
    // 7. 2,000 classes x 2,000 interface methods: a classes x slots vtable
    // (and an O(classes x types) class lookup) took gigabytes and seconds.
    let mut types = base_types();
    let n = 2000u16;
    for c in 0..n {
        types.push(Type::Class(c));
    }
    let first_class_ty = 7;
    let iface_ty = types.len() as u16;
    types.push(Type::Interface(0));
    let sig = types.len() as u16;
    types.push(Type::Func(vec![], VOID));
    let mut functions = vec![func("main", FuncKind::Function, 0, vec![], VOID, vec![Instr::RetVoid {}])];
    let methods: Vec<(String, u16)> = (0..n).map(|k| (format!("m{k}"), sig)).collect();
    let mut classes = Vec::new();
    // Only the first class implements the interface (2,000 methods); the
    // others exist to make a classes x slots table large.
    let mut cm = Vec::new();
    for k in 0..n {
        cm.push((format!("m{k}"), functions.len() as u16));
        functions.push(func(
            "C.m",
            FuncKind::Method,
            1,
            vec![first_class_ty],
            VOID,
            vec![Instr::RetVoid {}],
        ));
    }
    classes.push(Class {
        name: "C0".into(),
        fields: vec![],
        methods: cm,
        interfaces: vec![0],
    });
    for c in 1..n {
        classes.push(Class {
            name: format!("C{c}"),
            fields: vec![],
            methods: vec![],
            interfaces: vec![],
        });
    }
    let _ = iface_ty;
    let mut m = module(types, functions);
    m.classes = classes;
    m.interfaces = vec![Interface {
        name: "I".into(),
        methods,
        first_slot: 0,
    }];
    loads_quickly(m).expect("verifies");
}

#[test]
fn calls_of_a_function_with_many_parameters_verify_in_linear_time() {
    // 7. 20,000 calls of a 30,000-parameter function: the signature was
    // rebuilt (copied) at every call.
    let callee = func("f", FuncKind::Function, 30_000, vec![INT; 30_000], VOID, vec![Instr::RetVoid {}]);
    let mut code: Vec<Instr> = (0..20_000).map(|_| Instr::Call { dst: 0, func: 1, args: 0 }).collect();
    code.push(Instr::RetVoid {});
    let m = module(
        base_types(),
        vec![func("main", FuncKind::Function, 0, vec![INT; 30_000], VOID, code), callee],
    );
    loads_quickly(m).expect("verifies");
}

#[test]
fn a_class_listing_an_interface_twice_is_refused() {
    // 7. Repeated interface listings multiplied the work of every check.
    let mut types = base_types();
    let (class_ty, _) = class_and_interface(&mut types);
    let sig = (types.len() - 1) as u16;
    let mut m = module(
        types,
        vec![
            func("main", FuncKind::Function, 0, vec![], VOID, vec![Instr::RetVoid {}]),
            func(
                "C.m",
                FuncKind::Method,
                1,
                vec![class_ty, INT],
                INT,
                vec![Instr::LoadI { dst: 1, imm: 1 }, Instr::Ret { src: 1 }],
            ),
        ],
    );
    m.classes = vec![Class {
        name: "C".into(),
        fields: vec![],
        methods: vec![("m".into(), 1)],
        interfaces: vec![0; 50_000],
    }];
    m.interfaces = vec![Interface {
        name: "I".into(),
        methods: vec![("m".into(), sig)],
        first_slot: 0,
    }];
    refused(m, "twice");
}

#[test]
fn handlers_pushed_in_a_loop_are_bounded() {
    // 7. `TryBegin` in a loop without `TryEnd`: the handler stack grew
    // without bound (a 5 GB allocation). Now: `stack overflow`, catchable
    // like any other, and the VM is fine after it.
    let m = module(
        base_types(),
        vec![func(
            "main",
            FuncKind::Function,
            0,
            vec![STR],
            VOID,
            vec![Instr::TryBegin { handler: 2, reg: 0 }, Instr::Jmp { target: 0 }, Instr::RetVoid {}],
        )],
    );
    let mut vm = load(m).expect("verifies");
    // The handler at 2 catches the overflow (the last handler pushed).
    assert_eq!(vm.run_main(), Ok(()));
}

#[test]
fn types_with_exponentially_long_names_render_briefly() {
    // 7. t(i+1) = {t(i): t(i)}: `pvm dis` and error messages rendered
    // 2^n characters.
    let mut types = base_types();
    for i in 0..80u16 {
        types.push(Type::Map(if i == 0 { INT } else { 6 + i }, if i == 0 { INT } else { 6 + i }));
    }
    let last = (types.len() - 1) as u16;
    let mut m = module(
        types,
        vec![func(
            "main",
            FuncKind::Function,
            0,
            vec![last, INT],
            VOID,
            vec![Instr::Move { dst: 1, src: 0 }, Instr::RetVoid {}],
        )],
    );
    m.consts = vec![Const::Int(1)];
    let listing = pvm::bytecode::disasm::disassemble(&m, &[]);
    assert!(listing.len() < 20_000, "{} bytes", listing.len());
    match load(m) {
        Err(LoadError::Verify(e)) => assert!(e.to_string().len() < 5000),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn tables_larger_than_the_file_are_refused_before_allocation() {
    // 7. A count of 4 billion types in a 20-byte file.
    let mut bytes = b"PVMC".to_vec();
    bytes.extend_from_slice(&pvm::bytecode::format::VERSION.to_le_bytes());
    bytes.extend_from_slice(&0u16.to_le_bytes());
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&[1; 8]);
    match Vm::from_bytecode(&bytes, &Host::new(), Config::default()) {
        Err(LoadError::Decode(msg)) => assert!(msg.contains("exceeds"), "{msg}"),
        other => panic!("{:?}", other.err()),
    }
}
