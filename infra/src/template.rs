//! The template: parameters, resources and outputs in insertion order, so
//! the output is byte-identical from run to run and reads top to bottom in
//! the order the stack was written.

use std::marker::PhantomData;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::Expr;

/// A CloudFormation resource type.
pub trait Resource: Serialize {
    /// The CloudFormation type name, such as `AWS::S3::Bucket`.
    const TYPE: &'static str;
}

/// A resource added to a template: the only way to refer to it.
///
/// Attributes are methods on `Handle<T>` for the `T` that has them
/// (`pool.arn()`), so a reference to a resource outside the template or an
/// attribute its type lacks cannot be written.
#[derive(Debug)]
pub struct Handle<T> {
    id: String,
    kind: PhantomData<fn() -> T>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Self {
            id: self.id.clone(),
            kind: PhantomData,
        }
    }
}

impl<T> Handle<T> {
    /// The logical id.
    pub fn logical_id(&self) -> &str {
        &self.id
    }

    /// `{"Ref": id}`; what it returns depends on the type, so each type
    /// exposes it under the name of what it is (`table.name()`, `pool.id()`).
    pub(crate) fn reference(&self) -> Expr {
        Expr::Ref(self.id.clone())
    }

    /// `{"Fn::GetAtt": [id, attribute]}`, for the attribute methods.
    pub(crate) fn attribute(&self, name: &'static str) -> Expr {
        Expr::GetAtt(self.id.clone(), name)
    }
}

/// A template parameter added to a template.
#[derive(Debug, Clone)]
pub struct ParameterHandle {
    id: String,
}

impl ParameterHandle {
    /// The parameter's value.
    pub fn value(&self) -> Expr {
        Expr::Ref(self.id.clone())
    }
}

/// A `String` template parameter.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(rename = "Type")]
    pub(crate) kind: &'static str,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint_description: Option<String>,
}

impl Parameter {
    /// A `String` parameter with a description.
    pub fn string(description: impl Into<String>) -> Self {
        Self {
            kind: "String",
            description: description.into(),
            ..Self::default()
        }
    }
}

/// A stack output.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub description: String,
    pub value: Expr,
}

/// Why a template is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("logical id `{0}` is used twice")]
    Duplicate(String),
    #[error("logical id `{0}` must be alphanumeric, 1 to 255 characters")]
    BadLogicalId(String),
    #[error("`{from}` refers to `{to}`, which is not in the template")]
    Dangling { from: String, to: String },
    #[error("resource `{id}` cannot be serialized: {message}")]
    Serialize { id: String, message: String },
}

/// What CloudFormation does with a stateful resource (and its data) when
/// the stack deletes it or an update replaces it: written as both its
/// `DeletionPolicy` and its `UpdateReplacePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum DataPolicy {
    /// The resource goes with the stack (throwaway stages).
    #[default]
    Delete,
    /// The resource outlives the stack, and an old one outlives its replacement.
    Retain,
}

/// One entry of the `Resources` section.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_policy: Option<DataPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_replace_policy: Option<DataPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Value>,
    properties: Value,
}

/// A CloudFormation template. It has no `Serialize` of its own: the only
/// way to its JSON or YAML is [`Template::to_json`] or
/// [`Template::to_yaml`], which validate it first.
#[derive(Debug, Clone, Serialize)]
struct Body {
    #[serde(rename = "AWSTemplateFormatVersion")]
    version: &'static str,
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "Parameters", skip_serializing_if = "IndexMap::is_empty")]
    parameters: IndexMap<String, Parameter>,
    #[serde(rename = "Resources")]
    resources: IndexMap<String, Entry>,
    #[serde(rename = "Outputs", skip_serializing_if = "IndexMap::is_empty")]
    outputs: IndexMap<String, Output>,
}

/// A CloudFormation template, built with [`Template::add`] and friends. It
/// is not `Serialize`: the only ways to its JSON, YAML or JSON value are
/// [`Template::to_json`], [`Template::to_yaml`] and [`Template::to_value`],
/// and each validates it first, so an invalid template cannot be shipped.
#[derive(Debug, Clone)]
pub struct Template {
    body: Body,
    problems: Vec<TemplateError>,
}

impl Template {
    /// An empty template.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            body: Body {
                version: "2010-09-09",
                description: description.into(),
                parameters: IndexMap::new(),
                resources: IndexMap::new(),
                outputs: IndexMap::new(),
            },
            problems: Vec::new(),
        }
    }

    /// Adds a parameter and returns the handle to its value.
    pub fn parameter(&mut self, id: &str, parameter: Parameter) -> ParameterHandle {
        self.claim(id);
        self.body.parameters.insert(id.to_owned(), parameter);
        ParameterHandle { id: id.to_owned() }
    }

    /// Adds a resource and returns the handle that refers to it.
    pub fn add<T: Resource>(&mut self, id: &str, resource: T) -> Handle<T> {
        self.claim(id);
        let properties = serde_json::to_value(&resource).unwrap_or_else(|err| {
            self.problems.push(TemplateError::Serialize {
                id: id.to_owned(),
                message: err.to_string(),
            });
            Value::Null
        });
        self.body.resources.insert(
            id.to_owned(),
            Entry {
                kind: T::TYPE,
                depends_on: Vec::new(),
                deletion_policy: None,
                update_replace_policy: None,
                metadata: None,
                properties,
            },
        );
        Handle {
            id: id.to_owned(),
            kind: PhantomData,
        }
    }

    /// Makes `resource` wait for `dependency` where no reference says so.
    pub fn depends_on<T, U>(&mut self, resource: &Handle<T>, dependency: &Handle<U>) {
        if let Some(entry) = self.body.resources.get_mut(&resource.id) {
            entry.depends_on.push(dependency.id.clone());
        }
    }

    /// Says what becomes of `resource`'s data when the stack deletes it or
    /// an update replaces it (its `DeletionPolicy` and `UpdateReplacePolicy`).
    pub fn data_policy<T>(&mut self, resource: &Handle<T>, policy: DataPolicy) {
        if let Some(entry) = self.body.resources.get_mut(&resource.id) {
            entry.deletion_policy = Some(policy);
            entry.update_replace_policy = Some(policy);
        }
    }

    /// Skips a checkov check on one resource, with the reason a reviewer reads.
    pub fn skip_check<T>(&mut self, resource: &Handle<T>, check: &str, reason: &str) {
        let Some(entry) = self.body.resources.get_mut(&resource.id) else {
            return;
        };
        let metadata = entry
            .metadata
            .get_or_insert_with(|| serde_json::json!({ "checkov": { "skip": [] } }));
        if let Some(Value::Array(skips)) = metadata.pointer_mut("/checkov/skip") {
            skips.push(serde_json::json!({ "id": check, "comment": reason }));
        }
    }

    /// Adds an output.
    pub fn output(&mut self, id: &str, description: &str, value: Expr) {
        self.claim(id);
        self.body.outputs.insert(
            id.to_owned(),
            Output {
                description: description.to_owned(),
                value,
            },
        );
    }

    fn claim(&mut self, id: &str) {
        let taken = self.body.parameters.contains_key(id)
            || self.body.resources.contains_key(id)
            || self.body.outputs.contains_key(id);
        if taken {
            self.problems.push(TemplateError::Duplicate(id.to_owned()));
        }
        let well_formed =
            !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !well_formed {
            self.problems
                .push(TemplateError::BadLogicalId(id.to_owned()));
        }
    }

    /// The logical ids and types of the resources, in template order.
    pub fn resources(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.body
            .resources
            .iter()
            .map(|(id, entry)| (id.as_str(), entry.kind))
    }

    /// The logical ids of the parameters, in template order.
    pub fn parameters(&self) -> impl Iterator<Item = &str> {
        self.body.parameters.keys().map(String::as_str)
    }

    /// Checks what the types cannot: ids are unique and well formed, and
    /// every `Ref` and `Fn::GetAtt` names something in this template.
    pub fn validate(&self) -> Result<(), TemplateError> {
        if let Some(problem) = self.problems.first() {
            return Err(problem.clone());
        }
        let known = |id: &str| {
            id.starts_with("AWS::")
                || self.body.parameters.contains_key(id)
                || self.body.resources.contains_key(id)
        };
        let mut targets = Vec::new();
        for (id, entry) in &self.body.resources {
            targets.clear();
            collect_references(&entry.properties, &mut targets);
            targets.extend(entry.depends_on.iter().cloned());
            if let Some(to) = targets.iter().find(|to| !known(to)) {
                return Err(TemplateError::Dangling {
                    from: id.clone(),
                    to: to.clone(),
                });
            }
        }
        for (id, output) in &self.body.outputs {
            targets.clear();
            output.value.references(&mut targets);
            if let Some(to) = targets.iter().find(|to| !known(to)) {
                return Err(TemplateError::Dangling {
                    from: id.clone(),
                    to: to.clone(),
                });
            }
        }
        Ok(())
    }

    /// The template as pretty JSON, the form CloudFormation is sent; fails
    /// when [`Template::validate`] does.
    pub fn to_json(&self) -> Result<String, TemplateError> {
        self.validate()?;
        let text =
            serde_json::to_string_pretty(&self.body).map_err(|err| self.unserializable(&err))?;
        Ok(text + "\n")
    }

    /// The template as YAML, for reading; fails when [`Template::validate`] does.
    pub fn to_yaml(&self) -> Result<String, TemplateError> {
        self.validate()?;
        serde_norway::to_string(&self.body).map_err(|err| self.unserializable(&err))
    }

    /// The template as a JSON value, for tests and tools that inspect it;
    /// fails when [`Template::validate`] does.
    pub fn to_value(&self) -> Result<Value, TemplateError> {
        self.validate()?;
        serde_json::to_value(&self.body).map_err(|err| self.unserializable(&err))
    }

    fn unserializable(&self, err: &dyn std::fmt::Display) -> TemplateError {
        // Every value is a map of strings to JSON values, so this is not
        // expected; it is reported rather than written out half empty.
        TemplateError::Serialize {
            id: "the template".to_owned(),
            message: err.to_string(),
        }
    }
}

fn collect_references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let (1, Some(Value::String(id))) = (map.len(), map.get("Ref")) {
                out.push(id.clone());
            } else if let (1, Some(Value::Array(pair))) = (map.len(), map.get("Fn::GetAtt")) {
                if let Some(Value::String(id)) = pair.first() {
                    out.push(id.clone());
                }
            } else {
                map.values().for_each(|v| collect_references(v, out));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Thing {
        #[serde(skip_serializing_if = "Option::is_none")]
        target: Option<Expr>,
    }

    impl Resource for Thing {
        const TYPE: &'static str = "Test::Thing";
    }

    #[test]
    fn a_reference_from_another_template_is_rejected_naming_both_ids() {
        let mut other = Template::new("other");
        let stranger = other.add("Stranger", Thing { target: None });
        let mut template = Template::new("test");
        template.add(
            "Pointer",
            Thing {
                target: Some(stranger.reference()),
            },
        );
        assert_eq!(
            template.validate(),
            Err(TemplateError::Dangling {
                from: "Pointer".into(),
                to: "Stranger".into()
            })
        );
    }

    #[test]
    fn duplicate_and_malformed_ids_are_rejected() {
        let mut template = Template::new("test");
        template.add("Same", Thing { target: None });
        template.output("Same", "clash", Expr::REGION);
        assert_eq!(
            template.validate(),
            Err(TemplateError::Duplicate("Same".into()))
        );

        let mut template = Template::new("test");
        template.add("not-alnum", Thing { target: None });
        assert_eq!(
            template.validate(),
            Err(TemplateError::BadLogicalId("not-alnum".into()))
        );
    }

    #[test]
    fn an_invalid_template_has_no_json_yaml_or_value() {
        let mut template = Template::new("test");
        template.add("Same", Thing { target: None });
        template.add("Same", Thing { target: None });
        let problem = TemplateError::Duplicate("Same".into());
        assert_eq!(template.to_json(), Err(problem.clone()));
        assert_eq!(template.to_yaml(), Err(problem.clone()));
        assert_eq!(template.to_value(), Err(problem));
    }

    #[test]
    fn a_data_policy_is_both_deletion_and_update_replace_policy() {
        let mut template = Template::new("test");
        let kept = template.add("Kept", Thing { target: None });
        let gone = template.add("Gone", Thing { target: None });
        template.add("Unsaid", Thing { target: None });
        template.data_policy(&kept, DataPolicy::Retain);
        template.data_policy(&gone, DataPolicy::Delete);
        let value = template.to_value().unwrap();
        assert_eq!(value["Resources"]["Kept"]["DeletionPolicy"], "Retain");
        assert_eq!(value["Resources"]["Kept"]["UpdateReplacePolicy"], "Retain");
        assert_eq!(value["Resources"]["Gone"]["DeletionPolicy"], "Delete");
        assert_eq!(value["Resources"]["Gone"]["UpdateReplacePolicy"], "Delete");
        assert!(value["Resources"]["Unsaid"].get("DeletionPolicy").is_none());
    }

    #[test]
    fn unset_options_are_omitted_and_checkov_skips_land_in_metadata() {
        let mut template = Template::new("test");
        let thing = template.add("Thing", Thing { target: None });
        template.skip_check(&thing, "CKV_X_1", "because");
        let value = template.to_value().unwrap();
        assert_eq!(
            value["Resources"]["Thing"],
            serde_json::json!({
                "Type": "Test::Thing",
                "Metadata": { "checkov": { "skip": [{ "id": "CKV_X_1", "comment": "because" }] } },
                "Properties": {}
            })
        );
    }
}
