//! A stack's settings from their layers, highest first: the flags, the
//! `SIGNIN_*` environment variables, the chosen stage of the config file,
//! the file's `[defaults]`, the built-in defaults (`infra::Settings::new`'s).
//! Every command resolves its stack here, in one place, and every value
//! keeps where it came from, for its error messages and for `config`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use infra::{DataPolicy, DomainPrefix, LogRetention, Settings, StackName, StageName, Throttle};

use super::file::{self, FILE_NAME, Loaded};
use crate::aws::{Aws, AwsArgs, Identity};
use crate::review::Approval;
use crate::stack_args::{Arch, MfaArg, StackSelection};

/// Every setting's environment variable is this and its key in upper case.
pub(crate) const ENV_PREFIX: &str = "SIGNIN_";

/// The stack's name when nothing names one.
const DEFAULT_STACK_NAME: &str = "sign-in";

/// Every setting, each one optional: a table of the config file, the
/// environment, or the flags. One key names a setting everywhere:
/// `log_retention_days` in the file, `SIGNIN_LOG_RETENTION_DAYS`,
/// `--log-retention-days`. The fields without a flag here get theirs from
/// the command (`--stack-name`, `--region`, `--domain-prefix`,
/// `--require-approval`) or have none.
#[derive(clap::Args, serde::Serialize, serde::Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Layer {
    /// The stack's name; every resource name derives from it.
    #[arg(skip)]
    pub(crate) stack_name: Option<String>,
    /// The AWS region. Set anywhere but a flag, it pins the stage to it.
    #[arg(skip)]
    pub(crate) region: Option<String>,
    /// The only AWS account the stage may be used with.
    #[arg(skip)]
    pub(crate) account: Option<String>,
    /// The Cognito hosted-UI domain prefix (global per region).
    #[arg(skip)]
    pub(crate) domain_prefix: Option<String>,
    /// When a deploy asks before executing.
    #[arg(skip)]
    pub(crate) require_approval: Option<Approval>,
    /// Whether the stage is production: it then keeps its data and allows
    /// no hotswap unless it says otherwise.
    #[arg(skip)]
    pub(crate) production: Option<bool>,
    /// Whether a deploy may hotswap function code (default: outside production).
    #[arg(skip)]
    pub(crate) hotswap: Option<bool>,
    /// Keep the user pool, the table and the data bucket when the stack is
    /// deleted or an update replaces them (their `DeletionPolicy` and
    /// `UpdateReplacePolicy`); otherwise they go with the stack, as suits a
    /// throwaway stage. On by default in a production stage.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) retain_data: Option<bool>,
    /// Days the log groups keep events (one of CloudWatch's values).
    #[arg(long, value_name = "DAYS")]
    pub(crate) log_retention_days: Option<u32>,
    /// Turn on API access logs; needs the account-wide API Gateway
    /// CloudWatch role to be set up already.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) api_access_logs: Option<bool>,
    /// The processor the functions run on.
    #[arg(long, value_enum)]
    pub(crate) arch: Option<Arch>,
    /// Whether every user also signs in with a TOTP code from an
    /// authenticator app (set up at the first sign-in).
    #[arg(long, value_enum)]
    pub(crate) mfa: Option<MfaArg>,
    /// Steady requests per second the public `/auth` takes (start and callback).
    #[arg(long, value_name = "RATE")]
    pub(crate) auth_rate_limit: Option<f64>,
    /// Requests `/auth` takes at once above its rate.
    #[arg(long, value_name = "N")]
    pub(crate) auth_burst_limit: Option<u32>,
    /// Steady requests per second the protected `/auth/login` takes.
    #[arg(long, value_name = "RATE")]
    pub(crate) login_rate_limit: Option<f64>,
    /// Requests `/auth/login` takes at once above its rate.
    #[arg(long, value_name = "N")]
    pub(crate) login_burst_limit: Option<u32>,
}

impl Layer {
    /// The region flag of a command that talks to AWS.
    pub(crate) fn aws(args: &AwsArgs) -> Self {
        Self {
            region: args.region.clone(),
            ..Self::default()
        }
    }

    /// Every key, in the order of the fields.
    fn keys() -> anyhow::Result<Vec<String>> {
        match serde_json::to_value(Self::default()) {
            Ok(serde_json::Value::Object(fields)) => Ok(fields.keys().cloned().collect()),
            _ => bail!("cannot list the settings' keys (a bug in xtask/src/config/)"),
        }
    }
}

/// The environment variable of the setting `key`.
fn env_var(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// The `SIGNIN_*` environment variables, read once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env(BTreeMap<String, String>);

impl Env {
    /// This process's. An empty variable counts as unset, as in the
    /// shell's `SIGNIN_STAGE= cargo xtask …`.
    pub(crate) fn process() -> anyhow::Result<Self> {
        let mut vars = BTreeMap::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str().filter(|n| n.starts_with(ENV_PREFIX)) else {
                continue;
            };
            let value = value
                .into_string()
                .map_err(|_| anyhow!("the environment variable {name} is not valid UTF-8"))?;
            vars.insert(name.to_owned(), value);
        }
        Ok(vars.into_iter().collect())
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(&env_var(key)).map(String::as_str)
    }

    /// The settings among the variables; others with the prefix are not ours.
    fn layer(&self) -> anyhow::Result<Layer> {
        let keys = Layer::keys()?;
        let known: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(name, _)| keys.iter().any(|key| env_var(key) == **name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let parse = envy::prefixed(ENV_PREFIX);
        // Each variable alone first, so that an error names its variable.
        for (name, value) in &known {
            parse
                .from_iter::<_, Layer>([(name.clone(), value.clone())])
                .map_err(|err| anyhow!("cannot use {name}={value:?}: {err}"))?;
        }
        parse
            .from_iter(known)
            .map_err(|err| anyhow!("cannot use the {ENV_PREFIX}* environment variables: {err}"))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Env {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(vars: I) -> Self {
        Self(
            vars.into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .filter(|(_, value)| !value.is_empty())
                .collect(),
        )
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Flag,
    Env,
    Stage {
        file: String,
        stage: String,
    },
    Defaults {
        file: String,
    },
    Default,
    /// The default that follows `production` (data kept, no hotswap there).
    Production(bool),
}

impl Source {
    /// Where the setting `key` came from, as `config` shows it.
    pub(crate) fn describe(&self, key: &str) -> String {
        match self {
            Self::Flag => "flag".to_owned(),
            Self::Env => format!("env {}", env_var(key)),
            Self::Stage { file, stage } => format!("{file} [stages.{stage}]"),
            Self::Defaults { file } => format!("{file} [defaults]"),
            Self::Default => "default".to_owned(),
            Self::Production(true) => "default (a production stage)".to_owned(),
            Self::Production(false) => "default (not a production stage)".to_owned(),
        }
    }

    /// The setting `key` as a person gave it, for an error message.
    fn naming(&self, key: &str) -> String {
        match self {
            Self::Flag => format!("--{}", key.replace('_', "-")),
            Self::Env => env_var(key),
            Self::Stage { .. } | Self::Defaults { .. } => {
                format!("{key} in {}", self.describe(key))
            }
            Self::Default | Self::Production(_) => format!("the default {key}"),
        }
    }
}

/// One setting's value, with its key and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sourced<T> {
    pub(crate) key: &'static str,
    pub(crate) value: T,
    pub(crate) source: Source,
}

impl<T> Sourced<T> {
    /// The context of an error about this value: `cannot use --stage`.
    fn cannot(&self) -> String {
        format!("cannot use {}", self.source.naming(self.key))
    }
}

/// The layers in precedence order, highest first.
struct Layers<'a>(Vec<(Source, &'a Layer)>);

impl Layers<'_> {
    /// The value of the first layer that sets `field`.
    fn pick<T: Clone>(
        &self,
        key: &'static str,
        field: impl Fn(&Layer) -> &Option<T>,
    ) -> Option<Sourced<T>> {
        self.0.iter().find_map(|(source, layer)| {
            field(layer).clone().map(|value| Sourced {
                key,
                value,
                source: source.clone(),
            })
        })
    }

    /// The layers below the flags: what pins a stage.
    fn below_flags(&self) -> Layers<'_> {
        Layers(
            self.0
                .iter()
                .filter(|(source, _)| *source != Source::Flag)
                .cloned()
                .collect(),
        )
    }
}

/// `pick!(layers, key)`: the setting `key` from the first layer that sets
/// it; with a default (and its source), never missing. The key's text comes
/// from the field's name, so the two cannot drift apart.
macro_rules! pick {
    ($layers:expr, $key:ident) => {
        $layers.pick(stringify!($key), |layer| &layer.$key)
    };
    ($layers:expr, $key:ident, $default:expr) => {
        pick!($layers, $key, $default, Source::Default)
    };
    ($layers:expr, $key:ident, $default:expr, $source:expr) => {
        pick!($layers, $key).unwrap_or_else(|| Sourced {
            key: stringify!($key),
            value: $default,
            source: $source,
        })
    };
}

/// What the stage pins, checked against the credentials before anything
/// is built or changed.
#[derive(Debug, Clone)]
pub(crate) struct Pins {
    stage: String,
    account: Option<Sourced<String>>,
    region: Option<Sourced<String>>,
}

impl Pins {
    /// Refuses credentials of another account, or a `--region` other than
    /// the pinned one, saying what to do instead.
    pub(crate) fn check(&self, identity: &Identity, region: &str) -> anyhow::Result<()> {
        let stage = &self.stage;
        if let Some(pin) = &self.account
            && pin.value != identity.account
        {
            bail!(
                "stage {stage} is pinned to AWS account {} ({}), but these credentials are for \
                 account {} ({}), so nothing was built or changed. Use credentials of account {} \
                 (--profile or AWS_PROFILE), or choose the stage meant for account {} with --stage",
                pin.value,
                pin.source.describe(pin.key),
                identity.account,
                identity.arn,
                pin.value,
                identity.account
            );
        }
        if let Some(pin) = &self.region
            && pin.value != region
        {
            bail!(
                "stage {stage} is pinned to region {} ({}), but the region is {region} (--region), \
                 so nothing was built or changed. Leave out --region (the pin sets it), or pass \
                 --region {}",
                pin.value,
                pin.source.describe(pin.key),
                pin.value
            );
        }
        Ok(())
    }

    /// A `--region` that differs from the pinned region, which every command
    /// that talks to AWS refuses.
    pub(crate) fn conflict(&self, region: Option<&str>) -> Option<&Sourced<String>> {
        self.region
            .as_ref()
            .filter(|pin| region.is_some_and(|r| r != pin.value))
    }
}

/// One line of `config`: a setting, its value (`None`: unset), where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) key: &'static str,
    pub(crate) value: Option<String>,
    pub(crate) from: String,
}

impl Entry {
    fn new<T>(setting: &Sourced<T>, value: String) -> Self {
        Self {
            key: setting.key,
            value: Some(value),
            from: setting.source.describe(setting.key),
        }
    }

    /// A setting that may be unset; `meaning` says what that means.
    fn optional(key: &'static str, setting: Option<&Sourced<String>>, meaning: &str) -> Self {
        match setting {
            Some(setting) => Self::new(setting, setting.value.clone()),
            None => Self {
                key,
                value: None,
                from: format!("default ({meaning})"),
            },
        }
    }
}

/// The name clap and the config file both spell a value with.
fn spelled<T: clap::ValueEnum>(value: &T) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_owned())
}

/// A stack's settings, resolved and checked, with where each came from.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) settings: Settings,
    pub(crate) domain_prefix: Option<DomainPrefix>,
    pub(crate) approval: Approval,
    /// Whether the stage is production (`production = true`).
    pub(crate) production: bool,
    /// Whether a deploy may hotswap function code: by default, outside production.
    pub(crate) hotswap: bool,
    /// The region to talk to: `--region`, else the pinned one, else (`None`)
    /// the AWS chain's (`AWS_REGION`, the profile's).
    pub(crate) region: Option<String>,
    pub(crate) pins: Pins,
    /// The config file read, if any.
    pub(crate) file: Option<Loaded>,
    /// Every setting, for `config`.
    pub(crate) entries: Vec<Entry>,
}

impl Resolved {
    /// The AWS clients for this stack, in the region [`Resolved::region`]
    /// says; then who the credentials are (printed), refused when that is
    /// not what the stage pins. All before anything is built or changed.
    pub(crate) async fn connect(&self, args: &AwsArgs) -> anyhow::Result<(Aws, Identity)> {
        let aws = Aws::load(&AwsArgs {
            region: self.region.clone(),
            profile: args.profile.clone(),
        })
        .await?;
        let identity = aws.identify().await?;
        self.pins.check(&identity, &aws.region)?;
        Ok((aws, identity))
    }
}

/// Resolves the settings of the stack `selection` chooses: `flags` (the
/// command's, highest first), then `env`, then the config file
/// (`--config`, `SIGNIN_CONFIG`, else `default_file` if it exists), then
/// the built-in defaults. Every value is checked here, naming where it came
/// from when it is refused.
pub(crate) fn resolve(
    selection: &StackSelection,
    flags: &[&Layer],
    env: &Env,
    default_file: &Path,
) -> anyhow::Result<Resolved> {
    let loaded = match (&selection.config, env.get("config")) {
        (Some(path), _) => Some(file::read(path, &path.display().to_string())?),
        (None, Some(path)) => Some(file::read(&PathBuf::from(path), path)?),
        (None, None) => file::read_if_present(default_file, FILE_NAME)?,
    };
    resolve_with(selection, flags, env, loaded)
}

/// [`resolve`] with the config file already read (`None`: there is none).
fn resolve_with(
    selection: &StackSelection,
    flags: &[&Layer],
    env: &Env,
    loaded: Option<Loaded>,
) -> anyhow::Result<Resolved> {
    let stage = match (&selection.stage, env.get("stage")) {
        (Some(flag), _) => (flag.clone(), Source::Flag),
        (None, Some(var)) => (var.to_owned(), Source::Env),
        (None, None) => (StageName::default().as_str().to_owned(), Source::Default),
    };
    let stage = Sourced {
        key: "stage",
        value: stage.0,
        source: stage.1,
    };
    let stage_name = StageName::new(&stage.value).with_context(|| stage.cannot())?;

    let selected = Layer {
        stack_name: selection.stack_name.clone(),
        ..Layer::default()
    };
    let from_env = env.layer()?;
    let mut layers: Vec<(Source, &Layer)> = flags.iter().map(|l| (Source::Flag, *l)).collect();
    layers.push((Source::Flag, &selected));
    layers.push((Source::Env, &from_env));
    if let Some(loaded) = &loaded {
        let stages = &loaded.file.stages;
        // A file with stages knows them all; one with only defaults takes any.
        if !stages.is_empty() {
            let table = stages
                .get(&stage.value)
                .with_context(|| unknown_stage(&stage, loaded))?;
            layers.push((
                Source::Stage {
                    file: loaded.label.clone(),
                    stage: stage.value.clone(),
                },
                table,
            ));
        }
        layers.push((
            Source::Defaults {
                file: loaded.label.clone(),
            },
            &loaded.file.defaults,
        ));
    }
    let layers = Layers(layers);

    let stack_name = pick!(layers, stack_name, DEFAULT_STACK_NAME.to_owned());
    let mut settings =
        Settings::new(StackName::new(&stack_name.value).with_context(|| stack_name.cannot())?);
    let builtin = settings.clone();
    let production = pick!(layers, production, false);
    let follows = Source::Production(production.value);
    let hotswap = pick!(layers, hotswap, !production.value, follows.clone());
    let retain_data = pick!(layers, retain_data, production.value, follows);
    let approval = pick!(layers, require_approval, Approval::default());
    let days = pick!(layers, log_retention_days, builtin.log_retention.as_days());
    let access_logs = pick!(layers, api_access_logs, builtin.api_access_logs);
    let arch = pick!(layers, arch, builtin.architecture.into());
    let mfa = pick!(layers, mfa, builtin.mfa.into());
    let auth_rate = pick!(layers, auth_rate_limit, builtin.auth_throttle.rate());
    let auth_burst = pick!(layers, auth_burst_limit, builtin.auth_throttle.burst());
    let login_rate = pick!(layers, login_rate_limit, builtin.login_throttle.rate());
    let login_burst = pick!(layers, login_burst_limit, builtin.login_throttle.burst());
    let prefix = pick!(layers, domain_prefix);
    let region = pick!(layers, region);
    let account = pick!(layers, account);
    let pinned_region = pick!(layers.below_flags(), region);

    settings.stage = stage_name;
    settings.log_retention = LogRetention::days(days.value).with_context(|| days.cannot())?;
    settings.api_access_logs = access_logs.value;
    settings.architecture = arch.value.into();
    settings.mfa = mfa.value.into();
    settings.auth_throttle = throttle(&auth_rate, &auth_burst)?;
    settings.login_throttle = throttle(&login_rate, &login_burst)?;
    settings.data_policy = if retain_data.value {
        DataPolicy::Retain
    } else {
        DataPolicy::Delete
    };
    let domain_prefix = prefix
        .as_ref()
        .map(|p| DomainPrefix::new(&p.value).with_context(|| p.cannot()))
        .transpose()?;
    if let Some(account) = &account
        && !(account.value.len() == 12 && account.value.bytes().all(|b| b.is_ascii_digit()))
    {
        bail!(
            "{}: an AWS account id is 12 digits, not {:?}",
            account.cannot(),
            account.value
        );
    }
    for given in region.iter().chain(&pinned_region) {
        let well_formed = !given.value.is_empty()
            && given
                .value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_formed {
            bail!(
                "{}: {:?} is not an AWS region (such as eu-west-1)",
                given.cannot(),
                given.value
            );
        }
    }

    let entries = vec![
        Entry::new(&stage, stage.value.clone()),
        Entry::new(&stack_name, stack_name.value.clone()),
        Entry::optional(
            "region",
            region.as_ref(),
            "the AWS chain's: AWS_REGION, the profile's",
        ),
        Entry::optional("account", account.as_ref(), "any account"),
        Entry::optional(
            "domain_prefix",
            prefix.as_ref(),
            "the deployed stack's, else one made from the stack, account and region",
        ),
        Entry::new(&production, production.value.to_string()),
        Entry::new(&hotswap, hotswap.value.to_string()),
        Entry::new(&retain_data, retain_data.value.to_string()),
        Entry::new(&approval, spelled(&approval.value)),
        Entry::new(&days, days.value.to_string()),
        Entry::new(&access_logs, access_logs.value.to_string()),
        Entry::new(&arch, spelled(&arch.value)),
        Entry::new(&mfa, spelled(&mfa.value)),
        Entry::new(&auth_rate, auth_rate.value.to_string()),
        Entry::new(&auth_burst, auth_burst.value.to_string()),
        Entry::new(&login_rate, login_rate.value.to_string()),
        Entry::new(&login_burst, login_burst.value.to_string()),
    ];
    Ok(Resolved {
        settings,
        domain_prefix,
        approval: approval.value,
        production: production.value,
        hotswap: hotswap.value,
        region: region.as_ref().map(|r| r.value.clone()),
        pins: Pins {
            stage: stage.value,
            account,
            region: pinned_region,
        },
        file: loaded,
        entries,
    })
}

/// A route's limits, refused naming both settings.
fn throttle(rate: &Sourced<f64>, burst: &Sourced<u32>) -> anyhow::Result<Throttle> {
    Throttle::new(rate.value, burst.value).with_context(|| {
        format!(
            "cannot use {} and {}",
            rate.source.naming(rate.key),
            burst.source.naming(burst.key)
        )
    })
}

fn unknown_stage(stage: &Sourced<String>, loaded: &Loaded) -> String {
    let known: Vec<&str> = loaded.file.stages.keys().map(String::as_str).collect();
    format!(
        "{} has no stage {} ({}); its stages are {}: choose one with --stage, or add \
         [stages.{}] to {}",
        loaded.label,
        stage.value,
        stage.source.naming(stage.key),
        known.join(", "),
        stage.value,
        loaded.label
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::ConfigFile;

    const FILE: &str = r#"
[defaults]
log_retention_days = 60
mfa = "required"

[stages.dev]
auth_burst_limit = 40

[stages.prod]
stack_name = "sign-in-prod"
account = "111111111111"
region = "eu-west-1"
production = true
log_retention_days = 90
"#;

    fn loaded(text: &str) -> Option<Loaded> {
        Some(Loaded {
            label: FILE_NAME.to_owned(),
            file: ConfigFile::parse(FILE_NAME, text).unwrap(),
        })
    }

    fn stage(name: &str) -> StackSelection {
        StackSelection {
            stage: Some(name.to_owned()),
            ..StackSelection::default()
        }
    }

    fn days(flag: Option<u32>) -> Layer {
        Layer {
            log_retention_days: flag,
            ..Layer::default()
        }
    }

    /// The value and source of one setting, as `config` shows them.
    fn shown(resolved: &Resolved, key: &str) -> (Option<String>, String) {
        let entry = resolved
            .entries
            .iter()
            .find(|e| e.key == key)
            .unwrap_or_else(|| panic!("no entry {key}"));
        (entry.value.clone(), entry.from.clone())
    }

    fn one(value: &str, from: &str) -> (Option<String>, String) {
        (Some(value.to_owned()), from.to_owned())
    }

    #[test]
    fn each_layer_beats_the_next() {
        let env: Env = [("SIGNIN_LOG_RETENTION_DAYS", "120")].into_iter().collect();
        let prod = stage("prod");
        let check = |flags: &Layer, env: &Env, file: Option<Loaded>, days: u32, from: &str| {
            let r = resolve_with(&prod, &[flags], env, file).unwrap();
            assert_eq!(r.settings.log_retention.as_days(), days, "{from}");
            assert_eq!(
                shown(&r, "log_retention_days"),
                one(&days.to_string(), from)
            );
        };
        check(&days(Some(180)), &env, loaded(FILE), 180, "flag");
        check(
            &days(None),
            &env,
            loaded(FILE),
            120,
            "env SIGNIN_LOG_RETENTION_DAYS",
        );
        let no_env = Env::default();
        check(
            &days(None),
            &no_env,
            loaded(FILE),
            90,
            "deploy.toml [stages.prod]",
        );
        let without_prod_days = FILE.replace("log_retention_days = 90\n", "");
        check(
            &days(None),
            &no_env,
            loaded(&without_prod_days),
            60,
            "deploy.toml [defaults]",
        );
        let prod_only = "[stages.prod]\n";
        check(&days(None), &no_env, loaded(prod_only), 30, "default");
        check(&days(None), &no_env, None, 30, "default");
    }

    #[test]
    fn a_stage_inherits_the_defaults_and_overrides_its_own_keys() {
        let r = resolve_with(&stage("dev"), &[], &Env::default(), loaded(FILE)).unwrap();
        assert_eq!(r.settings.auth_throttle.burst(), 40);
        assert_eq!(
            shown(&r, "auth_burst_limit"),
            one("40", "deploy.toml [stages.dev]")
        );
        assert_eq!(r.settings.log_retention.as_days(), 60);
        assert_eq!(r.settings.mfa, infra::Mfa::Required);
        assert_eq!(shown(&r, "mfa"), one("required", "deploy.toml [defaults]"));
        assert_eq!(r.settings.stage.as_str(), "dev");
        assert_eq!(r.settings.stack_name.as_str(), DEFAULT_STACK_NAME);
        let prod = resolve_with(&stage("prod"), &[], &Env::default(), loaded(FILE)).unwrap();
        assert_eq!(prod.settings.stack_name.as_str(), "sign-in-prod");
        assert_eq!(prod.settings.stage.as_str(), "prod");
        assert_eq!(prod.settings.mfa, infra::Mfa::Required, "inherited");
        assert_eq!(prod.settings.auth_throttle.burst(), 20, "dev's is dev's");
    }

    #[test]
    fn an_unknown_stage_is_refused_listing_the_known_ones() {
        let err = resolve_with(&stage("staging"), &[], &Env::default(), loaded(FILE))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "deploy.toml has no stage staging (--stage); its stages are dev, prod: choose one \
             with --stage, or add [stages.staging] to deploy.toml"
        );
        let env: Env = [("SIGNIN_STAGE", "qa")].into_iter().collect();
        let err = resolve_with(&StackSelection::default(), &[], &env, loaded(FILE))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no stage qa (SIGNIN_STAGE)"), "{err}");
        let err = resolve_with(
            &StackSelection::default(),
            &[],
            &Env::default(),
            loaded("[stages.prod]\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no stage dev (the default stage)"), "{err}");
    }

    #[test]
    fn any_stage_goes_without_a_file_or_with_defaults_only() {
        for file in [None, loaded("[defaults]\nmfa = \"required\"\n")] {
            let r = resolve_with(&stage("v2"), &[], &Env::default(), file).unwrap();
            assert_eq!(r.settings.stage.as_str(), "v2");
        }
    }

    #[test]
    fn a_production_stage_keeps_its_data_and_allows_no_hotswap_unless_it_says_so() {
        let dev = resolve_with(&stage("dev"), &[], &Env::default(), loaded(FILE)).unwrap();
        assert!(!dev.production && dev.hotswap);
        assert_eq!(dev.settings.data_policy, DataPolicy::Delete);
        assert_eq!(
            shown(&dev, "hotswap"),
            one("true", "default (not a production stage)")
        );
        let prod = resolve_with(&stage("prod"), &[], &Env::default(), loaded(FILE)).unwrap();
        assert!(prod.production && !prod.hotswap);
        assert_eq!(prod.settings.data_policy, DataPolicy::Retain);
        assert_eq!(
            shown(&prod, "retain_data"),
            one("true", "default (a production stage)")
        );
        let flag = Layer {
            retain_data: Some(false),
            ..Layer::default()
        };
        let env: Env = [("SIGNIN_HOTSWAP", "true")].into_iter().collect();
        let prod = resolve_with(&stage("prod"), &[&flag], &env, loaded(FILE)).unwrap();
        assert_eq!(prod.settings.data_policy, DataPolicy::Delete);
        assert!(prod.hotswap);
        assert_eq!(shown(&prod, "hotswap"), one("true", "env SIGNIN_HOTSWAP"));
    }

    #[test]
    fn a_refused_value_names_where_it_came_from() {
        let bad = "[stages.prod]\nlog_retention_days = 31\n";
        let err = resolve_with(&stage("prod"), &[], &Env::default(), loaded(bad)).unwrap_err();
        assert!(
            format!("{err:#}").starts_with(
                "cannot use log_retention_days in deploy.toml [stages.prod]: log retention of 31 days"
            ),
            "{err:#}"
        );
        let env: Env = [("SIGNIN_STACK_NAME", "1-bad")].into_iter().collect();
        let err = resolve_with(&stage("dev"), &[], &env, None).unwrap_err();
        assert!(
            format!("{err:#}").starts_with("cannot use SIGNIN_STACK_NAME: stack name `1-bad`"),
            "{err:#}"
        );
        let env: Env = [("SIGNIN_MFA", "sometimes")].into_iter().collect();
        let err = resolve_with(&stage("dev"), &[], &env, None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot use SIGNIN_MFA=\"sometimes\": unknown variant `sometimes`"),
            "{err}"
        );
        let env: Env = [("SIGNIN_AUTH_BURST_LIMIT", "0")].into_iter().collect();
        let err = resolve_with(&stage("dev"), &[], &env, None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot use the default auth_rate_limit and SIGNIN_AUTH_BURST_LIMIT"),
            "{err}"
        );
        let bad = "[defaults]\naccount = \"1234\"\n";
        let err = resolve_with(&stage("dev"), &[], &Env::default(), loaded(bad)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot use account in deploy.toml [defaults]: an AWS account id is 12 digits, not \"1234\""
        );
    }

    #[test]
    fn variables_with_the_prefix_that_are_not_settings_are_left_alone() {
        let env: Env = [("SIGNIN_SOMETHING_ELSE", "x"), ("SIGNIN_MFA", "")]
            .into_iter()
            .collect();
        let r = resolve_with(&stage("dev"), &[], &env, None).unwrap();
        assert_eq!(r.settings.mfa, infra::Mfa::Off, "empty counts as unset");
    }

    #[test]
    fn every_setting_is_shown_once() {
        let r = resolve_with(&stage("dev"), &[], &Env::default(), None).unwrap();
        let mut shown: Vec<&str> = r.entries.iter().map(|e| e.key).collect();
        assert_eq!(shown.remove(0), "stage");
        let mut keys = Layer::keys().unwrap();
        shown.sort_unstable();
        keys.sort_unstable();
        assert_eq!(shown, keys);
    }

    fn identity(account: &str) -> Identity {
        Identity {
            account: account.to_owned(),
            arn: format!("arn:aws:iam::{account}:user/ann"),
        }
    }

    #[test]
    fn a_pinned_account_refuses_other_credentials_naming_both_and_what_to_do() {
        let prod = resolve_with(&stage("prod"), &[], &Env::default(), loaded(FILE)).unwrap();
        prod.pins
            .check(&identity("111111111111"), "eu-west-1")
            .unwrap();
        let err = prod
            .pins
            .check(&identity("123456789012"), "eu-west-1")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "stage prod is pinned to AWS account 111111111111 (deploy.toml [stages.prod]), but \
             these credentials are for account 123456789012 (arn:aws:iam::123456789012:user/ann), \
             so nothing was built or changed. Use credentials of account 111111111111 \
             (--profile or AWS_PROFILE), or choose the stage meant for account 123456789012 with \
             --stage"
        );
        let dev = resolve_with(&stage("dev"), &[], &Env::default(), loaded(FILE)).unwrap();
        dev.pins
            .check(&identity("123456789012"), "us-east-1")
            .unwrap();
    }

    #[test]
    fn a_pinned_region_sets_the_region_and_refuses_another_region_flag() {
        let prod = resolve_with(&stage("prod"), &[], &Env::default(), loaded(FILE)).unwrap();
        assert_eq!(prod.region.as_deref(), Some("eu-west-1"));
        assert!(prod.pins.conflict(prod.region.as_deref()).is_none());
        let flag = Layer {
            region: Some("us-east-1".to_owned()),
            ..Layer::default()
        };
        let prod = resolve_with(&stage("prod"), &[&flag], &Env::default(), loaded(FILE)).unwrap();
        assert_eq!(prod.region.as_deref(), Some("us-east-1"));
        assert_eq!(shown(&prod, "region"), one("us-east-1", "flag"));
        assert!(prod.pins.conflict(prod.region.as_deref()).is_some());
        let err = prod
            .pins
            .check(&identity("111111111111"), "us-east-1")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "stage prod is pinned to region eu-west-1 (deploy.toml [stages.prod]), but the \
                 region is us-east-1 (--region), so nothing was built or changed."
            ),
            "{err}"
        );
        let dev = resolve_with(&stage("dev"), &[], &Env::default(), loaded(FILE)).unwrap();
        assert_eq!(dev.region, None, "the AWS chain's");
        assert_eq!(
            shown(&dev, "region"),
            (
                None,
                "default (the AWS chain's: AWS_REGION, the profile's)".to_owned()
            )
        );
    }
}
