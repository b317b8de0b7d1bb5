//! Ownership: every stack the tool creates carries a tag naming the sign-in
//! stack it belongs to, and the tool changes only stacks that carry it.

use std::fmt;

use aws_sdk_cloudformation::types::{Stack, Tag};

/// The tag on every stack the tool creates; its value is the sign-in stack
/// the stack belongs to (for the sign-in stack, its own name).
pub(crate) const OWNER_TAG: &str = "xtask:sign-in-stack";

/// The ownership tag for a stack belonging to sign-in stack `owner`.
pub(crate) fn tag(owner: &str) -> Tag {
    Tag::builder().key(OWNER_TAG).value(owner).build()
}

/// A stack that exists but is not one the tool made for this sign-in stack.
#[derive(Debug, thiserror::Error)]
pub(crate) struct NotOurs {
    pub(crate) stack: String,
    pub(crate) owner: String,
    /// What the stack says about who made it, as far as it says anything.
    pub(crate) made_by: String,
}

impl fmt::Display for NotOurs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stack {} exists and is not ours: it lacks the tag {OWNER_TAG}={} that cargo xtask \
             puts on every stack it creates for sign-in stack {} ({}). Nothing was changed. Use \
             another name (--stack-name); if an older cargo xtask made it, add the tag to the \
             stack yourself (console: Stack actions, Edit tags) and run the command again",
            self.stack, self.owner, self.owner, self.made_by
        )
    }
}

/// Checks that `stack` carries the ownership tag for sign-in stack `owner`.
pub(crate) fn check(stack: &Stack, owner: &str) -> Result<(), NotOurs> {
    let value = |key: &str| {
        stack
            .tags()
            .iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value())
    };
    if value(OWNER_TAG) == Some(owner) {
        return Ok(());
    }
    let made_by = match value(OWNER_TAG) {
        Some(other) => format!("it belongs to sign-in stack {other}"),
        None => made_by(stack),
    };
    Err(NotOurs {
        stack: stack.stack_name().unwrap_or("?").to_owned(),
        owner: owner.to_owned(),
        made_by,
    })
}

/// What a foreign stack says about itself: its tags and its description.
fn made_by(stack: &Stack) -> String {
    let tags: Vec<String> = stack
        .tags()
        .iter()
        .take(5)
        .map(|t| format!("{}={}", t.key().unwrap_or("?"), t.value().unwrap_or("")))
        .collect();
    let tags = if tags.is_empty() {
        "it has no tags".to_owned()
    } else {
        format!("its tags: {}", tags.join(", "))
    };
    match stack.description().filter(|d| !d.is_empty()) {
        Some(description) => format!("{tags}; its description: {description:?}"),
        None => tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(tags: &[(&str, &str)], description: Option<&str>) -> Stack {
        let mut builder = Stack::builder()
            .stack_name("sign-in")
            .set_description(description.map(str::to_owned))
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .stack_status(aws_sdk_cloudformation::types::StackStatus::CreateComplete);
        for (k, v) in tags {
            builder = builder.tags(Tag::builder().key(*k).value(*v).build());
        }
        builder.build()
    }

    #[test]
    fn only_the_tag_naming_this_sign_in_stack_makes_it_ours() {
        assert!(check(&stack(&[(OWNER_TAG, "sign-in")], None), "sign-in").is_ok());

        let other = check(&stack(&[(OWNER_TAG, "another")], None), "sign-in").unwrap_err();
        assert_eq!(other.made_by, "it belongs to sign-in stack another");

        let foreign = check(
            &stack(&[("team", "payments")], Some("Payments API")),
            "sign-in",
        )
        .unwrap_err();
        assert_eq!(
            foreign.made_by,
            "its tags: team=payments; its description: \"Payments API\""
        );
        let text = foreign.to_string();
        assert!(text.contains("Nothing was changed"), "{text}");
        assert!(text.contains("--stack-name"), "{text}");

        let bare = check(&stack(&[], None), "sign-in").unwrap_err();
        assert_eq!(bare.made_by, "it has no tags");
    }
}
