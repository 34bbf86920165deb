//! Fuzz target: see `awsemu::fuzzing::policy` for the input format and the invariants checked.
fn main() {
    afl::fuzz!(|data: &[u8]| awsemu::fuzzing::policy(data));
}
