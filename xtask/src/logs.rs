//! `cargo xtask logs`: the functions' log groups, read with FilterLogEvents
//! and rendered for a person (or as NDJSON for a program), with a summary of
//! Lambda's `REPORT` lines; `--follow` polls until Ctrl-C. [`print_recent`]
//! shows the last lines of one function to someone looking at a failure.
//!
//! The log groups are the ones our own template names in each function's
//! `LoggingConfig`, never a search of the account's log groups.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use anyhow::{Context, bail};
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use serde_json::{Map, Value, json};

use crate::aws::{AwsArgs, sdk};
use crate::config::Layer;
use crate::intrinsics::{self, Known};
use crate::stack_args::StackSelection;

/// Options of `cargo xtask logs`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    stack: StackSelection,
    /// Keep reading new events (every two seconds) until Ctrl-C.
    #[arg(long)]
    follow: bool,
    /// Only this function's log group (default: both, merged by time).
    #[arg(long, value_enum)]
    function: Option<Function>,
    /// Where to start: a duration back from now (`30s`, `10m`, `2h`, `1d`,
    /// `1h30m`) or an RFC 3339 time (`2026-01-02T03:04:05Z`).
    #[arg(long, default_value = "10m", value_parser = Since::parse)]
    since: Since,
    /// A CloudWatch Logs filter pattern, applied by CloudWatch: a term
    /// (`ERROR`), a phrase (`"sign-in started"`) or a JSON condition
    /// (`{ $.level = "ERROR" }`).
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// `text`: one line per event for a person (time, function, level,
    /// request id, message, other fields; Lambda's own lines as they are);
    /// `json`: one object per event per line (NDJSON), for a program.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    aws: AwsArgs,
}

/// How `logs` prints events.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Json,
}

/// One of the stack's functions.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Function {
    Auth,
    Login,
}

impl Function {
    pub(crate) const ALL: [Self; 2] = [Self::Auth, Self::Login];

    /// The name `package` builds it under and `--function` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Login => "login",
        }
    }

    /// The template parameter its code's key comes from: what tells the
    /// template's two functions apart without knowing their logical ids.
    fn code_key_parameter(self) -> &'static str {
        use infra::stack::params;
        match self {
            Self::Auth => params::AUTH_CODE_KEY,
            Self::Login => params::LOGIN_CODE_KEY,
        }
    }
}

/// How often `--follow` polls each log group. FilterLogEvents allows a few
/// requests per second per account and region, shared with everyone else.
const POLL: Duration = Duration::from_secs(2);

/// How far back [`print_recent`] looks.
const RECENT: Duration = Duration::from_secs(3600);

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.stack.resolve(&[&Layer::aws(&args.aws)])?;
    let stack = config.settings.stack_name.clone();
    let functions = args.function.map_or(Function::ALL.to_vec(), |f| vec![f]);
    let groups = functions
        .into_iter()
        .map(|function| Ok((function, log_group(&stack, function)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let query = Query {
        groups,
        filter: args.filter,
        format: args.format,
    };
    let result = crate::aws::block_on(async {
        let (aws, _) = config.connect(&args.aws).await?;
        let start = args.since.start(now_millis());
        let reading = async {
            if args.follow {
                query.follow(&aws.logs, start).await
            } else {
                query.once(&aws.logs, start).await
            }
        };
        tokio::select! {
            result = reading => result,
            stopped = tokio::signal::ctrl_c() => stopped.context("cannot listen for Ctrl-C"),
        }
    })?;
    match result {
        // A reader that went away (`| head`) has all it wanted.
        Err(err) if is_broken_pipe(&err) => Ok(()),
        other => other,
    }
}

/// The log group `function` of stack `stack` writes to: the one the
/// template names in the function's `LoggingConfig`.
pub(crate) fn log_group(stack: &infra::StackName, function: Function) -> anyhow::Result<String> {
    use infra::Resource as _;
    let template = infra::sign_in_stack(&infra::Settings::new(stack.clone()))
        .to_value()
        .context("cannot build the template to read the log groups from")?;
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .context("the template has no resources")?;
    let properties = resources
        .values()
        .filter(|r| r["Type"] == infra::lambda::Function::TYPE)
        .map(|r| &r["Properties"])
        .find(|p| p["Code"]["S3Key"]["Ref"] == function.code_key_parameter())
        .with_context(|| format!("the template has no {} function", function.name()))?;
    let group = properties["LoggingConfig"]["LogGroup"]["Ref"]
        .as_str()
        .and_then(|id| resources.get(id))
        .filter(|r| r["Type"] == infra::logs::LogGroup::TYPE)
        .with_context(|| {
            format!(
                "the {} function's LoggingConfig names no log group of the template",
                function.name()
            )
        })?;
    let name = &group["Properties"]["LogGroupName"];
    intrinsics::resolve(name, &Known::stack_only(stack.as_str())).with_context(|| {
        format!(
            "cannot tell the name of the {} function's log group from {name}",
            function.name()
        )
    })
}

/// Prints the last `lines` log lines of `function` from the past hour on
/// stderr, rendered as `logs` renders them, under a line naming the log
/// group: for a person looking at a failure (a smoke check, a hotswap).
pub(crate) async fn print_recent(
    logs: &Client,
    stack: &infra::StackName,
    function: Function,
    lines: usize,
) -> anyhow::Result<()> {
    let group = log_group(stack, function)?;
    let now = now_millis();
    let back = i64::try_from(RECENT.as_millis()).unwrap_or(i64::MAX);
    let mut events: Vec<Event> = fetch(logs, &group, now.saturating_sub(back), Some(now), None)
        .await?
        .into_iter()
        .map(|e| Event::of(function, &group, e))
        .collect();
    events.sort_by_key(|e| e.timestamp);
    let events = &events[events.len().saturating_sub(lines)..];
    let mut err = anstream::stderr();
    if events.is_empty() {
        writeln!(
            err,
            "no log lines of the {} function in {group} in the last hour",
            function.name()
        )?;
    } else {
        writeln!(
            err,
            "the last {} log lines of the {} function ({group}):",
            events.len(),
            function.name()
        )?;
        for event in events {
            write_text(&mut err, event)?;
        }
    }
    Ok(())
}

/// What to read and how to print it.
struct Query {
    groups: Vec<(Function, String)>,
    filter: Option<String>,
    format: Format,
}

impl Query {
    /// Every event from `start` until now, merged by time, then the summary
    /// of the `REPORT` lines among them (on stderr, so stdout keeps only events).
    async fn once(&self, logs: &Client, start: i64) -> anyhow::Result<()> {
        let end = now_millis();
        let mut events = Vec::new();
        for (function, group) in &self.groups {
            let found = fetch(logs, group, start, Some(end), self.filter.as_deref()).await?;
            events.extend(found.into_iter().map(|e| Event::of(*function, group, e)));
        }
        events.sort_by_key(|e| e.timestamp);
        let mut out = anstream::stdout();
        let mut summary = Summary::default();
        for event in &events {
            self.write(&mut out, event)?;
            summary.add(event);
        }
        out.flush().context("cannot write to stdout")?;
        if events.is_empty() {
            eprintln!("no log events in {}", self.group_names());
        }
        for line in summary.lines() {
            eprintln!("{line}");
        }
        Ok(())
    }

    /// Events from `start` on, as they arrive, until Ctrl-C.
    async fn follow(&self, logs: &Client, start: i64) -> anyhow::Result<()> {
        let mut follower = Follower::new(self.groups.clone(), self.filter.clone(), start);
        eprintln!("following {} (Ctrl-C to stop)", self.group_names());
        loop {
            let poll = follower.poll(logs).await;
            if let Some((_, err)) = poll.failed.into_iter().next() {
                return Err(err);
            }
            let mut out = anstream::stdout();
            for event in &poll.events {
                self.write(&mut out, event)?;
            }
            out.flush().context("cannot write to stdout")?;
            tokio::time::sleep(POLL).await;
        }
    }

    fn write(&self, out: &mut impl Write, event: &Event) -> anyhow::Result<()> {
        let written = match self.format {
            Format::Text => write_text(out, event),
            Format::Json => writeln!(out, "{}", event.to_json()),
        };
        written.context("cannot write to stdout")
    }

    fn group_names(&self) -> String {
        self.groups
            .iter()
            .map(|(_, group)| group.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

/// Every event of `group` from `start` (inclusive) to `end`, through the
/// SDK's paginator.
async fn fetch(
    logs: &Client,
    group: &str,
    start: i64,
    end: Option<i64>,
    filter: Option<&str>,
) -> anyhow::Result<Vec<FilteredLogEvent>> {
    let mut pages = logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(start)
        .set_end_time(end)
        .set_filter_pattern(filter.map(str::to_owned))
        .into_paginator()
        .send();
    let mut events = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(err) => {
                let (missing, invalid) = err.as_service_error().map_or((false, false), |e| {
                    (
                        e.is_resource_not_found_exception(),
                        e.is_invalid_parameter_exception(),
                    )
                });
                if missing {
                    bail!(
                        "log group {group} does not exist; the stack creates it, so deploy the \
                         stack first (`cargo xtask deploy`), with the same --stack-name"
                    );
                }
                let err = sdk(err);
                return Err(if invalid {
                    err.context(format!(
                        "CloudWatch Logs refused to read {group}; check the --filter pattern"
                    ))
                } else {
                    err.context(format!("cannot read log group {group}"))
                });
            }
        };
        events.extend(page.events.unwrap_or_default());
    }
    Ok(events)
}

/// Follows log groups: each [`Follower::poll`] reads every group with
/// `FilterLogEvents` from where its [`Cursor`] stands and returns the events
/// not returned before. `logs --follow` and `watch` both read through it.
pub(crate) struct Follower {
    groups: Vec<(Function, String, Cursor)>,
    filter: Option<String>,
}

/// What one look at the followed groups found.
pub(crate) struct Poll {
    /// The new events of every group that could be read, merged by time.
    pub(crate) events: Vec<Event>,
    /// The groups that could not be read this time, and why; the next poll
    /// tries them again from where they stood.
    pub(crate) failed: Vec<(String, anyhow::Error)>,
}

impl Follower {
    /// Follows `groups` (`(function, log group)`) from `start` (ms since the
    /// epoch, inclusive), through a CloudWatch filter pattern if given.
    pub(crate) fn new(groups: Vec<(Function, String)>, filter: Option<String>, start: i64) -> Self {
        Self {
            groups: groups
                .into_iter()
                .map(|(function, group)| (function, group, Cursor::new(start)))
                .collect(),
            filter,
        }
    }

    /// One look at every group.
    pub(crate) async fn poll(&mut self, logs: &Client) -> Poll {
        let mut events = Vec::new();
        let mut failed = Vec::new();
        for (function, group, cursor) in &mut self.groups {
            match fetch(logs, group, cursor.start, None, self.filter.as_deref()).await {
                Ok(found) => events.extend(
                    cursor
                        .admit(found)
                        .into_iter()
                        .map(|e| Event::of(*function, group, e)),
                ),
                Err(err) => failed.push((group.clone(), err)),
            }
        }
        events.sort_by_key(|e| e.timestamp);
        Poll { events, failed }
    }
}

/// Where a follow of one log group stands. The next poll starts at the
/// newest timestamp seen, inclusive (not one millisecond later, which would
/// drop an event written later in that same millisecond), and the ids seen
/// at it keep any event from being printed twice. Only events at or after
/// the start can come back, so older ids are forgotten: the set holds one
/// millisecond's events. As with `aws logs tail --follow`, an event stamped
/// before the newest one shown that CloudWatch makes visible only later is
/// not shown.
#[derive(Debug)]
struct Cursor {
    start: i64,
    seen: HashMap<String, i64>,
}

impl Cursor {
    fn new(start: i64) -> Self {
        Self {
            start,
            seen: HashMap::new(),
        }
    }

    /// The events not seen before, in the order given; moves the start to
    /// the newest timestamp among everything seen.
    fn admit(&mut self, events: Vec<FilteredLogEvent>) -> Vec<FilteredLogEvent> {
        let mut fresh = Vec::new();
        for event in events {
            let timestamp = event.timestamp().unwrap_or(self.start);
            let id = event.event_id().map_or_else(
                || {
                    format!(
                        "{}/{timestamp}/{}",
                        event.log_stream_name().unwrap_or_default(),
                        event.message().unwrap_or_default()
                    )
                },
                str::to_owned,
            );
            if self.seen.insert(id, timestamp).is_none() {
                fresh.push(event);
            }
        }
        if let Some(newest) = self.seen.values().max() {
            self.start = self.start.max(*newest);
        }
        let start = self.start;
        self.seen.retain(|_, timestamp| *timestamp >= start);
        fresh
    }
}

/// One log event of one function.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    function: Function,
    group: String,
    stream: String,
    timestamp: i64,
    id: String,
    message: String,
}

impl Event {
    fn of(function: Function, group: &str, event: FilteredLogEvent) -> Self {
        Self {
            function,
            group: group.to_owned(),
            stream: event.log_stream_name.unwrap_or_default(),
            timestamp: event.timestamp.unwrap_or_default(),
            id: event.event_id.unwrap_or_default(),
            message: event.message.unwrap_or_default(),
        }
    }

    /// The message as a JSON object, when it is one (our functions' lines
    /// and Lambda's JSON platform records).
    fn object(&self) -> Option<Map<String, Value>> {
        match serde_json::from_str(self.message.trim_end()) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// The NDJSON shape (one per line, documented in the README):
    /// `{"function", "logGroup", "logStream", "timestamp" (ms since the
    /// epoch), "time" (RFC 3339), "eventId", "message"}`, the message parsed
    /// when it is a JSON object and a string otherwise.
    fn to_json(&self) -> Value {
        let message = self
            .object()
            .map_or_else(|| Value::String(self.message.clone()), Value::Object);
        json!({
            "function": self.function.name(),
            "logGroup": self.group,
            "logStream": self.stream,
            "timestamp": self.timestamp,
            "time": time(self.timestamp),
            "eventId": self.id,
            "message": message,
        })
    }
}

/// RFC 3339 in UTC with milliseconds.
fn time(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map_or_else(|_| millis.to_string(), |t| format!("{t:.3}"))
}

const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();
const REQUEST: Style = AnsiColor::Cyan.on_default();

fn level_style(level: &str) -> Style {
    match level {
        "ERROR" => AnsiColor::Red.on_default().bold(),
        "WARN" => AnsiColor::Yellow.on_default().bold(),
        "INFO" => AnsiColor::Green.on_default(),
        "DEBUG" => AnsiColor::Blue.on_default(),
        "TRACE" => AnsiColor::Magenta.on_default(),
        _ => Style::new(),
    }
}

/// One line for a person: time, function, then for our functions' JSON
/// lines the level (in colour), the request id, the message and the other
/// fields; for Lambda's JSON platform records the record type, the request
/// id and the record's fields; any other line as it is. The colour codes go
/// through `anstream`, which drops them for a non-terminal or `NO_COLOR`.
pub(crate) fn write_text(out: &mut impl Write, event: &Event) -> io::Result<()> {
    write!(
        out,
        "{}{}{} {}{:<5}{} ",
        DIM.render(),
        time(event.timestamp),
        DIM.render_reset(),
        BOLD.render(),
        event.function.name(),
        BOLD.render_reset()
    )?;
    let Some(mut object) = event.object() else {
        return writeln!(out, "{}", clean(event.message.trim_end()));
    };
    if let (Some(Value::String(kind)), Some(Value::Object(record))) =
        (object.get("type"), object.get("record"))
        && kind.starts_with("platform.")
    {
        let mut record = record.clone();
        let request = record.shift_remove("requestId");
        write!(out, "{}", clean(kind))?;
        write_request(out, request.as_ref())?;
        write_fields(out, &flatten(&record))?;
        return writeln!(out);
    }
    // tracing-subscriber's JSON: fields at the top level, or under `fields`.
    if let Some(Value::Object(fields)) = object.shift_remove("fields") {
        object.extend(fields);
    }
    let level = object
        .shift_remove("level")
        .map(|l| plain(&l))
        .unwrap_or_default();
    let message = object
        .shift_remove("message")
        .map(|m| plain(&m))
        .unwrap_or_default();
    let request = object
        .shift_remove("request_id")
        .or_else(|| object.shift_remove("requestId"));
    for noise in ["timestamp", "target", "span", "spans"] {
        object.shift_remove(noise);
    }
    let style = level_style(&level);
    write!(
        out,
        "{}{:<5}{}",
        style.render(),
        clean(&level),
        style.render_reset()
    )?;
    write_request(out, request.as_ref())?;
    write!(out, " {}", clean(&message))?;
    write_fields(out, &flatten(&object))?;
    writeln!(out)
}

/// The request id, when the line has one, in its own colour.
fn write_request(out: &mut impl Write, request: Option<&Value>) -> io::Result<()> {
    match request {
        Some(request) => write!(
            out,
            " {}{}{}",
            REQUEST.render(),
            clean(&plain(request)),
            REQUEST.render_reset()
        ),
        None => Ok(()),
    }
}

fn write_fields(out: &mut impl Write, fields: &[(String, String)]) -> io::Result<()> {
    for (key, value) in fields {
        write!(
            out,
            " {}{}={}{}",
            DIM.render(),
            clean(key),
            clean(value),
            DIM.render_reset()
        )?;
    }
    Ok(())
}

/// `key=value` pairs of an object, nested objects as `outer.inner`; a
/// string value as it is unless it holds a space or `=` (then JSON-quoted).
fn flatten(object: &Map<String, Value>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (key, value) in object {
        match value {
            Value::Object(inner) => pairs.extend(
                flatten(inner)
                    .into_iter()
                    .map(|(k, v)| (format!("{key}.{k}"), v)),
            ),
            Value::String(text) if text.is_empty() || text.contains([' ', '=', '"']) => {
                pairs.push((key.clone(), value.to_string()));
            }
            other => pairs.push((key.clone(), plain(other))),
        }
    }
    pairs
}

/// A JSON value as text: a string without its quotes, anything else as JSON.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `text` with control characters escaped (`\u{1b}`), so a log line can
/// neither move the cursor nor colour the terminal, and stays one line.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// What one invocation's `REPORT` says.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Report {
    duration_ms: f64,
    max_memory_mb: Option<f64>,
    init_ms: Option<f64>,
}

impl Report {
    /// A `REPORT` line: Lambda's text (`REPORT RequestId: …\tDuration:
    /// 2.34 ms\t…\tMax Memory Used: 20 MB\tInit Duration: 12.3 ms`) or, with
    /// the JSON log format our functions use, a `platform.report` record.
    fn parse(message: &str) -> Option<Self> {
        if let Some(rest) = message.strip_prefix("REPORT ") {
            let mut fields = HashMap::new();
            for field in rest.split('\t') {
                if let Some((key, value)) = field.split_once(": ") {
                    let number = value.split_whitespace().next().and_then(|n| n.parse().ok());
                    if let Some(number) = number {
                        fields.insert(key.trim(), number);
                    }
                }
            }
            return Some(Self {
                duration_ms: *fields.get("Duration")?,
                max_memory_mb: fields.get("Max Memory Used").copied(),
                init_ms: fields.get("Init Duration").copied(),
            });
        }
        let value: Value = serde_json::from_str(message.trim_end()).ok()?;
        if value["type"] != "platform.report" {
            return None;
        }
        let metrics = &value["record"]["metrics"];
        Some(Self {
            duration_ms: metrics["durationMs"].as_f64()?,
            max_memory_mb: metrics["maxMemoryUsedMB"].as_f64(),
            init_ms: metrics["initDurationMs"].as_f64(),
        })
    }
}

/// The `REPORT` lines of a run, per function.
#[derive(Debug, Default)]
struct Summary(BTreeMap<Function, Vec<Report>>);

impl Summary {
    fn add(&mut self, event: &Event) {
        if let Some(report) = Report::parse(&event.message) {
            self.0.entry(event.function).or_default().push(report);
        }
    }

    /// One line per function with reports: invocations, duration p50 and
    /// max, the most memory used, and the cold starts' init durations.
    fn lines(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(function, reports)| {
                let durations: Vec<f64> = reports.iter().map(|r| r.duration_ms).collect();
                let (p50, max) = p50_max(&durations);
                let mut line = format!(
                    "REPORT summary, {}: {} {}, duration p50 {p50:.2} ms, max {max:.2} ms",
                    function.name(),
                    reports.len(),
                    plural(reports.len(), "invocation", "invocations"),
                );
                let memory = reports
                    .iter()
                    .filter_map(|r| r.max_memory_mb)
                    .fold(None, |most: Option<f64>, m| {
                        Some(most.map_or(m, |x| x.max(m)))
                    });
                if let Some(memory) = memory {
                    line.push_str(&format!(", max memory {memory:.0} MB"));
                }
                let inits: Vec<f64> = reports.iter().filter_map(|r| r.init_ms).collect();
                if !inits.is_empty() {
                    let (p50, max) = p50_max(&inits);
                    line.push_str(&format!(
                        ", {} {} (init p50 {p50:.2} ms, max {max:.2} ms)",
                        inits.len(),
                        plural(inits.len(), "cold start", "cold starts")
                    ));
                }
                line
            })
            .collect()
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// The median (nearest rank, the lower of two middles) and the maximum.
fn p50_max(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let p50 = sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default();
    (p50, sorted.last().copied().unwrap_or_default())
}

/// Where `--since` starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Since {
    /// This long before now.
    Ago(Duration),
    /// At this time.
    At(jiff::Timestamp),
}

impl Since {
    fn parse(text: &str) -> Result<Self, String> {
        if let Ok(at) = text.parse::<jiff::Timestamp>() {
            return Ok(Self::At(at));
        }
        let refused = || {
            format!(
                "`{text}` is neither a duration back from now (`30s`, `10m`, `2h`, `1d`, `1h30m`) \
                 nor an RFC 3339 time (`2026-01-02T03:04:05Z`)"
            )
        };
        let span: jiff::Span = text.parse().map_err(|_| refused())?;
        let duration = span
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|_| refused())?;
        if duration.is_negative() {
            return Err(format!(
                "`{text}` is in the future; give a duration back from now"
            ));
        }
        Ok(Self::Ago(duration.unsigned_abs()))
    }

    /// The start in milliseconds since the epoch, given now.
    fn start(self, now: i64) -> i64 {
        match self {
            Self::Ago(back) => {
                now.saturating_sub(i64::try_from(back.as_millis()).unwrap_or(i64::MAX))
            }
            Self::At(at) => at.as_millisecond(),
        }
    }
}

/// Now, in milliseconds since the epoch (CloudWatch's timestamps).
pub(crate) fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn event(id: &str, timestamp: i64) -> FilteredLogEvent {
        FilteredLogEvent::builder()
            .event_id(id)
            .timestamp(timestamp)
            .log_stream_name("2026/01/02/[$LATEST]abc")
            .message(format!("line {id}"))
            .build()
    }

    fn ids(events: &[FilteredLogEvent]) -> Vec<&str> {
        events
            .iter()
            .filter_map(FilteredLogEvent::event_id)
            .collect()
    }

    #[test]
    fn the_log_groups_are_the_ones_the_functions_name() {
        let stack = infra::StackName::new("demo").unwrap();
        assert_eq!(log_group(&stack, Function::Auth).unwrap(), "/demo/auth");
        assert_eq!(log_group(&stack, Function::Login).unwrap(), "/demo/login");
        let names: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names, crate::package::FUNCTIONS);
    }

    #[test]
    fn a_follow_neither_drops_nor_repeats_events_sharing_a_millisecond() {
        let mut cursor = Cursor::new(100);
        let first = cursor.admit(vec![event("a", 100), event("b", 105), event("c", 105)]);
        assert_eq!(ids(&first), ["a", "b", "c"]);
        assert_eq!(cursor.start, 105, "the newest timestamp, not one past it");
        // The next poll starts at 105 and sees b and c again, plus d written
        // later in that same millisecond, and e after it.
        let second = cursor.admit(vec![
            event("b", 105),
            event("c", 105),
            event("d", 105),
            event("e", 106),
        ]);
        assert_eq!(ids(&second), ["d", "e"]);
        assert_eq!(cursor.start, 106);
        assert_eq!(
            cursor.seen.len(),
            1,
            "only the newest millisecond's ids are kept"
        );
        let third = cursor.admit(vec![event("e", 106)]);
        assert!(third.is_empty());
        assert!(cursor.admit(Vec::new()).is_empty());
        assert_eq!(cursor.start, 106);
    }

    fn render(message: &str) -> String {
        let event = Event {
            function: Function::Login,
            group: "/demo/login".into(),
            stream: "s".into(),
            timestamp: 1_767_322_800_123,
            id: "1".into(),
            message: message.into(),
        };
        let mut out = Vec::new();
        // Plain bytes: the colour codes are anstream's to drop, so strip them here.
        write_text(&mut anstream::StripStream::new(&mut out), &event).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn our_json_lines_read_as_time_level_request_message_and_fields() {
        assert_eq!(
            render(
                r#"{"level":"INFO","message":"login recorded","request_id":"r-1","username":"ann@example.com","greeting":"Hi there"}"#
            ),
            "2026-01-02T03:00:00.123Z login INFO  r-1 login recorded username=ann@example.com greeting=\"Hi there\"\n"
        );
        assert_eq!(
            render(r#"{"level":"ERROR","fields":{"message":"boom","status":500}}"#),
            "2026-01-02T03:00:00.123Z login ERROR boom status=500\n"
        );
    }

    #[test]
    fn lambdas_lines_are_shown_as_they_are_and_escapes_cannot_reach_the_terminal() {
        assert_eq!(
            render("START RequestId: r-1 Version: $LATEST\n"),
            "2026-01-02T03:00:00.123Z login START RequestId: r-1 Version: $LATEST\n"
        );
        assert_eq!(
            render("evil \u{1b}[2J line"),
            "2026-01-02T03:00:00.123Z login evil \\u{1b}[2J line\n"
        );
        assert_eq!(
            render(
                r#"{"time":"2026-01-02T03:00:00.123Z","type":"platform.report","record":{"requestId":"r-1","metrics":{"durationMs":2.5,"maxMemoryUsedMB":20},"status":"success"}}"#
            ),
            "2026-01-02T03:00:00.123Z login platform.report r-1 metrics.durationMs=2.5 metrics.maxMemoryUsedMB=20 status=success\n"
        );
    }

    #[test]
    fn the_json_shape_parses_json_messages_and_keeps_others_as_strings() {
        let event = |message: &str| Event {
            function: Function::Auth,
            group: "/demo/auth".into(),
            stream: "s".into(),
            timestamp: 1_767_322_800_123,
            id: "e-1".into(),
            message: message.into(),
        };
        assert_eq!(
            event(r#"{"level":"INFO","message":"hi"}"#).to_json(),
            json!({
                "function": "auth",
                "logGroup": "/demo/auth",
                "logStream": "s",
                "timestamp": 1_767_322_800_123_i64,
                "time": "2026-01-02T03:00:00.123Z",
                "eventId": "e-1",
                "message": {"level": "INFO", "message": "hi"},
            })
        );
        assert_eq!(
            event("END RequestId: r\n").to_json()["message"],
            "END RequestId: r\n"
        );
        assert_eq!(
            event("42").to_json()["message"],
            "42",
            "only objects are parsed"
        );
    }

    #[test]
    fn reports_in_text_and_json_are_summarized_per_function() {
        let text = "REPORT RequestId: r-1\tDuration: 2.34 ms\tBilled Duration: 3 ms\tMemory Size: 256 MB\tMax Memory Used: 20 MB\tInit Duration: 12.50 ms\t\n";
        assert_eq!(
            Report::parse(text),
            Some(Report {
                duration_ms: 2.34,
                max_memory_mb: Some(20.0),
                init_ms: Some(12.5)
            })
        );
        let json = r#"{"time":"t","type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":10.0,"billedDurationMs":10,"memorySizeMB":256,"maxMemoryUsedMB":31}}}"#;
        assert_eq!(
            Report::parse(json),
            Some(Report {
                duration_ms: 10.0,
                max_memory_mb: Some(31.0),
                init_ms: None
            })
        );
        assert_eq!(Report::parse("START RequestId: r"), None);
        assert_eq!(
            Report::parse(r#"{"level":"INFO","message":"REPORT"}"#),
            None
        );

        let mut summary = Summary::default();
        for (function, message) in [
            (Function::Login, text),
            (Function::Login, json),
            (
                Function::Login,
                "REPORT RequestId: r-3\tDuration: 4.00 ms\tMax Memory Used: 25 MB\t",
            ),
            (Function::Auth, "not a report"),
        ] {
            summary.add(&Event {
                function,
                group: String::new(),
                stream: String::new(),
                timestamp: 0,
                id: String::new(),
                message: message.into(),
            });
        }
        assert_eq!(
            summary.lines(),
            [
                "REPORT summary, login: 3 invocations, duration p50 4.00 ms, max 10.00 ms, max memory 31 MB, 1 cold start (init p50 12.50 ms, max 12.50 ms)"
            ]
        );
    }

    #[test]
    fn since_takes_durations_and_times_and_refuses_anything_else() {
        assert_eq!(
            Since::parse("10m"),
            Ok(Since::Ago(Duration::from_secs(600)))
        );
        assert_eq!(
            Since::parse("1h30m"),
            Ok(Since::Ago(Duration::from_secs(5400)))
        );
        assert_eq!(
            Since::parse("1d"),
            Ok(Since::Ago(Duration::from_secs(86_400)))
        );
        assert_eq!(Since::parse("45s").unwrap().start(100_000), 55_000);
        let at = Since::parse("2026-01-02T03:00:00.123Z").unwrap();
        assert_eq!(at.start(0), 1_767_322_800_123);
        for bad in ["yesterday", "10", "", "2026-01-02"] {
            let err = Since::parse(bad).unwrap_err();
            assert!(err.contains("RFC 3339"), "{bad}: {err}");
        }
        assert!(Since::parse("-5m").unwrap_err().contains("future"));
    }
}
