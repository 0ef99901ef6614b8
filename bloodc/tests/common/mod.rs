//! Helpers shared by the integration tests that drive the real `blood` binary.
// Each test crate includes this module and uses only some of it.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

/// `blood`, with the environment variables that would change its behaviour removed.
pub fn blood() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_blood"));
    cmd.env_remove("BLOOD_LOG").env_remove("BLOOD_RUNTIME_DIR").env_remove("BLOOD_LINKER");
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("failed to start a process")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Panics with the whole output if the status is not `code`.
pub fn assert_status(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit status {code}, got {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A temporary directory with `name` containing `source`.
pub fn program(name: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    fs::write(&path, source).expect("write source");
    (dir, path)
}
