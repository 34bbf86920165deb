//! Running the `awsemu` binary the way a user does, for the command-line tests.

#![allow(dead_code)]

use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_awsemu");

/// Runs `awsemu ARGS` to the end: (exit code, stdout, stderr).
pub fn awsemu(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run awsemu");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
