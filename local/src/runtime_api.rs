//! A stand-in for the Lambda Runtime API, to run a real function binary.
//!
//! It serves the documented endpoints of
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html> on a free
//! loopback port: `GET /2018-06-01/runtime/invocation/next` (long-polls until
//! an event is queued), `POST …/invocation/{id}/response`,
//! `POST …/invocation/{id}/error` and `POST …/init/error`. It is a tiny
//! HTTP/1.1 server on std threads, so tests need no async runtime to use it.
//!
//! ```no_run
//! use std::time::Duration;
//! use local::runtime_api::{Outcome, RuntimeApi};
//!
//! let api = RuntimeApi::start().unwrap();
//! let id = api.push_event(serde_json::json!({"hello": "world"}));
//! let run = api
//!     .run("target/debug/login", [("TABLE_NAME", "t")], Duration::from_secs(10))
//!     .unwrap();
//! assert!(matches!(run.outcome(&id), Some(Outcome::Response(_))));
//! ```

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const PREFIX: &str = "/2018-06-01/runtime";

/// What the function answered to one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST …/invocation/{id}/response`: the body, parsed as JSON when it is
    /// JSON (a proxy response is), else as a JSON string.
    Response(Value),
    /// `POST …/invocation/{id}/error`.
    Error(ErrorReport),
}

/// An error the function reported (`…/invocation/{id}/error` or `…/init/error`).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReport {
    /// The `Lambda-Runtime-Function-Error-Type` header, if sent.
    pub header_type: Option<String>,
    /// The body's `errorType`.
    pub error_type: String,
    /// The body's `errorMessage`.
    pub error_message: String,
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, Value)>,
    outcomes: HashMap<String, Outcome>,
    init_error: Option<ErrorReport>,
    next_requests: Vec<Instant>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stopping: AtomicBool,
    ids: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the state from the others.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `done` holds or `timeout` passes; returns what `done` gave.
    fn wait_for<T>(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&State) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if let Some(found) = done(&state) {
                return Some(found);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// The Runtime API stand-in; stops serving when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl RuntimeApi {
    /// Starts serving on a free loopback port.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
            ids: AtomicU64::new(0),
        });
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let serving = Arc::clone(&accepting);
                thread::spawn(move || serve(&serving, stream));
            }
        });
        Ok(Self { addr, shared })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:PORT`).
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The variables Lambda itself sets for a function process, pointing it
    /// at this stand-in. Add the function's own configuration and AWS
    /// endpoint on top.
    pub fn lambda_env(&self, function_name: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function_name}"),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_owned()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ]
    }

    /// Queues an event for the next `invocation/next` and returns the request
    /// id it will carry (`Lambda-Runtime-Aws-Request-Id`).
    pub fn push_event(&self, payload: Value) -> String {
        let n = self.shared.ids.fetch_add(1, Ordering::SeqCst) + 1;
        let id = format!("00000000-0000-4000-8000-{n:012}");
        self.shared.lock().queue.push_back((id.clone(), payload));
        self.shared.changed.notify_all();
        id
    }

    /// Waits until the function has asked for its `n`th event (1-based) and
    /// returns when that request arrived. The first one marks the end of the
    /// cold start.
    pub fn wait_next_request(&self, n: usize, timeout: Duration) -> Option<Instant> {
        self.shared.wait_for(timeout, |state| {
            state.next_requests.get(n.saturating_sub(1)).copied()
        })
    }

    /// Waits for the answer to invocation `id`.
    pub fn wait_outcome(&self, id: &str, timeout: Duration) -> Option<Outcome> {
        self.shared
            .wait_for(timeout, |state| state.outcomes.get(id).cloned())
    }

    /// Waits for an `/init/error` report.
    pub fn wait_init_error(&self, timeout: Duration) -> Option<ErrorReport> {
        self.shared
            .wait_for(timeout, |state| state.init_error.clone())
    }

    /// The `/init/error` report, if one came in.
    pub fn init_error(&self) -> Option<ErrorReport> {
        self.shared.lock().init_error.clone()
    }

    /// Runs `binary` with `env` (on top of [`lambda_env`](Self::lambda_env)
    /// and the parent's environment) until every queued event has an outcome
    /// (with none queued: until it first asks for one), the process reports
    /// `/init/error` or exits, or `timeout` passes; then stops the process and
    /// tells what happened.
    pub fn run<K, V>(
        &self,
        binary: impl AsRef<Path>,
        env: impl IntoIterator<Item = (K, V)>,
        timeout: Duration,
    ) -> io::Result<Run>
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let binary = binary.as_ref();
        let name = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "function".to_owned());
        let pending: Vec<String> = self
            .shared
            .lock()
            .queue
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        let mut child = Command::new(binary)
            .envs(self.lambda_env(&name))
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);

        let deadline = Instant::now() + timeout;
        let mut status = None;
        while Instant::now() < deadline {
            if let Some(exited) = child.try_wait()? {
                status = Some(exited);
                break;
            }
            let settled = {
                let state = self.shared.lock();
                // With no event queued, asking for one means the cold start is over.
                state.init_error.is_some()
                    || if pending.is_empty() {
                        !state.next_requests.is_empty()
                    } else {
                        pending.iter().all(|id| state.outcomes.contains_key(id))
                    }
            };
            if settled {
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        // After an init error the function is expected to exit by itself.
        if status.is_none() && self.init_error().is_some() {
            let grace = Instant::now() + Duration::from_secs(5);
            while status.is_none() && Instant::now() < grace {
                status = child.try_wait()?;
                thread::sleep(Duration::from_millis(5));
            }
        }
        let timed_out = status.is_none() && Instant::now() >= deadline;
        if status.is_none() {
            let _ = child.kill();
            child.wait()?;
        }
        let state = self.shared.lock();
        Ok(Run {
            outcomes: pending
                .iter()
                .filter_map(|id| state.outcomes.get(id).map(|o| (id.clone(), o.clone())))
                .collect(),
            init_error: state.init_error.clone(),
            exit: status,
            timed_out,
            stdout: stdout
                .map(|h| h.join().unwrap_or_default())
                .unwrap_or_default(),
            stderr: stderr
                .map(|h| h.join().unwrap_or_default())
                .unwrap_or_default(),
        })
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// What a [`RuntimeApi::run`] saw.
#[derive(Debug)]
pub struct Run {
    /// The answers, by request id, of the events queued before the run.
    pub outcomes: HashMap<String, Outcome>,
    /// The `/init/error` report, if the cold start failed.
    pub init_error: Option<ErrorReport>,
    /// The exit status if the process ended by itself (`None`: it was
    /// still waiting for events and was stopped, as Lambda would freeze it).
    pub exit: Option<ExitStatus>,
    /// Whether the timeout passed before the run settled.
    pub timed_out: bool,
    /// Everything the process wrote to stdout (its logs).
    pub stdout: String,
    /// Everything the process wrote to stderr.
    pub stderr: String,
}

impl Run {
    /// The answer to invocation `id`.
    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.outcomes.get(id)
    }

    /// The proxy response to invocation `id`, if it answered one.
    pub fn response(&self, id: &str) -> Option<&Value> {
        match self.outcomes.get(id) {
            Some(Outcome::Response(value)) => Some(value),
            _ => None,
        }
    }

    /// stdout's lines that are JSON objects (the structured logs).
    pub fn log_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .chain(self.stderr.lines())
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(Value::is_object)
            .collect()
    }
}

fn drain(mut from: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Serves one keep-alive connection (the runtime client pools them).
fn serve(shared: &Shared, stream: TcpStream) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_request(&mut reader) {
        let answered = handle(shared, &request, &mut writer);
        let close = request
            .header("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if answered.is_err() || close || shared.stopping.load(Ordering::SeqCst) {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

fn handle(shared: &Shared, request: &Request, out: &mut TcpStream) -> io::Result<()> {
    let path = request.path.split('?').next().unwrap_or_default();
    let Some(route) = path.strip_prefix(PREFIX) else {
        return respond(out, 404, &[], b"{\"errorMessage\":\"unknown path\"}");
    };
    match (request.method.as_str(), route) {
        ("GET", "/invocation/next") => {
            shared.lock().next_requests.push(Instant::now());
            shared.changed.notify_all();
            // Long-poll, as Lambda does, until an event is queued or we stop.
            let event = loop {
                let mut state = shared.lock();
                if let Some(event) = state.queue.pop_front() {
                    break Some(event);
                }
                if shared.stopping.load(Ordering::SeqCst) {
                    break None;
                }
                let _ = shared
                    .changed
                    .wait_timeout(state, Duration::from_millis(100))
                    .unwrap_or_else(PoisonError::into_inner);
            };
            let Some((id, payload)) = event else {
                return Err(io::Error::other("stopping"));
            };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 30_000)
                .unwrap_or_default();
            let headers = [
                ("Lambda-Runtime-Aws-Request-Id", id.clone()),
                ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
                (
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:local".to_owned(),
                ),
                (
                    "Lambda-Runtime-Trace-Id",
                    format!("Root=1-00000000-{:0>24}", id.len()),
                ),
                ("Content-Type", "application/json".to_owned()),
            ];
            respond(out, 200, &headers, payload.to_string().as_bytes())
        }
        ("POST", "/init/error") => {
            shared.lock().init_error = Some(error_report(request));
            shared.changed.notify_all();
            respond(out, 202, &[], b"{\"status\":\"OK\"}")
        }
        ("POST", route) => {
            let mut parts = route.trim_start_matches('/').split('/');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some("invocation"), Some(id), Some(kind @ ("response" | "error")), None) => {
                    let outcome = if kind == "response" {
                        Outcome::Response(serde_json::from_slice(&request.body).unwrap_or_else(
                            |_| Value::String(String::from_utf8_lossy(&request.body).into_owned()),
                        ))
                    } else {
                        Outcome::Error(error_report(request))
                    };
                    shared.lock().outcomes.insert(id.to_owned(), outcome);
                    shared.changed.notify_all();
                    respond(out, 202, &[], b"{\"status\":\"OK\"}")
                }
                _ => respond(out, 404, &[], b"{\"errorMessage\":\"unknown path\"}"),
            }
        }
        _ => respond(out, 405, &[], b"{\"errorMessage\":\"method not allowed\"}"),
    }
}

fn error_report(request: &Request) -> ErrorReport {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    ErrorReport {
        header_type: request
            .header("Lambda-Runtime-Function-Error-Type")
            .map(str::to_owned),
        error_type: field("errorType"),
        error_message: field("errorMessage"),
    }
}

fn respond(
    out: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

/// Reads one request; `Ok(None)` when the client closed the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("Transfer-Encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        // Streaming responses arrive chunked; trailers are not used by the runtime.
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            chunk.truncate(size);
            request.body.extend_from_slice(&chunk);
        }
    } else if let Some(length) = request.header("Content-Length") {
        let length: usize = length
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        request.body = vec![0; length];
        reader.read_exact(&mut request.body)?;
    }
    Ok(Some(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(addr: &str, raw: &str) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(raw.as_bytes()).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn serves_an_event_and_records_the_response() {
        let api = RuntimeApi::start().unwrap();
        let id = api.push_event(serde_json::json!({"n": 1}));
        let next = call(
            &api.address(),
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert!(next.starts_with("HTTP/1.1 200"), "{next}");
        assert!(next.contains(&format!("Lambda-Runtime-Aws-Request-Id: {id}")));
        assert!(next.ends_with("{\"n\":1}"));
        assert!(api.wait_next_request(1, Duration::from_secs(1)).is_some());

        let body = "{\"statusCode\":200}";
        let posted = call(
            &api.address(),
            &format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        );
        assert!(posted.starts_with("HTTP/1.1 202"), "{posted}");
        assert_eq!(
            api.wait_outcome(&id, Duration::from_secs(1)),
            Some(Outcome::Response(serde_json::json!({"statusCode": 200})))
        );
    }

    #[test]
    fn records_init_errors_with_their_type() {
        let api = RuntimeApi::start().unwrap();
        let body = "{\"errorType\":\"Config\",\"errorMessage\":\"TABLE_NAME is not set\"}";
        call(
            &api.address(),
            &format!(
                "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nLambda-Runtime-Function-Error-Type: Config\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        );
        let report = api.wait_init_error(Duration::from_secs(1)).unwrap();
        assert_eq!(report.header_type.as_deref(), Some("Config"));
        assert_eq!(report.error_message, "TABLE_NAME is not set");
    }
}
