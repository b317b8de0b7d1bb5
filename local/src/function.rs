//! A deployed function run as Lambda runs it: its `bootstrap` in a
//! long-lived process under its own Runtime API, one invocation at a time,
//! started again (a new cold start) when it has exited, or on new code
//! between two invocations.

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The function's name (as deployed).
    pub name: String,
    /// The deployed code's `CodeSha256` (base64 SHA-256 of its zip).
    pub code_sha256: String,
    /// The `bootstrap` to run, from the zip whose SHA-256 is [`Self::code_sha256`].
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
    spec: Mutex<Spec>,
    sink: LineSink,
    instance: Mutex<Option<Instance>>,
    /// One invocation at a time, as in one Lambda execution environment.
    busy: tokio::sync::Mutex<()>,
}

impl Function {
    /// Starts the process now, so the first request does not pay the cold start.
    pub fn start(spec: Spec, sink: LineSink) -> io::Result<Self> {
        let function = Self {
            spec: Mutex::new(spec),
            sink,
            instance: Mutex::new(None),
            busy: tokio::sync::Mutex::new(()),
        };
        *function.lock() = Some(function.spawn()?);
        Ok(function)
    }

    /// How the function runs now.
    pub fn spec(&self) -> Spec {
        self.spec
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs the function on `spec` from now on (new code, a new
    /// environment): waits for the invocation in flight, stops the process
    /// and starts one on the new spec, so the next request meets new code
    /// after a cold start and no request sees the process change under it.
    pub async fn replace(&self, spec: Spec) -> io::Result<()> {
        let _turn = self.busy.lock().await;
        self.stop();
        *self.spec.lock().unwrap_or_else(PoisonError::into_inner) = spec;
        let started = self.spawn()?;
        *self.lock() = Some(started);
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Option<Instance>> {
        self.instance.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spawn(&self) -> io::Result<Instance> {
        let spec = self.spec();
        let api = Arc::new(RuntimeApi::start()?);
        let memory = spec.memory_mb.to_string();
        let mut child = Command::new(&spec.bootstrap)
            .env_clear()
            .envs(api.lambda_env(&spec.name))
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &spec.log_group)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!("cannot run {}: {err}", spec.bootstrap.display()),
                )
            })?;
        if let Some(out) = child.stdout.take() {
            forward(out, spec.name.clone(), Arc::clone(&self.sink));
        }
        if let Some(err) = child.stderr.take() {
            forward(err, spec.name.clone(), Arc::clone(&self.sink));
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
        let timeout = self.spec().timeout;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A bootstrap in bash (its `/dev/tcp`, no other tool): answers each
    /// invocation with `version` and its process id, after a second when
    /// the event says `slow`.
    fn bootstrap(dir: &Path, version: &str) -> PathBuf {
        let script = format!(
            r#"#!/bin/bash
host=${{AWS_LAMBDA_RUNTIME_API%:*}}
port=${{AWS_LAMBDA_RUNTIME_API##*:}}
while true; do
  exec 3<>"/dev/tcp/$host/$port"
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
  next=$(cat <&3)
  exec 3<&-
  [[ $next =~ Lambda-Runtime-Aws-Request-Id:\ ([0-9a-f-]+) ]] || exit 1
  id=${{BASH_REMATCH[1]}}
  [[ $next == *slow* ]] && sleep 1
  body='{{"version":"{version}","pid":'$$'}}'
  exec 3<>"/dev/tcp/$host/$port"
  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$id" "${{#body}}" "$body" >&3
  cat <&3 >/dev/null
  exec 3<&-
done
"#
        );
        let dir = dir.join(version);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bootstrap");
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn spec(bootstrap: PathBuf, code_sha256: &str) -> Spec {
        Spec {
            name: "sign-in-login".to_owned(),
            code_sha256: code_sha256.to_owned(),
            bootstrap,
            env: Vec::new(),
            log_group: "/sign-in/login".to_owned(),
            timeout: Duration::from_secs(10),
            memory_mb: 128,
        }
    }

    fn answer(outcome: Result<Value, InvokeError>) -> (String, u64) {
        let value = match outcome {
            Ok(value) => value,
            Err(err) => panic!("the invocation failed: {err:?}"),
        };
        (
            value["version"].as_str().unwrap().to_owned(),
            value["pid"].as_u64().unwrap(),
        )
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn new_code_starts_a_new_process_after_the_invocation_in_flight() {
        let dir = std::env::temp_dir().join(format!("local-function-{}", std::process::id()));
        let one = bootstrap(&dir, "one");
        let two = bootstrap(&dir, "two");
        let sink: LineSink = Arc::new(|_: &str, _: &str| {});
        let function = Arc::new(Function::start(spec(one, "sha-one"), sink).unwrap());

        let (version, first_pid) = answer(function.invoke(serde_json::json!({})).await);
        assert_eq!(version, "one");
        let (_, again) = answer(function.invoke(serde_json::json!({})).await);
        assert_eq!(
            again, first_pid,
            "one long-lived process between invocations"
        );

        // New code arrives while an invocation runs: that one finishes on the old process.
        let in_flight = {
            let function = Arc::clone(&function);
            tokio::spawn(async move { function.invoke(serde_json::json!({"slow": true})).await })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        function
            .replace(spec(two.clone(), "sha-two"))
            .await
            .unwrap();
        let (version, pid) = answer(in_flight.await.unwrap());
        assert_eq!((version.as_str(), pid), ("one", first_pid));
        assert!(
            !Path::new(&format!("/proc/{first_pid}")).exists(),
            "the old process is gone"
        );

        let (version, new_pid) = answer(function.invoke(serde_json::json!({})).await);
        assert_eq!(version, "two");
        assert_ne!(new_pid, first_pid);
        assert_eq!(function.spec().code_sha256, "sha-two");
        assert_eq!(function.spec().bootstrap, two);

        drop(function);
        assert!(
            !Path::new(&format!("/proc/{new_pid}")).exists(),
            "no process is left behind"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
