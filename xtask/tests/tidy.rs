//! Tidiness as a test: every Rust source says what it is in a `//!` line
//! atop the file, and no file carries trailing whitespace or tabs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops loudly on what it did not expect"
)]

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "__pycache__" {
                files(&path, out);
            }
        } else if ["rs", "toml", "md", "py", "txt"]
            .iter()
            .any(|ext| name.ends_with(&format!(".{ext}")))
        {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let mut out = Vec::new();
    files(&testkit::workspace_root(), &mut out);
    assert!(out.len() > 20, "found only {} files", out.len());
    out
}

#[test]
fn every_rust_file_starts_with_a_doc_comment() {
    let missing: Vec<_> = sources()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter(|p| !std::fs::read_to_string(p).unwrap().starts_with("//!"))
        .collect();
    assert!(missing.is_empty(), "no `//!` line atop {missing:#?}");
}

#[test]
fn no_trailing_whitespace_or_tabs() {
    let mut bad = Vec::new();
    for path in sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.ends_with(' ') || line.ends_with('\t') || line.contains('\t') {
                bad.push(format!("{}:{}", path.display(), n + 1));
            }
        }
    }
    assert!(bad.is_empty(), "trailing whitespace or tabs at {bad:#?}");
}
