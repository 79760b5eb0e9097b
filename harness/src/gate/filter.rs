//! The seccomp-bpf filter that makes only the gated file syscalls stop.
//!
//! The filter returns `SECCOMP_RET_TRACE` for every syscall in
//! [`super::syscalls::GATED`] and [`super::syscalls::ANSWERED`] and `SECCOMP_RET_ALLOW` for everything
//! else, so a traced process runs at full speed between file syscalls and the
//! tracer sees a `PTRACE_EVENT_SECCOMP` stop before each gated one executes.

use super::syscalls::{ANSWERED, GATED};

const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The filter program, built before fork so the child only has to install it.
#[derive(Debug, Clone)]
pub struct Filter {
    program: Vec<libc::sock_filter>,
}

impl Filter {
    /// The gate's filter.
    pub fn gate() -> Filter {
        Filter::gate_and(&[])
    }

    /// The gate's filter, stopping at the syscalls `extra` as well (the
    /// reads and writes a fault may strike, `strike::STRUCK_ONLY`).
    pub fn gate_and(extra: &[u64]) -> Filter {
        let ld = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
        let jeq = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
        let ret = (libc::BPF_RET | libc::BPF_K) as u16;
        let numbers: Vec<u64> = GATED
            .iter()
            .map(|s| s.number)
            .chain(ANSWERED.iter().copied())
            .chain(extra.iter().copied())
            .collect();
        let n = numbers.len();
        let mut program = vec![
            stmt(ld, OFFSET_ARCH),
            // Another ABI: allow. (x32 numbers carry bit 30 and match nothing below.)
            jump(jeq, AUDIT_ARCH_X86_64, 1, 0),
            stmt(ret, SECCOMP_RET_ALLOW),
            stmt(ld, OFFSET_NR),
        ];
        for (i, number) in numbers.iter().enumerate() {
            // Jump forward to the TRACE return, which follows the ALLOW return.
            let to_trace = (n - i) as u8;
            program.push(jump(jeq, *number as u32, to_trace, 0));
        }
        program.push(stmt(ret, SECCOMP_RET_ALLOW));
        program.push(stmt(ret, SECCOMP_RET_TRACE));
        Filter { program }
    }

    /// Installs the filter on the calling thread. Meant to run in a forked
    /// child before exec: it only makes two syscalls and allocates nothing.
    pub fn install(&self) -> std::io::Result<()> {
        let prog = libc::sock_fprog {
            len: self.program.len() as u16,
            filter: self.program.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: prctl with PR_SET_NO_NEW_PRIVS takes integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `prog` points at `self.program`, which outlives the call; the
        // kernel copies the program before returning.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.program.len()
    }

    /// Never true: the filter always has its prologue.
    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gated_number_jumps_to_the_trace_return() {
        let f = Filter::gate();
        let trace_at = f.program.len() - 1;
        assert_eq!(f.program[trace_at].k, SECCOMP_RET_TRACE);
        for (i, s) in GATED.iter().enumerate() {
            let pc = 4 + i;
            let ins = f.program[pc];
            assert_eq!(ins.k, s.number as u32);
            assert_eq!(pc + 1 + ins.jt as usize, trace_at, "{}", s.name);
        }
        let pc = 4 + GATED.len();
        assert_eq!(f.program[pc].k, ANSWERED[0] as u32);
        assert_eq!(pc + 1 + f.program[pc].jt as usize, trace_at);
        assert!(f.len() < 255);
        let striking = Filter::gate_and(&[0, 1]);
        assert_eq!(striking.len(), f.len() + 2);
        let trace_at = striking.program.len() - 1;
        let pc = 4 + GATED.len() + ANSWERED.len() + 1;
        assert_eq!(striking.program[pc].k, 1);
        assert_eq!(pc + 1 + striking.program[pc].jt as usize, trace_at);
    }
}
