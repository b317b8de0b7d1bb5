//! The authorize request's parameters: parsed, checked against the app
//! client, and carried from page to page in the query string, as Cognito's
//! own `/login?<same params>` does.

use super::AppClient;

/// Form- or query-encoded pairs, in order.
pub(super) struct Params(Vec<(String, String)>);

/// A parameter given more than once (RFC 6749 §3.1: "MUST NOT be included more than once").
pub(super) struct Repeated;

impl Params {
    /// Parses `a=1&b=2`; a missing query is an empty one.
    pub(super) fn parse(encoded: Option<&[u8]>) -> Self {
        Self(
            url::form_urlencoded::parse(encoded.unwrap_or_default())
                .into_owned()
                .collect(),
        )
    }

    /// The one value of `name`, if given; an empty value counts as not given.
    pub(super) fn one(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self
            .0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str());
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(Repeated),
            (Some(value), None) if !value.is_empty() => Ok(Some(value)),
            _ => Ok(None),
        }
    }

    /// Like [`Params::one`], a repeated value counting as none.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.one(name).ok().flatten()
    }
}

/// OAuth 2.0 error codes the stand-in answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OAuthError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    UnsupportedTokenType,
    ServerError,
}

impl OAuthError {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::ServerError => "server_error",
        }
    }
}

/// Why an authorize request is refused.
pub(super) enum Refusal {
    /// The client or its redirect URI is unknown: Cognito shows its own error
    /// page and never redirects to the caller.
    ErrorPage,
    /// The redirect URI is the client's, so the error goes back there
    /// (RFC 6749 §4.1.2.1).
    ToClient {
        redirect_uri: String,
        error: OAuthError,
        state: Option<String>,
    },
}

/// A checked authorize request.
#[derive(Clone)]
pub(super) struct Authorize {
    pub(super) client_id: String,
    /// Exactly one of the client's CallbackURLs, as deployed.
    pub(super) redirect_uri: String,
    /// As given, to carry it on unchanged; `None` grants every allowed scope.
    scope: Option<String>,
    pub(super) scopes: Vec<String>,
    pub(super) state: Option<String>,
    /// An S256 challenge (the only method Cognito supports).
    pub(super) code_challenge: Option<String>,
    pub(super) nonce: Option<String>,
}

impl Authorize {
    /// Checks the parameters against the client in Cognito's order: client
    /// and redirect URI first (else the error page), then the rest (else an
    /// error to the redirect URI).
    pub(super) fn check(params: &Params, client: &AppClient) -> Result<Self, Refusal> {
        let client_id = params
            .one("client_id")
            .map_err(|Repeated| Refusal::ErrorPage)?;
        let redirect_uri = params
            .one("redirect_uri")
            .map_err(|Repeated| Refusal::ErrorPage)?;
        let (Some(client_id), Some(redirect_uri)) = (client_id, redirect_uri) else {
            return Err(Refusal::ErrorPage);
        };
        if client_id != client.client_id
            || !client.callback_urls.iter().any(|url| url == redirect_uri)
        {
            return Err(Refusal::ErrorPage);
        }
        let refuse = |error| Refusal::ToClient {
            redirect_uri: redirect_uri.to_owned(),
            error,
            state: params.get("state").map(str::to_owned),
        };
        let one = |name| {
            params
                .one(name)
                .map_err(|Repeated| refuse(OAuthError::InvalidRequest))
        };

        match one("response_type")? {
            Some("code") => {}
            None => return Err(refuse(OAuthError::InvalidRequest)),
            // The client allows the code grant only.
            Some("token") => return Err(refuse(OAuthError::UnauthorizedClient)),
            Some(_) => return Err(refuse(OAuthError::UnsupportedResponseType)),
        }
        let state = one("state")?.map(str::to_owned);
        let scope = one("scope")?.map(str::to_owned);
        let scopes: Vec<String> = match &scope {
            Some(scope) => scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            None => client.allowed_scopes.clone(),
        };
        if scopes.iter().any(|s| !client.allowed_scopes.contains(s)) {
            return Err(refuse(OAuthError::InvalidScope));
        }
        let code_challenge = match (one("code_challenge")?, one("code_challenge_method")?) {
            (None, None) => None,
            (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {
                Some(challenge.to_owned())
            }
            // `plain`, a missing method (RFC 7636 defaults it to plain), a
            // method without a challenge, or a malformed challenge.
            _ => return Err(refuse(OAuthError::InvalidRequest)),
        };
        let nonce = one("nonce")?.map(str::to_owned);
        Ok(Self {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope,
            scopes,
            state,
            code_challenge,
            nonce,
        })
    }

    /// The request as a query string, to carry it from page to page.
    pub(super) fn query(&self) -> String {
        self.query_with(&[])
    }

    /// The request as a query string, followed by `extra` pairs.
    pub(super) fn query_with(&self, extra: &[(&str, &str)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri);
        let optional = [
            ("scope", &self.scope),
            ("state", &self.state),
            ("code_challenge", &self.code_challenge),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        if self.code_challenge.is_some() {
            query.append_pair("code_challenge_method", "S256");
        }
        if let Some(nonce) = &self.nonce {
            query.append_pair("nonce", nonce);
        }
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        query.finish()
    }

    /// The redirect URI (as deployed) with a code and the state.
    pub(super) fn callback_with_code(&self, code: &str) -> String {
        let mut pairs = vec![("code", code)];
        if let Some(state) = &self.state {
            pairs.push(("state", state));
        }
        with_query(&self.redirect_uri, &pairs)
    }
}

impl Refusal {
    /// The redirect URI (as deployed) with the error and the state.
    pub(super) fn callback_with_error(
        redirect_uri: &str,
        error: OAuthError,
        state: Option<&str>,
    ) -> String {
        let mut pairs = vec![("error", error.as_str())];
        if let Some(state) = state {
            pairs.push(("state", state));
        }
        with_query(redirect_uri, &pairs)
    }
}

/// `url` with `pairs` appended to its query.
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.query_pairs_mut().extend_pairs(pairs);
            parsed.into()
        }
        // Every CallbackURL parses (Cognito checks them); keep a faithful fallback anyway.
        Err(_) => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.extend_pairs(pairs);
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}{}", query.finish())
        }
    }
}

/// BASE64URL(SHA-256(verifier)) is 43 characters of the URL-safe alphabet
/// without padding (RFC 7636 §4.2).
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
