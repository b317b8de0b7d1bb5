//! The login function's `bootstrap`: reads the configuration, builds the SDK
//! clients once, then serves events until Lambda stops the process.

use function_runtime::InitError;
use login::{App, Config};

async fn init() -> Result<App, InitError> {
    let config = Config::from_env()?;
    let roots = function_runtime::TrustRoots::load();
    let sdk = function_runtime::aws_config(&roots).await;
    Ok(App::new(config, &sdk))
}

#[tokio::main]
async fn main() {
    function_runtime::serve(init(), login::handle).await;
}
