//! The pinned Python virtualenv under `target/venv`, where moto (and, for
//! the tests, cfn-lint and checkov) live.
//!
//! cargo cannot install Python packages, so the first command that needs
//! them creates the virtualenv and installs each pinned requirements file
//! once; a stamp per file keeps later runs instant until the file changes.

use std::fs::{self, File};
use std::path::PathBuf;
use std::process::Command;

use crate::workspace::{root, target_dir};

/// What can go wrong while preparing the virtualenv.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or process operation failed.
    #[error("cannot {what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// python3 (with its `venv` module) is not there.
    #[error(
        "cannot create a Python virtualenv with `{python} -m venv` ({status}); install python3 \
         with venv and pip (Debian: `apt-get install python3-venv python3-pip`) or point PYTHON at one"
    )]
    NoPython {
        /// The interpreter tried.
        python: String,
        /// How it failed.
        status: String,
    },
    /// `pip install` failed.
    #[error("`pip install -r {file}` failed ({status}); see its output above")]
    Pip {
        /// The requirements file.
        file: String,
        /// How it failed.
        status: String,
    },
}

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// The virtualenv's folder.
pub fn dir() -> PathBuf {
    target_dir().join("venv")
}

/// A program installed in the virtualenv (`python`, `cfn-lint`, `checkov`, …).
pub fn bin(name: &str) -> PathBuf {
    dir().join("bin").join(name)
}

/// moto and everything it imports, pinned: what local mode needs.
pub fn moto_requirements() -> PathBuf {
    root().join("local").join("moto").join("requirements.txt")
}

/// The linters the tests judge the template with (cfn-lint, checkov), pinned.
pub fn test_tool_requirements() -> PathBuf {
    root().join("lib").join("testkit").join("requirements.txt")
}

/// The virtualenv `cargo xtask test` and the tests use: moto and the linters.
pub fn ensure_test_tools() -> Result<PathBuf, Error> {
    ensure(&[moto_requirements(), test_tool_requirements()])
}

/// Creates the virtualenv if it is not there and installs every requirements
/// file whose exact contents are not installed yet. Safe to call from several
/// processes at once: they take turns on a lock file.
pub fn ensure(requirements: &[PathBuf]) -> Result<PathBuf, Error> {
    let venv = dir();
    let target = target_dir();
    fs::create_dir_all(&target).map_err(io(format!("create {}", target.display())))?;
    let lock_path = target.join("venv.lock");
    let lock = File::create(&lock_path).map_err(io(format!("create {}", lock_path.display())))?;
    lock.lock()
        .map_err(io(format!("lock {}", lock_path.display())))?;

    if !bin("python").exists() {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let status = Command::new(&python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                // A half-made virtualenv would pass the check above next time.
                let _ = fs::remove_dir_all(&venv);
                return Err(Error::NoPython {
                    python,
                    status: status.to_string(),
                });
            }
            Err(err) => {
                return Err(Error::NoPython {
                    python,
                    status: err.to_string(),
                });
            }
        }
    }
    for file in requirements {
        let wanted = fs::read_to_string(file).map_err(io(format!("read {}", file.display())))?;
        let name = file
            .strip_prefix(root())
            .unwrap_or(file)
            .to_string_lossy()
            .replace(['/', '\\'], "_");
        let stamp = venv.join(format!("{name}.installed"));
        if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            continue;
        }
        let status = Command::new(bin("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(file)
            .status()
            .map_err(io("run pip from the virtualenv"))?;
        if !status.success() {
            return Err(Error::Pip {
                file: file.display().to_string(),
                status: status.to_string(),
            });
        }
        fs::write(&stamp, wanted).map_err(io(format!("write {}", stamp.display())))?;
    }
    Ok(venv)
}
