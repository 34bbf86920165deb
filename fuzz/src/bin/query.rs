//! Fuzz target: see `awsemu::fuzzing::query` for the input format and the invariants checked.
fn main() {
    afl::fuzz!(|data: &[u8]| awsemu::fuzzing::query(data));
}
