//! The sign-in in flight: the `state`, PKCE `code_verifier` and `nonce` one
//! browser's sign-in is bound to, the `__Host-` cookie that carries them
//! from the start to the callback, and the hosted UI's authorize URL.
//!
//! The function is stateless, so the browser keeps the three values. The
//! cookie is not signed or encrypted, and needs neither: it is `HttpOnly`
//! (no script reads it), `__Host-` (only this exact origin over TLS sets it,
//! so no sibling subdomain can plant one), and every value in it is checked
//! against something an attacker cannot choose for the victim: the `state`
//! against the query Cognito sends back, the verifier by Cognito against the
//! challenge it stored with the code, the `nonce` against the ID token
//! Cognito issued. Someone who edits their own cookie only breaks their own
//! sign-in.

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use aws_lambda_events::http::header::COOKIE;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie's name. `__Host-` makes browsers accept it only with
/// `Secure`, `Path=/` and no `Domain`, i.e. from this origin alone.
pub const COOKIE_NAME: &str = "__Host-signin";

/// How long a started sign-in stays valid, in seconds: long enough to sign
/// up and type the code Cognito e-mails, short enough that a forgotten tab
/// does not keep a verifier around.
pub const COOKIE_MAX_AGE: u32 = 600;

/// Random bytes per value: 256 bits, as RFC 7636 §7.1 recommends for the
/// verifier; the same for `state` and `nonce`.
const RANDOM_BYTES: usize = 32;

/// Length of one value as unpadded base64url: 32 bytes make 43 characters,
/// the shortest verifier RFC 7636 §4.1 allows.
const VALUE_LEN: usize = 43;

/// The attributes the cookie is set and cleared with; they must match for
/// the clearing to replace it.
const ATTRIBUTES: &str = "Path=/; Secure; HttpOnly; SameSite=Lax";

/// One browser's sign-in. No `Debug`: each field is a secret of the flow.
pub struct SignIn {
    state: String,
    verifier: String,
    nonce: String,
}

impl SignIn {
    /// Three fresh random values. `ThreadRng` is a CSPRNG seeded from the
    /// operating system (rand's documentation says it is fit for keys).
    pub fn fresh() -> Self {
        let value = || {
            let mut bytes = [0u8; RANDOM_BYTES];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
            URL_SAFE_NO_PAD.encode(bytes)
        };
        Self {
            state: value(),
            verifier: value(),
            nonce: value(),
        }
    }

    /// The `state` sent to the authorize endpoint and expected back.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The PKCE `code_verifier`, sent only to the token endpoint.
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// The `nonce` sent to the authorize endpoint and expected in the ID token.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The S256 `code_challenge`: BASE64URL(SHA-256(ASCII(verifier))), RFC 7636 §4.2.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }

    /// The cookie's value: `state.verifier.nonce`, 131 characters.
    pub fn cookie_value(&self) -> String {
        format!("{}.{}.{}", self.state, self.verifier, self.nonce)
    }

    /// The `Set-Cookie` header that starts the sign-in.
    pub fn set_cookie(&self) -> String {
        format!(
            "{COOKIE_NAME}={}; Max-Age={COOKIE_MAX_AGE}; {ATTRIBUTES}",
            self.cookie_value()
        )
    }

    /// Reads a cookie value back; anything but three values of the exact
    /// shape [`fresh`](Self::fresh) makes is no sign-in at all.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        let mut next = || {
            parts
                .next()
                .filter(|part| part.len() == VALUE_LEN && part.bytes().all(is_base64url))
                .map(str::to_owned)
        };
        let sign_in = Self {
            state: next()?,
            verifier: next()?,
            nonce: next()?,
        };
        parts.next().is_none().then_some(sign_in)
    }

    /// The sign-in this browser started, from its `Cookie` headers; the
    /// first well-formed one if, oddly, there are several.
    pub fn from_request(request: &ApiGatewayProxyRequest) -> Option<Self> {
        request
            .headers
            .get_all(COOKIE)
            .iter()
            .chain(request.multi_value_headers.get_all(COOKIE).iter())
            .filter_map(|header| header.to_str().ok())
            .flat_map(|header| header.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == COOKIE_NAME)
            .find_map(|(_, value)| Self::parse(value.trim_matches('"')))
    }

    /// Whether `state` is this sign-in's, compared in constant time so the
    /// answer's timing tells nothing about how much of a guess was right.
    pub fn state_matches(&self, state: &str) -> bool {
        bool::from(self.state.as_bytes().ct_eq(state.as_bytes()))
    }

    /// Whether `nonce` is this sign-in's, in constant time.
    pub fn nonce_matches(&self, nonce: &str) -> bool {
        bool::from(self.nonce.as_bytes().ct_eq(nonce.as_bytes()))
    }

    /// The hosted UI's authorize URL for this sign-in (Cognito's
    /// `/oauth2/authorize`, OpenID Connect's authorization request).
    pub fn authorize_url(
        &self,
        authorize_endpoint: &str,
        client_id: &str,
        redirect_uri: &str,
    ) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid email")
            .append_pair("state", &self.state)
            .append_pair("code_challenge", &self.challenge())
            .append_pair("code_challenge_method", "S256")
            .append_pair("nonce", &self.nonce)
            .finish();
        let separator = if authorize_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{authorize_endpoint}{separator}{query}")
    }
}

/// The `Set-Cookie` header that ends the sign-in: same name and attributes,
/// no value, expired.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; Max-Age=0; {ATTRIBUTES}")
}

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// The `nonce` claim of an ID token, read from its payload without checking
/// the signature: the token came straight from the token endpoint over TLS,
/// in answer to this function's own request (OpenID Connect Core §3.1.3.7
/// lets a client rely on TLS there). `None` when the token has no readable
/// payload or no string `nonce`.
pub fn id_token_nonce(id_token: &str) -> Option<String> {
    let mut segments = id_token.split('.');
    let payload = segments.nth(1)?;
    // Unpadded is what JWTs use; tolerate padding rather than refuse it.
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("nonce")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B: the verifier and the challenge it gives.
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn known() -> SignIn {
        SignIn::parse(&format!(
            "{}.{RFC_VERIFIER}.{}",
            "s".repeat(43),
            "n".repeat(43)
        ))
        .unwrap()
    }

    #[test]
    fn the_challenge_is_rfc_7636s_s256() {
        assert_eq!(known().challenge(), RFC_CHALLENGE);
    }

    #[test]
    fn fresh_values_are_43_base64url_characters_and_differ() {
        let a = SignIn::fresh();
        let b = SignIn::fresh();
        for value in [a.state(), a.verifier(), a.nonce()] {
            assert_eq!(value.len(), 43);
            assert!(value.bytes().all(is_base64url), "{value}");
        }
        assert_ne!(a.state(), a.verifier());
        assert_ne!(a.state(), b.state());
        assert_ne!(a.nonce(), b.nonce());
        let back = SignIn::parse(&a.cookie_value()).unwrap();
        assert_eq!(back.state(), a.state());
        assert_eq!(back.verifier(), a.verifier());
        assert_eq!(back.nonce(), a.nonce());
    }

    #[test]
    fn only_three_well_formed_values_parse() {
        let ok = "a".repeat(43);
        for bad in [
            String::new(),
            ok.clone(),
            format!("{ok}.{ok}"),
            format!("{ok}.{ok}.{ok}.{ok}"),
            format!("{ok}.{ok}.{}", "a".repeat(42)),
            format!("{ok}.{ok}.{}", "a".repeat(44)),
            format!("{ok}.{ok}.{}+", "a".repeat(42)),
            format!("{ok}.{ok}.{}é", "a".repeat(41)),
            format!("{ok}.{ok}.{ok}."),
        ] {
            assert!(SignIn::parse(&bad).is_none(), "{bad:?}");
        }
        assert!(SignIn::parse(&format!("{ok}.{ok}.{ok}")).is_some());
    }

    #[test]
    fn state_and_nonce_compare_exactly() {
        let sign_in = known();
        assert!(sign_in.state_matches(&"s".repeat(43)));
        assert!(!sign_in.state_matches(&"s".repeat(42)));
        assert!(!sign_in.state_matches(&format!("{}t", "s".repeat(42))));
        assert!(!sign_in.state_matches(""));
        assert!(sign_in.nonce_matches(&"n".repeat(43)));
        assert!(!sign_in.nonce_matches(&"s".repeat(43)));
    }

    #[test]
    fn the_nonce_is_read_from_the_payload() {
        let token = |payload: &str| format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(payload));
        assert_eq!(
            id_token_nonce(&token(r#"{"nonce":"abc","email":"a@b"}"#)).as_deref(),
            Some("abc")
        );
        assert_eq!(id_token_nonce(&token(r#"{"email":"a@b"}"#)), None);
        assert_eq!(id_token_nonce(&token(r#"{"nonce":42}"#)), None);
        assert_eq!(id_token_nonce(&token("not json")), None);
        assert_eq!(id_token_nonce("no-dots"), None);
        assert_eq!(id_token_nonce("a.!!!.c"), None);
    }
}
