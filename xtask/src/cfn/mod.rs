//! The deploy engine, shaped like cloudformatious: typed stack statuses
//! ([`status`]), change sets with "no changes" as an outcome
//! ([`change_set`]), following a stack with its events handed to the caller
//! and its failures in a typed error ([`follow`]), ownership ([`owner`]),
//! and the settle and run-and-follow steps every command shares ([`operation`]).

pub(crate) mod change_set;
pub(crate) mod follow;
pub(crate) mod operation;
pub(crate) mod owner;
pub(crate) mod status;

use aws_sdk_cloudformation::types::Stack;

pub(crate) use change_set::{ChangeSet, Planned, Proposal, TemplateSource};
pub(crate) use follow::{Events, OperationError, describe};
pub(crate) use operation::{Existing, Operation};
pub(crate) use status::{Phase, status};

/// A template body inline is at most 51,200 bytes; larger needs an S3 URL.
pub(crate) const MAX_INLINE_TEMPLATE: usize = 51_200;

/// The value of output `key`, if the stack has it.
pub(crate) fn output<'a>(stack: &'a Stack, key: &str) -> Option<&'a str> {
    stack
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some(key))
        .and_then(|o| o.output_value())
}

/// Every parameter the stack was deployed with, `(key, value)`.
pub(crate) fn parameters(stack: &Stack) -> Vec<(String, String)> {
    stack
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value()?.to_owned(),
            ))
        })
        .collect()
}

/// The value the stack was deployed with for parameter `key`.
pub(crate) fn parameter<'a>(stack: &'a Stack, key: &str) -> Option<&'a str> {
    stack
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some(key))
        .and_then(|p| p.parameter_value())
}
