//! Values in a template: a literal or an intrinsic function.
//!
//! The stacks make an [`Expr`] that points at a resource from that
//! resource's [`Handle`](crate::Handle), and an attribute from the method
//! that names it, so a misspelt attribute does not compile. A `Ref` or
//! `Fn::GetAtt` to anything outside the template, however it was written,
//! is refused by [`Template::validate`](crate::Template::validate).

use serde::ser::{Serialize, SerializeMap, Serializer};

/// A string-valued expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A literal string.
    Literal(String),
    /// `{"Ref": id}` to a resource or parameter of the template.
    Ref(String),
    /// A pseudo parameter, such as `AWS::Region`.
    Pseudo(Pseudo),
    /// `{"Fn::GetAtt": [id, attribute]}`.
    GetAtt(String, &'static str),
    /// `{"Fn::Join": [separator, parts]}`.
    Join(&'static str, Vec<Expr>),
}

/// The pseudo parameters CloudFormation defines in every template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pseudo {
    AccountId,
    Partition,
    Region,
    StackName,
    UrlSuffix,
}

impl Pseudo {
    fn name(self) -> &'static str {
        match self {
            Self::AccountId => "AWS::AccountId",
            Self::Partition => "AWS::Partition",
            Self::Region => "AWS::Region",
            Self::StackName => "AWS::StackName",
            Self::UrlSuffix => "AWS::URLSuffix",
        }
    }
}

impl Expr {
    /// `AWS::AccountId`.
    pub const ACCOUNT_ID: Self = Self::Pseudo(Pseudo::AccountId);
    /// `AWS::Partition`.
    pub const PARTITION: Self = Self::Pseudo(Pseudo::Partition);
    /// `AWS::Region`.
    pub const REGION: Self = Self::Pseudo(Pseudo::Region);
    /// `AWS::StackName`.
    pub const STACK_NAME: Self = Self::Pseudo(Pseudo::StackName);
    /// `AWS::URLSuffix`.
    pub const URL_SUFFIX: Self = Self::Pseudo(Pseudo::UrlSuffix);

    /// The parts one after another. Adjacent literals are merged, and a
    /// single part stands for itself, so the template says no more than it
    /// needs to.
    pub fn concat(parts: impl IntoIterator<Item = Expr>) -> Self {
        let mut merged: Vec<Expr> = Vec::new();
        let flat = parts.into_iter().flat_map(|part| match part {
            Expr::Join("", inner) => inner,
            part => vec![part],
        });
        for part in flat {
            match (merged.last_mut(), part) {
                (_, Expr::Literal(text)) if text.is_empty() => {}
                (Some(Expr::Literal(last)), Expr::Literal(text)) => last.push_str(&text),
                (_, part) => merged.push(part),
            }
        }
        match merged.len() {
            0 => Expr::Literal(String::new()),
            1 => merged.remove(0),
            _ => Expr::Join("", merged),
        }
    }

    /// An ARN in this stack's partition, region and account:
    /// `arn:<partition>:<service>:<region>:<account>:<resource…>`.
    pub fn arn(service: &str, resource: impl IntoIterator<Item = Expr>) -> Self {
        let head = [
            Expr::from("arn:"),
            Expr::PARTITION,
            Expr::from(format!(":{service}:")),
            Expr::REGION,
            Expr::from(":"),
            Expr::ACCOUNT_ID,
            Expr::from(":"),
        ];
        Self::concat(head.into_iter().chain(resource))
    }
}

impl From<&str> for Expr {
    fn from(text: &str) -> Self {
        Self::Literal(text.to_owned())
    }
}

impl From<String> for Expr {
    fn from(text: String) -> Self {
        Self::Literal(text)
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Literal(text) => serializer.serialize_str(text),
            Expr::Ref(id) => single(serializer, "Ref", id),
            Expr::Pseudo(pseudo) => single(serializer, "Ref", pseudo.name()),
            Expr::GetAtt(id, attribute) => single(serializer, "Fn::GetAtt", &[id, *attribute]),
            Expr::Join(separator, parts) => single(serializer, "Fn::Join", &(separator, parts)),
        }
    }
}

fn single<S: Serializer, V: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &V,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(expr: &Expr) -> String {
        serde_json::to_string(expr).unwrap()
    }

    #[test]
    fn concat_merges_literals_and_collapses() {
        let expr = Expr::concat(["a".into(), "".into(), "b".into()]);
        assert_eq!(json(&expr), r#""ab""#);
        let expr = Expr::concat(["x-".into(), Expr::STACK_NAME, "-y".into(), "z".into()]);
        assert_eq!(
            json(&expr),
            r#"{"Fn::Join":["",["x-",{"Ref":"AWS::StackName"},"-yz"]]}"#
        );
        assert_eq!(
            json(&Expr::concat([Expr::REGION])),
            r#"{"Ref":"AWS::Region"}"#
        );
        let nested = Expr::concat([expr, "!".into()]);
        assert_eq!(
            json(&nested),
            r#"{"Fn::Join":["",["x-",{"Ref":"AWS::StackName"},"-yz!"]]}"#
        );
    }

    #[test]
    fn get_att_is_a_pair() {
        let expr = Expr::GetAtt("Pool".into(), "Arn");
        assert_eq!(json(&expr), r#"{"Fn::GetAtt":["Pool","Arn"]}"#);
    }
}
