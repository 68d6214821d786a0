"""Staff accounts in tests: the invitation and reset e-mails Cognito sends (read back as the dev
inbox shows them) and the first sign-in with the temporary password."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from infra.template import load_template

NEW_PASSWORD = "Kassa-2026-Zerno"


def _pool_template(*path: str) -> str:
    pools = [r for r in load_template()["Resources"].values() if r["Type"] == "AWS::Cognito::UserPool"]
    value: Any = pools[0]["Properties"]
    for key in path:
        value = value[key]
    return str(value)


def _filled(template: str, text: str) -> str:
    """The code (``{####}``) in ``text``, an e-mail written from ``template``."""
    pattern = re.escape(template).replace(re.escape("{####}"), "(?P<code>.+?)")
    pattern = pattern.replace(re.escape("{username}"), ".+?")
    match = re.fullmatch(pattern, text, re.S)
    assert match is not None, f"not an e-mail of this template: {text!r}"
    return match.group("code")


def temporary_password(messages: list[dict[str, Any]], email: str) -> str:
    """The temporary password of the latest invitation to ``email``."""
    sent = [m for m in messages if m["to"] == email and m["kind"] == "staff_invitation"]
    assert sent, f"no invitation to {email}"
    return _filled(_pool_template("AdminCreateUserConfig", "InviteMessageTemplate", "EmailMessage"), sent[-1]["text"])


def reset_code(messages: list[dict[str, Any]], email: str) -> str:
    sent = [m for m in messages if m["to"] == email and m["kind"] == "staff_password_reset"]
    assert sent, f"no password reset e-mail to {email}"
    return _filled(_pool_template("VerificationMessageTemplate", "EmailMessage"), sent[-1]["text"])


Post = Callable[[str, dict[str, Any]], tuple[int, Any]]


def first_sign_in(post: Post, email: str, password: str, new_password: str = NEW_PASSWORD) -> dict[str, Any]:
    """Sign in with the temporary password and set a new one: the tokens."""
    status, challenge = post("/v1/staff/auth/sign-in", {"email": email, "password": password})
    assert status == 200 and challenge["status"] == "new_password_required", challenge
    status, tokens = post(
        "/v1/staff/auth/new-password",
        {"email": email, "session": challenge["session"], "new_password": new_password},
    )
    assert status == 200 and tokens["status"] == "signed_in", tokens
    return dict(tokens)
