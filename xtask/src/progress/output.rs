//! How progress is shown, decided once per process from `--progress`, the
//! terminal and the environment (`CI`, `TERM`, `NO_COLOR`).

use std::ffi::OsString;
use std::io::IsTerminal;

/// `--progress`: what a person asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Choice {
    /// The live block on a terminal outside CI, event lines otherwise.
    #[default]
    Auto,
    /// The live block, also in CI (it still needs a terminal).
    Live,
    /// One line per stack event.
    Events,
}

/// How a stack operation is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A block redrawn in place on stderr: a bar, the resources in flight or failed.
    Live,
    /// One line per stack event, as a log or a CI job keeps them.
    Events,
}

/// The decision: a mode and whether to colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Output {
    pub(crate) mode: Mode,
    pub(crate) colour: bool,
}

/// What the decision depends on, read from the process.
#[derive(Debug, Default)]
pub(crate) struct Surroundings {
    pub(crate) stderr_is_terminal: bool,
    pub(crate) term: Option<OsString>,
    pub(crate) ci: Option<OsString>,
    pub(crate) no_color: Option<OsString>,
}

impl Surroundings {
    pub(crate) fn of_this_process() -> Self {
        Self {
            stderr_is_terminal: std::io::stderr().is_terminal(),
            term: std::env::var_os("TERM"),
            ci: std::env::var_os("CI"),
            no_color: std::env::var_os("NO_COLOR"),
        }
    }

    /// A terminal that can move the cursor and draw colours: stderr is one,
    /// and `TERM` names one (indicatif draws nothing when it is unset or `dumb`).
    fn capable_terminal(&self) -> bool {
        self.stderr_is_terminal
            && self
                .term
                .as_ref()
                .is_some_and(|t| !t.is_empty() && t != "dumb")
    }

    /// `CI` set to anything but empty, `false` or `0`, as CI services set it.
    fn in_ci(&self) -> bool {
        self.ci
            .as_ref()
            .is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
    }

    /// `NO_COLOR` set to anything non-empty (no-color.org).
    fn no_color(&self) -> bool {
        self.no_color.as_ref().is_some_and(|v| !v.is_empty())
    }
}

impl Output {
    /// The output for `choice` here, and a note when `live` was asked for
    /// where nothing can be drawn.
    pub(crate) fn decide(choice: Choice, here: &Surroundings) -> (Self, Option<&'static str>) {
        let terminal = here.capable_terminal();
        let (mode, note) = match choice {
            Choice::Events => (Mode::Events, None),
            Choice::Auto if terminal && !here.in_ci() => (Mode::Live, None),
            Choice::Auto => (Mode::Events, None),
            Choice::Live if terminal => (Mode::Live, None),
            Choice::Live => (
                Mode::Events,
                Some(
                    "--progress live needs stderr on a terminal that can move the cursor \
                     (TERM set, not dumb); printing one line per event instead",
                ),
            ),
        };
        let output = Self {
            mode,
            colour: terminal && !here.no_color(),
        };
        (output, note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here(
        terminal: bool,
        term: Option<&str>,
        ci: Option<&str>,
        no_color: Option<&str>,
    ) -> Surroundings {
        Surroundings {
            stderr_is_terminal: terminal,
            term: term.map(OsString::from),
            ci: ci.map(OsString::from),
            no_color: no_color.map(OsString::from),
        }
    }

    fn decide(choice: Choice, here: &Surroundings) -> (Mode, bool, bool) {
        let (output, note) = Output::decide(choice, here);
        (output.mode, output.colour, note.is_some())
    }

    const XTERM: Option<&str> = Some("xterm-256color");

    #[test]
    fn auto_is_live_on_a_terminal_outside_ci() {
        assert_eq!(
            decide(Choice::Auto, &here(true, XTERM, None, None)),
            (Mode::Live, true, false)
        );
        for not_ci in ["", "false", "0"] {
            assert_eq!(
                decide(Choice::Auto, &here(true, XTERM, Some(not_ci), None)).0,
                Mode::Live,
                "CI={not_ci:?}"
            );
        }
    }

    #[test]
    fn auto_prints_events_without_a_terminal_in_ci_or_on_a_dumb_terminal() {
        let cases = [
            here(false, XTERM, None, None),
            here(true, XTERM, Some("true"), None),
            here(true, XTERM, Some("1"), None),
            here(true, XTERM, Some("github-actions"), None),
            here(true, Some("dumb"), None, None),
            here(true, None, None, None),
        ];
        for case in &cases {
            assert_eq!(decide(Choice::Auto, case).0, Mode::Events, "{case:?}");
        }
    }

    #[test]
    fn events_is_events_everywhere_and_live_overrides_ci() {
        assert_eq!(
            decide(Choice::Events, &here(true, XTERM, None, None)),
            (Mode::Events, true, false)
        );
        assert_eq!(
            decide(Choice::Live, &here(true, XTERM, Some("true"), None)),
            (Mode::Live, true, false)
        );
    }

    #[test]
    fn live_without_a_terminal_falls_back_to_events_and_says_so() {
        assert_eq!(
            decide(Choice::Live, &here(false, XTERM, None, None)),
            (Mode::Events, false, true)
        );
        assert_eq!(
            decide(Choice::Live, &here(true, Some("dumb"), None, None)),
            (Mode::Events, false, true)
        );
    }

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(!decide(Choice::Events, &here(false, XTERM, None, None)).1);
        assert!(!decide(Choice::Auto, &here(true, XTERM, None, Some("1"))).1);
        assert!(!decide(Choice::Live, &here(true, XTERM, None, Some("yes"))).1);
        // An empty NO_COLOR is unset (no-color.org).
        assert!(decide(Choice::Auto, &here(true, XTERM, None, Some(""))).1);
    }
}
