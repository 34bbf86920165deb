//! Fuzz target: see `awsemu::fuzzing::sigv4_presigned` for the input format and the invariants checked.
fn main() {
    afl::fuzz!(|data: &[u8]| awsemu::fuzzing::sigv4_presigned(data));
}
