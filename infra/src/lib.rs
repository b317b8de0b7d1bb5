//! A typed model of CloudFormation templates, and the stacks built with it.
//!
//! **This crate does no I/O**: it builds values and serializes them. Talking
//! to AWS is the business of `xtask` and the functions.
//!
//! - [`Template`], [`Handle`], [`Expr`]: the template, typed references into
//!   it, and values (literals and intrinsic functions).
//! - [`resources`]: one module per AWS service, one struct per resource type
//!   (the L1 layer).
//! - `patterns`: the L2 layer, the few resources one idea takes (a function
//!   with its role and log group, an API route, a private bucket).
//! - [`stack`]: the sign-in stack; [`artifacts`]: the bucket for the zips.

pub mod artifacts;
mod expr;
mod names;
mod patterns;
pub mod resources;
mod settings;
pub mod stack;
mod template;

pub use artifacts::artifacts_stack;
pub use expr::{Expr, Pseudo};
pub use names::{DomainPrefix, LogRetention, NameError, StackName, StageName};
pub use resources::{apigateway, cognito, dynamodb, iam, lambda, logs, s3, ssm};
pub use settings::{Architecture, Mfa, Settings, Throttle, ThrottleError};
pub use stack::sign_in_stack;
pub use template::{
    DataPolicy, Handle, Output, Parameter, ParameterHandle, Resource, Template, TemplateError,
};
