"""The staff user pool (Amazon Cognito): accounts, passwords, invitations, resets, sessions, tokens.

Cognito keeps who a person is and proves it; which merchant they work for, their role and whether
they may still call are ours (the credentials table), read by the merchant authorizer on every
request, so a change applies at once. The Cognito username is our staff id (``stf_...``): tokens
name the staff member and carry no e-mail address.

Tokens are RS256 JWTs checked against the pool's JSON Web Key Set (PyJWT), fetched once per
container: from Cognito in AWS, from the moto server locally (same path under its endpoint).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from loyalty.config import EnvConfig
from loyalty.errors import Conflict, InvalidRequest, LoyaltyError, RateLimited, Unauthenticated, Unavailable
from loyalty.platform.aws import client
from loyalty.platform.observability import logger

if TYPE_CHECKING:
    import jwt

JWKS_TIMEOUT_SECONDS = 3


class UserPoolConfig(EnvConfig):
    staff_user_pool_id: str
    staff_user_pool_client_id: str


@dataclass(frozen=True)
class UserPool:
    pool_id: str
    client_id: str
    region: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        """Cognito's key set; under the endpoint override when there is one (moto locally)."""
        endpoint = os.environ.get("AWS_ENDPOINT_URL_COGNITO_IDP") or os.environ.get("AWS_ENDPOINT_URL")
        base = f"{endpoint.rstrip('/')}/{self.pool_id}" if endpoint else self.issuer
        return f"{base}/.well-known/jwks.json"


@cache
def user_pool() -> UserPool:
    """The pool named by the environment (read once per container)."""
    config = UserPoolConfig.from_env()
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"
    return UserPool(config.staff_user_pool_id, config.staff_user_pool_client_id, region)


@cache
def _jwks(url: str) -> jwt.PyJWKClient:
    import jwt  # imported where a token is checked: it loads cryptography's RSA and EC keys

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=JWKS_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class AccessClaims:
    username: str  # our staff id
    issued_at: int  # epoch seconds


def verify_access_token(token: str, pool: UserPool) -> AccessClaims:
    """A valid, unexpired access token of this pool's app client, or ``Unauthenticated``."""
    import jwt

    try:
        key = _jwks(pool.jwks_url).get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=pool.issuer,
            options={"require": ["exp", "iat", "token_use", "client_id", "username"]},
        )
    except jwt.PyJWKClientConnectionError as exc:
        raise Unavailable("the staff sign-in keys could not be read; retry") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the staff token is not valid") from exc
    if claims.get("token_use") != "access" or claims.get("client_id") != pool.client_id:
        raise Unauthenticated("not an access token of the back office")
    return AccessClaims(str(claims["username"]), int(claims["iat"]))


# ---- calls to the user pool ---------------------------------------------------------------------
ERRORS: dict[str, tuple[type[LoyaltyError], str, str]] = {
    "NotAuthorizedException": (Unauthenticated, "invalid_credentials", "wrong e-mail or password"),
    "UserNotFoundException": (Unauthenticated, "invalid_credentials", "wrong e-mail or password"),
    "PasswordResetRequiredException": (Unauthenticated, "password_reset_required", "reset the password first"),
    "UserNotConfirmedException": (Unauthenticated, "invalid_credentials", "wrong e-mail or password"),
    "InvalidPasswordException": (InvalidRequest, "weak_password", "the password does not meet the policy"),
    "CodeMismatchException": (InvalidRequest, "invalid_code", "the code is wrong"),
    "ExpiredCodeException": (InvalidRequest, "invalid_code", "the code has expired; ask for a new one"),
    "UsernameExistsException": (Conflict, "staff_exists", "this account exists"),
    "InvalidParameterException": (InvalidRequest, "invalid_request", "the user pool refused the request"),
    "TooManyRequestsException": (RateLimited, "rate_limited", "too many attempts; try again later"),
    "TooManyFailedAttemptsException": (RateLimited, "rate_limited", "too many attempts; try again later"),
    "LimitExceededException": (RateLimited, "rate_limited", "too many attempts; try again later"),
}


# A sign-in session that is unknown or expired (Cognito says NotAuthorized; moto, ResourceNotFound).
SESSION_ERRORS: dict[str, tuple[type[LoyaltyError], str, str]] = {
    "ResourceNotFoundException": (Unauthenticated, "invalid_session", "the sign-in has expired: sign in again"),
}


def _translated(
    exc: ClientError | BotoCoreError, errors: dict[str, tuple[type[LoyaltyError], str, str]]
) -> LoyaltyError:
    if isinstance(exc, ParamValidationError):  # botocore checks Cognito's length limits first
        return InvalidRequest("a value does not fit the user pool's limits", code="invalid_request")
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
    if code not in errors:
        logger.warning("user pool call failed", extra={"error": code or type(exc).__name__})
        return Unavailable("the staff accounts service is unavailable; retry")
    error_type, error_code, message = errors[code]
    if error_type is RateLimited:
        return RateLimited(message, code=error_code, retry_after_seconds=30)
    return error_type(message, code=error_code)


def _call(
    operation: str, *, errors: dict[str, tuple[type[LoyaltyError], str, str]] = ERRORS, **kwargs: Any
) -> dict[str, Any]:
    try:
        return dict(getattr(client("cognito-idp"), operation)(**kwargs))
    except (ClientError, BotoCoreError) as exc:
        raise _translated(exc, errors) from exc


def create_user(pool: UserPool, username: str, email: str, temporary_password: str, *, resend: bool = False) -> None:
    """The account, and Cognito's invitation e-mail with the temporary password."""
    request: dict[str, Any] = {
        "UserPoolId": pool.pool_id,
        "Username": username,
        "TemporaryPassword": temporary_password,
        "UserAttributes": [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    if resend:
        request["MessageAction"] = "RESEND"
    _call("admin_create_user", **request)


def delete_user(pool: UserPool, username: str) -> None:
    try:
        _call("admin_delete_user", UserPoolId=pool.pool_id, Username=username)
    except Unauthenticated:  # already gone
        return


@dataclass(frozen=True)
class SignInResult:
    """Tokens, or the challenge to answer first (a new password on the first sign-in)."""

    access_token: str | None = None
    refresh_token: str | None = None
    expires_in: int = 0
    challenge: str | None = None
    session: str | None = None


def _result(answer: dict[str, Any], refresh_token: str | None = None) -> SignInResult:
    tokens = answer.get("AuthenticationResult")
    if tokens:
        return SignInResult(
            access_token=str(tokens["AccessToken"]),
            refresh_token=str(tokens.get("RefreshToken") or refresh_token or "") or None,
            expires_in=int(tokens.get("ExpiresIn", 0)),
        )
    return SignInResult(challenge=str(answer.get("ChallengeName", "")), session=answer.get("Session"))


def sign_in(pool: UserPool, username: str, password: str) -> SignInResult:
    return _result(
        _call(
            "initiate_auth",
            ClientId=pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    )


def set_new_password(pool: UserPool, username: str, session: str, new_password: str) -> SignInResult:
    return _result(
        _call(
            "respond_to_auth_challenge",
            errors={**ERRORS, **SESSION_ERRORS},
            ClientId=pool.client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
        )
    )


def refresh(pool: UserPool, refresh_token: str) -> SignInResult:
    answer = _call(
        "initiate_auth",
        ClientId=pool.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )
    return _result(answer, refresh_token)


def forgot_password(pool: UserPool, username: str) -> None:
    _call("forgot_password", ClientId=pool.client_id, Username=username)


def confirm_forgot_password(pool: UserPool, username: str, code: str, new_password: str) -> None:
    _call(
        "confirm_forgot_password",
        ClientId=pool.client_id,
        Username=username,
        ConfirmationCode=code,
        Password=new_password,
    )


def global_sign_out(pool: UserPool, username: str) -> None:
    """Every refresh token of the account stops working (access tokens are refused by our
    authorizer through the staff record's ``signed_out_at``)."""
    try:
        _call("admin_user_global_sign_out", UserPoolId=pool.pool_id, Username=username)
    except Unauthenticated:  # no such user any more: nothing to sign out
        return
