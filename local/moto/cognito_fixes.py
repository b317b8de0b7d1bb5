"""Makes moto 5.2.5's Cognito user pools behave like Cognito where a sign-in shows it.

The hosted-UI stand-in (`local/src/hosted_ui/`) signs people up and in
through moto's Cognito API and hands out moto's tokens. Each function below
restores one Cognito behaviour that moto lacks; each difference was first
reproduced with boto3 against an unpatched server (sign up `Ann@Example.com`,
sign in as `ann@example.com`, read the ID token's claims).
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable

from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPool
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.cognitoidp.utils import flatten_attrs

# The ClientMetadata of the InitiateAuth call being served. moto serves each
# request on its own thread, and the value is set and reset around one call.
_client_metadata: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "client_metadata", default={}
)


def apply() -> None:
    """Installs the Cognito patches; call once, before the server starts."""
    CognitoIdpUserPool._get_user = usernames_ignore_case_when_configured(CognitoIdpUserPool._get_user)
    CognitoIdpUserPool.create_jwt = id_token_claims_like_cognito(CognitoIdpUserPool.create_jwt)
    CognitoIdpResponse.initiate_auth = initiate_auth_keeps_client_metadata(CognitoIdpResponse.initiate_auth)


def _case_insensitive(pool: CognitoIdpUserPool) -> bool:
    # CloudFormation may hand the flag over as the string "false".
    setting = (pool.extended_config.get("UsernameConfiguration") or {}).get("CaseSensitive", True)
    return setting is False or str(setting).lower() == "false"


def usernames_ignore_case_when_configured(original: Callable[..., Any]) -> Callable[..., Any]:
    """`UsernameConfiguration.CaseSensitive=false`: a user is found whatever the case.

    moto ignores the setting, so `ann@example.com` does not find the user who
    signed up as `Ann@Example.com` (UserNotFoundException), and a second
    sign-up in another case is accepted. Cognito matches the username and
    the username attributes (the e-mail here) case-insensitively.
    """

    def _get_user(self: CognitoIdpUserPool, username: str) -> CognitoIdpUser | None:
        user = original(self, username)
        if user or not isinstance(username, str) or not _case_insensitive(self):
            return user
        wanted = username.lower()
        attribute_types = self.extended_config.get("UsernameAttributes") or []
        for candidate in self.users.values():
            attributes = flatten_attrs(candidate.attributes)
            names = [candidate.username, *(attributes.get(kind) for kind in attribute_types)]
            if any(isinstance(name, str) and name.lower() == wanted for name in names):
                return candidate
        return None

    return _get_user


def id_token_claims_like_cognito(original: Callable[..., Any]) -> Callable[..., Any]:
    """The ID token's `email`, `email_verified` and `nonce` claims as Cognito sets them.

    - moto's `email` claim is the string typed at sign-in; Cognito's is the
      stored attribute, which differs once the case is ignored (see above).
    - moto leaves out `email_verified`; Cognito sends it as a JSON boolean.
    - The nonce of the authorize request belongs in the ID token (OpenID
      Connect Core 3.1.2.1). Cognito's hosted UI puts it there itself; here
      the stand-in passes it as InitiateAuth's `ClientMetadata["nonce"]`
      (also for REFRESH_TOKEN_AUTH, where OpenID Connect keeps the original
      nonce), and this copies it into the claims. Nothing else reads it.
    """

    def create_jwt(
        self: CognitoIdpUserPool,
        client_id: str,
        username: str,
        token_use: str,
        expires_in: int = 60 * 60,
        extra_data: dict[str, Any] | None = None,
    ) -> tuple[str, int]:
        if token_use == "id":
            extra_data = dict(extra_data or {})
            user = self._get_user(username)
            attributes = flatten_attrs(user.attributes) if user else {}
            if "email" in attributes:
                extra_data["email"] = attributes["email"]
                extra_data["email_verified"] = str(attributes.get("email_verified", "false")).lower() == "true"
            nonce = _client_metadata.get().get("nonce")
            if isinstance(nonce, str) and nonce:
                extra_data["nonce"] = nonce
        return original(self, client_id, username, token_use, expires_in, extra_data)

    return create_jwt


def initiate_auth_keeps_client_metadata(original: Callable[..., Any]) -> Callable[..., Any]:
    """InitiateAuth's `ClientMetadata` reaches the token claims (for `nonce`, above).

    moto's InitiateAuth drops ClientMetadata (in Cognito it only goes to
    Lambda triggers, which moto does not run).
    """

    def initiate_auth(self: CognitoIdpResponse) -> Any:
        metadata = self._get_param("ClientMetadata") or {}
        token = _client_metadata.set(metadata if isinstance(metadata, dict) else {})
        try:
            return original(self)
        finally:
            _client_metadata.reset(token)

    return initiate_auth
