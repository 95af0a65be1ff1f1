//! Natives that reach outside the VM, each through the VM's
//! [`crate::io::Capabilities`]: what the host has not granted is a
//! catchable error naming it.

use super::Sig;
use crate::error::Trap;
use crate::io::{denied, Access};
use crate::Vm;

pub(super) fn print_str(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    vm.print_slot(a[0], false)?;
    Ok(0)
}

pub(super) fn println_str(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    vm.print_slot(a[0], true)?;
    Ok(0)
}

pub(super) fn read_line(vm: &mut Vm, _: &[u64], _: &Sig) -> Result<u64, Trap> {
    match vm.io.read_line()? {
        Some(line) => Ok(vm.new_str(&line)),
        None => Ok(0),
    }
}

pub(super) fn read_file(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let path = vm.str_arg(a[0])?.to_string();
    let text = match &vm.io.caps.read_file {
        Access::Deny => return Err(denied("read_file")),
        Access::Files => {
            let limit = vm.heap_room();
            read_text(&path, limit).map_err(|e| Trap::Error(format!("cannot read {path}: {e}")))?
        }
        Access::Custom(f) => f(&path).map_err(|e| Trap::Error(format!("cannot read {path}: {e}")))?,
    };
    Ok(vm.new_str(&text))
}

/// Reads a whole text file, refusing one larger than `limit` bytes before
/// reading it (a `read_file` of `/dev/zero` must not exhaust memory).
fn read_text(path: &str, limit: usize) -> Result<String, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    f.take(cap).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() > limit {
        return Err("the file is larger than the heap limit".into());
    }
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
}

pub(super) fn write_file(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let path = vm.str_arg(a[0])?.to_string();
    let text = vm.str_arg(a[1])?;
    let r = match &vm.io.caps.write_file {
        Access::Deny => return Err(denied("write_file")),
        Access::Files => std::fs::write(&path, text).map_err(|e| e.to_string()),
        Access::Custom(f) => f(&path, text),
    };
    r.map_err(|e| Trap::Error(format!("cannot write {path}: {e}")))?;
    Ok(0)
}

pub(super) fn args(vm: &mut Vm, _: &[u64], sig: &Sig) -> Result<u64, Trap> {
    let Some(list) = vm.io.caps.args.clone() else {
        return Err(denied("args"));
    };
    let items: Vec<u64> = list.iter().map(|s| vm.new_str(s)).collect();
    Ok(vm.new_array(sig.ret, &items))
}

pub(super) fn clock(vm: &mut Vm, _: &[u64], _: &Sig) -> Result<u64, Trap> {
    if !vm.io.caps.clock {
        return Err(denied("clock"));
    }
    Ok(vm.io.started.elapsed().as_secs_f64().to_bits())
}

pub(super) fn exit(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    if !vm.io.caps.exit {
        return Err(denied("exit"));
    }
    Err(Trap::Exit(a[0] as i64 as i32))
}
