//! The live block on a terminal, drawn with indicatif: a first line with a
//! spinner, the bar, `done/total`, the elapsed time and the stack's status,
//! then one line per resource in flight or failed. Lines that stay (the
//! stack's own events, resources done, failures, notes) go above it.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressState, ProgressStyle};

use super::board::Board;

/// How often the spinner and the elapsed time move between events.
pub(super) const TICK: Duration = Duration::from_millis(120);

/// The bars of one followed operation in a block shared by the process.
pub(super) struct Live {
    block: MultiProgress,
    /// `None` in tests: the screen changes only with the events.
    tick: Option<Duration>,
    header: Option<ProgressBar>,
    rows: Vec<ProgressBar>,
}

#[expect(
    clippy::expect_used,
    reason = "constant templates, drawn by the tests of the live block"
)]
fn header_style(counting: bool) -> ProgressStyle {
    let template = if counting {
        "{spinner} [{bar:30}] {pos}/{len} {secs} {msg}"
    } else {
        "{spinner} {pos} done {secs} {msg}"
    };
    ProgressStyle::with_template(template)
        .expect("the header template parses")
        .progress_chars("=> ")
        .with_key(
            "secs",
            |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                // A failed write to the draw buffer only loses the time.
                let _ = write!(out, "{:.1}s", state.elapsed().as_secs_f64());
            },
        )
}

#[expect(
    clippy::expect_used,
    reason = "a constant template, drawn by the tests of the live block"
)]
fn row_style() -> ProgressStyle {
    // `wide_msg` cuts a row to the terminal's width: a row never wraps.
    ProgressStyle::with_template("{wide_msg}").expect("the row template parses")
}

impl Live {
    pub(super) fn new(block: MultiProgress, tick: Option<Duration>) -> Self {
        Self {
            block,
            tick,
            header: None,
            rows: Vec::new(),
        }
    }

    /// A line above the block, for good.
    pub(super) fn println(&self, line: &str) {
        // Only a failed write to the terminal; there is nowhere to say so.
        let _ = self.block.println(line);
    }

    /// Redraws the block from `board`, the operation running for `elapsed`.
    pub(super) fn show(&mut self, board: &Board, colour: bool, elapsed: Duration) {
        let (block, tick) = (&self.block, self.tick);
        let header = self.header.get_or_insert_with(|| {
            let bar = match board.total() {
                Some(total) => ProgressBar::new(total as u64),
                None => ProgressBar::no_length(),
            };
            let bar = block.add(bar.with_style(header_style(board.total().is_some())));
            if let Some(tick) = tick {
                bar.enable_steady_tick(tick);
            }
            bar
        });
        // The printer's clock, so the block and the lines tell the same time.
        header.set_elapsed(elapsed);
        header.set_position(board.done() as u64);
        header.set_message(board.heading(colour));
        let lines = board.rows(colour);
        while self.rows.len() > lines.len() {
            if let Some(bar) = self.rows.pop() {
                self.remove(&bar);
            }
        }
        while self.rows.len() < lines.len() {
            let bar = self
                .block
                .add(ProgressBar::no_length().with_style(row_style()));
            self.rows.push(bar);
        }
        for (bar, line) in self.rows.iter().zip(lines) {
            bar.set_message(line);
        }
    }

    /// Takes the block off the screen: the operation is over.
    pub(super) fn clear(&mut self) {
        let bars: Vec<ProgressBar> = self.rows.drain(..).chain(self.header.take()).collect();
        for bar in &bars {
            self.remove(bar);
        }
    }

    fn remove(&self, bar: &ProgressBar) {
        bar.finish_and_clear();
        self.block.remove(bar);
    }
}

impl Drop for Live {
    /// An operation left early (an error, a panic) leaves no block behind.
    fn drop(&mut self) {
        self.clear();
    }
}
