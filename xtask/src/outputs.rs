//! `cargo xtask outputs`: the outputs of the deployed stack, sign-in URL
//! first, for a person (`text`), a program (`json`) or a shell (`env`); and
//! the outputs file `deploy --outputs-file` writes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_sdk_cloudformation::types::Stack;
use serde_json::{Map, Value, json};

use crate::aws::AwsArgs;
use crate::cfn;
use crate::config::Layer;
use crate::stack_args::StackSelection;

/// Options of `cargo xtask outputs`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    stack: StackSelection,
    /// `text`: `Key = value` lines; `json`: one object
    /// (`{"stack", "region", "outputs"}`); `env`: `SIGNIN_KEY=value` lines
    /// for `source` or `$GITHUB_ENV`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    aws: AwsArgs,
}

/// How `outputs` prints them.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Json,
    Env,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let config = args.stack.resolve(&[&Layer::aws(&args.aws)])?;
    let stack = &config.settings.stack_name;
    crate::aws::block_on(async {
        let (aws, _) = config.connect(&args.aws).await?;
        let current = cfn::describe(&aws.cfn, stack.as_str())
            .await?
            .with_context(|| {
                format!(
                    "stack {} does not exist; run `cargo xtask deploy`",
                    stack.as_str()
                )
            })?;
        let outputs = Outputs::of(&current, &aws.region);
        let text = match args.format {
            Format::Text => outputs.text(),
            Format::Json => outputs.json(),
            Format::Env => outputs.env(),
        };
        print!("{text}");
        Ok(())
    })?
}

/// A stack's outputs in the order they are shown: [`infra::stack::outputs::ALL`]
/// first (what a person needs first, first), then any others as they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outputs {
    stack: String,
    region: String,
    pairs: Vec<(String, String)>,
}

impl Outputs {
    /// The outputs of `described`, a stack in `region`.
    pub(crate) fn of(described: &Stack, region: &str) -> Self {
        Self::new(
            described.stack_name().unwrap_or_default(),
            region,
            described
                .outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
                .collect(),
        )
    }

    fn new(stack: &str, region: &str, mut pairs: Vec<(String, String)>) -> Self {
        let all = infra::stack::outputs::ALL;
        // A stable sort: outputs the stack does not know keep their order.
        pairs.sort_by_key(|(key, _)| all.iter().position(|k| k == key).unwrap_or(all.len()));
        Self {
            stack: stack.to_owned(),
            region: region.to_owned(),
            pairs,
        }
    }

    /// `Key = value` lines.
    pub(crate) fn text(&self) -> String {
        lines(&self.pairs)
    }

    /// The documented object, pretty-printed, with a final newline:
    /// `{"stack": …, "region": …, "outputs": {"SignInUrl": …, …}}`.
    pub(crate) fn json(&self) -> String {
        let outputs: Map<String, Value> = self
            .pairs
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect();
        let object = json!({
            "stack": self.stack,
            "region": self.region,
            "outputs": outputs,
        });
        // Serializing a `Value` of strings cannot fail; `to_string` would not either.
        format!("{object:#}\n")
    }

    /// `SIGNIN_SIGN_IN_URL=value` lines: the key in upper snake case behind
    /// `SIGNIN_`, the value quoted for a POSIX shell only where it needs it.
    /// Our outputs (URLs, ids, names) never do, so the same lines also suit
    /// `$GITHUB_ENV`, which takes each value literally, quotes included.
    pub(crate) fn env(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.pairs {
            out.push_str(&env_name(key));
            out.push('=');
            out.push_str(&shell_quote(value));
            out.push('\n');
        }
        out
    }
}

/// Prints a deployed stack's outputs as `Key = value` lines on stdout, so
/// scripts can read them.
pub(crate) fn print(stack: &Stack) {
    print!("{}", Outputs::of(stack, "").text());
}

/// Prints outputs in the order of [`Outputs`] as `Key = value` lines on
/// stdout (local mode's, which add its own origins after the stack's).
pub(crate) fn print_pairs(outputs: Vec<(String, String)>) {
    print!("{}", lines(&Outputs::new("", "", outputs).pairs));
}

fn lines(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{key} = {value}\n"))
        .collect()
}

/// `SignInUrl` → `SIGNIN_SIGN_IN_URL`.
fn env_name(key: &str) -> String {
    let mut name = String::from("SIGNIN_");
    let mut previous: Option<char> = None;
    for c in key.chars() {
        if c.is_ascii_uppercase()
            && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            name.push('_');
        }
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_uppercase());
        } else {
            name.push('_');
        }
        previous = Some(c);
    }
    name
}

/// `value` as one POSIX shell word: as it is when every character is safe
/// unquoted, otherwise in single quotes (a `'` inside becomes `'\''`).
fn shell_quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+,=".contains(c);
    if !value.is_empty() && value.chars().all(safe) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Where `deploy --outputs-file` writes, checked before anything is built:
/// the folder must exist and the path must not be a folder.
#[derive(Debug, Clone)]
pub(crate) struct OutputsFile(PathBuf);

impl OutputsFile {
    pub(crate) fn new(path: &Path) -> anyhow::Result<Self> {
        if path.is_dir() {
            anyhow::bail!(
                "cannot use --outputs-file {}: it is a folder; name a file in it",
                path.display()
            );
        }
        let folder = folder_of(path);
        if !folder.is_dir() {
            anyhow::bail!(
                "cannot use --outputs-file {}: the folder {} does not exist; create it first",
                path.display(),
                folder.display()
            );
        }
        Ok(Self(path.to_owned()))
    }

    /// Writes [`Outputs::json`] atomically: into a temporary file beside
    /// the target, then renamed over it, so a reader never sees half a file.
    pub(crate) fn write(&self, outputs: &Outputs) -> anyhow::Result<()> {
        let path = &self.0;
        let name = path.file_name().with_context(|| {
            format!(
                "cannot write the outputs to {}: no file name",
                path.display()
            )
        })?;
        let mut temporary = name.to_owned();
        temporary.push(format!(".{}.tmp", std::process::id()));
        let temporary = folder_of(path).join(temporary);
        let written = (|| -> std::io::Result<()> {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(outputs.json().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        if let Err(err) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(err)
                .with_context(|| format!("cannot write the outputs to {}", path.display()));
        }
        eprintln!("outputs written to {}", path.display());
        Ok(())
    }
}

/// The folder a file path is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn outputs() -> Outputs {
        Outputs::new(
            "demo",
            "eu-west-1",
            vec![
                ("TableName".into(), "demo-LoginTable-1".into()),
                ("Extra".into(), "x".into()),
                (
                    "SignInUrl".into(),
                    "https://a.execute-api.eu-west-1.amazonaws.com/dev/auth".into(),
                ),
                ("ClientId".into(), "abc123".into()),
            ],
        )
    }

    #[test]
    fn text_puts_the_sign_in_url_first_and_unknown_outputs_last() {
        assert_eq!(
            outputs().text(),
            "SignInUrl = https://a.execute-api.eu-west-1.amazonaws.com/dev/auth\n\
             ClientId = abc123\n\
             TableName = demo-LoginTable-1\n\
             Extra = x\n"
        );
    }

    #[test]
    fn json_is_the_documented_object_in_the_same_order() {
        let text = outputs().json();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["stack"], "demo");
        assert_eq!(value["region"], "eu-west-1");
        let keys: Vec<&str> = value["outputs"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["SignInUrl", "ClientId", "TableName", "Extra"]);
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn env_names_are_upper_snake_case_and_values_quoted_only_when_needed() {
        assert_eq!(
            outputs().env(),
            "SIGNIN_SIGN_IN_URL=https://a.execute-api.eu-west-1.amazonaws.com/dev/auth\n\
             SIGNIN_CLIENT_ID=abc123\n\
             SIGNIN_TABLE_NAME=demo-LoginTable-1\n\
             SIGNIN_EXTRA=x\n"
        );
        for (key, name) in [
            ("ApiUrl", "SIGNIN_API_URL"),
            ("UserPoolId", "SIGNIN_USER_POOL_ID"),
            ("AwsEndpointUrl", "SIGNIN_AWS_ENDPOINT_URL"),
            ("Bucket2Name", "SIGNIN_BUCKET2_NAME"),
        ] {
            assert_eq!(env_name(key), name);
        }
        assert_eq!(shell_quote("it's $HOME"), r"'it'\''s $HOME'");
        assert_eq!(shell_quote("a?b=c&d"), "'a?b=c&d'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn every_output_of_the_stack_has_a_distinct_env_name() {
        let mut names: Vec<String> = infra::stack::outputs::ALL
            .iter()
            .map(|k| env_name(k))
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), infra::stack::outputs::ALL.len());
    }

    #[test]
    fn the_outputs_file_is_checked_first_and_written_whole() {
        let dir = std::env::temp_dir().join(format!("xtask-outputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(OutputsFile::new(&dir).is_err(), "a folder");
        let err = OutputsFile::new(&dir.join("missing/outputs.json")).unwrap_err();
        assert!(format!("{err:#}").contains("does not exist"), "{err:#}");

        let path = dir.join("outputs.json");
        std::fs::write(&path, "old").unwrap();
        OutputsFile::new(&path).unwrap().write(&outputs()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), outputs().json());
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            left,
            [std::ffi::OsString::from("outputs.json")],
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
