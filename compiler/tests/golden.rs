//! Golden disassembly: the emitter's output for `tests/golden/*.pvm` must
//! match the `.dis` file next to it. After an intended change to the
//! emitter, regenerate with `UPDATE_GOLDEN=1 cargo test -p pvm-compiler --test golden`
//! and review the diff.

use pvm_compiler::bytecode::disasm::disassemble;
use std::path::Path;

#[test]
fn golden_disassembly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("golden dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pvm"))
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    let mut mismatches = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).expect("read source");
        let name = f.file_name().expect("name").to_string_lossy().to_string();
        let m = pvm_compiler::compile_source(&name, &src).unwrap_or_else(|e| panic!("{name}: {}", e.render()));
        let got = disassemble(&m, &[Some(src.as_str())]);
        let golden = f.with_extension("dis");
        if update {
            std::fs::write(&golden, &got).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if want != got {
            mismatches.push(format!("{name}: disassembly differs from {}:\n{got}", golden.display()));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\n(regenerate with UPDATE_GOLDEN=1 if the change is intended)",
        mismatches.join("\n")
    );
}
