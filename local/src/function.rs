//! A deployed function run as Lambda runs it: its `bootstrap` in a
//! long-lived process under its own Runtime API, one invocation at a time,
//! started again (a new cold start) when it has exited.

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::api_gateway::InvokeError;
use crate::runtime_api::{Outcome, RuntimeApi};

/// Where a function's output lines go: `(function name, line)`.
pub type LineSink = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// How to start one function's process.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The function's name (as deployed).
    pub name: String,
    /// The `bootstrap` to run.
    pub bootstrap: PathBuf,
    /// The function's own environment (the deployed one, origins rewritten, plus AWS access).
    pub env: Vec<(String, String)>,
    /// The log group its lines go to (the function's `LoggingConfig`).
    pub log_group: String,
    /// How long one invocation may run.
    pub timeout: Duration,
    /// The memory size, for `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    pub memory_mb: i32,
}

struct Instance {
    api: Arc<RuntimeApi>,
    child: Child,
}

/// One function, ready to be invoked.
pub struct Function {
    spec: Spec,
    sink: LineSink,
    instance: Mutex<Option<Instance>>,
    /// One invocation at a time, as in one Lambda execution environment.
    busy: tokio::sync::Mutex<()>,
}

impl Function {
    /// Starts the process now, so the first request does not pay the cold start.
    pub fn start(spec: Spec, sink: LineSink) -> io::Result<Self> {
        let function = Self {
            spec,
            sink,
            instance: Mutex::new(None),
            busy: tokio::sync::Mutex::new(()),
        };
        *function.lock() = Some(function.spawn()?);
        Ok(function)
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    fn lock(&self) -> MutexGuard<'_, Option<Instance>> {
        self.instance.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spawn(&self) -> io::Result<Instance> {
        let api = Arc::new(RuntimeApi::start()?);
        let memory = self.spec.memory_mb.to_string();
        let mut child = Command::new(&self.spec.bootstrap)
            .env_clear()
            .envs(api.lambda_env(&self.spec.name))
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &self.spec.log_group)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .envs(self.spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!("cannot run {}: {err}", self.spec.bootstrap.display()),
                )
            })?;
        if let Some(out) = child.stdout.take() {
            forward(out, self.spec.name.clone(), Arc::clone(&self.sink));
        }
        if let Some(err) = child.stderr.take() {
            forward(err, self.spec.name.clone(), Arc::clone(&self.sink));
        }
        Ok(Instance { api, child })
    }

    /// Invokes the function with `event` and waits for its answer.
    pub async fn invoke(&self, event: Value) -> Result<Value, InvokeError> {
        let _turn = self.busy.lock().await;
        let (api, id) = {
            let mut instance = self.lock();
            let exited = match instance.as_mut() {
                Some(running) => running.child.try_wait().ok().flatten().is_some(),
                None => true,
            };
            if exited {
                *instance = Some(
                    self.spawn()
                        .map_err(|err| InvokeError::Unavailable(err.to_string()))?,
                );
            }
            let Some(running) = instance.as_ref() else {
                return Err(InvokeError::Unavailable("not started".to_owned()));
            };
            let id = running.api.push_event(event);
            (Arc::clone(&running.api), id)
        };
        let started = Instant::now();
        let timeout = self.spec.timeout;
        loop {
            let waiting = Arc::clone(&api);
            let wanted = id.clone();
            let slice = Duration::from_millis(50);
            let outcome = tokio::task::spawn_blocking(move || waiting.wait_outcome(&wanted, slice))
                .await
                .map_err(|err| InvokeError::Unavailable(err.to_string()))?;
            match outcome {
                Some(Outcome::Response(value)) => return Ok(value),
                Some(Outcome::Error(report)) => return Err(InvokeError::Function(report)),
                None => {}
            }
            if let Some(report) = api.init_error() {
                return Err(InvokeError::Function(report));
            }
            let exited = self
                .lock()
                .as_mut()
                .and_then(|running| running.child.try_wait().ok().flatten());
            if let Some(status) = exited {
                return Err(InvokeError::Unavailable(format!(
                    "it exited ({status}) during the invocation"
                )));
            }
            if started.elapsed() >= timeout {
                // Lambda ends an environment whose invocation timed out.
                self.stop();
                return Err(InvokeError::Timeout);
            }
        }
    }

    /// Stops the process; the next invocation starts a new one.
    pub fn stop(&self) {
        if let Some(mut running) = self.lock().take() {
            let _ = running.child.kill();
            let _ = running.child.wait();
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        self.stop();
    }
}

fn forward(from: impl Read + Send + 'static, name: String, sink: LineSink) {
    thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if !line.trim().is_empty() {
                sink(&name, &line);
            }
        }
    });
}

/// Writes the `bootstrap` inside a function's zip to `dir/bootstrap`
/// (mode 0755) and returns its path.
pub fn extract_bootstrap(zip: &[u8], dir: &Path) -> io::Result<PathBuf> {
    let mut archive = zip::ZipArchive::new(io::Cursor::new(zip)).map_err(io::Error::other)?;
    let mut entry = archive
        .by_name("bootstrap")
        .map_err(|err| io::Error::other(format!("the zip has no bootstrap: {err}")))?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    std::fs::create_dir_all(dir)?;
    let path = dir.join("bootstrap");
    // A new file rather than an overwrite: a running process may still map the old one.
    let fresh = dir.join("bootstrap.new");
    std::fs::write(&fresh, bytes)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&fresh, &path)?;
    Ok(path)
}
