//! The everyday loop end to end: `package` after a `cargo build --release`
//! at the root compiles nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test stops loudly on what it did not expect"
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use common::{Build, xtask_with};
use serde_json::Value;

/// The real cargo, with the environment a person's shell has: none of the
/// variables cargo sets for the test process (`CARGO_PKG_*`,
/// `CARGO_MANIFEST_DIR`, the library path, …).
fn cargo_as_in_a_shell(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.args(args).current_dir(testkit::workspace_root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo = name == "CARGO"
            || (name.starts_with("CARGO_") && name != "CARGO_HOME" && name != "CARGO_TARGET_DIR")
            || name == "LD_LIBRARY_PATH"
            || name == "OUT_DIR";
        if set_by_cargo {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Size and modification time of every file cargo keeps for the release
/// profile's units (fingerprints, build-script outputs, objects and
/// libraries) and of the two binaries: recompiling or relinking a unit
/// changes some, a unit with other features adds some.
fn release_state() -> BTreeMap<PathBuf, (u64, SystemTime)> {
    fn walk(dir: &Path, into: &mut BTreeMap<PathBuf, (u64, SystemTime)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                walk(&path, into);
            } else {
                into.insert(path, (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    let release = testkit::target_dir().join("release");
    let mut state = BTreeMap::new();
    for dir in [".fingerprint", "build", "deps"] {
        walk(&release.join(dir), &mut state);
    }
    for function in ["auth", "login"] {
        let path = release.join(function);
        let meta = std::fs::metadata(&path).unwrap();
        state.insert(path, (meta.len(), meta.modified().unwrap()));
    }
    state
}

#[test]
fn package_after_a_cargo_build_release_at_the_root_recompiles_nothing() {
    let started = Instant::now();
    let build = cargo_as_in_a_shell(&["build", "--release"])
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let before = release_state();
    let built = started.elapsed();

    let out = common::scratch("package-after-build");
    let run = xtask_with(
        None,
        &Build::Real,
        &["package", "--out", out.join("zips").to_str().unwrap()],
        &[],
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
    let after = release_state();
    let changed: Vec<String> = before
        .iter()
        .filter(|(path, state)| after.get(*path) != Some(*state))
        .map(|(path, _)| format!("changed or gone: {}", path.display()))
        .chain(
            after
                .keys()
                .filter(|path| !before.contains_key(*path))
                .map(|path| format!("new: {}", path.display())),
        )
        .collect();
    assert!(
        changed.is_empty(),
        "`cargo xtask package` compiled what `cargo build --release` had built ({} files):\n{}",
        changed.len(),
        changed
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );

    // And back: the person's next build finds every unit fresh, in cargo's own words.
    let again = cargo_as_in_a_shell(&["build", "--release", "--message-format", "json"])
        .output()
        .unwrap();
    assert!(again.status.success());
    let stale: Vec<String> = String::from_utf8_lossy(&again.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["fresh"] != true)
        .map(|m| m["package_id"].to_string())
        .collect();
    assert!(stale.is_empty(), "rebuilt after package: {stale:?}");
    println!(
        "cargo build --release {:.1} s, then package and a second build in {:.1} s",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64()
    );
}
