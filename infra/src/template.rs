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

/// One entry of the `Resources` section.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Value>,
    properties: Value,
}

/// A CloudFormation template.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
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
    #[serde(skip)]
    problems: Vec<TemplateError>,
}

impl Template {
    /// An empty template.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            version: "2010-09-09",
            description: description.into(),
            parameters: IndexMap::new(),
            resources: IndexMap::new(),
            outputs: IndexMap::new(),
            problems: Vec::new(),
        }
    }

    /// Adds a parameter and returns the handle to its value.
    pub fn parameter(&mut self, id: &str, parameter: Parameter) -> ParameterHandle {
        self.claim(id);
        self.parameters.insert(id.to_owned(), parameter);
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
        self.resources.insert(
            id.to_owned(),
            Entry {
                kind: T::TYPE,
                depends_on: Vec::new(),
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
        if let Some(entry) = self.resources.get_mut(&resource.id) {
            entry.depends_on.push(dependency.id.clone());
        }
    }

    /// Skips a checkov check on one resource, with the reason a reviewer reads.
    pub fn skip_check<T>(&mut self, resource: &Handle<T>, check: &str, reason: &str) {
        let Some(entry) = self.resources.get_mut(&resource.id) else {
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
        self.outputs.insert(
            id.to_owned(),
            Output {
                description: description.to_owned(),
                value,
            },
        );
    }

    fn claim(&mut self, id: &str) {
        let taken = self.parameters.contains_key(id)
            || self.resources.contains_key(id)
            || self.outputs.contains_key(id);
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
        self.resources
            .iter()
            .map(|(id, entry)| (id.as_str(), entry.kind))
    }

    /// The logical ids of the parameters, in template order.
    pub fn parameters(&self) -> impl Iterator<Item = &str> {
        self.parameters.keys().map(String::as_str)
    }

    /// Checks what the types cannot: ids are unique and well formed, and
    /// every `Ref` and `Fn::GetAtt` names something in this template.
    pub fn validate(&self) -> Result<(), TemplateError> {
        if let Some(problem) = self.problems.first() {
            return Err(problem.clone());
        }
        let known = |id: &str| {
            id.starts_with("AWS::")
                || self.parameters.contains_key(id)
                || self.resources.contains_key(id)
        };
        let mut targets = Vec::new();
        for (id, entry) in &self.resources {
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
        for (id, output) in &self.outputs {
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

    /// The template as pretty JSON, the form CloudFormation is sent.
    pub fn to_json(&self) -> String {
        // A template is maps of strings to values: serialization cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The template as YAML, for reading.
    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(self).unwrap_or_default()
    }

    /// The template as a JSON value, for tests and tools that inspect it.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
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
    fn unset_options_are_omitted_and_checkov_skips_land_in_metadata() {
        let mut template = Template::new("test");
        let thing = template.add("Thing", Thing { target: None });
        template.skip_check(&thing, "CKV_X_1", "because");
        let value = template.to_value();
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
