//! "No surprise I/O": a scan opens no socket and starts no process. Checked
//! for real under strace when it is installed (CI installs it), and always by
//! reading the sources: only the kubectl front end may spawn a process.

use std::path::Path;
use std::process::Command;

#[test]
fn a_scan_opens_no_socket_and_spawns_nothing() {
    if Command::new("strace").arg("-V").output().is_err() {
        println!("skipped: strace is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("trace");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=socket,connect,execve,fork,vfork,clone3",
            "-o",
        ])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
        .arg(root.join("testdata/examples"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    if !status.stderr.is_empty() && String::from_utf8_lossy(&status.stderr).contains("ptrace") {
        println!("skipped: ptrace is not permitted here");
        return;
    }
    let trace = std::fs::read_to_string(&log).unwrap();
    let execs = trace.lines().filter(|l| l.contains("execve(")).count();
    assert_eq!(execs, 1, "only the binary itself is executed:\n{trace}");
    assert!(
        !trace.contains("socket(") && !trace.contains("connect("),
        "network use:\n{trace}"
    );
}

#[test]
fn only_the_kubectl_front_end_spawns_processes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut offenders = Vec::new();
    let mut stack = vec![root.join("crates")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with("tests") && !p.ends_with("target") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                let name = p.to_string_lossy();
                let allowed =
                    name.contains("kubectl-ml-audit/src/kube") || name.contains("build.rs");
                for needle in ["Command::new", "TcpStream", "UdpSocket", "TcpListener"] {
                    if text.contains(needle) && !(allowed && needle == "Command::new") {
                        offenders.push(format!("{name}: {needle}"));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "process or network use outside kubectl-ml-audit/src/kube*.rs: {offenders:#?}"
    );
}
