//! The login function's `bootstrap`: reads the configuration, builds the SDK
//! clients once, then serves events until Lambda stops the process.

use login::{App, Config};
use support::InitError;

async fn init() -> Result<App, InitError> {
    let config = Config::from_env()?;
    let roots = support::TrustRoots::load();
    let sdk = support::aws_config(&roots).await;
    Ok(App::new(config, &sdk))
}

#[tokio::main]
async fn main() {
    support::serve(init(), login::handle).await;
}
