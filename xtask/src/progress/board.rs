//! What the printer makes of stack events, in both modes: what a status
//! says CloudFormation is doing (and so its colour), the event line, and the
//! board the live block draws: the count, the stack's status, and one row per
//! resource in flight or failed.

use std::collections::HashSet;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use aws_sdk_cloudformation::types::{ResourceStatus, StackEvent};

use crate::cfn::follow::is_complete;

/// The type of the stack's own events (we deploy no nested stacks).
const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// What a status says CloudFormation is doing to a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Create,
    Update,
    Rollback,
    Delete,
    /// `DELETE_SKIPPED`: left in place, as its `DeletionPolicy` says.
    Skip,
}

/// How far along that is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    InProgress,
    Complete,
    Failed,
}

fn classify(status: &ResourceStatus) -> (Action, State) {
    use Action::{Create, Delete, Rollback, Skip, Update};
    use ResourceStatus as R;
    use State::{Complete, Failed, InProgress};
    match status {
        // Importing and exporting (stack refactoring) bring a resource into a stack.
        R::CreateInProgress | R::ImportInProgress | R::ExportInProgress => (Create, InProgress),
        R::CreateComplete | R::ImportComplete | R::ExportComplete => (Create, Complete),
        R::CreateFailed | R::ImportFailed | R::ExportFailed => (Create, Failed),
        R::UpdateInProgress => (Update, InProgress),
        R::UpdateComplete => (Update, Complete),
        R::UpdateFailed => (Update, Failed),
        R::RollbackInProgress
        | R::UpdateRollbackInProgress
        | R::ImportRollbackInProgress
        | R::ExportRollbackInProgress => (Rollback, InProgress),
        R::RollbackComplete
        | R::UpdateRollbackComplete
        | R::ImportRollbackComplete
        | R::ExportRollbackComplete => (Rollback, Complete),
        R::RollbackFailed
        | R::UpdateRollbackFailed
        | R::ImportRollbackFailed
        | R::ExportRollbackFailed => (Rollback, Failed),
        R::DeleteInProgress => (Delete, InProgress),
        R::DeleteComplete => (Delete, Complete),
        R::DeleteFailed => (Delete, Failed),
        R::DeleteSkipped => (Skip, Complete),
        // The stack's own statuses that resources never have
        // (`UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`, …) and any the SDK does not
        // know yet arrive as `Unknown`: only their names tell.
        other => by_name(other.as_str()),
    }
}

fn by_name(status: &str) -> (Action, State) {
    let state = if status.contains("FAILED") {
        State::Failed
    } else if status.ends_with("IN_PROGRESS") {
        State::InProgress
    } else {
        State::Complete
    };
    let action = if status.ends_with("SKIPPED") {
        Action::Skip
    } else if status.contains("ROLLBACK") {
        Action::Rollback
    } else if status.starts_with("DELETE") {
        Action::Delete
    } else if status.starts_with("UPDATE") {
        Action::Update
    } else {
        Action::Create
    };
    (action, state)
}

/// Failures red; otherwise by action: create green, update yellow,
/// rollback blue, delete magenta, skipped grey.
fn style(status: &ResourceStatus) -> Style {
    let (action, state) = classify(status);
    let colour = match (action, state) {
        (_, State::Failed) => AnsiColor::Red,
        (Action::Create, _) => AnsiColor::Green,
        (Action::Update, _) => AnsiColor::Yellow,
        (Action::Rollback, _) => AnsiColor::Blue,
        (Action::Delete, _) => AnsiColor::Magenta,
        (Action::Skip, _) => AnsiColor::BrightBlack,
    };
    let style = Style::new().fg_color(Some(colour.into()));
    if state == State::Failed {
        style.bold()
    } else {
        style
    }
}

/// `text` in the colour of `status` when `colour`.
fn paint(status: &ResourceStatus, text: &str, colour: bool) -> String {
    if colour {
        let style = style(status);
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

/// `status` padded to its column, in its colour when `colour`.
fn status_column(status: Option<&ResourceStatus>, colour: bool) -> String {
    let text = format!("{:<20}", status.map_or("?", ResourceStatus::as_str));
    match status {
        Some(status) => paint(status, &text, colour),
        None => text,
    }
}

fn reason_of(event: &StackEvent) -> String {
    event
        .resource_status_reason()
        .filter(|r| !r.is_empty())
        .map(|r| format!("  {r}"))
        .unwrap_or_default()
}

/// One event as a line: the time since the start, `[done/total]` when
/// counting, status, type, logical id and CloudFormation's reason.
pub(super) fn line(
    event: &StackEvent,
    elapsed: Duration,
    count: Option<(usize, usize)>,
    colour: bool,
) -> String {
    let count = count
        .map(|(done, total)| format!("[{done}/{total}] "))
        .unwrap_or_default();
    format!(
        "  {:>6.1}s {count}{} {:<36} {}{}",
        elapsed.as_secs_f64(),
        status_column(event.resource_status(), colour),
        event.resource_type().unwrap_or("?"),
        event.logical_resource_id().unwrap_or("?"),
        reason_of(event),
    )
}

/// A resource in flight, or failed, as the block shows it.
#[derive(Debug)]
struct Row {
    logical: String,
    kind: String,
    status: ResourceStatus,
    /// CloudFormation's reason, kept for failures only.
    reason: String,
}

/// The state of one followed operation.
#[derive(Debug)]
pub(super) struct Board {
    total: Option<usize>,
    done: HashSet<String>,
    /// The stack's name and its latest status, from its own events.
    stack: Option<(String, ResourceStatus)>,
    /// In order of their first event.
    rows: Vec<Row>,
}

/// Whether an event stays on screen once the block has moved on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Keep {
    /// The stack's own events, a resource done, a failure: a line above the block.
    Line,
    /// A resource on its way: only its row in the block shows it.
    RowOnly,
}

impl Board {
    pub(super) fn new(total: Option<usize>) -> Self {
        Self {
            total,
            done: HashSet::new(),
            stack: None,
            rows: Vec::new(),
        }
    }

    /// Takes in the next event.
    pub(super) fn take(&mut self, event: &StackEvent) -> Keep {
        let logical = event.logical_resource_id().unwrap_or("?");
        let Some(status) = event.resource_status() else {
            return Keep::Line;
        };
        if event.resource_type() == Some(STACK_TYPE) {
            self.stack = Some((logical.to_owned(), status.clone()));
            return Keep::Line;
        }
        if is_complete(status) {
            self.done.insert(logical.to_owned());
        }
        let at = self.rows.iter().position(|r| r.logical == logical);
        let (_, state) = classify(status);
        if state == State::Complete {
            if let Some(at) = at {
                self.rows.remove(at);
            }
            return Keep::Line;
        }
        let row = Row {
            logical: logical.to_owned(),
            kind: event.resource_type().unwrap_or("?").to_owned(),
            status: status.clone(),
            reason: if state == State::Failed {
                reason_of(event)
            } else {
                String::new()
            },
        };
        match at {
            Some(at) => self.rows[at] = row,
            None => self.rows.push(row),
        }
        if state == State::Failed {
            Keep::Line
        } else {
            Keep::RowOnly
        }
    }

    /// The `[done/total]` of the event line; none for the stack's own events.
    pub(super) fn count(&self, event: &StackEvent) -> Option<(usize, usize)> {
        let total = self.total?;
        (event.resource_type() != Some(STACK_TYPE)).then(|| (self.done().min(total), total))
    }

    pub(super) fn done(&self) -> usize {
        self.done.len()
    }

    pub(super) fn total(&self) -> Option<usize> {
        self.total
    }

    /// The stack and its status, for the block's first line.
    pub(super) fn heading(&self, colour: bool) -> String {
        match &self.stack {
            Some((name, status)) => format!("{name} {}", paint(status, status.as_str(), colour)),
            None => String::new(),
        }
    }

    /// One line per resource in flight or failed.
    pub(super) fn rows(&self, colour: bool) -> Vec<String> {
        self.rows
            .iter()
            .map(|r| {
                format!(
                    "  {} {:<36} {}{}",
                    status_column(Some(&r.status), colour),
                    r.kind,
                    r.logical,
                    r.reason
                )
            })
            .collect()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use expect_test::expect;

    /// A synthetic event as DescribeStackEvents answers it.
    pub(crate) fn event(logical: &str, kind: &str, status: &str, reason: &str) -> StackEvent {
        StackEvent::builder()
            .event_id(format!("{logical}-{status}"))
            .stack_id("arn:aws:cloudformation:us-east-1:123456789012:stack/sign-in/1")
            .stack_name("sign-in")
            .logical_resource_id(logical)
            .resource_type(kind)
            .resource_status(ResourceStatus::from(status))
            .resource_status_reason(reason)
            .timestamp(aws_smithy_types::DateTime::from_secs(0))
            .build()
    }

    #[test]
    fn every_known_status_has_an_action_and_a_state() {
        for status in ResourceStatus::values() {
            let typed = classify(&ResourceStatus::from(*status));
            assert_eq!(typed, by_name(status), "{status}");
        }
        assert_eq!(
            classify(&ResourceStatus::from("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")),
            (Action::Update, State::InProgress)
        );
        assert_eq!(
            classify(&ResourceStatus::from(
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
            )),
            (Action::Rollback, State::InProgress)
        );
    }

    #[test]
    fn colours_follow_the_action_and_failures_are_red() {
        let colour = |status: &str| style(&ResourceStatus::from(status)).get_fg_color();
        let ansi = |c: AnsiColor| Some(c.into());
        assert_eq!(colour("CREATE_IN_PROGRESS"), ansi(AnsiColor::Green));
        assert_eq!(colour("CREATE_COMPLETE"), ansi(AnsiColor::Green));
        assert_eq!(colour("UPDATE_COMPLETE"), ansi(AnsiColor::Yellow));
        assert_eq!(colour("UPDATE_ROLLBACK_IN_PROGRESS"), ansi(AnsiColor::Blue));
        assert_eq!(colour("DELETE_IN_PROGRESS"), ansi(AnsiColor::Magenta));
        assert_eq!(colour("DELETE_SKIPPED"), ansi(AnsiColor::BrightBlack));
        for failed in [
            "CREATE_FAILED",
            "UPDATE_FAILED",
            "DELETE_FAILED",
            "ROLLBACK_FAILED",
        ] {
            assert_eq!(colour(failed), ansi(AnsiColor::Red), "{failed}");
        }
    }

    #[test]
    fn a_coloured_line_only_adds_escapes_around_the_status() {
        let e = event("Table", "AWS::DynamoDB::Table", "CREATE_FAILED", "no");
        let plain = line(&e, Duration::from_millis(1500), Some((1, 4)), false);
        let coloured = line(&e, Duration::from_millis(1500), Some((1, 4)), true);
        assert_eq!(
            coloured,
            plain.replace(
                "CREATE_FAILED       ",
                "\x1b[1m\x1b[31mCREATE_FAILED       \x1b[0m"
            )
        );
    }

    #[test]
    fn the_board_keeps_resources_in_flight_and_failed() {
        let mut board = Board::new(Some(3));
        let stack = |status| event("sign-in", STACK_TYPE, status, "User Initiated");
        let mut keeps = Vec::new();
        for e in [
            stack("UPDATE_IN_PROGRESS"),
            event("Table", "AWS::DynamoDB::Table", "UPDATE_IN_PROGRESS", ""),
            event(
                "Bucket",
                "AWS::S3::Bucket",
                "CREATE_IN_PROGRESS",
                "Resource creation Initiated",
            ),
            event("Table", "AWS::DynamoDB::Table", "UPDATE_COMPLETE", ""),
            event("Role", "AWS::IAM::Role", "CREATE_IN_PROGRESS", ""),
            event("Role", "AWS::IAM::Role", "CREATE_FAILED", "Access denied"),
        ] {
            keeps.push(board.take(&e));
        }
        assert_eq!(
            keeps,
            [
                Keep::Line,
                Keep::RowOnly,
                Keep::RowOnly,
                Keep::Line,
                Keep::RowOnly,
                Keep::Line
            ]
        );
        assert_eq!((board.done(), board.total()), (1, Some(3)));
        expect![[r#"
            sign-in UPDATE_IN_PROGRESS
              CREATE_IN_PROGRESS   AWS::S3::Bucket                      Bucket
              CREATE_FAILED        AWS::IAM::Role                       Role  Access denied"#]]
        .assert_eq(
            &[vec![board.heading(false)], board.rows(false)]
                .concat()
                .join("\n"),
        );

        board.take(&stack("UPDATE_ROLLBACK_IN_PROGRESS"));
        board.take(&event("Bucket", "AWS::S3::Bucket", "DELETE_COMPLETE", ""));
        board.take(&event("Role", "AWS::IAM::Role", "DELETE_COMPLETE", ""));
        assert!(board.rows(false).is_empty(), "{:?}", board.rows(false));
        assert_eq!(board.heading(false), "sign-in UPDATE_ROLLBACK_IN_PROGRESS");
    }
}
