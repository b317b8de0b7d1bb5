//! `deploy.toml`: a `[defaults]` table and `[stages.NAME]` tables that
//! inherit from it, each holding [`Layer`] keys. Read strictly: a malformed
//! file or an unknown key is an error naming the file, the line, the column
//! and the key.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, anyhow};

use super::Layer;

/// The config file's name at the workspace root.
pub(crate) const FILE_NAME: &str = "deploy.toml";

/// The file's tables.
#[derive(serde::Deserialize, Debug, Default, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// What every stage inherits.
    #[serde(default)]
    pub(crate) defaults: Layer,
    /// Each stage's own settings, over the defaults.
    #[serde(default)]
    pub(crate) stages: BTreeMap<String, Layer>,
}

/// A config file that was read, with the name messages show it by.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) label: String,
    pub(crate) file: ConfigFile,
}

impl ConfigFile {
    /// Parses `text`, read from the file shown as `label`; every stage's
    /// name must be one API Gateway takes, so each can be chosen.
    pub(crate) fn parse(label: &str, text: &str) -> anyhow::Result<Self> {
        let file: Self = toml::from_str(text).map_err(|err| {
            let message = err.message().trim_end();
            match err.span() {
                Some(span) => {
                    let (line, column) = position(text, span.start);
                    anyhow!("{label} line {line}, column {column}: {message}")
                }
                None => anyhow!("{label}: {message}"),
            }
        })?;
        for name in file.stages.keys() {
            infra::StageName::new(name)
                .with_context(|| format!("cannot use [stages.{name}] of {label}"))?;
        }
        Ok(file)
    }
}

/// Reads `path`, shown as `label`.
pub(crate) fn read(path: &Path, label: &str) -> anyhow::Result<Loaded> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    Ok(Loaded {
        label: label.to_owned(),
        file: ConfigFile::parse(label, &text)?,
    })
}

/// Reads `path`, shown as `label`, if it exists.
pub(crate) fn read_if_present(path: &Path, label: &str) -> anyhow::Result<Option<Loaded>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(Loaded {
            label: label.to_owned(),
            file: ConfigFile::parse(label, &text)?,
        })),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(anyhow::Error::new(err)
            .context(format!("cannot read the config file {}", path.display()))),
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_overrides_what_it_sets_and_leaves_the_rest_to_the_defaults() {
        let file = ConfigFile::parse(
            FILE_NAME,
            "[defaults]\nlog_retention_days = 90\nmfa = \"required\"\n\n\
             [stages.prod]\nlog_retention_days = 365\nproduction = true\n",
        )
        .unwrap();
        assert_eq!(file.defaults.log_retention_days, Some(90));
        let prod = &file.stages["prod"];
        assert_eq!(prod.log_retention_days, Some(365));
        assert_eq!(prod.production, Some(true));
        assert_eq!(prod.mfa, None, "inherited when resolved, not copied");
    }

    #[test]
    fn an_unknown_key_is_refused_naming_the_file_the_line_and_the_key() {
        let err = ConfigFile::parse(
            FILE_NAME,
            "[defaults]\nregion = \"eu-west-1\"\n\n[stages.prod]\nproduction = true\nregoin = \"us-east-1\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "deploy.toml line 6, column 1: unknown field `regoin`, expected one of"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_malformed_file_is_refused_naming_the_line() {
        let err = ConfigFile::parse("other.toml", "[defaults]\nmfa = required\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("other.toml line 2, column 7: "), "{err}");
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_naming_the_line() {
        let err = ConfigFile::parse(FILE_NAME, "[stages.dev]\nlog_retention_days = \"thirty\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("deploy.toml line 2, column 22: "), "{err}");
        let err = ConfigFile::parse(FILE_NAME, "[stages.dev]\narch = \"sparc\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("sparc"), "{err}");
    }

    #[test]
    fn a_stage_name_api_gateway_refuses_is_refused() {
        let err = ConfigFile::parse(FILE_NAME, "[stages.\"my stage\"]\n").unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot use [stages.my stage] of deploy.toml"),
            "{err:#}"
        );
    }

    #[test]
    fn an_empty_file_has_no_stages() {
        assert_eq!(
            ConfigFile::parse(FILE_NAME, "").unwrap(),
            ConfigFile::default()
        );
    }
}
