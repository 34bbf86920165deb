//! Replays scenario files, cloud-provider flows included, and prints each report:
//! `cargo run -p client-tests --bin scenario -- scenarios/classic-elb-lifecycle.yaml [more.yaml …]`.
//! Exit status 0 when every scenario passes, 1 when one fails, 2 when a file does not load.

use std::path::PathBuf;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if files.is_empty() || files.iter().any(|f| f.as_os_str() == "--help") {
        eprintln!("usage: scenario FILE.yaml [FILE.yaml ...]");
        return ExitCode::from(2);
    }
    let mut code = 0;
    for f in &files {
        let mut print = |line: &str| println!("{line}");
        match client_tests::scenarios::run_file(f, &mut print).await {
            Ok(report) if report.passed => {}
            Ok(_) => code = code.max(1),
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                code = 2;
            }
        }
    }
    ExitCode::from(code)
}
