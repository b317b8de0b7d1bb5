//! The two functions, and what each may do and is told.

use env_contract::{auth as auth_env, login as login_env};

use crate::iam::Statement;
use crate::lambda::Function;
use crate::patterns::{self, LambdaFunction};
use crate::{Expr, Handle, Settings, Template, ssm};

use super::storage::Storage;
use super::users::Users;
use super::{Inputs, Web};

/// The two functions, each with its own log group and least-privilege role.
pub(super) struct Functions {
    pub(super) auth: Handle<Function>,
    pub(super) login: Handle<Function>,
}

pub(super) fn functions(
    t: &mut Template,
    settings: &Settings,
    inputs: Inputs,
    web: &Web,
    users: &Users,
    storage: &Storage,
) -> Functions {
    let hosted_ui = |path: &str| Expr::concat([users.domain.base_url(), path.into()]);
    let greetings = |suffix: &str| Expr::concat([storage.greetings.clone(), suffix.into()]);
    let read_greetings = Statement::allow(
        &["ssm:GetParametersByPath"],
        vec![
            ssm::parameter_arn(greetings("")),
            ssm::parameter_arn(greetings("/*")),
        ],
    );
    let auth = LambdaFunction {
        name: "Auth",
        description: "GET /auth: starts a sign-in; as the callback, trades the code for tokens and calls the login route",
        role_description: "The auth function: reads its app client's secret",
        code: inputs.auth_code,
        statements: vec![Statement::allow(
            &["cognito-idp:DescribeUserPoolClient"],
            vec![users.pool.arn()],
        )],
        environment: vec![
            (auth_env::AUTHORIZE_URL, hosted_ui("/oauth2/authorize")),
            (auth_env::TOKEN_URL, hosted_ui("/oauth2/token")),
            (auth_env::REVOKE_URL, hosted_ui("/oauth2/revoke")),
            (auth_env::CLIENT_ID, users.client.id()),
            (auth_env::USER_POOL_ID, users.pool.id()),
            (auth_env::REDIRECT_URI, web.callback_url()),
            (auth_env::LOGIN_URL, web.api.url_of(&web.login)),
            (auth_env::SIGN_IN_URL, web.sign_in_url()),
        ],
    };
    let login = LambdaFunction {
        name: "Login",
        description: "GET /auth/login: records the login and greets the user",
        role_description: "The login function: records a login and reads the greetings",
        code: inputs.login_code,
        statements: vec![
            Statement::allow(&["dynamodb:PutItem"], vec![storage.table.arn()]),
            Statement::allow(&["s3:PutObject"], vec![storage.bucket.objects_arn()]),
            read_greetings,
        ],
        environment: vec![
            (login_env::TABLE_NAME, storage.table.name()),
            (login_env::BUCKET_NAME, storage.bucket.name()),
            (login_env::GREETINGS_PATH, greetings("/")),
        ],
    };
    let [auth, login] = patterns::functions(t, settings, [auth, login]);
    Functions { auth, login }
}
