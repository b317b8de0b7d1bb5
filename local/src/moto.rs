//! moto server on a free loopback port, with its CloudFormation made faithful.
//!
//! The launcher (`local/moto/launcher.py`) runs moto in-process, teaches its
//! CloudFormation the resource types the stack uses, makes it behave like
//! CloudFormation where moto differs, and exits when its standard input
//! closes, so a parent that dies cannot leave it behind.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::venv;

/// What can go wrong while starting moto.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The virtualenv could not be prepared.
    #[error(transparent)]
    Venv(#[from] venv::Error),
    /// The launcher did not come up.
    #[error("moto server did not start: {0}")]
    Start(String),
}

/// The region every local resource lives in.
pub const REGION: &str = "us-east-1";

/// A running moto server, stopped when dropped.
pub struct Moto {
    endpoint: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Moto {
    /// Prepares the virtualenv (moto only), starts moto and waits until it answers.
    pub fn start() -> Result<Self, Error> {
        venv::ensure(&[venv::moto_requirements()])?;
        let launcher = crate::workspace::root()
            .join("local")
            .join("moto")
            .join("launcher.py");
        let mut child = Command::new(venv::bin("python"))
            .arg(&launcher)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|err| Error::Start(format!("cannot run {}: {err}", launcher.display())))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| Error::Start("no stdin".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Error::Start("no stdout".into()))?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|err| Error::Start(format!("cannot read the launcher's address: {err}")))?;
        let Some(endpoint) = line.trim().strip_prefix("READY ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Start(format!(
                "the launcher said {line:?} instead of its address; see its output above"
            )));
        };
        Ok(Self {
            endpoint: endpoint.to_owned(),
            child,
            _stdin: stdin,
        })
    }

    /// The base URL, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The environment an AWS SDK client (ours, a `bootstrap` binary, the AWS
    /// CLI) needs to talk to this server with moto's dummy credentials.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_SESSION_TOKEN", "testing".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    /// An SDK configuration for this server (endpoint, region, dummy credentials).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing", "testing", None, None, "moto",
            ))
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing stdin asks the launcher to exit; kill is the backstop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
