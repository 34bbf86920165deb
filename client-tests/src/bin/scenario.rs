//! Replays scenario files, cloud-provider flows included, and reports them as `awsemu scenario
//! run` does (`--format text|json|junit`, `--output FILE`, files or directories):
//! `cargo run -p client-tests --bin scenario -- scenarios/ --format junit -o report.xml`.
//! Exit status 0 when every scenario passes, 1 when one fails, 2 when a file does not load.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args = awsemu::scenario::batch::parse_args(
        "scenario",
        "Replay scenario files, cloud-provider flows included, and report them as text, JSON or JUnit XML; exit 0 when all pass, 1 when one fails, 2 when a file does not load.",
    );
    awsemu::scenario::batch::run_all(&args, Some(&client_tests::scenarios::run_flow), "scenario")
        .await
}
