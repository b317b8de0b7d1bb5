//! The auth function's `bootstrap`: reads the configuration, the trust store
//! and the app client's secret once, then serves events until Lambda stops
//! the process.

use auth::{App, Config};
use function_runtime::InitError;

async fn init() -> Result<App, InitError> {
    let config = Config::from_env()?;
    // One read of the system roots for both HTTPS clients (SDK and reqwest).
    let roots = function_runtime::TrustRoots::load();
    let sdk = function_runtime::aws_config(&roots).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let secret = auth::fetch_client_secret(&cognito, &config).await?;
    let http = auth::http_client(&roots, auth::HTTP_TIMEOUT)?;
    Ok(App::new(config, secret, http))
}

#[tokio::main]
async fn main() {
    function_runtime::serve(init(), auth::handle).await;
}
