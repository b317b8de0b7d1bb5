//! The user pool calls the hosted UI makes in Cognito itself, made here
//! against moto's public API with the client's SECRET_HASH.

use aws_lc_rs::hmac;
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata as _};
use aws_sdk_cognitoidentityprovider::operation::confirm_sign_up::ConfirmSignUpError;
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError;
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::builders::InitiateAuthFluentBuilder;
use aws_sdk_cognitoidentityprovider::operation::sign_up::SignUpError;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::HostedUi;

/// The message for an unknown user and a wrong password alike: the client
/// has `PreventUserExistenceErrors`.
pub(super) const INCORRECT: &str = "Incorrect username or password.";

/// The tokens of one sign-in or refresh, as moto issued them.
#[derive(Clone)]
pub(super) struct Tokens {
    pub(super) id_token: String,
    pub(super) access_token: String,
    /// Only a password sign-in issues one; a refresh keeps the old one.
    pub(super) refresh_token: Option<String>,
    pub(super) expires_in: i32,
}

/// How a password sign-in ends.
pub(super) enum SignIn {
    Tokens(Tokens),
    Incorrect,
    Unconfirmed,
    /// A challenge or state the stand-in offers no page for (a new password, MFA).
    Unsupported(String),
    /// moto did not answer as expected.
    Failed(String),
}

/// How a refresh fails.
pub(super) enum RefreshFailure {
    /// The pool refused the token (revoked, signed out, user gone).
    Refused,
    Failed(String),
}

/// Why a sign-up or confirmation is refused: a message for the person.
pub(super) struct Refused(pub(super) String);

impl HostedUi {
    /// HMAC-SHA256(client secret, username + client id), base64.
    fn secret_hash(&self, username: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.client.client_secret.as_bytes());
        let mut context = hmac::Context::with_key(&key);
        context.update(username.as_bytes());
        context.update(self.client.client_id.as_bytes());
        STANDARD.encode(context.sign().as_ref())
    }

    fn initiate_auth(&self, flow: AuthFlowType, nonce: Option<&str>) -> InitiateAuthFluentBuilder {
        let request = self
            .cognito
            .initiate_auth()
            .client_id(&self.client.client_id)
            .auth_flow(flow);
        // moto (patched) copies it into the ID token, as Cognito's hosted UI does.
        match nonce {
            Some(nonce) => request.client_metadata("nonce", nonce),
            None => request,
        }
    }

    /// InitiateAuth USER_PASSWORD_AUTH: the pool checks the password.
    pub(super) async fn password_sign_in(
        &self,
        email: &str,
        password: &str,
        nonce: Option<&str>,
    ) -> SignIn {
        let answer = self
            .initiate_auth(AuthFlowType::UserPasswordAuth, nonce)
            .auth_parameters("USERNAME", email)
            .auth_parameters("PASSWORD", password)
            .auth_parameters("SECRET_HASH", self.secret_hash(email))
            .send()
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) => {
                return match err.into_service_error() {
                    InitiateAuthError::NotAuthorizedException(_)
                    | InitiateAuthError::UserNotFoundException(_) => SignIn::Incorrect,
                    InitiateAuthError::UserNotConfirmedException(_) => SignIn::Unconfirmed,
                    InitiateAuthError::PasswordResetRequiredException(_) => SignIn::Unsupported(
                        "This account needs a password reset, which the local hosted UI does not offer."
                            .to_owned(),
                    ),
                    other => SignIn::Failed(DisplayErrorContext(other).to_string()),
                };
            }
        };
        if let Some(challenge) = answer.challenge_name() {
            return SignIn::Unsupported(format!(
                "This account needs the {} step, which the local hosted UI does not offer.",
                challenge.as_str()
            ));
        }
        match tokens(answer.authentication_result()) {
            Some(
                tokens @ Tokens {
                    refresh_token: Some(_),
                    ..
                },
            ) => SignIn::Tokens(tokens),
            _ => SignIn::Failed("InitiateAuth answered without tokens".to_owned()),
        }
    }

    /// InitiateAuth REFRESH_TOKEN_AUTH; `username` is the one the token was issued to.
    pub(super) async fn refresh(
        &self,
        refresh_token: &str,
        username: &str,
        nonce: Option<&str>,
    ) -> Result<Tokens, RefreshFailure> {
        let answer = self
            .initiate_auth(AuthFlowType::RefreshTokenAuth, nonce)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .auth_parameters("SECRET_HASH", self.secret_hash(username))
            .send()
            .await
            .map_err(|err| match err.into_service_error() {
                InitiateAuthError::NotAuthorizedException(_)
                | InitiateAuthError::UserNotFoundException(_)
                | InitiateAuthError::ResourceNotFoundException(_) => RefreshFailure::Refused,
                other => RefreshFailure::Failed(DisplayErrorContext(other).to_string()),
            })?;
        tokens(answer.authentication_result()).ok_or_else(|| {
            RefreshFailure::Failed("InitiateAuth answered without tokens".to_owned())
        })
    }

    /// SignUp with the e-mail as username and as the `email` attribute; the
    /// pool checks its password policy.
    pub(super) async fn register(&self, email: &str, password: &str) -> Result<(), Refused> {
        let attribute = AttributeType::builder()
            .name("email")
            .value(email)
            .build()
            .map_err(|err| Refused(err.to_string()))?;
        self.cognito
            .sign_up()
            .client_id(&self.client.client_id)
            .username(email)
            .password(password)
            .secret_hash(self.secret_hash(email))
            .user_attributes(attribute)
            .send()
            .await
            .map(drop)
            .map_err(|err| {
                Refused(match err.into_service_error() {
                    // Cognito's own wording; the e-mail is the username.
                    SignUpError::UsernameExistsException(_) => {
                        "An account with the given email already exists.".to_owned()
                    }
                    err @ (SignUpError::InvalidPasswordException(_)
                    | SignUpError::InvalidParameterException(_)) => err
                        .message()
                        .unwrap_or("The password or e-mail address is not accepted.")
                        .to_owned(),
                    other => format!(
                        "The user pool did not answer: {}",
                        DisplayErrorContext(other)
                    ),
                })
            })
    }

    /// ConfirmSignUp (moto accepts any code: the caller has checked it),
    /// then marks the e-mail verified, as Cognito does on confirmation.
    pub(super) async fn confirm_account(&self, email: &str, code: &str) -> Result<(), Refused> {
        self.cognito
            .confirm_sign_up()
            .client_id(&self.client.client_id)
            .username(email)
            .confirmation_code(code)
            .secret_hash(self.secret_hash(email))
            .send()
            .await
            .map_err(|err| {
                Refused(match err.into_service_error() {
                    ConfirmSignUpError::UserNotFoundException(_) => {
                        "Invalid code provided, please request a code again.".to_owned()
                    }
                    other => format!(
                        "The user pool did not answer: {}",
                        DisplayErrorContext(other)
                    ),
                })
            })?;
        let verified = AttributeType::builder()
            .name("email_verified")
            .value("true")
            .build()
            .map_err(|err| Refused(err.to_string()))?;
        self.cognito
            .admin_update_user_attributes()
            .user_pool_id(&self.client.user_pool_id)
            .username(email)
            .user_attributes(verified)
            .send()
            .await
            .map(drop)
            .map_err(|err| {
                Refused(format!(
                    "The user pool did not answer: {}",
                    DisplayErrorContext(err)
                ))
            })
    }
}

fn tokens(
    result: Option<&aws_sdk_cognitoidentityprovider::types::AuthenticationResultType>,
) -> Option<Tokens> {
    let result = result?;
    Some(Tokens {
        id_token: result.id_token()?.to_owned(),
        access_token: result.access_token()?.to_owned(),
        refresh_token: result.refresh_token().map(str::to_owned),
        expires_in: result.expires_in(),
    })
}
