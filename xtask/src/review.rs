//! The review before a change set runs: its summary, the security changes
//! computed from the templates themselves (the deployed one against ours),
//! and the approval policy that decides whether to ask, as the CDK's
//! `--require-approval broadening` does.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::Context;
use aws_sdk_cloudformation::types::{ChangeSetType, TemplateStage};
use serde_json::{Map, Value};

use crate::aws::{Aws, sdk};
use crate::cfn::{self, ChangeSet};

/// When to ask before executing a change set.
#[derive(
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Approval {
    /// Never ask.
    Never,
    /// Ask when access widens (a security change below) or a resource is
    /// replaced or removed.
    #[default]
    Broadening,
    /// Ask whenever anything changes.
    AnyChange,
}

/// One change that concerns who may do what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecurityChange {
    /// The logical id of the resource.
    pub(crate) resource: String,
    /// What kind of change: "IAM statement added", "callback URL added", ….
    pub(crate) what: &'static str,
    /// The statement, URL or setting, readably.
    pub(crate) detail: String,
    /// Whether it widens access (CDK's "broadening").
    pub(crate) broadening: bool,
}

/// A change set (already computed) and the security changes beside it:
/// what `diff` shows and a deploy asks about.
#[derive(Debug)]
pub(crate) struct Review {
    pub(crate) change_set: ChangeSet,
    pub(crate) security: Vec<SecurityChange>,
}

/// The deployed template of a stack, as CloudFormation keeps it.
pub(crate) async fn deployed_template(aws: &Aws, stack: &str) -> anyhow::Result<Value> {
    let out = aws
        .cfn
        .get_template()
        .stack_name(stack)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .map_err(sdk)
        .with_context(|| format!("cannot read the deployed template of stack {stack}"))?;
    let body = out
        .template_body()
        .with_context(|| format!("stack {stack} has no template body"))?;
    // CloudFormation hands back what it was sent: JSON from this tool.
    serde_json::from_str(body)
        .with_context(|| format!("cannot read the deployed template of stack {stack} as JSON"))
}

/// The security changes from `old` (the deployed template; `None` for a
/// new stack) to `new`: IAM statements added or widened (role policies,
/// trust policies, managed policies), Lambda permissions, methods'
/// authorization, bucket policies, the app clients' URLs, OAuth flows and scopes.
pub(crate) fn security_changes(old: Option<&Value>, new: &Value) -> Vec<SecurityChange> {
    let empty = Map::new();
    let resources = |t: Option<&Value>| -> Map<String, Value> {
        t.and_then(|t| t.get("Resources"))
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .clone()
    };
    let (before, after) = (resources(old), resources(Some(new)));
    let mut changes = Vec::new();
    for (id, resource) in &after {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let props = |r: Option<&Value>| r.and_then(|r| r.get("Properties")).cloned();
        let was = props(
            before
                .get(id)
                .filter(|r| r.get("Type") == resource.get("Type")),
        );
        let now = props(Some(resource)).unwrap_or(Value::Null);
        let was = was.as_ref();
        let mut push = |what: &'static str, detail: String, broadening: bool| {
            changes.push(SecurityChange {
                resource: id.clone(),
                what,
                detail,
                broadening,
            });
        };
        if let Some(before) = before.get(id) {
            data_policies(before, resource, &mut push);
        }
        match kind {
            "AWS::IAM::Role" => {
                statements(
                    was.and_then(|p| p.get("AssumeRolePolicyDocument")),
                    now.get("AssumeRolePolicyDocument"),
                    "trust statement",
                    &mut push,
                );
                let policy = |p: Option<&Value>, name: &str| {
                    p.and_then(|p| p.get("Policies"))
                        .and_then(Value::as_array)
                        .and_then(|ps| {
                            ps.iter().find(|x| {
                                x.get("PolicyName").map(readable).as_deref() == Some(name)
                            })
                        })
                        .and_then(|x| x.get("PolicyDocument"))
                        .cloned()
                };
                for p in now
                    .get("Policies")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let name = p.get("PolicyName").map(readable).unwrap_or_default();
                    statements(
                        policy(was, &name).as_ref(),
                        policy(Some(&now), &name).as_ref(),
                        "IAM statement",
                        &mut push,
                    );
                }
                for arn in added(was, &now, "ManagedPolicyArns") {
                    push("managed policy attached", arn, true);
                }
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => statements(
                was.and_then(|p| p.get("PolicyDocument")),
                now.get("PolicyDocument"),
                "IAM statement",
                &mut push,
            ),
            "AWS::S3::BucketPolicy" => statements(
                was.and_then(|p| p.get("PolicyDocument")),
                now.get("PolicyDocument"),
                "bucket policy statement",
                &mut push,
            ),
            "AWS::Lambda::Permission" if was != Some(&now) => {
                let field = |k: &str| now.get(k).map(readable).unwrap_or_else(|| "?".to_owned());
                let source = now
                    .get("SourceArn")
                    .map(|s| format!(" from {}", readable(s)))
                    .unwrap_or_default();
                push(
                    if was.is_some() {
                        "Lambda permission changed"
                    } else {
                        "Lambda permission added"
                    },
                    format!(
                        "{} may {} {}{source}",
                        field("Principal"),
                        field("Action"),
                        field("FunctionName")
                    ),
                    true,
                );
            }
            "AWS::ApiGateway::Method" => {
                let auth = |p: Option<&Value>| {
                    let p = p?;
                    Some((
                        p.get("AuthorizationType")
                            .map(readable)
                            .unwrap_or_else(|| "NONE".to_owned()),
                        p.get("AuthorizerId").map(readable),
                    ))
                };
                let (before, after) = (auth(was), auth(Some(&now)));
                if before != after
                    && let Some((kind, authorizer)) = after
                {
                    let detail = match &authorizer {
                        Some(a) => format!("{kind} with authorizer {a}"),
                        None => kind.clone(),
                    };
                    let detail = match &before {
                        Some((k, a)) => format!(
                            "{detail} (was {k}{})",
                            a.as_ref()
                                .map(|a| format!(" with authorizer {a}"))
                                .unwrap_or_default()
                        ),
                        None => detail,
                    };
                    // Open to anyone, or trusting another authorizer: both widen.
                    let widens = kind == "NONE"
                        || before.is_none_or(|(_, a)| a != authorizer && authorizer.is_some());
                    push("method authorization", detail, widens);
                }
            }
            "AWS::Cognito::UserPoolClient" => {
                for (field, what_added, what_removed) in [
                    ("CallbackURLs", "callback URL added", "callback URL removed"),
                    ("LogoutURLs", "logout URL added", "logout URL removed"),
                    (
                        "AllowedOAuthFlows",
                        "OAuth flow added",
                        "OAuth flow removed",
                    ),
                    (
                        "AllowedOAuthScopes",
                        "OAuth scope added",
                        "OAuth scope removed",
                    ),
                ] {
                    for value in added(was, &now, field) {
                        push(what_added, value, true);
                    }
                    if let Some(was) = was {
                        for value in added(Some(&now), was, field) {
                            push(what_removed, value, false);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    changes
}

/// A stateful resource that stops (or starts) outliving the stack: a
/// deploy without `--retain-data` after one with it would otherwise drop the
/// protection silently, and the next delete or replacement takes the data.
fn data_policies(was: &Value, now: &Value, push: &mut impl FnMut(&'static str, String, bool)) {
    for attribute in ["DeletionPolicy", "UpdateReplacePolicy"] {
        // CloudFormation deletes what names no policy (snapshots aside).
        let policy = |r: &Value| {
            r.get(attribute)
                .and_then(Value::as_str)
                .unwrap_or("Delete")
                .to_owned()
        };
        let (before, after) = (policy(was), policy(now));
        if before == after {
            continue;
        }
        let kept = |p: &str| p != "Delete";
        if kept(&before) && !kept(&after) {
            push(
                "data no longer retained",
                format!("{attribute} {before} -> {after}: the data goes with the resource"),
                true,
            );
        } else {
            push(
                "data retention",
                format!("{attribute} {before} -> {after}"),
                false,
            );
        }
    }
}

/// The rendered items of list `field` in `now` that `was` lacks.
fn added(was: Option<&Value>, now: &Value, field: &str) -> Vec<String> {
    let items = |v: Option<&Value>| -> BTreeSet<String> {
        v.and_then(|v| v.get(field))
            .and_then(Value::as_array)
            .map(|a| a.iter().map(readable).collect())
            .unwrap_or_default()
    };
    let before = items(was);
    let mut fresh: Vec<String> = items(Some(now)).difference(&before).cloned().collect();
    fresh.sort();
    fresh
}

/// A statement as sets, so order and a lone string versus a list do not matter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stmt {
    effect: String,
    principal: String,
    condition: String,
    actions: BTreeSet<String>,
    resources: BTreeSet<String>,
}

impl Stmt {
    fn of(statement: &Value) -> Self {
        let set = |key: &str| -> BTreeSet<String> {
            match statement.get(key) {
                Some(Value::Array(items)) => items.iter().map(readable).collect(),
                Some(one) => BTreeSet::from([readable(one)]),
                None => BTreeSet::new(),
            }
        };
        Self {
            effect: statement.get("Effect").map(readable).unwrap_or_default(),
            principal: statement.get("Principal").map(readable).unwrap_or_default(),
            condition: statement.get("Condition").map(readable).unwrap_or_default(),
            actions: set("Action"),
            resources: set("Resource"),
        }
    }

    fn describe(&self) -> String {
        let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        let mut text = format!("{} {}", self.effect, join(&self.actions));
        if !self.resources.is_empty() {
            let _ = write!(text, " on {}", join(&self.resources));
        }
        if !self.principal.is_empty() {
            let _ = write!(text, " to {}", self.principal);
        }
        if !self.condition.is_empty() {
            let _ = write!(text, " if {}", self.condition);
        }
        text
    }
}

/// The `Allow` statements of `now` that `was` does not have: "added", or
/// "widened" when an old one with the same effect, principal and condition
/// covers fewer actions or resources.
fn statements(
    was: Option<&Value>,
    now: Option<&Value>,
    what: &'static str,
    push: &mut dyn FnMut(&'static str, String, bool),
) {
    let list = |doc: Option<&Value>| -> Vec<Stmt> {
        match doc.and_then(|d| d.get("Statement")) {
            Some(Value::Array(items)) => items.iter().map(Stmt::of).collect(),
            Some(one) => vec![Stmt::of(one)],
            None => Vec::new(),
        }
    };
    let before = list(was);
    for statement in list(now) {
        if statement.effect != "Allow" || before.contains(&statement) {
            continue;
        }
        let narrower = before.iter().find(|old| {
            old.effect == statement.effect
                && old.principal == statement.principal
                && old.condition == statement.condition
                && old.actions.is_subset(&statement.actions)
                && old.resources.is_subset(&statement.resources)
        });
        let (what, detail) = match narrower {
            Some(_) => (widened(what), statement.describe()),
            None => (added_kind(what), statement.describe()),
        };
        push(what, detail, true);
    }
}

fn added_kind(what: &'static str) -> &'static str {
    match what {
        "trust statement" => "trust statement added",
        "bucket policy statement" => "bucket policy statement added",
        _ => "IAM statement added",
    }
}

fn widened(what: &'static str) -> &'static str {
    match what {
        "trust statement" => "trust statement widened",
        "bucket policy statement" => "bucket policy statement widened",
        _ => "IAM statement widened",
    }
}

/// A template value as a person reads it: `${Id}` for a `Ref`,
/// `${Id.Attr}` for a `GetAtt`, joins joined, anything else as compact JSON.
fn readable(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(map) if map.len() == 1 => {
            let (key, inner) = map
                .iter()
                .next()
                .map_or(("", &Value::Null), |(k, v)| (k.as_str(), v));
            match (key, inner) {
                ("Ref", Value::String(id)) => format!("${{{id}}}"),
                ("Fn::GetAtt", Value::Array(pair)) => format!(
                    "${{{}}}",
                    pair.iter().map(readable).collect::<Vec<_>>().join(".")
                ),
                ("Fn::Join", Value::Array(args)) => match args.as_slice() {
                    [Value::String(sep), Value::Array(parts)] => {
                        parts.iter().map(readable).collect::<Vec<_>>().join(sep)
                    }
                    _ => value.to_string(),
                },
                ("Fn::Sub", Value::String(text)) => text.clone(),
                _ => value.to_string(),
            }
        }
        _ => value.to_string(),
    }
}

/// The security changes as a table, `*` marking those that widen access.
pub(crate) fn table(changes: &[SecurityChange]) -> String {
    let id = changes.iter().map(|c| c.resource.len()).max().unwrap_or(0);
    let what = changes.iter().map(|c| c.what.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in changes {
        let mark = if c.broadening { '*' } else { ' ' };
        let _ = writeln!(
            out,
            "  {mark} {:<id$}  {:<what$}  {}",
            c.resource, c.what, c.detail
        );
    }
    out
}

/// Why `approval` asks about this change set; empty when it does not.
pub(crate) fn reasons_to_ask(
    approval: Approval,
    change_set: &ChangeSet,
    security: &[SecurityChange],
) -> Vec<String> {
    let mut reasons: Vec<String> = Vec::new();
    match approval {
        Approval::Never => {}
        Approval::AnyChange => reasons.push("changes the stack".to_owned()),
        Approval::Broadening => {
            if security.iter().any(|c| c.broadening) {
                reasons.push("widens access (the security changes marked *)".to_owned());
            }
            reasons.extend(change_set.risks().into_iter().map(str::to_owned));
        }
    }
    reasons
}

/// Prints the change set's summary and its security changes.
pub(crate) fn print(stack: &str, change_set: &ChangeSet, security: &[SecurityChange]) {
    let verb = if change_set.kind == ChangeSetType::Create {
        "create"
    } else {
        "update"
    };
    eprintln!(
        "change set for stack {stack} ({verb}, {} resource changes):",
        change_set.changes.len()
    );
    eprint!("{}", cfn::change_set::summary(&change_set.changes));
    if !security.is_empty() {
        eprintln!("security changes ({}; * widens access):", security.len());
        eprint!("{}", table(security));
    }
}

/// The review as Markdown for a pull-request comment: a heading, the change
/// summary as a table and the security changes as another; one sentence
/// when `review` is `None` (the stack is up to date).
pub(crate) fn markdown(stack: &str, review: Option<&Review>) -> String {
    let Some(Review {
        change_set,
        security,
    }) = review
    else {
        return format!(
            "### `{}` is up to date\n\nA deploy would change nothing.\n",
            code(stack)
        );
    };
    let verb = if change_set.kind == ChangeSetType::Create {
        "create"
    } else {
        "update"
    };
    let count = change_set.changes.len();
    let mut out = format!(
        "### Changes to `{}` ({verb}, {count} resource {})\n\n",
        code(stack),
        if count == 1 { "change" } else { "changes" }
    );
    out.push_str("| | Action | Logical id | Type | Replacement | Changed |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for change in &change_set.changes {
        let replacement = match change.describe_replacement() {
            "REPLACED (new physical id)" => "**replaced** (new physical id)",
            other => other,
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | `{}` | {} | {} |",
            change.sign(),
            change.action.as_str(),
            code(&change.logical_id),
            code(&change.resource_type),
            replacement,
            change
                .details
                .iter()
                .map(|d| format!("`{}`", code(d)))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    if !security.is_empty() {
        let widening = security.iter().filter(|c| c.broadening).count();
        let _ = write!(
            out,
            "\n#### Security changes ({}, {widening} widening access)\n\n",
            security.len()
        );
        out.push_str("| Widens access | Resource | Change | Detail |\n");
        out.push_str("| --- | --- | --- | --- |\n");
        for c in security {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | `{}` |",
                if c.broadening { "**yes**" } else { "no" },
                code(&c.resource),
                c.what,
                code(&c.detail),
            );
        }
    }
    out
}

/// Text for inside a Markdown code span in a table cell: a backtick would
/// end the span and a `|` the cell (GitHub splits cells on it even inside
/// code), and a line break would end the row.
fn code(text: &str) -> String {
    text.replace('`', "'")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Prints the review, then asks when `approval` calls for it. Returns
/// whether to execute; a change set that will not run is deleted.
pub(crate) async fn approve(
    aws: &Aws,
    stack: &str,
    change_set: &ChangeSet,
    security: &[SecurityChange],
    approval: Approval,
) -> anyhow::Result<bool> {
    print(stack, change_set, security);
    let reasons = reasons_to_ask(approval, change_set, security);
    if reasons.is_empty() {
        return Ok(true);
    }
    let no_terminal = format!(
        "this change set {}; review it above and run again with --yes (or \
         --require-approval never) to apply it (there is no terminal to ask on)",
        reasons.join(", ")
    );
    let go = match crate::progress::confirm(
        &format!("this change set {}: execute it?", reasons.join(", ")),
        &no_terminal,
    ) {
        Ok(go) => go,
        Err(err) => {
            cfn::change_set::discard(&aws.cfn, change_set).await?;
            return Err(err);
        }
    };
    if !go {
        cfn::change_set::discard(&aws.cfn, change_set).await?;
        eprintln!("not deployed; the change set is deleted");
    }
    Ok(go)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn stack() -> Value {
        let settings =
            infra::Settings::new(infra::StackName::new("demo").unwrap_or_else(|_| unreachable!()));
        infra::sign_in_stack(&settings)
            .to_value()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The changes from the real template to the real template edited by `edit`.
    fn check(edit: impl FnOnce(&mut Value)) -> Vec<(String, &'static str, String, bool)> {
        let old = stack();
        let mut new = old.clone();
        edit(&mut new);
        security_changes(Some(&old), &new)
            .into_iter()
            .map(|c| (c.resource, c.what, c.detail, c.broadening))
            .collect()
    }

    fn props<'a>(t: &'a mut Value, id: &str) -> &'a mut Value {
        &mut t["Resources"][id]["Properties"]
    }

    #[test]
    fn the_same_template_has_no_security_changes() {
        assert_eq!(check(|_| {}), []);
    }

    #[test]
    fn a_new_stack_lists_every_grant_it_makes() {
        let changes = security_changes(None, &stack());
        let kinds: BTreeSet<&str> = changes.iter().map(|c| c.what).collect();
        assert_eq!(
            kinds,
            BTreeSet::from([
                "IAM statement added",
                "Lambda permission added",
                "OAuth flow added",
                "OAuth scope added",
                "callback URL added",
                "logout URL added",
                "method authorization",
                "trust statement added",
            ])
        );
        // The deny-only TLS bucket policies widen nothing.
        assert!(
            changes
                .iter()
                .all(|c| c.what != "bucket policy statement added")
        );
    }

    #[test]
    fn an_iam_statement_added_or_widened() {
        let changes = check(|t| {
            let statements =
                &mut props(t, "LoginRole")["Policies"][0]["PolicyDocument"]["Statement"];
            statements[0]["Action"]
                .as_array_mut()
                .unwrap()
                .push("dynamodb:DeleteItem".into());
            statements
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": ["*"]}));
        });
        let what: Vec<&str> = changes.iter().map(|c| c.1).collect();
        assert_eq!(
            what,
            ["IAM statement widened", "IAM statement added"],
            "{changes:?}"
        );
        assert!(changes[0].2.contains("dynamodb:DeleteItem"), "{changes:?}");
        assert_eq!(changes[1].2, "Allow s3:ListAllMyBuckets on *");
        assert!(changes.iter().all(|c| c.0 == "LoginRole" && c.3));
    }

    #[test]
    fn a_deny_statement_added_is_not_broadening() {
        let changes = check(|t| {
            props(t, "LoginRole")["Policies"][0]["PolicyDocument"]["Statement"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}));
        });
        assert_eq!(changes, []);
    }

    #[test]
    fn a_lambda_permission_changed() {
        let changes = check(|t| {
            props(t, "LoginInvokePermission")["Principal"] = "*".into();
        });
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].1, "Lambda permission changed");
        assert!(
            changes[0]
                .2
                .starts_with("* may lambda:InvokeFunction ${LoginFunction.Arn}"),
            "{changes:?}"
        );
        assert!(changes[0].3);
    }

    #[test]
    fn a_method_opened_to_anyone_or_given_another_authorizer() {
        let changes = check(|t| {
            let method = props(t, "LoginMethod");
            method["AuthorizationType"] = "NONE".into();
            method.as_object_mut().unwrap().remove("AuthorizerId");
        });
        assert_eq!(
            changes,
            [(
                "LoginMethod".to_owned(),
                "method authorization",
                "NONE (was COGNITO_USER_POOLS with authorizer ${Authorizer})".to_owned(),
                true
            )]
        );
        let changes = check(|t| {
            props(t, "LoginMethod")["AuthorizerId"] = serde_json::json!({"Ref": "OtherAuthorizer"});
        });
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(changes[0].3, "{changes:?}");
    }

    #[test]
    fn a_bucket_policy_statement_added() {
        let changes = check(|t| {
            props(t, "LoginBucketPolicy")["PolicyDocument"]["Statement"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}));
        });
        assert_eq!(
            changes,
            [(
                "LoginBucketPolicy".to_owned(),
                "bucket policy statement added",
                "Allow s3:GetObject on * to *".to_owned(),
                true
            )]
        );
    }

    #[test]
    fn the_app_clients_urls_flows_and_scopes() {
        let changes = check(|t| {
            let client = props(t, "UserPoolClient");
            client["CallbackURLs"]
                .as_array_mut()
                .unwrap()
                .push("https://evil.example/cb".into());
            client["LogoutURLs"]
                .as_array_mut()
                .unwrap()
                .push("https://evil.example/bye".into());
            client["AllowedOAuthFlows"] = serde_json::json!(["implicit"]);
            client["AllowedOAuthScopes"]
                .as_array_mut()
                .unwrap()
                .push("profile".into());
        });
        let rows: Vec<(&str, &str, bool)> =
            changes.iter().map(|c| (c.1, c.2.as_str(), c.3)).collect();
        assert_eq!(
            rows,
            [
                ("callback URL added", "https://evil.example/cb", true),
                ("logout URL added", "https://evil.example/bye", true),
                ("OAuth flow added", "implicit", true),
                ("OAuth flow removed", "code", false),
                ("OAuth scope added", "profile", true),
            ]
        );
    }

    #[test]
    fn dropping_the_data_retention_asks_and_adding_it_does_not() {
        let mut settings =
            infra::Settings::new(infra::StackName::new("demo").unwrap_or_else(|_| unreachable!()));
        settings.data_policy = infra::DataPolicy::Retain;
        let retained = infra::sign_in_stack(&settings)
            .to_value()
            .unwrap_or_else(|e| panic!("{e}"));
        // The pool, the table and the data bucket, each with both policies.
        let changes = security_changes(Some(&retained), &stack());
        assert_eq!(changes.len(), 6, "{changes:#?}");
        assert!(
            changes
                .iter()
                .all(|c| c.broadening && c.what == "data no longer retained"),
            "{changes:#?}"
        );
        let changes = security_changes(Some(&stack()), &retained);
        assert_eq!(changes.len(), 6, "{changes:#?}");
        assert!(changes.iter().all(|c| !c.broadening), "{changes:#?}");
    }

    #[test]
    fn the_table_marks_what_widens_access() {
        let text = table(&[
            SecurityChange {
                resource: "UserPoolClient".into(),
                what: "callback URL added",
                detail: "https://x/cb".into(),
                broadening: true,
            },
            SecurityChange {
                resource: "UserPoolClient".into(),
                what: "OAuth flow removed",
                detail: "code".into(),
                broadening: false,
            },
        ]);
        assert_eq!(
            text,
            "  * UserPoolClient  callback URL added  https://x/cb\n    UserPoolClient  OAuth flow removed  code\n"
        );
    }

    #[test]
    fn markdown_has_the_summary_and_the_security_changes_as_tables() {
        use aws_sdk_cloudformation::types::{ChangeAction, Replacement};
        let change = |action, id: &str, ty: &str, replacement, details: &[&str]| {
            cfn::change_set::ResourceChange {
                action,
                logical_id: id.into(),
                resource_type: ty.into(),
                replacement,
                details: details.iter().map(|d| (*d).to_owned()).collect(),
            }
        };
        let review = Review {
            change_set: ChangeSet {
                id: "cs".into(),
                stack_id: "s".into(),
                kind: ChangeSetType::Update,
                changes: vec![
                    change(
                        ChangeAction::Modify,
                        "LoginFunction",
                        "AWS::Lambda::Function",
                        Some(Replacement::False),
                        &["Code"],
                    ),
                    change(
                        ChangeAction::Modify,
                        "UserPoolClient",
                        "AWS::Cognito::UserPoolClient",
                        Some(Replacement::True),
                        &["GenerateSecret"],
                    ),
                    change(ChangeAction::Add, "Extra", "AWS::SSM::Parameter", None, &[]),
                ],
            },
            security: vec![
                SecurityChange {
                    resource: "UserPoolClient".into(),
                    what: "callback URL added",
                    detail: "https://x/cb?a|b".into(),
                    broadening: true,
                },
                SecurityChange {
                    resource: "UserPoolClient".into(),
                    what: "OAuth flow removed",
                    detail: "code".into(),
                    broadening: false,
                },
            ],
        };
        assert_eq!(
            markdown("demo", Some(&review)),
            "### Changes to `demo` (update, 3 resource changes)\n\
             \n\
             | | Action | Logical id | Type | Replacement | Changed |\n\
             | --- | --- | --- | --- | --- | --- |\n\
             | `~` | Modify | `LoginFunction` | `AWS::Lambda::Function` | in place | `Code` |\n\
             | `!` | Modify | `UserPoolClient` | `AWS::Cognito::UserPoolClient` | **replaced** (new physical id) | `GenerateSecret` |\n\
             | `+` | Add | `Extra` | `AWS::SSM::Parameter` |  |  |\n\
             \n\
             #### Security changes (2, 1 widening access)\n\
             \n\
             | Widens access | Resource | Change | Detail |\n\
             | --- | --- | --- | --- |\n\
             | **yes** | `UserPoolClient` | callback URL added | `https://x/cb?a\\|b` |\n\
             | no | `UserPoolClient` | OAuth flow removed | `code` |\n"
        );
        assert_eq!(
            markdown("demo", None),
            "### `demo` is up to date\n\nA deploy would change nothing.\n"
        );
    }

    #[test]
    fn the_policy_decides_when_to_ask() {
        let change_set = |action| ChangeSet {
            id: "cs".into(),
            stack_id: "s".into(),
            kind: ChangeSetType::Update,
            changes: vec![cfn::change_set::ResourceChange {
                action,
                logical_id: "LoginFunction".into(),
                resource_type: "AWS::Lambda::Function".into(),
                replacement: None,
                details: vec![],
            }],
        };
        use aws_sdk_cloudformation::types::ChangeAction;
        let code_only = change_set(ChangeAction::Modify);
        let widening = [SecurityChange {
            resource: "UserPoolClient".into(),
            what: "callback URL added",
            detail: "x".into(),
            broadening: true,
        }];
        assert!(reasons_to_ask(Approval::Broadening, &code_only, &[]).is_empty());
        assert_eq!(
            reasons_to_ask(Approval::Broadening, &code_only, &widening).len(),
            1
        );
        assert_eq!(
            reasons_to_ask(Approval::Broadening, &change_set(ChangeAction::Remove), &[]),
            ["removes a resource"]
        );
        assert_eq!(
            reasons_to_ask(Approval::AnyChange, &code_only, &[]),
            ["changes the stack"]
        );
        assert!(
            reasons_to_ask(
                Approval::Never,
                &change_set(ChangeAction::Remove),
                &widening
            )
            .is_empty()
        );
    }
}
