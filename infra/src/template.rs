//! The template: parameters, resources and outputs in insertion order, so
//! the output is byte-identical from run to run and reads top to bottom in
//! the order the stack was written.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::Expr;

/// A CloudFormation resource type: its properties, serialized as
/// CloudFormation spells them.
pub trait Resource: Serialize + fmt::Debug + Send + Sync + 'static {
    /// The CloudFormation type name, such as `AWS::S3::Bucket`.
    const TYPE: &'static str;
}

/// A resource added to a template: how the stacks refer to it.
///
/// Attributes are methods on `Handle<T>` for the `T` that has them
/// (`pool.arn()`), so an attribute its type lacks cannot be written. A
/// handle is its logical id: used with another template, it is refused by
/// [`Template::validate`] unless that template has a resource of the same id.
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
    #[error("resource `{0}` is not in this template, so nothing can be said about it here")]
    Foreign(String),
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

/// A resource's properties, kept as the typed value the stack wrote until
/// the template is rendered.
trait Properties: fmt::Debug + Send + Sync {
    fn to_value(&self) -> serde_json::Result<Value>;
}

impl<T: Resource> Properties for T {
    fn to_value(&self) -> serde_json::Result<Value> {
        serde_json::to_value(self)
    }
}

/// One entry of the `Resources` section, as the stack built it.
#[derive(Debug, Clone)]
struct Entry {
    kind: &'static str,
    depends_on: Vec<String>,
    data_policy: Option<DataPolicy>,
    skips: Vec<Skip>,
    properties: Arc<dyn Properties>,
}

/// A checkov check skipped on one resource, with the reason a reviewer reads.
#[derive(Debug, Clone, Serialize)]
struct Skip {
    id: String,
    comment: String,
}

/// A CloudFormation template, built with [`Template::add`] and friends. It
/// is not `Serialize`: the only ways to its JSON, YAML or JSON value are
/// [`Template::to_json`], [`Template::to_yaml`] and [`Template::to_value`],
/// and each validates it first, so an invalid template cannot be shipped.
#[derive(Debug, Clone)]
pub struct Template {
    description: String,
    parameters: IndexMap<String, Parameter>,
    resources: IndexMap<String, Entry>,
    outputs: IndexMap<String, Output>,
    problems: Vec<TemplateError>,
}

/// The template as it is written out: every resource's properties
/// serialized, and every reference checked.
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "AWSTemplateFormatVersion")]
    version: &'static str,
    #[serde(rename = "Description")]
    description: &'a str,
    #[serde(rename = "Parameters", skip_serializing_if = "IndexMap::is_empty")]
    parameters: &'a IndexMap<String, Parameter>,
    #[serde(rename = "Resources")]
    resources: IndexMap<&'a str, Rendered<'a>>,
    #[serde(rename = "Outputs", skip_serializing_if = "IndexMap::is_empty")]
    outputs: &'a IndexMap<String, Output>,
}

/// One entry of the `Resources` section, as it is written out.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Rendered<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    depends_on: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_policy: Option<DataPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_replace_policy: Option<DataPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
    properties: Value,
}

/// `Metadata: {checkov: {skip: [...]}}`, where checkov reads its skips.
#[derive(Serialize)]
struct Metadata<'a> {
    checkov: Checkov<'a>,
}

#[derive(Serialize)]
struct Checkov<'a> {
    skip: &'a [Skip],
}

impl Template {
    /// An empty template.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
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

    /// Adds a resource and returns the handle that refers to it. The
    /// resource stays typed until the template is rendered.
    pub fn add<T: Resource>(&mut self, id: &str, resource: T) -> Handle<T> {
        self.claim(id);
        self.resources.insert(
            id.to_owned(),
            Entry {
                kind: T::TYPE,
                depends_on: Vec::new(),
                data_policy: None,
                skips: Vec::new(),
                properties: Arc::new(resource),
            },
        );
        Handle {
            id: id.to_owned(),
            kind: PhantomData,
        }
    }

    /// Makes `resource` wait for `dependency` where no reference says so.
    pub fn depends_on<T, U>(&mut self, resource: &Handle<T>, dependency: &Handle<U>) {
        if let Some(entry) = self.entry(resource) {
            entry.depends_on.push(dependency.id.clone());
        }
    }

    /// Says what becomes of `resource`'s data when the stack deletes it or
    /// an update replaces it (its `DeletionPolicy` and `UpdateReplacePolicy`).
    pub fn data_policy<T>(&mut self, resource: &Handle<T>, policy: DataPolicy) {
        if let Some(entry) = self.entry(resource) {
            entry.data_policy = Some(policy);
        }
    }

    /// Skips a checkov check on one resource, with the reason a reviewer reads.
    pub fn skip_check<T>(&mut self, resource: &Handle<T>, check: &str, reason: &str) {
        if let Some(entry) = self.entry(resource) {
            entry.skips.push(Skip {
                id: check.to_owned(),
                comment: reason.to_owned(),
            });
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

    /// Records a problem the stack's own code found, for [`Template::validate`].
    pub(crate) fn report(&mut self, problem: TemplateError) {
        self.problems.push(problem);
    }

    /// The entry of `resource`; a handle from another template is recorded
    /// as a problem.
    fn entry<T>(&mut self, resource: &Handle<T>) -> Option<&mut Entry> {
        if !self.resources.contains_key(&resource.id) {
            self.problems
                .push(TemplateError::Foreign(resource.id.clone()));
        }
        self.resources.get_mut(&resource.id)
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

    /// Checks what the types cannot: ids are unique and well formed, every
    /// handle used belongs to this template, every resource serializes, and
    /// every `Ref`, `Fn::GetAtt` and `DependsOn` names something in it.
    pub fn validate(&self) -> Result<(), TemplateError> {
        self.render().map(drop)
    }

    /// The template as pretty JSON, the form CloudFormation is sent; fails
    /// when [`Template::validate`] does.
    pub fn to_json(&self) -> Result<String, TemplateError> {
        let text = serde_json::to_string_pretty(&self.render()?).map_err(unserializable)?;
        Ok(text + "\n")
    }

    /// The template as YAML, for reading; fails when [`Template::validate`] does.
    pub fn to_yaml(&self) -> Result<String, TemplateError> {
        serde_norway::to_string(&self.render()?).map_err(unserializable)
    }

    /// The template as a JSON value, for tests and tools that inspect it;
    /// fails when [`Template::validate`] does.
    pub fn to_value(&self) -> Result<Value, TemplateError> {
        serde_json::to_value(self.render()?).map_err(unserializable)
    }

    /// Serializes every resource's properties and checks every reference
    /// in them, in `DependsOn` and in the outputs with one walk over the
    /// serialized values.
    fn render(&self) -> Result<Document<'_>, TemplateError> {
        if let Some(problem) = self.problems.first() {
            return Err(problem.clone());
        }
        let known = |id: &str| {
            id.starts_with("AWS::")
                || self.parameters.contains_key(id)
                || self.resources.contains_key(id)
        };
        let check = |from: &str, value: &Value, extra: &[String]| {
            let mut targets = extra.to_vec();
            collect_references(value, &mut targets);
            match targets.into_iter().find(|to| !known(to)) {
                Some(to) => Err(TemplateError::Dangling {
                    from: from.to_owned(),
                    to,
                }),
                None => Ok(()),
            }
        };
        let serialize_error = |id: &str, err: serde_json::Error| TemplateError::Serialize {
            id: id.to_owned(),
            message: err.to_string(),
        };
        let mut resources = IndexMap::with_capacity(self.resources.len());
        for (id, entry) in &self.resources {
            let properties = entry
                .properties
                .to_value()
                .map_err(|err| serialize_error(id, err))?;
            check(id, &properties, &entry.depends_on)?;
            resources.insert(
                id.as_str(),
                Rendered {
                    kind: entry.kind,
                    depends_on: &entry.depends_on,
                    deletion_policy: entry.data_policy,
                    update_replace_policy: entry.data_policy,
                    metadata: (!entry.skips.is_empty()).then_some(Metadata {
                        checkov: Checkov { skip: &entry.skips },
                    }),
                    properties,
                },
            );
        }
        for (id, output) in &self.outputs {
            let value =
                serde_json::to_value(&output.value).map_err(|err| serialize_error(id, err))?;
            check(id, &value, &[])?;
        }
        Ok(Document {
            version: "2010-09-09",
            description: &self.description,
            parameters: &self.parameters,
            resources,
            outputs: &self.outputs,
        })
    }
}

/// A rendered document is strings, numbers and maps with string keys, which
/// JSON and YAML always represent; the error is reported all the same
/// rather than a template written out half empty.
fn unserializable(err: impl fmt::Display) -> TemplateError {
    TemplateError::Serialize {
        id: "the template".to_owned(),
        message: err.to_string(),
    }
}

/// The logical ids `value` refers to: every `{"Ref": id}` and
/// `{"Fn::GetAtt": [id, attribute]}` in it, at any depth.
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

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Thing {
        #[serde(skip_serializing_if = "Option::is_none")]
        target: Option<Expr>,
    }

    impl Resource for Thing {
        const TYPE: &'static str = "Test::Thing";
    }

    fn dangling(from: &str, to: &str) -> Result<(), TemplateError> {
        Err(TemplateError::Dangling {
            from: from.into(),
            to: to.into(),
        })
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
        assert_eq!(template.validate(), dangling("Pointer", "Stranger"));
    }

    #[test]
    fn a_dangling_output_or_dependency_is_rejected_like_a_dangling_property() {
        let mut other = Template::new("other");
        let stranger = other.add("Stranger", Thing { target: None });

        let mut template = Template::new("test");
        template.output("Out", "points outside", stranger.reference());
        assert_eq!(template.validate(), dangling("Out", "Stranger"));

        let mut template = Template::new("test");
        let waiting = template.add("Waiting", Thing { target: None });
        template.depends_on(&waiting, &stranger);
        assert_eq!(template.validate(), dangling("Waiting", "Stranger"));
    }

    #[test]
    fn a_handle_of_another_template_cannot_be_given_a_policy_or_a_skip() {
        let mut other = Template::new("other");
        let stranger = other.add("Stranger", Thing { target: None });
        let mut template = Template::new("test");
        template.skip_check(&stranger, "CKV_X_1", "because");
        assert_eq!(
            template.validate(),
            Err(TemplateError::Foreign("Stranger".into()))
        );
        let mut template = Template::new("test");
        template.data_policy(&stranger, DataPolicy::Retain);
        assert_eq!(
            template.validate(),
            Err(TemplateError::Foreign("Stranger".into()))
        );
    }

    #[test]
    fn a_resource_that_cannot_be_serialized_is_named() {
        #[derive(Debug)]
        struct Broken;
        impl Serialize for Broken {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no JSON for this"))
            }
        }
        impl Resource for Broken {
            const TYPE: &'static str = "Test::Broken";
        }
        let mut template = Template::new("test");
        template.add("Broken", Broken);
        assert_eq!(
            template.to_json(),
            Err(TemplateError::Serialize {
                id: "Broken".into(),
                message: "no JSON for this".into()
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
