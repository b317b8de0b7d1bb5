//! The sign-in stack. [`sign_in_stack`] builds it from sections that each
//! add their resources and return the handles later ones use: the inputs
//! and the API's address (here), the users (`stack/users.rs`), what the
//! login records (`stack/storage.rs`), the two functions
//! (`stack/functions.rs`), and the routes that join them (here). How a
//! function, a route or a private bucket is put together is the L2 layer's
//! business (`patterns.rs`).
//!
//! Every name derives from the stack name (or is left to CloudFormation,
//! which derives it from the stack name), so two stacks live side by side.
//! The code location and the domain prefix are parameters, so synthesizing
//! needs no build and no credentials.

mod functions;
mod storage;
mod users;

use env_contract::routes;

use crate::apigateway::{EndpointConfiguration, RestApi};
use crate::lambda::Code;
use crate::patterns::{self, Access, Api, ApiPath, Route};
use crate::{DomainPrefix, Expr, Settings, Template};
use functions::functions;
use storage::storage;
use users::users;

/// The template parameter names, for whoever deploys the template.
pub mod params {
    pub const DOMAIN_PREFIX: &str = "DomainPrefix";
    pub const AUTH_CODE_BUCKET: &str = "AuthCodeBucket";
    pub const AUTH_CODE_KEY: &str = "AuthCodeKey";
    pub const LOGIN_CODE_BUCKET: &str = "LoginCodeBucket";
    pub const LOGIN_CODE_KEY: &str = "LoginCodeKey";
}

/// The output names, sign-in URL first.
pub mod outputs {
    pub const SIGN_IN_URL: &str = "SignInUrl";
    pub const API_URL: &str = "ApiUrl";
    pub const CALLBACK_URL: &str = "CallbackUrl";
    pub const USER_POOL_ID: &str = "UserPoolId";
    pub const CLIENT_ID: &str = "ClientId";
    pub const TABLE_NAME: &str = "TableName";
    pub const BUCKET_NAME: &str = "BucketName";

    /// Every output, in the order they are shown.
    pub const ALL: [&str; 7] = [
        SIGN_IN_URL,
        API_URL,
        CALLBACK_URL,
        USER_POOL_ID,
        CLIENT_ID,
        TABLE_NAME,
        BUCKET_NAME,
    ];
}

/// The greetings the login function picks one of, at random, per login.
pub const GREETINGS: [&str; 4] = ["Hello", "Shalom", "Hi", "Marhaba"];

/// Builds the sign-in stack's template.
pub fn sign_in_stack(settings: &Settings) -> Template {
    let mut t = Template::new(format!(
        "Serverless sign-in: Cognito hosted UI, API Gateway with a Cognito authorizer, \
         two Rust Lambda functions, DynamoDB, S3 and SSM (stack {})",
        settings.stack_name
    ));
    let inputs = inputs(&mut t);
    let web = web(&mut t, settings);
    let users = users(&mut t, settings, &inputs, &web);
    let storage = storage(&mut t, settings);
    let functions = functions(&mut t, settings, inputs, &web, &users, &storage);
    let routes = [
        Route {
            name: "Auth",
            path: &web.auth,
            function: &functions.auth,
            operation_name: "SignInCallback",
            access: Access::Public {
                reason: "The sign-in start and callback are public by design: the person holds no token yet; a code is redeemed only with the state and PKCE verifier of the browser that started the sign-in",
            },
            // What Cognito's redirect carries, all optional: without them
            // the request starts a sign-in.
            query: &["code", "state", "error", "error_description"],
            throttle: settings.auth_throttle,
        },
        Route {
            name: "Login",
            path: &web.login,
            function: &functions.login,
            operation_name: "RecordLogin",
            access: Access::UserPool(&users.pool),
            query: &[],
            throttle: settings.login_throttle,
        },
    ];
    web.api.publish(&mut t, settings, &routes);
    for (id, description, value) in [
        (
            outputs::SIGN_IN_URL,
            "Open this to sign up or sign in (the API's /auth, which starts the sign-in)",
            web.sign_in_url(),
        ),
        (
            outputs::API_URL,
            "The API's base URL (stage included)",
            web.api.url(),
        ),
        (
            outputs::CALLBACK_URL,
            "Where Cognito sends the browser with the code",
            web.callback_url(),
        ),
        (outputs::USER_POOL_ID, "The user pool's id", users.pool.id()),
        (
            outputs::CLIENT_ID,
            "The app client's id (its secret is never output)",
            users.client.id(),
        ),
        (
            outputs::TABLE_NAME,
            "The table that keeps every login",
            storage.table.name(),
        ),
        (
            outputs::BUCKET_NAME,
            "The bucket that keeps each user's last login",
            storage.bucket.name(),
        ),
    ] {
        t.output(id, description, value);
    }
    t
}

/// The template's parameters: the hosted UI's domain prefix, and where
/// each function's zip is.
struct Inputs {
    domain_prefix: Expr,
    auth_code: Code,
    login_code: Code,
}

fn inputs(t: &mut Template) -> Inputs {
    use params::*;
    let domain_prefix = t
        .parameter(DOMAIN_PREFIX, DomainPrefix::parameter())
        .value();
    let auth_code = patterns::code_parameters(t, AUTH_CODE_BUCKET, AUTH_CODE_KEY, "auth");
    let login_code = patterns::code_parameters(t, LOGIN_CODE_BUCKET, LOGIN_CODE_KEY, "login");
    Inputs {
        domain_prefix,
        auth_code,
        login_code,
    }
}

/// The REST API and its paths: `/auth`, public (it starts a sign-in and is
/// the callback), and `/auth/login`, behind the authorizer. It comes first:
/// its URLs are built from the RestApi id, which exists before any
/// deployment, so the app client needs no deployment and nothing needs the
/// client's secret.
struct Web {
    api: Api,
    auth: ApiPath,
    login: ApiPath,
}

impl Web {
    /// Where Cognito sends the browser back with the code.
    fn callback_url(&self) -> Expr {
        self.api.url_of(&self.auth)
    }

    /// A sign-in starts at the callback without a code: the auth function
    /// makes the state, the PKCE challenge and the nonce, then sends the
    /// browser to the hosted UI.
    fn sign_in_url(&self) -> Expr {
        self.callback_url()
    }
}

fn web(t: &mut Template, settings: &Settings) -> Web {
    let rest_api = RestApi {
        description: Some("Sign-in callback and the protected login route".into()),
        endpoint_configuration: Some(EndpointConfiguration::regional()),
        ..RestApi::new(Expr::concat([Expr::STACK_NAME, "-api".into()]))
    };
    let api = Api::new(t, "Api", rest_api, settings);
    let auth = ApiPath::root().child(routes::AUTH);
    let login = auth.child(routes::LOGIN);
    Web { api, auth, login }
}
