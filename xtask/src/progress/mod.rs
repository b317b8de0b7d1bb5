//! What a person sees while the engine works, and the questions it asks.
//!
//! On a terminal (outside CI) a live block: a bar with `done/total`, the
//! resources in flight or failed, the elapsed time, redrawn in place, with
//! the lines that stay (the stack's own events, resources done, failures,
//! notes) above it. Elsewhere, or with `--progress events`, one line per
//! stack event with a `[done/total]` count. `NO_COLOR` turns colour off in both.

mod board;
mod live;
mod output;

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::StackEvent;
use indicatif::{MultiProgress, ProgressDrawTarget};

use crate::cfn::Events;
use board::{Board, Keep};
use live::Live;
use output::{Choice, Mode, Output, Surroundings};

/// `--progress`, for the commands that run stack operations.
#[derive(clap::Args, Clone, Copy, Debug)]
// Flattened beside each command's own `Args`, whose group takes the name.
#[group(skip)]
pub(crate) struct Args {
    /// How to show a stack operation while it runs: `live` redraws a block
    /// with a bar and the resources in flight (on a terminal), `events`
    /// prints one line per stack event; `auto` is `live` on a terminal
    /// outside CI (`CI` unset, empty, `false` or `0`), `events` otherwise.
    #[arg(long, value_enum, default_value_t = Choice::Auto)]
    pub(crate) progress: Choice,
}

/// The process's output, decided once from `--progress` and the surroundings.
static OUTPUT: OnceLock<Output> = OnceLock::new();

/// The process's one live block on stderr, shared by its printers (one
/// follows at a time) and suspended by [`confirm`].
static BLOCK: OnceLock<MultiProgress> = OnceLock::new();

impl Args {
    /// Decides how this process shows progress; the first call counts.
    pub(crate) fn install(self) {
        OUTPUT.get_or_init(|| {
            let (output, note) = Output::decide(self.progress, &Surroundings::of_this_process());
            if let Some(note) = note {
                eprintln!("note: {note}");
            }
            output
        });
    }
}

fn output() -> Output {
    *OUTPUT.get_or_init(|| Output::decide(Choice::Auto, &Surroundings::of_this_process()).0)
}

fn block() -> &'static MultiProgress {
    BLOCK.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

/// Where a printer's output goes.
enum Sink {
    /// Event lines and notes, one a line.
    Lines(Box<dyn Write>),
    /// The live block.
    Live(Live),
}

/// Shows the engine's events and notes on stderr, as the process's output says.
pub(crate) struct Printer {
    /// The time since the printer was made.
    clock: Box<dyn Fn() -> Duration>,
    board: Board,
    colour: bool,
    sink: Sink,
}

impl Printer {
    /// Events with the time since now.
    pub(crate) fn new() -> Self {
        Self::here(None)
    }

    /// Events with a `done/total` count of the resources an operation touches.
    pub(crate) fn counting(total: usize) -> Self {
        Self::here(Some(total))
    }

    fn here(total: Option<usize>) -> Self {
        let output = output();
        let sink = match output.mode {
            Mode::Events => Sink::Lines(Box::new(std::io::stderr())),
            Mode::Live => Sink::Live(Live::new(block().clone(), Some(live::TICK))),
        };
        let started = Instant::now();
        Self::with(
            total,
            output.colour,
            sink,
            Box::new(move || started.elapsed()),
        )
    }

    fn with(
        total: Option<usize>,
        colour: bool,
        sink: Sink,
        clock: Box<dyn Fn() -> Duration>,
    ) -> Self {
        Self {
            clock,
            board: Board::new(total),
            colour,
            sink,
        }
    }
}

impl Events for Printer {
    fn event(&mut self, event: &StackEvent) {
        let keep = self.board.take(event);
        let elapsed = (self.clock)();
        let line = board::line(event, elapsed, self.board.count(event), self.colour);
        match &mut self.sink {
            Sink::Lines(out) => {
                // Only a failed write to stderr; there is nowhere to say so.
                let _ = writeln!(out, "{line}");
            }
            Sink::Live(live) => {
                if keep == Keep::Line {
                    live.println(&line);
                }
                live.show(&self.board, self.colour, elapsed);
            }
        }
    }

    fn note(&mut self, note: &str) {
        match &mut self.sink {
            Sink::Lines(out) => {
                let _ = writeln!(out, "{note}");
            }
            Sink::Live(live) => live.println(note),
        }
    }

    fn finished(&mut self) {
        // A printer may follow several operations (a wait, then a delete):
        // each starts on a clean board.
        self.board = Board::new(self.board.total());
        if let Sink::Live(live) = &mut self.sink {
            live.clear();
        }
    }
}

/// Asks `question` on the terminal (with the live block, if any, out of
/// the way); without one, fails with `no_terminal`.
pub(crate) fn confirm(question: &str, no_terminal: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{no_terminal}");
    }
    let ask = || -> anyhow::Result<bool> {
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .context("cannot read the answer")?;
        Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
    };
    match BLOCK.get() {
        Some(block) => block.suspend(ask),
        None => ask(),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use indicatif::InMemoryTerm;
    use pretty_assertions::assert_eq;

    use super::board::tests::event;
    use super::*;

    /// What a printer wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Written(Rc<RefCell<Vec<u8>>>);

    impl Write for Written {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Written {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.borrow()).into_owned()
        }
    }

    /// A clock that moves half a second at each reading.
    fn clock() -> Box<dyn Fn() -> Duration> {
        let now = Rc::new(Cell::new(Duration::ZERO));
        Box::new(move || {
            now.set(now.get() + Duration::from_millis(500));
            now.get()
        })
    }

    const STACK: &str = "AWS::CloudFormation::Stack";

    /// A deploy of three resources where one fails and the stack rolls back.
    fn failed_deploy() -> Vec<StackEvent> {
        vec![
            event("sign-in", STACK, "UPDATE_IN_PROGRESS", "User Initiated"),
            event("Table", "AWS::DynamoDB::Table", "UPDATE_IN_PROGRESS", ""),
            event("Role", "AWS::IAM::Role", "CREATE_IN_PROGRESS", ""),
            event("Table", "AWS::DynamoDB::Table", "UPDATE_COMPLETE", ""),
            event("Role", "AWS::IAM::Role", "CREATE_FAILED", "Access denied"),
            event(
                "sign-in",
                STACK,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "Role failed",
            ),
            event("Table", "AWS::DynamoDB::Table", "UPDATE_COMPLETE", ""),
            event("Role", "AWS::IAM::Role", "DELETE_COMPLETE", ""),
            event("sign-in", STACK, "UPDATE_ROLLBACK_COMPLETE", ""),
        ]
    }

    fn lines(total: Option<usize>, colour: bool) -> String {
        let written = Written::default();
        let mut printer = Printer::with(
            total,
            colour,
            Sink::Lines(Box::new(written.clone())),
            clock(),
        );
        printer.note("stack sign-in is UPDATE_IN_PROGRESS: waiting for that operation to finish");
        for e in failed_deploy() {
            printer.event(&e);
        }
        printer.finished();
        written.text()
    }

    #[test]
    fn events_mode_prints_one_line_per_event_exactly() {
        expect_test::expect![[r#"
            stack sign-in is UPDATE_IN_PROGRESS: waiting for that operation to finish
                 0.5s UPDATE_IN_PROGRESS   AWS::CloudFormation::Stack           sign-in  User Initiated
                 1.0s [0/3] UPDATE_IN_PROGRESS   AWS::DynamoDB::Table                 Table
                 1.5s [0/3] CREATE_IN_PROGRESS   AWS::IAM::Role                       Role
                 2.0s [1/3] UPDATE_COMPLETE      AWS::DynamoDB::Table                 Table
                 2.5s [1/3] CREATE_FAILED        AWS::IAM::Role                       Role  Access denied
                 3.0s UPDATE_ROLLBACK_IN_PROGRESS AWS::CloudFormation::Stack           sign-in  Role failed
                 3.5s [1/3] UPDATE_COMPLETE      AWS::DynamoDB::Table                 Table
                 4.0s [2/3] DELETE_COMPLETE      AWS::IAM::Role                       Role
                 4.5s UPDATE_ROLLBACK_COMPLETE AWS::CloudFormation::Stack           sign-in
        "#]]
        .assert_eq(&lines(Some(3), false));
        assert!(
            !lines(None, false).contains('['),
            "no count without a total"
        );
    }

    #[test]
    fn events_mode_colours_only_the_status_and_only_when_asked() {
        let plain = lines(Some(3), false);
        let coloured = lines(Some(3), true);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(
            coloured.contains("\x1b[32mCREATE_IN_PROGRESS"),
            "{coloured}"
        );
        assert!(
            coloured.contains("\x1b[1m\x1b[31mCREATE_FAILED"),
            "{coloured}"
        );
        let stripped = regex_lite::Regex::new("\x1b\\[[0-9;]*m")
            .unwrap_or_else(|e| panic!("{e}"))
            .replace_all(&coloured, "");
        assert_eq!(stripped, plain);
    }

    /// The screen, each line after a `|` (expect-test takes a margin common
    /// to every line for indentation), with the spinner's frame (which moves
    /// with every update) as `*`.
    fn screen(term: &InMemoryTerm) -> String {
        let spinner = |c: char| ('\u{2800}'..='\u{28ff}').contains(&c);
        term.contents()
            .lines()
            .map(|line| format!("|{}", line.replace(spinner, "*")))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The foreground colours (SGR 30–37, 90–97) a terminal shows.
    fn colours(term: &InMemoryTerm) -> Vec<u16> {
        let drawn = String::from_utf8_lossy(&term.contents_formatted()).into_owned();
        let sgr = regex_lite::Regex::new("\x1b\\[([0-9;]*)m").unwrap_or_else(|e| panic!("{e}"));
        let mut found: Vec<u16> = sgr
            .captures_iter(&drawn)
            .flat_map(|c| {
                c[1].split(';')
                    .filter_map(|p| p.parse::<u16>().ok())
                    .collect::<Vec<_>>()
            })
            .filter(|p| matches!(p, 30..=37 | 90..=97))
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    fn live(term: &InMemoryTerm, total: Option<usize>, colour: bool) -> Printer {
        let block =
            MultiProgress::with_draw_target(ProgressDrawTarget::term_like(Box::new(term.clone())));
        Printer::with(total, colour, Sink::Live(Live::new(block, None)), clock())
    }

    #[test]
    fn live_mode_draws_the_block_and_keeps_what_stays() {
        let term = InMemoryTerm::new(24, 100);
        let mut printer = live(&term, Some(3), false);
        printer.note("stack sign-in is UPDATE_IN_PROGRESS: waiting for that operation to finish");
        let events = failed_deploy();
        for e in &events[..5] {
            printer.event(e);
        }
        expect_test::expect![[r#"
            |stack sign-in is UPDATE_IN_PROGRESS: waiting for that operation to finish
            |     0.5s UPDATE_IN_PROGRESS   AWS::CloudFormation::Stack           sign-in  User Initiated
            |     2.0s [1/3] UPDATE_COMPLETE      AWS::DynamoDB::Table                 Table
            |     2.5s [1/3] CREATE_FAILED        AWS::IAM::Role                       Role  Access denied
            |* [==========>                   ] 1/3 2.5s sign-in UPDATE_IN_PROGRESS
            |  CREATE_FAILED        AWS::IAM::Role                       Role  Access denied"#]]
        .assert_eq(&screen(&term));

        for e in &events[5..] {
            printer.event(e);
        }
        printer.finished();
        // The block is gone; what stays is above where it was.
        assert!(!term.contents().contains("[="), "{}", term.contents());
        expect_test::expect![[r#"
            |stack sign-in is UPDATE_IN_PROGRESS: waiting for that operation to finish
            |     0.5s UPDATE_IN_PROGRESS   AWS::CloudFormation::Stack           sign-in  User Initiated
            |     2.0s [1/3] UPDATE_COMPLETE      AWS::DynamoDB::Table                 Table
            |     2.5s [1/3] CREATE_FAILED        AWS::IAM::Role                       Role  Access denied
            |     3.0s UPDATE_ROLLBACK_IN_PROGRESS AWS::CloudFormation::Stack           sign-in  Role failed
            |     3.5s [1/3] UPDATE_COMPLETE      AWS::DynamoDB::Table                 Table
            |     4.0s [2/3] DELETE_COMPLETE      AWS::IAM::Role                       Role
            |     4.5s UPDATE_ROLLBACK_COMPLETE AWS::CloudFormation::Stack           sign-in"#]]
        .assert_eq(&screen(&term));
    }

    #[test]
    fn live_mode_shows_each_resource_in_flight_on_its_own_line() {
        let term = InMemoryTerm::new(24, 100);
        let mut printer = live(&term, None, false);
        let events = failed_deploy();
        for e in &events[..3] {
            printer.event(e);
        }
        expect_test::expect![[r#"
            |     0.5s UPDATE_IN_PROGRESS   AWS::CloudFormation::Stack           sign-in  User Initiated
            |* 0 done 1.5s sign-in UPDATE_IN_PROGRESS
            |  UPDATE_IN_PROGRESS   AWS::DynamoDB::Table                 Table
            |  CREATE_IN_PROGRESS   AWS::IAM::Role                       Role"#]]
        .assert_eq(&screen(&term));
        printer.event(&events[3]);
        expect_test::expect![[r#"
            |     0.5s UPDATE_IN_PROGRESS   AWS::CloudFormation::Stack           sign-in  User Initiated
            |     2.0s UPDATE_COMPLETE      AWS::DynamoDB::Table                 Table
            |* 1 done 2.0s sign-in UPDATE_IN_PROGRESS
            |  CREATE_IN_PROGRESS   AWS::IAM::Role                       Role"#]]
        .assert_eq(&screen(&term));

        // The next operation of the same printer starts on a clean board.
        printer.finished();
        printer.event(&event("sign-in", STACK, "DELETE_IN_PROGRESS", ""));
        expect_test::expect![[r#"
            |     0.5s UPDATE_IN_PROGRESS   AWS::CloudFormation::Stack           sign-in  User Initiated
            |     2.0s UPDATE_COMPLETE      AWS::DynamoDB::Table                 Table
            |     2.5s DELETE_IN_PROGRESS   AWS::CloudFormation::Stack           sign-in
            |* 0 done 2.5s sign-in DELETE_IN_PROGRESS"#]]
        .assert_eq(&screen(&term));
        // Dropped without `finished` (an error on the way), it takes the block along.
        drop(printer);
        expect_test::expect![[r#"
            |     0.5s UPDATE_IN_PROGRESS   AWS::CloudFormation::Stack           sign-in  User Initiated
            |     2.0s UPDATE_COMPLETE      AWS::DynamoDB::Table                 Table
            |     2.5s DELETE_IN_PROGRESS   AWS::CloudFormation::Stack           sign-in"#]]
        .assert_eq(&screen(&term));
    }

    #[test]
    fn live_mode_without_colour_draws_no_colour() {
        for (colour, expected) in [(false, vec![]), (true, vec![31, 33])] {
            let term = InMemoryTerm::new(24, 100);
            let mut printer = live(&term, Some(3), colour);
            for e in &failed_deploy()[..5] {
                printer.event(e);
            }
            // Yellow updates, the red failure.
            assert_eq!(colours(&term), expected, "colour {colour}");
        }
    }
}
