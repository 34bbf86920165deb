//! Writes the seed corpora: `seeds REPO OUT` puts each target's seeds in `OUT/TARGET/`.
use std::path::PathBuf;

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [root, out] = args.as_slice() else {
        eprintln!("usage: seeds REPO OUT");
        std::process::exit(2);
    };
    let seeds = match awsemu::fuzzing::seeds(root) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("seeds: {e}");
            std::process::exit(1);
        }
    };
    let mut count = std::collections::BTreeMap::<&str, usize>::new();
    for (target, name, bytes) in seeds {
        let dir = out.join(target);
        let written =
            std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(&name), &bytes));
        if let Err(e) = written {
            eprintln!("seeds: {}: {e}", dir.join(&name).display());
            std::process::exit(1);
        }
        *count.entry(target).or_default() += 1;
    }
    for (target, n) in count {
        println!("{target}: {n} seeds");
    }
}
