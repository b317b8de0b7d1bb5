//! The environment contract between the stack (`infra`) and the functions.
//!
//! The stack sets these variables and each function reads them; both sides
//! name them through these constants, so a rename cannot leave one behind.
//! Dependency-free on purpose: `infra` must not pull in the Lambda runtime.

/// Variables the auth function (`GET /auth`) reads.
pub mod auth {
    /// The hosted UI's `/oauth2/authorize` endpoint, where a sign-in starts.
    pub const AUTHORIZE_URL: &str = "AUTHORIZE_URL";
    /// The user pool domain's `/oauth2/token` endpoint (`https`, or plain
    /// `http` to a loopback host only: it receives the client secret).
    pub const TOKEN_URL: &str = "TOKEN_URL";
    /// The user pool domain's `/oauth2/revoke` endpoint (same rule as
    /// [`TOKEN_URL`]), where the unused refresh token is revoked.
    pub const REVOKE_URL: &str = "REVOKE_URL";
    /// The app client id (its secret is fetched at cold start, never passed in).
    pub const CLIENT_ID: &str = "CLIENT_ID";
    /// The user pool id, for `DescribeUserPoolClient`.
    pub const USER_POOL_ID: &str = "USER_POOL_ID";
    /// The callback URL registered with the app client (the API's `/auth`),
    /// exactly as registered: Cognito compares it character by character.
    pub const REDIRECT_URI: &str = "REDIRECT_URI";
    /// The protected route the ID token is presented to (the API's `/auth/login`).
    pub const LOGIN_URL: &str = "LOGIN_URL";
    /// Where a sign-in starts, the API's `/auth` without a code; linked
    /// from every refusal.
    pub const SIGN_IN_URL: &str = "SIGN_IN_URL";

    /// Every variable, in the order the stack sets them.
    pub const ALL: [&str; 8] = [
        AUTHORIZE_URL,
        TOKEN_URL,
        REVOKE_URL,
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
    /// Where a sign-in starts, and the public callback Cognito redirects
    /// to with `?code=…&state=…`.
    pub const AUTH: &str = "auth";
    /// The protected route behind the Cognito authorizer, under [`AUTH`].
    pub const LOGIN: &str = "login";
}
