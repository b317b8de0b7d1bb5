//! Tidiness as a test: every Rust source says what it is in a `//!` line
//! atop the file, and no file carries trailing whitespace or tabs.

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

/// The `Cargo.toml` of every crate in the workspace (the root's aside).
fn manifests() -> Vec<(PathBuf, toml::Table)> {
    let root = testkit::workspace_root();
    sources()
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "Cargo.toml") && p.parent() != Some(&root))
        .map(|p| {
            let manifest = std::fs::read_to_string(&p).unwrap().parse().unwrap();
            (p, manifest)
        })
        .collect()
}

/// Each `tests/*.rs` is a binary cargo links on its own (seconds of linking
/// each, on every change); a crate's integration tests are modules of one,
/// `tests/it/main.rs`. `xtask/tests/loop_e2e.rs` is the one exception: its
/// tests build the workspace from the sources and edit them, so they run in
/// a binary of their own, never beside a test that builds.
#[test]
fn every_crate_links_its_integration_tests_into_one_binary() {
    let root = testkit::workspace_root();
    let separate: Vec<_> = sources()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter(|p| {
            p.parent()
                .and_then(Path::file_name)
                .is_some_and(|d| d == "tests")
        })
        .filter(|p| p.strip_prefix(&root).unwrap() != Path::new("xtask/tests/loop_e2e.rs"))
        .collect();
    assert!(
        separate.is_empty(),
        "make these modules of tests/it/main.rs: {separate:#?}"
    );
    for (path, manifest) in manifests() {
        assert!(
            !manifest.contains_key("test"),
            "{} declares [[test]] targets: keep to tests/it/",
            path.display()
        );
    }
}

#[test]
fn every_crate_takes_the_workspace_lints() {
    let manifests = manifests();
    assert!(manifests.len() > 5, "found only {} crates", manifests.len());
    for (path, manifest) in manifests {
        let workspace = manifest
            .get("lints")
            .and_then(|lints| lints.get("workspace"))
            .and_then(toml::Value::as_bool);
        assert_eq!(
            workspace,
            Some(true),
            "{} lacks `[lints] workspace = true`",
            path.display()
        );
    }
}
