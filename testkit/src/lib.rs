//! Test support shared by every crate's tests and by `cargo xtask test`.
//!
//! The tools the tests need that cargo cannot install (moto, cfn-lint,
//! checkov) are pinned in `testkit/requirements.txt` and installed into a
//! virtualenv under `target/`, created on first use and reused after. moto
//! server is started on a free loopback port by the test that needs it and
//! stopped when its handle drops.

pub mod runtime_api;

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// What can go wrong while preparing the tools or starting moto.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}); see its output above")]
    Command { command: String, status: String },
    #[error("moto server did not start: {0}")]
    Moto(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// The workspace root (the folder of the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo target directory, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The virtualenv that holds the pinned Python tools.
pub fn venv_dir() -> PathBuf {
    target_dir().join("venv")
}

/// A program installed in the virtualenv (`python`, `cfn-lint`, `checkov`, …).
pub fn venv_bin(name: &str) -> PathBuf {
    venv_dir().join("bin").join(name)
}

fn requirements() -> PathBuf {
    workspace_root().join("testkit").join("requirements.txt")
}

/// Creates the virtualenv and installs the pinned requirements, unless the
/// requirements it was made from are unchanged. Safe to call from several
/// processes at once: they take turns on a lock file.
pub fn ensure_venv() -> Result<PathBuf, Error> {
    let venv = venv_dir();
    let target = target_dir();
    fs::create_dir_all(&target).map_err(io(format!("create {}", target.display())))?;
    let lock_path = target.join("venv.lock");
    let lock = File::create(&lock_path).map_err(io(format!("create {}", lock_path.display())))?;
    lock.lock()
        .map_err(io(format!("lock {}", lock_path.display())))?;

    let wanted = fs::read_to_string(requirements())
        .map_err(io(format!("read {}", requirements().display())))?;
    let stamp = venv.join("requirements.installed");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(venv);
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&python)
        .args(["-m", "venv", "--clear"])
        .arg(&venv))?;
    run(Command::new(venv_bin("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements()))?;
    fs::write(&stamp, wanted).map_err(io(format!("write {}", stamp.display())))?;
    Ok(venv)
}

fn run(command: &mut Command) -> Result<(), Error> {
    let shown = format!("{command:?}");
    let status = command.status().map_err(io(format!("run {shown}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Command {
            command: shown,
            status: status.to_string(),
        })
    }
}

/// A moto server on a free loopback port, stopped when dropped.
///
/// The launcher (`testkit/moto/launcher.py`) runs moto in-process, teaches
/// its CloudFormation the resource types it lacks, and exits when its
/// standard input closes, so a test that dies cannot leave it behind.
pub struct Moto {
    endpoint: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Moto {
    /// Starts moto and waits until it answers.
    pub fn start() -> Result<Self, Error> {
        ensure_venv()?;
        let launcher = workspace_root()
            .join("testkit")
            .join("moto")
            .join("launcher.py");
        let mut child = Command::new(venv_bin("python"))
            .arg(&launcher)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(io(format!("start {}", launcher.display())))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| Error::Moto("no stdin".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Error::Moto("no stdout".into()))?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(io("read the moto launcher's address"))?;
        let endpoint = line
            .trim()
            .strip_prefix("READY ")
            .ok_or_else(|| Error::Moto(format!("launcher said {line:?}")))?
            .to_owned();
        Ok(Self {
            endpoint,
            child,
            _stdin: stdin,
        })
    }

    /// The base URL, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The environment an AWS SDK client (ours, or a `bootstrap` binary)
    /// needs to talk to this server with dummy credentials.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_SESSION_TOKEN", "testing".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing stdin asks the launcher to exit; kill is the backstop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
