//! `pvm run` is contained: programs cannot read host files, write outside
//! `/tmp` or exhaust the host's memory. (The container itself is tested in
//! depth by the `pvm-sandbox` crate's own suite.)

use std::process::{Command, Output};

fn run(args: &[&str], src: &str, name: &str) -> Output {
    let dir = std::env::temp_dir().join(format!("pvm-sbx-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(format!("{name}.pvm"));
    std::fs::write(&p, src).expect("write program");
    let mut a: Vec<String> = vec!["run".into()];
    a.extend(args.iter().map(|s| s.to_string()));
    a.push(p.to_string_lossy().into_owned());
    Command::new(env!("CARGO_BIN_EXE_pvm")).args(&a).output().expect("pvm runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn host_files_are_invisible() {
    let marker = std::env::temp_dir().join(format!("pvm-marker-{}", std::process::id()));
    std::fs::write(&marker, "secret").expect("marker");
    let src = format!(
        "fn main() {{ for p in [\"/etc/passwd\", \"/etc/shadow\", \"{}\"] {{ try {{ read_file(p); println(\"read \" + p); }} catch e {{ println(\"denied\"); }} }} }}\n",
        marker.display()
    );
    let o = run(&[], &src, "read");
    assert_eq!(out(&o), "denied\ndenied\ndenied\n", "{}", String::from_utf8_lossy(&o.stderr));
    // Without the sandbox the same program reads the marker: the test can fail.
    let o = run(&["--no-sandbox"], &src, "read2");
    assert!(out(&o).contains("read /"), "{}", out(&o));
}

#[test]
fn writes_outside_tmp_fail_and_tmp_is_private() {
    let target = std::env::temp_dir().join(format!("pvm-written-{}", std::process::id()));
    let src = format!(
        "fn main() {{ try {{ write_file(\"/etc/pvm-escape\", \"x\"); println(\"wrote\"); }} catch e {{ println(\"denied\"); }} write_file(\"{}\", \"inside\"); println(read_file(\"{}\")); }}\n",
        target.display(),
        target.display()
    );
    let o = run(&[], &src, "write");
    assert_eq!(out(&o), "denied\ninside\n", "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!target.exists(), "the container's /tmp leaked to the host");
}

#[test]
fn memory_exhaustion_is_stopped() {
    let src = "fn main() { let keep: [[int]] = []; while true { push(keep, array(100000, 1)); } }\n";
    let o = run(&["--memory", "64M"], src, "hog");
    let code = o.status.code();
    let err = String::from_utf8_lossy(&o.stderr);
    // Either the VM's own heap limit or the container's memory limit stops it.
    assert!(code == Some(137) || code == Some(1), "status {code:?}: {err}");
    assert!(err.contains("limit exceeded"), "{err}");
}

#[test]
fn timeout_stops_an_endless_loop() {
    let o = run(&["--timeout", "1"], "fn main() { while true { } }\n", "spin");
    assert_eq!(o.status.code(), Some(124));
    assert!(String::from_utf8_lossy(&o.stderr).contains("time limit exceeded"));
}
