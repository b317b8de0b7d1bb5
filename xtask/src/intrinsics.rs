//! The value of a template expression where it can be known without
//! CloudFormation: literals, a `Ref` to a parameter, to a resource of the
//! deployed stack (its physical id, which is what `Ref` returns and what
//! `DescribeStackResources` reports) or to a pseudo parameter, and
//! `Fn::Join` of those. Anything else (`Fn::GetAtt`, `Fn::Sub`, `Fn::If`,
//! …) is refused, naming it, for the caller to leave to CloudFormation.

use std::collections::HashMap;

use serde_json::Value;

/// What an expression may refer to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    /// `AWS::StackName`.
    pub(crate) stack_name: String,
    /// `AWS::Region`, which also gives `AWS::Partition` and `AWS::URLSuffix`.
    pub(crate) region: Option<String>,
    /// `AWS::AccountId`.
    pub(crate) account: Option<String>,
    /// The parameters' values, by name.
    pub(crate) parameters: HashMap<String, String>,
    /// The physical ids of the deployed stack's resources, by logical id.
    pub(crate) resources: HashMap<String, String>,
}

impl Known {
    /// Only the stack's name: enough for names made of it.
    pub(crate) fn stack_only(stack_name: &str) -> Self {
        Self {
            stack_name: stack_name.to_owned(),
            ..Self::default()
        }
    }
}

/// Why an expression's value cannot be known here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unknown {
    #[error("it uses {0}, which only CloudFormation evaluates")]
    Function(String),
    #[error("it refers to {0}, which is neither a parameter nor a resource of the deployed stack")]
    Missing(String),
    #[error("it refers to {0}, which is not known here")]
    Pseudo(String),
    #[error("it is {0}, not a value")]
    Malformed(String),
}

/// The expression's value as text (numbers and booleans as CloudFormation
/// passes them on: their JSON text).
pub(crate) fn resolve(value: &Value, known: &Known) -> Result<String, Unknown> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Object(map) if map.len() == 1 => {
            let Some((function, arguments)) = map.iter().next() else {
                return Err(Unknown::Malformed("an empty object".to_owned()));
            };
            match (function.as_str(), arguments) {
                ("Ref", Value::String(target)) => reference(target, known),
                ("Fn::Join", Value::Array(arguments)) => match arguments.as_slice() {
                    [Value::String(separator), Value::Array(parts)] => Ok(parts
                        .iter()
                        .map(|part| resolve(part, known))
                        .collect::<Result<Vec<_>, _>>()?
                        .join(separator)),
                    _ => Err(Unknown::Malformed(format!("a malformed Fn::Join: {value}"))),
                },
                ("Fn::GetAtt", Value::Array(target)) => Err(Unknown::Function(format!(
                    "Fn::GetAtt {}",
                    target.iter().map(text_of).collect::<Vec<_>>().join(".")
                ))),
                (function, _) => Err(Unknown::Function(function.to_owned())),
            }
        }
        other => Err(Unknown::Malformed(format!("{other}"))),
    }
}

fn text_of(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn reference(target: &str, known: &Known) -> Result<String, Unknown> {
    let pseudo = || Unknown::Pseudo(target.to_owned());
    let partition = || {
        known
            .region
            .as_deref()
            .and_then(partition_of)
            .ok_or_else(pseudo)
    };
    match target {
        "AWS::StackName" => Ok(known.stack_name.clone()),
        "AWS::Region" => known.region.clone().ok_or_else(pseudo),
        "AWS::AccountId" => known.account.clone().ok_or_else(pseudo),
        "AWS::Partition" => partition().map(|(name, _)| name.to_owned()),
        "AWS::URLSuffix" => partition().map(|(_, suffix)| suffix.to_owned()),
        // AWS::StackId, AWS::NotificationARNs, AWS::NoValue.
        _ if target.starts_with("AWS::") => Err(pseudo()),
        // A template's logical ids are unique across parameters and resources.
        name => known
            .parameters
            .get(name)
            .or_else(|| known.resources.get(name))
            .cloned()
            .ok_or_else(|| Unknown::Missing(name.to_owned())),
    }
}

/// The partition of a region and its URL suffix: China's regions, GovCloud's
/// and the commercial ones; the isolated partitions are not known here.
fn partition_of(region: &str) -> Option<(&'static str, &'static str)> {
    if region.starts_with("cn-") {
        Some(("aws-cn", "amazonaws.com.cn"))
    } else if region.starts_with("us-gov-") {
        Some(("aws-us-gov", "amazonaws.com"))
    } else if region.contains("-iso") {
        None
    } else {
        Some(("aws", "amazonaws.com"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known() -> Known {
        Known {
            stack_name: "demo".to_owned(),
            region: Some("eu-west-1".to_owned()),
            account: Some("123456789012".to_owned()),
            parameters: HashMap::from([("DomainPrefix".to_owned(), "signin-abc".to_owned())]),
            resources: HashMap::from([("LoginTable".to_owned(), "demo-LoginTable-X1".to_owned())]),
        }
    }

    #[test]
    fn refs_to_parameters_resources_and_pseudo_parameters_and_joins_resolve() {
        let value = json!({"Fn::Join": ["", [
            "https://", {"Ref": "DomainPrefix"}, ".", {"Ref": "AWS::Region"}, ".",
            {"Ref": "AWS::URLSuffix"}, "/", {"Ref": "LoginTable"}, "/", {"Ref": "AWS::StackName"},
            "/", {"Ref": "AWS::AccountId"}, "/", {"Ref": "AWS::Partition"}, "/", 7
        ]]});
        assert_eq!(
            resolve(&value, &known()).unwrap(),
            "https://signin-abc.eu-west-1.amazonaws.com/demo-LoginTable-X1/demo/123456789012/aws/7"
        );
        let china = Known {
            region: Some("cn-north-1".to_owned()),
            ..known()
        };
        assert_eq!(
            resolve(&json!({"Ref": "AWS::URLSuffix"}), &china).unwrap(),
            "amazonaws.com.cn"
        );
    }

    #[test]
    fn what_only_cloudformation_knows_is_refused_naming_it() {
        let refused = |value: Value| resolve(&value, &known()).unwrap_err().to_string();
        assert_eq!(
            refused(json!({"Fn::GetAtt": ["LoginTable", "Arn"]})),
            "it uses Fn::GetAtt LoginTable.Arn, which only CloudFormation evaluates"
        );
        assert_eq!(
            refused(json!({"Fn::Sub": "${AWS::Region}"})),
            "it uses Fn::Sub, which only CloudFormation evaluates"
        );
        assert_eq!(
            refused(json!({"Fn::Join": ["", ["a", {"Ref": "Gone"}]]})),
            "it refers to Gone, which is neither a parameter nor a resource of the deployed stack"
        );
        assert_eq!(
            refused(json!({"Ref": "AWS::StackId"})),
            "it refers to AWS::StackId, which is not known here"
        );
        let isolated = Known {
            region: Some("us-iso-east-1".to_owned()),
            ..known()
        };
        assert!(resolve(&json!({"Ref": "AWS::URLSuffix"}), &isolated).is_err());
        assert_eq!(
            resolve(&json!({"Ref": "AWS::Region"}), &Known::stack_only("demo")).unwrap_err(),
            Unknown::Pseudo("AWS::Region".to_owned())
        );
        assert!(refused(json!(["a"])).starts_with("it is [\"a\"]"));
    }
}
