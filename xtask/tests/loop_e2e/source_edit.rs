//! A one-line edit of the login function's source that changes its binary,
//! for the watch test and the hotswap benchmark; the file is put back when
//! the edit drops.

use std::fmt::Display;
use std::path::PathBuf;

/// The line the edits change, as it is in the source.
const LINE: &str = "\"no greetings under the path\"";

/// The login function's source, put back when dropped.
pub(crate) struct Edit {
    path: PathBuf,
    original: String,
}

impl Edit {
    pub(crate) fn new() -> Self {
        let path = testkit::workspace_root().join("functions/login/src/lib.rs");
        let mut original = std::fs::read_to_string(&path).unwrap();
        // A run killed before its guard dropped left its edit: take it back out.
        let left =
            regex_lite::Regex::new(r#""no greetings under the path \(edited: [^)"]*\)""#).unwrap();
        if left.is_match(&original) {
            original = left.replace_all(&original, LINE).into_owned();
            std::fs::write(&path, &original).unwrap();
        }
        assert!(
            original.contains(LINE),
            "{} lost the edited line",
            path.display()
        );
        Self { path, original }
    }

    /// A one-line change that changes the binary: another log message.
    pub(crate) fn apply(&self, label: impl Display) {
        let changed = self.original.replacen(
            LINE,
            &format!("\"no greetings under the path (edited: {label})\""),
            1,
        );
        std::fs::write(&self.path, changed).unwrap();
    }
}

impl Drop for Edit {
    fn drop(&mut self) {
        // A fresh modification time: cargo rebuilds whatever it built from the edit.
        let _ = std::fs::write(&self.path, &self.original);
    }
}
