//! The one-way message pipe from the container processes to the supervising parent.
//!
//! Frames are `tag:u8 len:u32le payload`, each written with a single `write(2)` of at most
//! `PIPE_BUF` bytes, so frames from the shim and the container never interleave.

use std::io;
use std::os::fd::RawFd;

use crate::sys;

const TAG_PID: u8 = b'P';
const TAG_ERROR: u8 = b'E';
const TAG_EXIT: u8 = b'S';
const MAX_FRAME: usize = 4000; // < PIPE_BUF (4096), so each write is atomic

/// A message from the shim (or the container) to the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Msg {
    /// Host pid of the container's init (the process that runs the body).
    ContainerPid(i32),
    /// Setup failed; see `error::KIND_*`.
    Error { kind: u8, step: String, detail: String },
    /// The container's init was reaped: raw wait status and its CPU time (user+system, µs).
    Exit { status: i32, cpu_micros: u64 },
}

/// An error raised on the child side, to be sent to the parent as [`Msg::Error`].
#[derive(Debug)]
pub(crate) struct ChildError {
    pub kind: u8,
    pub step: String,
    pub detail: String,
}

impl ChildError {
    pub(crate) fn new(step: impl Into<String>, err: impl std::fmt::Display) -> Self {
        ChildError {
            kind: crate::error::KIND_SETUP,
            step: step.into(),
            detail: err.to_string(),
        }
    }

    pub(crate) fn send(self, fd: RawFd) {
        send(
            fd,
            &Msg::Error {
                kind: self.kind,
                step: self.step,
                detail: self.detail,
            },
        );
    }
}

/// Shorthand: `op.ctx("mounting /proc")?` turns any error into a [`ChildError`].
pub(crate) trait Ctx<T> {
    fn ctx(self, step: impl Into<String>) -> Result<T, ChildError>;
}

impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self, step: impl Into<String>) -> Result<T, ChildError> {
        self.map_err(|e| ChildError::new(step, e))
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

pub(crate) fn encode(msg: &Msg) -> Vec<u8> {
    let (tag, payload) = match msg {
        Msg::ContainerPid(pid) => (TAG_PID, pid.to_le_bytes().to_vec()),
        Msg::Exit { status, cpu_micros } => {
            let mut p = status.to_le_bytes().to_vec();
            p.extend_from_slice(&cpu_micros.to_le_bytes());
            (TAG_EXIT, p)
        }
        Msg::Error { kind, step, detail } => {
            let step = truncate(step, 400);
            let detail = truncate(detail, MAX_FRAME - 16 - step.len());
            let mut p = vec![*kind];
            p.extend_from_slice(&(step.len() as u16).to_le_bytes());
            p.extend_from_slice(step.as_bytes());
            p.extend_from_slice(detail.as_bytes());
            (TAG_ERROR, p)
        }
    };
    let mut frame = vec![tag];
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&payload);
    frame
}

/// Send a message; failures are ignored (the parent may already be gone).
pub(crate) fn send(fd: RawFd, msg: &Msg) {
    let _ = sys::write_all(fd, &encode(msg));
}

/// Incremental decoder for the parent side.
#[derive(Default)]
pub(crate) struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    /// Read what is available from `fd`; returns false at end of file.
    pub(crate) fn fill(&mut self, fd: RawFd) -> io::Result<bool> {
        let mut chunk = [0u8; 4096];
        let n = sys::read_some(fd, &mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    pub(crate) fn next_msg(&mut self) -> Option<Msg> {
        if self.buf.len() < 5 {
            return None;
        }
        let len = u32::from_le_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
        if self.buf.len() < 5 + len {
            return None;
        }
        let tag = self.buf[0];
        let payload: Vec<u8> = self.buf[5..5 + len].to_vec();
        self.buf.drain(..5 + len);
        decode(tag, &payload)
    }
}

fn decode(tag: u8, p: &[u8]) -> Option<Msg> {
    match tag {
        TAG_PID if p.len() == 4 => Some(Msg::ContainerPid(i32::from_le_bytes(p.try_into().ok()?))),
        TAG_EXIT if p.len() == 12 => Some(Msg::Exit {
            status: i32::from_le_bytes(p[..4].try_into().ok()?),
            cpu_micros: u64::from_le_bytes(p[4..12].try_into().ok()?),
        }),
        TAG_ERROR if p.len() >= 3 => {
            let slen = u16::from_le_bytes([p[1], p[2]]) as usize;
            let step = p.get(3..3 + slen)?;
            let detail = p.get(3 + slen..)?;
            Some(Msg::Error {
                kind: p[0],
                step: String::from_utf8_lossy(step).into_owned(),
                detail: String::from_utf8_lossy(detail).into_owned(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let msgs = [
            Msg::ContainerPid(4242),
            Msg::Error {
                kind: 2,
                step: "unshare".into(),
                detail: "EPERM ünïcode".into(),
            },
            Msg::Exit {
                status: 0x0900,
                cpu_micros: 1_234_567,
            },
        ];
        let mut r = Reader::default();
        for m in &msgs {
            r.buf.extend_from_slice(&encode(m));
        }
        // A partial frame stays buffered.
        r.buf.extend_from_slice(&encode(&msgs[0])[..3]);
        for m in &msgs {
            assert_eq!(r.next_msg().as_ref(), Some(m));
        }
        assert_eq!(r.next_msg(), None);
    }

    #[test]
    fn long_errors_fit_in_one_atomic_write() {
        let m = Msg::Error {
            kind: 1,
            step: "s".repeat(1000),
            detail: "d".repeat(10_000),
        };
        assert!(encode(&m).len() <= 4096);
    }
}
