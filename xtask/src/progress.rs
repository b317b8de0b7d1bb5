//! What a person sees while the engine works: one line per stack event
//! with a `[done/total]` count, the engine's notes, and the questions.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::time::Instant;

use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::StackEvent;

use crate::cfn::Events;
use crate::cfn::follow::is_complete;

/// Prints the engine's events and notes on stderr.
pub(crate) struct Printer {
    started: Instant,
    done: HashSet<String>,
    total: Option<usize>,
}

impl Printer {
    /// Event lines with the time since now.
    pub(crate) fn new() -> Self {
        Self {
            started: Instant::now(),
            done: HashSet::new(),
            total: None,
        }
    }

    /// Event lines with a `[done/total]` count of the resources an operation touches.
    pub(crate) fn counting(total: usize) -> Self {
        Self {
            total: Some(total),
            ..Self::new()
        }
    }
}

impl Events for Printer {
    fn event(&mut self, event: &StackEvent) {
        let status = event.resource_status().map_or("?", |s| s.as_str());
        let logical = event.logical_resource_id().unwrap_or("?");
        let kind = event.resource_type().unwrap_or("?");
        let is_stack = kind == "AWS::CloudFormation::Stack";
        if !is_stack && event.resource_status().is_some_and(is_complete) {
            self.done.insert(logical.to_owned());
        }
        let count = match self.total {
            Some(total) if !is_stack => format!("[{}/{}] ", self.done.len().min(total), total),
            _ => String::new(),
        };
        let reason = event
            .resource_status_reason()
            .filter(|r| !r.is_empty())
            .map(|r| format!("  {r}"))
            .unwrap_or_default();
        eprintln!(
            "  {:>6.1}s {count}{status:<20} {kind:<36} {logical}{reason}",
            self.started.elapsed().as_secs_f64()
        );
    }

    fn note(&mut self, note: &str) {
        eprintln!("{note}");
    }
}

/// Asks `question` on the terminal; without one, fails with `no_terminal`.
pub(crate) fn confirm(question: &str, no_terminal: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{no_terminal}");
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}
