//! Starting the real collector binary and learning where it listens: shared by the tests (through
//! `common`) and the benchmark examples (`#[path]`), which cannot use the rest of `common`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Spawns `command` (a collector started with `--listen 127.0.0.1:0`) and reads the line where it
/// says it listens; returns the child and its `host:port`. The rest of its output is drained on a
/// thread of its own, so a later line never blocks on a full pipe; its errors are discarded.
pub fn spawn_listening(command: &mut Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the collector");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines
        .next()
        .and_then(Result::ok)
        .expect("the collector says where it listens");
    std::thread::spawn(move || lines.for_each(drop));
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, addr)
}
