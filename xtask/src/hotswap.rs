//! Hotswap: when only the functions' code (or their environment variables)
//! changed, update each function directly (`UpdateFunctionCode`,
//! `UpdateFunctionConfiguration`, each followed by a wait for
//! `LastUpdateStatus`) instead of through a change set: seconds instead of
//! a stack update.
//!
//! What to update is decided by the **live** function: the local zip's
//! SHA-256 against the `CodeSha256` Lambda reports, and the variables the
//! template resolves to ([`intrinsics`]) against the live ones, so a revert
//! is deployed and an untouched function is left alone. Whether anything
//! else changed is decided by comparing the deployed template and
//! parameters with the ones a deploy would send, ignoring only the code
//! keys; a function's `Environment` may differ when every variable can be
//! resolved from the deployed stack. After a hotswap the stack's template
//! still names the old zips and variables; the next change-set deploy
//! brings the stack in line, and [`reconcile`] makes sure the live code and
//! environment are then the ones the stack names.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_cloudformation::types::Stack;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, LastUpdateStatus};
use infra::Resource;
use serde_json::{Map, Value};

use crate::artifacts;
use crate::aws::{Aws, sdk};
use crate::cfn::{self, Existing, Phase};
use crate::intrinsics::{self, Known, Unknown};
use crate::logs::{self, Function};
use crate::package::Package;
use crate::progress::Printer;
use crate::rollout::{self, CODE_PARAMETERS};
use crate::target::Checked;

/// The largest zip Lambda takes in the request itself; a larger one is
/// uploaded to the artifacts bucket and named by bucket and key.
pub(crate) const DIRECT_UPLOAD_LIMIT: usize = 50 * 1024 * 1024;

/// How long a function may take to apply an update before we stop waiting.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(300);

/// Between two looks at `LastUpdateStatus` (an update takes about a second on AWS).
const POLL: Duration = Duration::from_millis(250);

/// Refuses a hotswap where the stage does not allow one, before any call.
pub(crate) fn check_allowed(checked: &Checked) -> anyhow::Result<()> {
    let stack = checked.stack().as_str();
    let stage = checked.settings.stage.as_str();
    if checked.policy.production {
        bail!(
            "stage {stage} of stack {stack} is configured as production, and a hotswap changes \
             its functions without a change set, a review or a rollback (the stack's template \
             goes on naming the old code). Deploy without --hotswap"
        );
    }
    if !checked.policy.hotswap {
        bail!(
            "stage {stage} of stack {stack} is configured without hotswap; deploy without --hotswap"
        );
    }
    Ok(())
}

/// One thing besides code that differs between the deployed stack and the
/// one a deploy would make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Difference {
    /// A parameter's value.
    Parameter(String),
    /// A resource that is not deployed yet.
    Added { logical_id: String, kind: String },
    /// A deployed resource that the new template drops.
    Removed { logical_id: String, kind: String },
    /// A property of a resource (`Properties.<name>`).
    Property {
        logical_id: String,
        kind: String,
        property: String,
    },
    /// A resource attribute outside its properties (`Type`, `DependsOn`,
    /// `DeletionPolicy`, `Metadata`, …).
    Attribute {
        logical_id: String,
        kind: String,
        attribute: String,
    },
    /// An entry of another section of the template (`Outputs`,
    /// `Parameters` declarations), or a whole top-level value.
    Template {
        section: String,
        entry: Option<String>,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parameter(name) => write!(f, "parameter {name}"),
            Self::Added { logical_id, kind } => write!(f, "resource {logical_id} ({kind}) is new"),
            Self::Removed { logical_id, kind } => {
                write!(f, "resource {logical_id} ({kind}) is removed")
            }
            Self::Property {
                logical_id,
                kind,
                property,
            } => write!(f, "resource {logical_id} ({kind}), property {property}"),
            Self::Attribute {
                logical_id,
                kind,
                attribute,
            } => write!(f, "resource {logical_id} ({kind}), {attribute}"),
            Self::Template {
                section,
                entry: Some(entry),
            } => write!(f, "{section} {entry} of the template"),
            Self::Template {
                section,
                entry: None,
            } => write!(f, "{section} of the template"),
        }
    }
}

/// Everything that differs between the deployed template and parameters
/// and the new ones, except the parameters that name the functions' zips.
pub(crate) fn differences(
    deployed: &Value,
    deployed_parameters: &[(String, String)],
    new: &Value,
    new_parameters: &[(&str, String)],
) -> Vec<Difference> {
    let code_keys: BTreeSet<&str> = CODE_PARAMETERS.iter().map(|c| c.key).collect();
    let mut found = Vec::new();
    let empty = Map::new();
    let object = |v: Option<&Value>| v.and_then(Value::as_object).unwrap_or(&empty).clone();

    let deployed_values: HashMap<&str, &str> = deployed_parameters
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let new_values: HashMap<&str, &str> = new_parameters
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let names: BTreeSet<&str> = deployed_values
        .keys()
        .chain(new_values.keys())
        .copied()
        .collect();
    for name in names {
        if !code_keys.contains(name) && deployed_values.get(name) != new_values.get(name) {
            found.push(Difference::Parameter(name.to_owned()));
        }
    }

    let old_resources = object(deployed.get("Resources"));
    let new_resources = object(new.get("Resources"));
    let kind_of = |resource: &Value| {
        resource
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    for (id, resource) in &new_resources {
        let Some(old) = old_resources.get(id) else {
            found.push(Difference::Added {
                logical_id: id.clone(),
                kind: kind_of(resource),
            });
            continue;
        };
        let kind = kind_of(resource);
        let old_properties = object(old.get("Properties"));
        let new_properties = object(resource.get("Properties"));
        for property in union(&old_properties, &new_properties) {
            if old_properties.get(&property) != new_properties.get(&property) {
                found.push(Difference::Property {
                    logical_id: id.clone(),
                    kind: kind.clone(),
                    property,
                });
            }
        }
        let old_attributes = object(Some(old));
        let new_attributes = object(Some(resource));
        for attribute in union(&old_attributes, &new_attributes) {
            if attribute != "Properties"
                && old_attributes.get(&attribute) != new_attributes.get(&attribute)
            {
                found.push(Difference::Attribute {
                    logical_id: id.clone(),
                    kind: kind.clone(),
                    attribute,
                });
            }
        }
    }
    for (id, resource) in &old_resources {
        if !new_resources.contains_key(id) {
            found.push(Difference::Removed {
                logical_id: id.clone(),
                kind: kind_of(resource),
            });
        }
    }

    let old_top = object(Some(deployed));
    let new_top = object(Some(new));
    for section in union(&old_top, &new_top) {
        if section == "Resources" {
            continue;
        }
        match (old_top.get(&section), new_top.get(&section)) {
            (old, new) if old == new => {}
            (Some(Value::Object(old)), Some(Value::Object(new))) => {
                for entry in union(old, new) {
                    if old.get(&entry) != new.get(&entry) {
                        found.push(Difference::Template {
                            section: section.clone(),
                            entry: Some(entry),
                        });
                    }
                }
            }
            _ => found.push(Difference::Template {
                section,
                entry: None,
            }),
        }
    }
    found
}

/// The keys of both maps, sorted.
fn union(a: &Map<String, Value>, b: &Map<String, Value>) -> BTreeSet<String> {
    a.keys().chain(b.keys()).cloned().collect()
}

/// Why a hotswap cannot be done; nothing was changed.
#[derive(Debug)]
pub(crate) enum Blocker {
    /// There is no stack to hotswap into.
    NoStack { stack: String },
    /// The stack is in a state only a change set or a command gets it out of.
    NotReady { stack: String, status: String },
    /// The artifacts stack is gone: a deploy makes it again.
    NoArtifactsBucket { stack: String },
    /// Something besides the functions' code and environment changed.
    Differences(Vec<Difference>),
    /// A function's environment changed, and one of its variables is a
    /// value only CloudFormation can work out.
    Environment {
        logical_id: String,
        unresolved: Unresolved,
    },
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Enough to act on; the change set shows the rest.
        const SHOWN: usize = 12;
        match self {
            Self::NoStack { stack } => write!(f, "stack {stack} is not deployed yet"),
            Self::NotReady { stack, status } => write!(f, "stack {stack} is {status}"),
            Self::NoArtifactsBucket { stack } => {
                write!(f, "the artifacts stack of stack {stack} does not exist")
            }
            Self::Differences(differences) => {
                let shown: Vec<String> = differences
                    .iter()
                    .take(SHOWN)
                    .map(ToString::to_string)
                    .collect();
                write!(
                    f,
                    "more than code and environment changed: {}",
                    shown.join("; ")
                )?;
                if differences.len() > SHOWN {
                    write!(f, "; and {} more", differences.len() - SHOWN)?;
                }
                Ok(())
            }
            Self::Environment {
                logical_id,
                unresolved,
            } => write!(
                f,
                "the environment of function {logical_id} changed, and {unresolved}"
            ),
        }
    }
}

/// Why a function's environment cannot be worked out here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// `Environment` is not a map of `Variables` to values.
    Shape,
    /// A variable whose value is not known without CloudFormation.
    Variable { name: String, why: Unknown },
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shape => write!(f, "its Environment is not a map of Variables"),
            Self::Variable { name, why } => {
                write!(f, "its variable {name} cannot be worked out: {why}")
            }
        }
    }
}

/// A function's environment variables in a template, each value resolved.
fn environment(resource: &Value, known: &Known) -> Result<BTreeMap<String, String>, Unresolved> {
    let Some(environment) = resource.pointer("/Properties/Environment") else {
        return Ok(BTreeMap::new());
    };
    let variables = match environment.as_object() {
        Some(map) if map.keys().all(|k| k == "Variables") => map.get("Variables"),
        _ => return Err(Unresolved::Shape),
    };
    let Some(variables) = variables else {
        return Ok(BTreeMap::new());
    };
    variables
        .as_object()
        .ok_or(Unresolved::Shape)?
        .iter()
        .map(|(name, value)| {
            intrinsics::resolve(value, known)
                .map(|value| (name.clone(), value))
                .map_err(|why| Unresolved::Variable {
                    name: name.clone(),
                    why,
                })
        })
        .collect()
}

/// Whether a difference is a function's environment, which a hotswap may take.
fn is_function_environment(difference: &Difference) -> bool {
    matches!(
        difference,
        Difference::Property { kind, property, .. }
            if kind == <infra::lambda::Function as Resource>::TYPE && property == "Environment"
    )
}

/// What a hotswap did, or why it could not.
#[derive(Debug)]
pub(crate) enum Attempt {
    Swapped(Vec<Swap>),
    Blocked(Blocker),
}

/// What happened to one function.
#[derive(Debug, Clone)]
pub(crate) struct Swap {
    /// The package (`auth`, `login`).
    pub(crate) function: &'static str,
    /// The deployed function's name.
    pub(crate) name: String,
    pub(crate) outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// New code, a new environment or both are live; the updates and the
    /// waits for them took this long.
    Updated { took: Duration, change: Change },
    /// The live code already is this zip, and the live environment the template's.
    Unchanged,
}

/// What an update changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Code,
    Environment,
    Both,
}

/// One function of the stack, the zip built for it and its environment in
/// the template.
struct Target<'a> {
    logical_id: String,
    name: String,
    package: &'a Package,
    code: rollout::CodeParameters,
    environment: Result<BTreeMap<String, String>, Unresolved>,
}

/// Hotswaps the functions whose live code is not the zip built here, or
/// whose live variables are not the ones the template resolves to, if the
/// stack exists, is ours, is settled and differs from what a deploy would
/// make only in its code keys and in functions' environments that resolve;
/// otherwise says why not and changes nothing.
pub(crate) async fn attempt(
    aws: &Aws,
    checked: &Checked,
    packages: &[Package],
) -> anyhow::Result<Attempt> {
    let stack = checked.stack().as_str();
    rollout::check_ownership(aws, checked).await?;
    let mut printer = Printer::new();
    let Some(current) =
        cfn::operation::wait_until_settled(&aws.cfn, stack, stack, &mut printer).await?
    else {
        return Ok(Attempt::Blocked(Blocker::NoStack {
            stack: stack.to_owned(),
        }));
    };
    let status = cfn::status(&current);
    match Phase::of(&status) {
        Phase::Ready => {}
        Phase::Review | Phase::Deleted => {
            return Ok(Attempt::Blocked(Blocker::NoStack {
                stack: stack.to_owned(),
            }));
        }
        _ => {
            return Ok(Attempt::Blocked(Blocker::NotReady {
                stack: stack.to_owned(),
                status: status.as_str().to_owned(),
            }));
        }
    }
    let Some(bucket) =
        rollout::existing_bucket(aws, &artifacts::stack_name(checked.stack())?).await?
    else {
        return Ok(Attempt::Blocked(Blocker::NoArtifactsBucket {
            stack: stack.to_owned(),
        }));
    };
    let existing = Existing::Deployed(Box::new(current.clone()));
    let prefix = rollout::domain_prefix(aws, checked, &existing).await?;
    let (body, parameters) = rollout::template(checked, &bucket, packages, prefix)?;
    let new: Value = serde_json::from_str(&body).context("cannot read our own template")?;
    let deployed = crate::review::deployed_template(aws, stack).await?;
    let deployed_parameters = cfn::parameters(&current);
    let found = differences(&deployed, &deployed_parameters, &new, &parameters);
    if !found.iter().all(is_function_environment) {
        return Ok(Attempt::Blocked(Blocker::Differences(found)));
    }
    let new_parameters = parameters
        .iter()
        .map(|(key, value)| ((*key).to_owned(), value.clone()));
    let known = known(aws, stack, new_parameters).await?;
    let targets = targets(stack, &new, packages, &known)?;
    // A function whose environment the template changes must have every
    // variable worked out; another keeps what CloudFormation set, unless it
    // resolves (then the live variables are checked as the live code is).
    for target in &targets {
        let changed = found.iter().any(|d| {
            matches!(d, Difference::Property { logical_id, .. } if *logical_id == target.logical_id)
        });
        if let (true, Err(unresolved)) = (changed, &target.environment) {
            return Ok(Attempt::Blocked(Blocker::Environment {
                logical_id: target.logical_id.clone(),
                unresolved: unresolved.clone(),
            }));
        }
    }
    eprintln!(
        "hotswapping the functions of stack {stack}: nothing but their code{} changed",
        if found.is_empty() {
            ""
        } else {
            " and environment"
        }
    );
    let mut tasks = tokio::task::JoinSet::new();
    for target in targets {
        let source = if target.package.zip.len() <= DIRECT_UPLOAD_LIMIT {
            Source::Zip(target.package.zip.clone())
        } else {
            let account = aws.account().await?;
            artifacts::upload_and_verify(
                aws,
                &bucket,
                &account,
                std::slice::from_ref(target.package),
            )
            .await?;
            Source::S3 {
                bucket: bucket.clone(),
                key: target.package.key.clone(),
            }
        };
        let lambda = aws.lambda.clone();
        let function = target.package.function;
        let wanted = Wanted {
            code: Some((code_sha256(&target.package.zip), source)),
            environment: target.environment.ok(),
        };
        tasks.spawn(async move {
            let swapped = swap(&lambda, function, target.name, wanted).await;
            (function, swapped)
        });
    }
    // Every update runs to its end, so a failure of one leaves no other half done.
    let mut swaps = Vec::new();
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done.context("a function's update stopped unexpectedly")? {
            (_, Ok(swapped)) => swaps.push(swapped),
            (function, Err(err)) => failures.push((function, err)),
        }
    }
    failures.sort_by_key(|(function, _)| *function);
    for (function, _) in &failures {
        print_recent_logs(aws, checked.stack(), function).await;
    }
    let mut failures = failures.into_iter().map(|(_, err)| err);
    if let Some(first) = failures.next() {
        let others: Vec<String> = failures.map(|err| format!("{err:#}")).collect();
        return Err(if others.is_empty() {
            first
        } else {
            anyhow::anyhow!("{first:#}; also {}", others.join("; also "))
        });
    }
    swaps.sort_by_key(|s| s.function);
    Ok(Attempt::Swapped(swaps))
}

/// How many of a failed function's last log lines are shown (as `smoke`'s default).
const FAILURE_LOG_LINES: usize = 20;

/// Shows the last log lines of a function whose update failed, for whoever
/// looks at why. Not being able to show them is said, and the update's own
/// error goes on being the command's.
async fn print_recent_logs(aws: &Aws, stack: &infra::StackName, function: &str) {
    let Some(function) = Function::ALL.into_iter().find(|f| f.name() == function) else {
        return;
    };
    if let Err(err) = logs::print_recent(&aws.logs, stack, function, FAILURE_LOG_LINES).await {
        eprintln!(
            "cannot show the {} function's log lines: {err:#}",
            function.name()
        );
    }
}

/// Prints what happened to each function.
pub(crate) fn print(swaps: &[Swap]) {
    for swap in swaps {
        match swap.outcome {
            Outcome::Updated { took, change } => eprintln!(
                "  {} ({}): updated in {} ms{}",
                swap.function,
                swap.name,
                took.as_millis(),
                match change {
                    Change::Code => "",
                    Change::Environment => " (environment)",
                    Change::Both => " (code and environment)",
                }
            ),
            Outcome::Unchanged => eprintln!(
                "  {} ({}): unchanged (its live code is this zip)",
                swap.function, swap.name
            ),
        }
    }
}

/// Whether any function got new code or variables.
pub(crate) fn any_updated(swaps: &[Swap]) -> bool {
    swaps.iter().any(|s| s.outcome != Outcome::Unchanged)
}

/// After a change-set deploy (or an up-to-date one): a function whose
/// live code is not the zip its stack names is updated to that zip, from
/// the artifacts bucket as the stack names it, and one whose live
/// variables are not the ones its stack's template resolves to gets those.
/// That happens after a hotswap whose change was then reverted: the
/// template, still naming the old zip and variables, shows no change, yet
/// the function runs the hotswapped code or environment.
pub(crate) async fn reconcile(
    aws: &Aws,
    checked: &Checked,
    deployed: &Stack,
    packages: &[Package],
) -> anyhow::Result<()> {
    let stack = checked.stack().as_str();
    let template = infra::sign_in_stack(&checked.settings).to_value()?;
    let known = known(aws, stack, cfn::parameters(deployed)).await?;
    for target in targets(stack, &template, packages, &known)? {
        let expected = code_sha256(&target.package.zip);
        let live = live(&aws.lambda, &target.name).await?;
        // The zip the stack names, when it is this build's (only a deploy
        // changes the stack to name another) and not the live code.
        let code = match (
            cfn::parameter(deployed, target.code.bucket),
            cfn::parameter(deployed, target.code.key),
        ) {
            (Some(bucket), Some(key))
                if key == target.package.key && live.code_sha256 != expected =>
            {
                Some((bucket.to_owned(), key.to_owned()))
            }
            _ => None,
        };
        let environment = target
            .environment
            .ok()
            .filter(|variables| *variables != live.environment);
        let what = match (&code, &environment) {
            (None, None) => continue,
            (Some((bucket, key)), None) => {
                format!("other code than its stack names: updating it to s3://{bucket}/{key}")
            }
            (None, Some(_)) => {
                "other environment variables than its stack names: updating them".to_owned()
            }
            (Some((bucket, key)), Some(_)) => format!(
                "other code and environment variables than its stack names: updating them to \
                 s3://{bucket}/{key} and the template's variables"
            ),
        };
        let wanted = Wanted {
            code: code.map(|(bucket, key)| (expected, Source::S3 { bucket, key })),
            environment,
        };
        eprintln!(
            "function {} ({}) runs {what} (a hotswap since reverted, or a change made outside \
             the stack)",
            target.name, target.logical_id
        );
        let function = target.package.function;
        if let Err(err) = swap(&aws.lambda, function, target.name, wanted).await {
            print_recent_logs(aws, checked.stack(), function).await;
            return Err(err);
        }
    }
    Ok(())
}

/// What the values of the deployed stack's template resolve against: its
/// name, region and account, `parameters`, its resources' physical ids.
async fn known(
    aws: &Aws,
    stack: &str,
    parameters: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<Known> {
    Ok(Known {
        stack_name: stack.to_owned(),
        region: Some(aws.region.clone()),
        account: Some(aws.account().await?),
        parameters: parameters.into_iter().collect(),
        resources: physical_ids(aws, stack).await?,
    })
}

/// The physical ids of the stack's resources, by logical id.
async fn physical_ids(aws: &Aws, stack: &str) -> anyhow::Result<HashMap<String, String>> {
    let mut physical = HashMap::new();
    let mut pages = aws
        .cfn
        .list_stack_resources()
        .stack_name(stack)
        .into_paginator()
        .items()
        .send();
    while let Some(resource) = pages.next().await {
        let resource = resource
            .map_err(sdk)
            .with_context(|| format!("cannot list the resources of stack {stack}"))?;
        if let (Some(logical), Some(id)) = (
            resource.logical_resource_id(),
            resource.physical_resource_id(),
        ) {
            physical.insert(logical.to_owned(), id.to_owned());
        }
    }
    Ok(physical)
}

/// The functions of the template (the resources of Lambda's function type
/// whose code key is one of [`CODE_PARAMETERS`]), with their deployed
/// names from the stack, the zips built for them and their environment
/// as far as `known` resolves it.
fn targets<'a>(
    stack: &str,
    template: &Value,
    packages: &'a [Package],
    known: &Known,
) -> anyhow::Result<Vec<Target<'a>>> {
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .context("the template has no resources")?;
    let mut targets = Vec::new();
    for (logical_id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str)
            != Some(<infra::lambda::Function as Resource>::TYPE)
        {
            continue;
        }
        let key = resource
            .pointer("/Properties/Code/S3Key/Ref")
            .and_then(Value::as_str)
            .with_context(|| format!("the code key of function {logical_id} is no parameter"))?;
        let code = CODE_PARAMETERS
            .iter()
            .find(|c| c.key == key)
            .with_context(|| {
                format!("parameter {key} of function {logical_id} names no package")
            })?;
        let package = packages
            .iter()
            .find(|p| p.function == code.function)
            .with_context(|| format!("cannot find the package of {}", code.function))?;
        let name = known.resources.get(logical_id).with_context(|| {
            format!("stack {stack} has no function {logical_id}; deploy without --hotswap")
        })?;
        targets.push(Target {
            logical_id: logical_id.clone(),
            name: name.clone(),
            package,
            code: *code,
            environment: environment(resource, known),
        });
    }
    Ok(targets)
}

/// Where `UpdateFunctionCode` takes the zip from.
enum Source {
    /// In the request, for a zip up to [`DIRECT_UPLOAD_LIMIT`].
    Zip(Vec<u8>),
    /// An object of the artifacts bucket.
    S3 { bucket: String, key: String },
}

/// A zip's SHA-256 as Lambda reports it (`CodeSha256`: base64).
pub(crate) fn code_sha256(zip: &[u8]) -> String {
    use sha2::Digest;
    aws_smithy_types::base64::encode(sha2::Sha256::digest(zip))
}

/// What Lambda says a function runs.
struct Live {
    code_sha256: String,
    environment: BTreeMap<String, String>,
}

async fn live(lambda: &aws_sdk_lambda::Client, name: &str) -> anyhow::Result<Live> {
    let found = lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("cannot read function {name}"))?;
    let config = found
        .configuration()
        .with_context(|| format!("function {name} has no configuration"))?;
    Ok(Live {
        code_sha256: config.code_sha256().unwrap_or_default().to_owned(),
        environment: config
            .environment()
            .and_then(|e| e.variables())
            .map(|variables| {
                variables
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// What a function should run: a zip (its `CodeSha256` and where it is) and
/// environment variables, where they are known.
struct Wanted {
    code: Option<(String, Source)>,
    environment: Option<BTreeMap<String, String>>,
}

/// Updates one function's code and environment where the live ones are
/// not the wanted ones, each waited for until Lambda has applied it.
async fn swap(
    lambda: &aws_sdk_lambda::Client,
    function: &'static str,
    name: String,
    wanted: Wanted,
) -> anyhow::Result<Swap> {
    let live = live(lambda, &name).await?;
    let done = |outcome| Swap {
        function,
        name: name.clone(),
        outcome,
    };
    let code = wanted
        .code
        .filter(|(expected, _)| live.code_sha256 != *expected);
    let environment = wanted
        .environment
        .filter(|variables| *variables != live.environment);
    let change = match (&code, &environment) {
        (None, None) => return Ok(done(Outcome::Unchanged)),
        (Some(_), None) => Change::Code,
        (None, Some(_)) => Change::Environment,
        (Some(_), Some(_)) => Change::Both,
    };
    let started = Instant::now();
    // An update still being applied (ours or someone's) makes Lambda refuse the next one.
    last_update(lambda, &name).await?;
    if let Some((expected, source)) = code {
        let request = lambda.update_function_code().function_name(&name);
        let request = match source {
            Source::Zip(zip) => request.zip_file(Blob::new(zip)),
            Source::S3 { bucket, key } => request.s3_bucket(bucket).s3_key(key),
        };
        let updated = request
            .send()
            .await
            .map_err(sdk)
            .with_context(|| format!("cannot update the code of function {name}"))?;
        let reported = updated.code_sha256().unwrap_or_default();
        if reported != expected {
            bail!(
                "function {name} reports CodeSha256 {reported} after the update, not the zip's \
                 {expected}: someone else changed it at the same time; run the command again"
            );
        }
        let (status, reason) = last_update(lambda, &name).await?;
        if status == Some(LastUpdateStatus::Failed) {
            bail!("Lambda could not apply the new code of function {name}: {reason}");
        }
    }
    if let Some(variables) = environment {
        // The values are never printed: a variable may hold what only the function should see.
        lambda
            .update_function_configuration()
            .function_name(&name)
            .environment(
                Environment::builder()
                    .set_variables(Some(variables.into_iter().collect()))
                    .build(),
            )
            .send()
            .await
            .map_err(sdk)
            .with_context(|| format!("cannot update the environment of function {name}"))?;
        let (status, reason) = last_update(lambda, &name).await?;
        if status == Some(LastUpdateStatus::Failed) {
            bail!("Lambda could not apply the new environment of function {name}: {reason}");
        }
    }
    Ok(done(Outcome::Updated {
        took: started.elapsed(),
        change,
    }))
}

/// Waits while an update of the function is in progress; returns the
/// status it settled in and Lambda's reason (with its code) when it gives one.
async fn last_update(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
) -> anyhow::Result<(Option<LastUpdateStatus>, String)> {
    let deadline = Instant::now() + UPDATE_TIMEOUT;
    loop {
        let config = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(sdk)
            .with_context(|| format!("cannot read the configuration of function {name}"))?;
        let status = config.last_update_status().cloned();
        if status != Some(LastUpdateStatus::InProgress) {
            let reason = match (
                config.last_update_status_reason(),
                config.last_update_status_reason_code(),
            ) {
                (Some(reason), Some(code)) => format!("{reason} ({})", code.as_str()),
                (Some(reason), None) => reason.to_owned(),
                (None, Some(code)) => code.as_str().to_owned(),
                (None, None) => "no reason given".to_owned(),
            };
            return Ok((status, reason));
        }
        if Instant::now() >= deadline {
            bail!(
                "function {name} is still applying an update after {} s; look at it in the \
                 Lambda console, then run the command again",
                UPDATE_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::StagePolicy;
    use serde_json::json;

    fn checked(policy: StagePolicy) -> Checked {
        Checked {
            settings: infra::Settings::new(infra::StackName::new("sign-in").unwrap()),
            domain_prefix: None,
            policy,
        }
    }

    #[test]
    fn a_production_stage_is_never_hotswapped() {
        let err = check_allowed(&checked(StagePolicy {
            production: true,
            hotswap: true,
        }))
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("production"), "{text}");
        assert!(text.contains("without --hotswap"), "{text}");

        let err = check_allowed(&checked(StagePolicy {
            production: false,
            hotswap: false,
        }))
        .unwrap_err();
        assert!(format!("{err:#}").contains("without hotswap"), "{err:#}");

        check_allowed(&checked(StagePolicy::DEVELOPMENT)).unwrap();
    }

    fn our_template(settings: &infra::Settings) -> Value {
        infra::sign_in_stack(settings).to_value().unwrap()
    }

    fn parameters(login_key: &str) -> Vec<(&'static str, String)> {
        use infra::stack::params as p;
        vec![
            (p::DOMAIN_PREFIX, "signin-abc".to_owned()),
            (p::AUTH_CODE_BUCKET, "artifacts".to_owned()),
            (p::AUTH_CODE_KEY, "a".repeat(64)),
            (p::LOGIN_CODE_BUCKET, "artifacts".to_owned()),
            (p::LOGIN_CODE_KEY, login_key.to_owned()),
        ]
    }

    fn deployed(parameters: &[(&str, String)]) -> Vec<(String, String)> {
        parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn new_code_keys_alone_are_no_difference() {
        let settings = infra::Settings::new(infra::StackName::new("sign-in").unwrap());
        let template = our_template(&settings);
        let old = parameters(&"b".repeat(64));
        let new = parameters(&"c".repeat(64));
        assert_eq!(
            differences(&template, &deployed(&old), &template, &new),
            vec![]
        );
    }

    #[test]
    fn any_other_change_is_named_by_resource_and_property() {
        let mut settings = infra::Settings::new(infra::StackName::new("sign-in").unwrap());
        let old = our_template(&settings);
        settings.log_retention = infra::LogRetention::days(7).unwrap();
        let new = our_template(&settings);
        let params = parameters(&"b".repeat(64));
        let found = differences(&old, &deployed(&params), &new, &params);
        let text: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "resource AuthLogGroup (AWS::Logs::LogGroup), property RetentionInDays",
                "resource LoginLogGroup (AWS::Logs::LogGroup), property RetentionInDays",
            ]
        );

        let mut new_prefix = params.clone();
        new_prefix[0].1 = "another".to_owned();
        assert_eq!(
            differences(&old, &deployed(&params), &old, &new_prefix),
            vec![Difference::Parameter("DomainPrefix".to_owned())]
        );
    }

    #[test]
    fn environment_attributes_outputs_and_resources_count_too() {
        let old = json!({
            "Description": "one",
            "Resources": {
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"A": "1"}}}},
                "Gone": {"Type": "AWS::SSM::Parameter", "Properties": {}},
            },
            "Outputs": {"Url": {"Value": "a"}},
        });
        let new = json!({
            "Description": "two",
            "Resources": {
                "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Role"], "Properties": {"Environment": {"Variables": {"A": "2"}}}},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            },
            "Outputs": {"Url": {"Value": "b"}},
        });
        let text: Vec<String> = differences(&old, &[], &new, &[])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            text,
            [
                "resource Fn (AWS::Lambda::Function), property Environment",
                "resource Fn (AWS::Lambda::Function), DependsOn",
                "resource Role (AWS::IAM::Role) is new",
                "resource Gone (AWS::SSM::Parameter) is removed",
                "Description of the template",
                "Outputs Url of the template",
            ]
        );
    }

    fn known() -> Known {
        Known {
            stack_name: "sign-in".to_owned(),
            region: Some("eu-west-1".to_owned()),
            account: Some("123456789012".to_owned()),
            parameters: HashMap::new(),
            resources: HashMap::from([
                ("LoginTable".to_owned(), "sign-in-LoginTable-1".to_owned()),
                ("LoginBucket".to_owned(), "sign-in-loginbucket-1".to_owned()),
            ]),
        }
    }

    #[test]
    fn our_login_functions_environment_is_worked_out_from_the_stack() {
        let settings = infra::Settings::new(infra::StackName::new("sign-in").unwrap());
        let template = our_template(&settings);
        let login = &template["Resources"]["LoginFunction"];
        assert_eq!(
            environment(login, &known()).unwrap(),
            BTreeMap::from([
                ("BUCKET_NAME".to_owned(), "sign-in-loginbucket-1".to_owned()),
                (
                    "GREETINGS_PATH".to_owned(),
                    "/sign-in/greetings/".to_owned()
                ),
                ("TABLE_NAME".to_owned(), "sign-in-LoginTable-1".to_owned()),
            ])
        );
        assert_eq!(
            environment(&json!({"Properties": {}}), &known()),
            Ok(BTreeMap::new())
        );
    }

    #[test]
    fn an_environment_only_cloudformation_can_work_out_is_named_with_why() {
        let function = json!({"Properties": {"Environment": {"Variables": {
            "TABLE_NAME": {"Ref": "LoginTable"},
            "TABLE_ARN": {"Fn::GetAtt": ["LoginTable", "Arn"]},
        }}}});
        let unresolved = environment(&function, &known()).unwrap_err();
        let blocker = Blocker::Environment {
            logical_id: "LoginFunction".to_owned(),
            unresolved,
        };
        assert_eq!(
            blocker.to_string(),
            "the environment of function LoginFunction changed, and its variable TABLE_ARN \
             cannot be worked out: it uses Fn::GetAtt LoginTable.Arn, which only CloudFormation \
             evaluates"
        );
        let odd = json!({"Properties": {"Environment": {"Variables": {}, "Other": 1}}});
        assert_eq!(environment(&odd, &known()), Err(Unresolved::Shape));
    }

    #[test]
    fn only_a_functions_environment_may_differ_besides_code() {
        let environment = Difference::Property {
            logical_id: "LoginFunction".to_owned(),
            kind: "AWS::Lambda::Function".to_owned(),
            property: "Environment".to_owned(),
        };
        assert!(is_function_environment(&environment));
        for other in [
            Difference::Property {
                logical_id: "LoginFunction".to_owned(),
                kind: "AWS::Lambda::Function".to_owned(),
                property: "MemorySize".to_owned(),
            },
            Difference::Property {
                logical_id: "Queue".to_owned(),
                kind: "AWS::SQS::Queue".to_owned(),
                property: "Environment".to_owned(),
            },
            Difference::Parameter("DomainPrefix".to_owned()),
        ] {
            assert!(!is_function_environment(&other), "{other}");
        }
    }

    #[test]
    fn lambda_reports_the_base64_sha256() {
        // printf '' | sha256sum, in base64.
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn a_blocker_names_what_changed() {
        let blocker = Blocker::Differences(
            (0..14)
                .map(|i| Difference::Parameter(format!("P{i}")))
                .collect(),
        );
        let text = blocker.to_string();
        assert!(
            text.starts_with("more than code and environment changed: parameter P0; "),
            "{text}"
        );
        assert!(text.ends_with("; and 2 more"), "{text}");
    }
}
