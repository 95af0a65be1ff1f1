//! `pvm-playground-pack PKG_DIR OUT.html`: puts the playground together as
//! one self-contained page (run by `playground/build.sh`; the work is
//! `pvm_playground::pack`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pkg, out] = args.as_slice() else {
        eprintln!("usage: pvm-playground-pack PKG_DIR OUT.html  (PKG_DIR: wasm-bindgen's --out-dir)");
        return ExitCode::from(2);
    };
    let pkg = PathBuf::from(pkg);
    let built = read(&pkg.join("pvm_playground.js")).and_then(|glue| {
        let glue = String::from_utf8(glue).map_err(|_| "the glue is not UTF-8".to_string())?;
        let wasm = read(&pkg.join("pvm_playground_bg.wasm"))?;
        pvm_playground::pack::page(&glue, &wasm)
    });
    match built.and_then(|html| std::fs::write(out, &html).map(|()| html.len()).map_err(|e| format!("{out}: {e}"))) {
        Ok(n) => {
            eprintln!("wrote {out} ({n} bytes)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
