//! Fallback memory accounting for when no memory cgroup can be used: the resident set size of
//! the container's init and all its descendants, read from the host's /proc by the supervising
//! parent. Conservative (pages shared between forked processes count once per process).

use std::collections::HashSet;

fn page_size() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

fn resident_pages(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn children(pid: i32, out: &mut Vec<i32>) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for t in tasks.flatten() {
        let Ok(list) = std::fs::read_to_string(t.path().join("children")) else {
            continue;
        };
        out.extend(list.split_whitespace().filter_map(|c| c.parse::<i32>().ok()));
    }
}

/// Bytes resident in the process tree rooted at `init` (host pid).
pub(crate) fn tree_rss(init: i32) -> u64 {
    let mut seen = HashSet::new();
    let mut todo = vec![init];
    let mut pages = 0;
    while let Some(pid) = todo.pop() {
        if !seen.insert(pid) || seen.len() > 4096 {
            continue;
        }
        pages += resident_pages(pid);
        children(pid, &mut todo);
    }
    pages * page_size()
}

/// Bytes of address space mapped by a process (first field of /proc/PID/statm).
pub(crate) fn address_space(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()))
        .unwrap_or(0)
        * page_size()
}

/// Host pids of `init` and all its descendants (for job control: stopping and continuing the
/// whole container).
pub(crate) fn tree(init: i32) -> Vec<i32> {
    let mut seen = Vec::new();
    let mut todo = vec![init];
    while let Some(pid) = todo.pop() {
        if seen.contains(&pid) || seen.len() > 4096 {
            continue;
        }
        seen.push(pid);
        children(pid, &mut todo);
    }
    seen
}

#[cfg(test)]
mod tests {
    #[test]
    fn measures_this_process() {
        let rss = super::tree_rss(std::process::id() as i32);
        assert!(rss > 100 * 1024, "rss {rss}");
    }
}
