//! A fault-injecting HTTP proxy between the tool and moto: for a seeded
//! share of requests it answers `Throttling` (or S3's `SlowDown`), answers
//! 503, resets the connection before or after forwarding, or answers
//! slowly. The same seed and the same sequence of requests give the same
//! faults, so a failure replays. It can also hold one request until the
//! test lets it through or drops it, to interrupt the tool at that moment.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The share of requests (in percent) that meet each fault.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Plan {
    pub(crate) seed: u64,
    pub(crate) throttle: u32,
    pub(crate) unavailable: u32,
    pub(crate) reset_before: u32,
    pub(crate) reset_after: u32,
    pub(crate) slow: u32,
    /// From this request on, every request is answered 503.
    pub(crate) blackout_from: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Fault {
    Throttle,
    Unavailable,
    ResetBefore,
    ResetAfter,
    Slow,
    Blackout,
}

/// What the proxy saw: requests, faults by kind, and S3 requests without
/// the bucket owner check.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub(crate) requests: usize,
    pub(crate) faults: BTreeMap<Fault, usize>,
    /// S3 requests sent without `x-amz-expected-bucket-owner`.
    pub(crate) s3_without_owner: Vec<String>,
}

/// What becomes of a held request once the test lets it go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// It reaches moto, as a request already on the wire reaches AWS.
    Forward,
    /// It never arrives.
    Drop,
}

type Matcher = Box<dyn Fn(&str, &str) -> bool + Send>;

/// The one request to hold: the first whose operation and body match.
struct Hold {
    matches: Matcher,
    caught: bool,
    release: Option<Release>,
}

pub(crate) struct Proxy {
    pub(crate) endpoint: String,
    pub(crate) seen: Arc<Mutex<Seen>>,
    plan: Arc<Mutex<Plan>>,
    hold: Arc<Mutex<Option<Hold>>>,
}

impl Proxy {
    /// Starts the proxy in front of `upstream` (`http://127.0.0.1:PORT`).
    pub(crate) async fn start(upstream: &str, plan: Plan) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let plan = Arc::new(Mutex::new(plan));
        let rng = Arc::new(Mutex::new(plan.lock().unwrap().seed | 1));
        let hold = Arc::new(Mutex::new(None));
        let (s, p, h) = (seen.clone(), plan.clone(), hold.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let (upstream, seen, plan, rng, hold) = (
                    upstream.clone(),
                    s.clone(),
                    p.clone(),
                    rng.clone(),
                    h.clone(),
                );
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, &seen, &plan, &rng, &hold).await;
                });
            }
        });
        Self {
            endpoint,
            seen,
            plan,
            hold,
        }
    }

    /// Holds the first request from now on whose operation (`CreateChangeSet`,
    /// `PUT /bucket/key`) and body match, until [`Self::release`].
    pub(crate) fn hold(&self, matches: impl Fn(&str, &str) -> bool + Send + 'static) {
        *self.hold.lock().unwrap() = Some(Hold {
            matches: Box::new(matches),
            caught: false,
            release: None,
        });
    }

    /// Waits until the held request has arrived.
    pub(crate) async fn held(&self) {
        loop {
            if self.hold.lock().unwrap().as_ref().is_some_and(|h| h.caught) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Lets the held request through, or drops it.
    pub(crate) fn release(&self, release: Release) {
        if let Some(hold) = self.hold.lock().unwrap().as_mut() {
            hold.release = Some(release);
        }
    }

    /// Changes the faults from now on.
    pub(crate) fn set(&self, plan: Plan) {
        *self.plan.lock().unwrap() = plan;
    }
}

/// xorshift64: enough for a seeded, replayable choice.
fn next(state: &Mutex<u64>) -> u32 {
    let mut s = state.lock().unwrap();
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    (*s % 100) as u32
}

struct Request {
    head: String,
    body: Vec<u8>,
}

impl Request {
    fn method(&self) -> &str {
        self.head.split(' ').next().unwrap_or("")
    }

    fn path(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or("")
    }

    /// `Action=CreateChangeSet&…` names a query-protocol call (CloudFormation, STS).
    fn action(&self) -> Option<String> {
        let body = std::str::from_utf8(&self.body).ok()?;
        body.split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .map(str::to_owned)
    }

    /// The service the request is signed for: the SigV4 credential scope
    /// (`Credential=<key>/<date>/<region>/<service>/aws4_request`).
    fn service(&self) -> Option<&str> {
        let authorization = header(&self.head, "authorization")?;
        let scope = authorization.split("Credential=").nth(1)?;
        scope.split('/').nth(3)
    }

    fn operation(&self) -> String {
        self.action().unwrap_or_else(|| {
            format!(
                "{} {}",
                self.method(),
                self.path().split('?').next().unwrap_or("")
            )
        })
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads up to the end of the headers; what came after them stays in `buf`.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return Some(head);
        }
        let mut chunk = [0u8; 16384];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn read_exact_into(stream: &mut TcpStream, buf: &mut Vec<u8>, len: usize) -> Option<Vec<u8>> {
    while buf.len() < len {
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf.drain(..len).collect())
}

async fn serve(
    mut client: TcpStream,
    upstream: &str,
    seen: &Mutex<Seen>,
    plan: &Mutex<Plan>,
    rng: &Mutex<u64>,
    hold: &Mutex<Option<Hold>>,
) -> Option<()> {
    let mut buf = Vec::new();
    loop {
        let head = read_head(&mut client, &mut buf).await?;
        if header(&head, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            client
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .ok()?;
        }
        let len: usize = header(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let body = read_exact_into(&mut client, &mut buf, len).await?;
        let request = Request { head, body };
        if held(hold, &request).await == Some(Release::Drop) {
            return None;
        }
        let plan = *plan.lock().unwrap();
        let index = {
            let mut s = seen.lock().unwrap();
            s.requests += 1;
            s.requests
        };
        let roll = next(rng);
        let fault = if plan.blackout_from.is_some_and(|from| index >= from) {
            Some(Fault::Blackout)
        } else {
            let mut edge = 0;
            [
                (plan.throttle, Fault::Throttle),
                (plan.unavailable, Fault::Unavailable),
                (plan.reset_before, Fault::ResetBefore),
                (plan.reset_after, Fault::ResetAfter),
                (plan.slow, Fault::Slow),
            ]
            .into_iter()
            .find_map(|(share, fault)| {
                edge += share;
                (roll < edge).then_some(fault)
            })
        };
        if let Some(fault) = fault {
            *seen.lock().unwrap().faults.entry(fault).or_default() += 1;
        }
        match fault {
            Some(Fault::Throttle) => {
                let answer = if request.action().is_some() {
                    error(
                        400,
                        "Bad Request",
                        "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>faults</RequestId></ErrorResponse>",
                    )
                } else {
                    error(
                        503,
                        "Slow Down",
                        "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>faults</RequestId></Error>",
                    )
                };
                client.write_all(&answer).await.ok()?;
                continue;
            }
            Some(Fault::Unavailable | Fault::Blackout) => {
                client
                    .write_all(&error(503, "Service Unavailable", ""))
                    .await
                    .ok()?;
                continue;
            }
            Some(Fault::ResetBefore) => return None,
            Some(Fault::Slow) => tokio::time::sleep(Duration::from_millis(300)).await,
            Some(Fault::ResetAfter) | None => {}
        }
        let response = forward(upstream, &request).await?;
        {
            let mut s = seen.lock().unwrap();
            if request.service() == Some("s3")
                && header(&request.head, "x-amz-expected-bucket-owner").is_none()
            {
                s.s3_without_owner.push(request.operation());
            }
        }
        if fault == Some(Fault::ResetAfter) {
            // moto did the work; the answer is lost on the way back.
            return None;
        }
        client.write_all(&response).await.ok()?;
    }
}

/// Keeps the request while the test holds it; `None` when it is not the one.
async fn held(hold: &Mutex<Option<Hold>>, request: &Request) -> Option<Release> {
    {
        let mut hold = hold.lock().unwrap();
        let hold = hold.as_mut()?;
        let body = String::from_utf8_lossy(&request.body);
        if hold.caught || !(hold.matches)(&request.operation(), &body) {
            return None;
        }
        hold.caught = true;
    }
    loop {
        if let Some(release) = hold.lock().unwrap().as_ref().and_then(|h| h.release) {
            return Some(release);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn error(status: u16, reason: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends the request to moto on a connection of its own and reads the whole answer.
async fn forward(upstream: &str, request: &Request) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await.ok()?;
    let head: String = request
        .head
        .lines()
        .filter(|l| {
            let name = l.split(':').next().unwrap_or("").trim();
            !name.eq_ignore_ascii_case("expect") && !name.eq_ignore_ascii_case("connection")
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    server
        .write_all(format!("{head}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .ok()?;
    server.write_all(&request.body).await.ok()?;
    let mut buf = Vec::new();
    let answer_head = read_head(&mut server, &mut buf).await?;
    let status: u16 = answer_head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if request.method() == "HEAD" || status == 204 || status == 304 {
        Vec::new()
    } else if let Some(len) = header(&answer_head, "content-length").and_then(|v| v.parse().ok()) {
        read_exact_into(&mut server, &mut buf, len).await?
    } else {
        let _ = server.read_to_end(&mut buf).await;
        std::mem::take(&mut buf)
    };
    // Re-framed with a length, kept alive for the client's next request.
    let mut head: Vec<&str> = answer_head
        .lines()
        .filter(|l| {
            let name = l.split(':').next().unwrap_or("").trim();
            !name.eq_ignore_ascii_case("content-length")
                && !name.eq_ignore_ascii_case("transfer-encoding")
                && !name.eq_ignore_ascii_case("connection")
        })
        .collect();
    let length = format!("Content-Length: {}", body.len());
    if request.method() != "HEAD" {
        head.push(&length);
    } else if let Some(l) = answer_head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-length:"))
    {
        head.push(l);
    }
    let mut out = head.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&body);
    Some(out)
}
