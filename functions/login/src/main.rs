//! The login function's `bootstrap`: reads the configuration, builds the SDK
//! clients once, then serves events until Lambda stops the process.

use lambda_runtime::{LambdaEvent, service_fn};
use login::{App, Config};
use serde_json::Value;

#[tokio::main]
async fn main() {
    support::init_tracing();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            support::report_init_error(&err);
            std::process::exit(1);
        }
    };
    let roots = support::TrustRoots::load();
    let sdk = support::aws_config(&roots).await;
    let app = App::new(config, &sdk);
    let app = &app;
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        login::handle(app, event).await
    }))
    .await;
    if let Err(err) = served {
        tracing::error!(error = %err, "the runtime loop stopped");
        std::process::exit(1);
    }
}
