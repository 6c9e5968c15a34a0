//! Builds the widget's files into the collector, so that one binary serves the widget, the form
//! configs, the inbox and the API. The files are the built widget in `www/dist` (or the folder
//! the `BANTAM_DIST` variable names): `scripts/dev build` makes them. Without them the binary
//! serves `/dist/` from its `--www` folder, as before.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir = std::env::var_os("BANTAM_DIST").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../www/dist"),
        PathBuf::from,
    );
    println!("cargo:rerun-if-env-changed=BANTAM_DIST");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// The widget's files built into this binary, by name.\npub static WIDGET: &[(&str, &[u8])] = &[\n",
    );
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a file name in UTF-8");
        let path = file.canonicalize().expect("a file that exists");
        writeln!(out, "    ({name:?}, include_bytes!({path:?})),").expect("a string");
    }
    out.push_str("];\n");
    let target = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("widget.rs");
    std::fs::write(target, out).expect("write widget.rs");
}
