//! The environment contract between the stack (`infra`) and the functions.
//!
//! The stack sets these variables and each function reads them; both sides
//! name them through these constants, so a rename cannot leave one behind.
//! Dependency-free on purpose: `infra` must not pull in the Lambda runtime.

/// Variables the auth function (`GET /auth`) reads.
pub mod auth {
    /// The user pool domain's `/oauth2/token` endpoint.
    pub const TOKEN_URL: &str = "TOKEN_URL";
    /// The app client id (its secret is fetched at cold start, never passed in).
    pub const CLIENT_ID: &str = "CLIENT_ID";
    /// The user pool id, for `DescribeUserPoolClient`.
    pub const USER_POOL_ID: &str = "USER_POOL_ID";
    /// The callback URL registered with the app client (the API's `/auth`).
    pub const REDIRECT_URI: &str = "REDIRECT_URI";
    /// The protected route the ID token is presented to (the API's `/auth/login`).
    pub const LOGIN_URL: &str = "LOGIN_URL";
    /// The hosted-UI sign-in URL shown to a person who has to sign in again.
    pub const SIGN_IN_URL: &str = "SIGN_IN_URL";

    /// Every variable, in the order the stack sets them.
    pub const ALL: [&str; 6] = [
        TOKEN_URL,
        CLIENT_ID,
        USER_POOL_ID,
        REDIRECT_URI,
        LOGIN_URL,
        SIGN_IN_URL,
    ];
}

/// Variables the login function (`GET /auth/login`) reads.
pub mod login {
    /// The DynamoDB table that keeps every login.
    pub const TABLE_NAME: &str = "TABLE_NAME";
    /// The S3 bucket that keeps one object per user.
    pub const BUCKET_NAME: &str = "BUCKET_NAME";
    /// The SSM parameter path of the greetings, `/<stack name>/greetings/`.
    pub const GREETINGS_PATH: &str = "GREETINGS_PATH";

    /// Every variable, in the order the stack sets them.
    pub const ALL: [&str; 3] = [TABLE_NAME, BUCKET_NAME, GREETINGS_PATH];
}

/// The route paths of the REST API, shared by the stack and the functions.
pub mod routes {
    /// The public callback Cognito redirects to with `?code=`.
    pub const AUTH: &str = "auth";
    /// The protected route behind the Cognito authorizer, under [`AUTH`].
    pub const LOGIN: &str = "login";
}
