//! Names that AWS constrains, checked before anything is sent anywhere.

use std::fmt;

use crate::Parameter;

/// Why a name was refused, in words that say how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "stack name `{0}` is not valid: it must start with a letter and hold only letters, digits and hyphens, at most 128 characters"
    )]
    StackName(String),
    #[error("domain prefix `{0}` is not valid: use {rule}", rule = DomainPrefix::RULE)]
    DomainPrefix(String),
    #[error(
        "domain prefix `{prefix}` contains `{word}`, which Cognito reserves: choose another with --domain-prefix"
    )]
    ReservedWord { prefix: String, word: &'static str },
    #[error("stage name `{0}` is not valid: use 1 to 128 letters, digits, hyphens and underscores")]
    StageName(String),
    #[error(
        "log retention of {0} days is not one CloudWatch offers: use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653"
    )]
    LogRetention(u32),
}

/// A CloudFormation stack name: `[A-Za-z][A-Za-z0-9-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StackName(String);

impl StackName {
    /// Checks `name` against CloudFormation's rules.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let mut bytes = name.bytes();
        let valid = name.len() <= 128
            && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(NameError::StackName(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StackName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Cognito hosted-UI domain prefix: [`DomainPrefix::PATTERN`], without
/// `aws`, `amazon` or `cognito`. It is global per region, so it must also
/// be unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainPrefix(String);

const RESERVED: [&str; 3] = ["aws", "amazon", "cognito"];

impl DomainPrefix {
    /// Cognito's pattern for a prefix.
    pub const PATTERN: &str = "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$";
    /// [`DomainPrefix::PATTERN`] in words.
    pub const RULE: &str =
        "1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen";

    /// The template parameter a prefix is deployed as, which CloudFormation
    /// checks against the same pattern.
    pub(crate) fn parameter() -> Parameter {
        Parameter {
            allowed_pattern: Some(Self::PATTERN.into()),
            constraint_description: Some(Self::RULE.into()),
            ..Parameter::string(
                "Prefix of the hosted UI's domain, <prefix>.auth.<region>.amazoncognito.com; \
                 unique per region. Changing it replaces the domain.",
            )
        }
    }

    /// Checks `prefix` against Cognito's rules.
    pub fn new(prefix: &str) -> Result<Self, NameError> {
        let bytes = prefix.as_bytes();
        let inner = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
        let valid = (1..=63).contains(&bytes.len())
            && bytes.iter().all(inner)
            && bytes.first() != Some(&b'-')
            && bytes.last() != Some(&b'-');
        if !valid {
            return Err(NameError::DomainPrefix(prefix.to_owned()));
        }
        if let Some(word) = RESERVED.into_iter().find(|word| prefix.contains(word)) {
            return Err(NameError::ReservedWord {
                prefix: prefix.to_owned(),
                word,
            });
        }
        Ok(Self(prefix.to_owned()))
    }

    /// A prefix that is stable for one stack in one account and region, and
    /// unlikely to be taken by anyone else: the stack name made legal, then
    /// a hash of account, region and stack name.
    pub fn default_for(stack: &StackName, account_id: &str, region: &str) -> Self {
        let mut base: String = stack
            .as_str()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        // Removing one reserved word can join two halves into another.
        while let Some(word) = RESERVED.into_iter().find(|word| base.contains(word)) {
            base = base.replace(word, "");
        }
        let base: String = base.trim_matches('-').chars().take(54).collect();
        let base = base.trim_end_matches('-');
        let hash = fnv1a(&[account_id, region, stack.as_str()]);
        let prefix = if base.is_empty() {
            format!("signin-{hash:08x}")
        } else {
            format!("{base}-{hash:08x}")
        };
        // Hex digits cannot spell a reserved word, and the base is clean.
        Self(prefix)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stable 32-bit FNV-1a hash: the same on every machine and release,
/// unlike `std`'s hasher.
pub(crate) fn fnv1a(parts: &[&str]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in parts.join("/").bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// An API Gateway stage name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StageName(String);

impl StageName {
    pub fn new(name: &str) -> Result<Self, NameError> {
        let valid = (1..=128).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(NameError::StageName(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for StageName {
    /// `dev`.
    fn default() -> Self {
        Self("dev".to_owned())
    }
}

/// How long log groups keep events: one of the values CloudWatch offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRetention(u32);

impl LogRetention {
    const ALLOWED: [u32; 22] = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
        2922, 3288, 3653,
    ];

    pub fn days(days: u32) -> Result<Self, NameError> {
        if Self::ALLOWED.contains(&days) {
            Ok(Self(days))
        } else {
            Err(NameError::LogRetention(days))
        }
    }

    pub fn as_days(self) -> u32 {
        self.0
    }
}

impl Default for LogRetention {
    /// 30 days.
    fn default() -> Self {
        Self(30)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_follow_cloudformation() {
        for good in ["a", "Demo-1", &format!("a{}", "b".repeat(127))] {
            assert!(StackName::new(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1abc",
            "-a",
            "a_b",
            "a.b",
            "ü",
            &format!("a{}", "b".repeat(128)),
        ] {
            assert_eq!(StackName::new(bad), Err(NameError::StackName(bad.into())));
        }
    }

    #[test]
    fn domain_prefixes_follow_cognito() {
        for good in ["a", "0", "my-app-1", &"a".repeat(63)] {
            assert!(DomainPrefix::new(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", &"a".repeat(64)] {
            assert_eq!(
                DomainPrefix::new(bad),
                Err(NameError::DomainPrefix(bad.into()))
            );
        }
        assert_eq!(
            DomainPrefix::new("my-aws-app"),
            Err(NameError::ReservedWord {
                prefix: "my-aws-app".into(),
                word: "aws"
            })
        );
    }

    #[test]
    fn default_prefix_is_valid_stable_and_distinct() {
        let cases = [
            "SignIn",
            "aws-cognito-demo",
            "aawsws",
            "Amazon",
            &format!("X{}", "y".repeat(127)),
        ];
        for name in cases {
            let stack = StackName::new(name).unwrap();
            let prefix = DomainPrefix::default_for(&stack, "123456789012", "eu-west-1");
            assert_eq!(
                DomainPrefix::new(prefix.as_str()),
                Ok(prefix.clone()),
                "{name}"
            );
            assert_eq!(
                prefix,
                DomainPrefix::default_for(&stack, "123456789012", "eu-west-1")
            );
            assert_ne!(
                prefix,
                DomainPrefix::default_for(&stack, "210987654321", "eu-west-1")
            );
        }
        let stack = StackName::new("SignIn").unwrap();
        let prefix = DomainPrefix::default_for(&stack, "123456789012", "eu-west-1");
        assert!(prefix.as_str().starts_with("signin-"), "{prefix}");
    }

    #[test]
    fn retention_is_one_cloudwatch_offers() {
        assert_eq!(LogRetention::days(30).map(LogRetention::as_days), Ok(30));
        assert_eq!(LogRetention::days(31), Err(NameError::LogRetention(31)));
    }
}
