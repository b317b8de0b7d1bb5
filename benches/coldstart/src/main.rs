//! The baseline for the cold-start benchmark: a bare `lambda_runtime` echo
//! function, no SDK, no TLS. Whatever the real functions take beyond this is
//! their own cost.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
