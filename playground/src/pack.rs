//! The playground as one self-contained page.
//!
//! The page is `pvm explore`'s own template (`cli/src/explore.html`, so the
//! stepper is the same code) with the editor put in at `<!--PVM_EDITOR-->`
//! and, at `/*PVM_PLAYGROUND*/`, the JavaScript glue wasm-bindgen-cli wrote
//! (`--target no-modules`, wrapped in a function that makes one instance),
//! the WebAssembly module as base64, the example
//! programs, and the playground's script (`playground/web/`). Nothing is
//! fetched when the page loads, so it works from `file://` and offline.

const TEMPLATE: &str = include_str!("../../cli/src/explore.html");
const EDITOR: &str = include_str!("../web/editor.html");
const SCRIPT: &str = include_str!("../web/playground.js");

/// Standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The page, from wasm-bindgen's glue (`pvm_playground.js`) and the module
/// (`pvm_playground_bg.wasm`).
pub fn page(glue: &str, wasm: &[u8]) -> Result<String, String> {
    // The glue goes into a <script> element as it is: it must not end it.
    if glue.to_ascii_lowercase().contains("</script") {
        return Err("the wasm-bindgen glue contains `</script`".into());
    }
    let mut examples = String::from("{");
    for (i, (name, text)) in crate::EXAMPLES.iter().enumerate() {
        if i > 0 {
            examples.push(',');
        }
        pvm::explore::json_str(&mut examples, name);
        examples.push(':');
        pvm::explore::json_str(&mut examples, text);
    }
    examples.push('}');
    // The glue defines `wasm_bindgen` for one instance of the module; in a
    // function, it can be run again for a fresh instance (after a trap).
    let script = format!(
        "function pvmGlue() {{\n{glue}\nreturn wasm_bindgen;\n}}\nconst PVM_WASM = \"{}\";\nconst PVM_EXAMPLES = {examples};\n{SCRIPT}",
        base64(wasm)
    );
    let mut html = TEMPLATE.to_string();
    for (marker, with) in [
        ("<!--PVM_EDITOR-->", EDITOR),
        ("/*PVM_PLAYGROUND*/", script.as_str()),
        ("<title>pvm explore</title>", "<title>pvm playground</title>"),
        ("<b>pvm explore</b>", "<b>pvm playground</b>"),
    ] {
        if !html.contains(marker) {
            return Err(format!("the explore template has no {marker}"));
        }
        html = html.replacen(marker, with, 1);
    }
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        // The test vectors of RFC 4648, section 10.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn the_page_has_every_part() {
        let html = page("let wasm_bindgen = 1;", b"\0asm").expect("page");
        assert!(html.contains("function pvmGlue() {\nlet wasm_bindgen = 1;\nreturn wasm_bindgen;\n}"));
        assert!(html.contains("<section id=\"editor-pane\">"));
        assert!(html.contains("const PVM_WASM = \"AGFzbQ==\";"));
        assert!(html.contains("\"2-fib.pvm\":\"// Recursion"));
        assert!(html.contains("function playground()"));
        assert!(!html.contains("/*PVM_PLAYGROUND*/") && !html.contains("<!--PVM_EDITOR-->"));
        assert!(page("x = '</SCRIPT>';", b"").is_err());
    }
}
