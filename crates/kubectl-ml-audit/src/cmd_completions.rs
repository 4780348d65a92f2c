//! `completions SHELL` and `man`: generated from the same clap definition as
//! `--help`, so they cannot drift.

use crate::emit;

/// Prints the completion script of `shell` for `kubectl-ml_audit`.
pub fn completions(shell: clap_complete::Shell, mut cmd: clap::Command) -> u8 {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kubectl-ml_audit", &mut buf);
    emit(&String::from_utf8_lossy(&buf), 0)
}

/// Prints the man page, `kubectl-ml_audit(1)`.
pub fn man(cmd: clap::Command) -> u8 {
    let mut buf = Vec::new();
    let cmd = cmd.name("kubectl-ml_audit");
    if let Err(e) = clap_mangen::Man::new(cmd).render(&mut buf) {
        return crate::usage_error(&format!("cannot render the man page: {e}"));
    }
    emit(&String::from_utf8_lossy(&buf), 0)
}
