"""Cognito's e-mails on the local stack: moto creates users and reset codes but sends nothing, so
this records the e-mails Cognito would send (the invitation with its temporary password, the
password-reset code), written from the user pool's own templates in template.yaml. The dev inbox
(``GET /_local/inbox``) lists them with the other messages.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from loyalty.clock import utcnow

_LOCK = threading.Lock()
_SENT: list[dict[str, Any]] = []
_installed = False


def install() -> None:
    global _installed  # noqa: PLW0603 - patch once per process
    if _installed:
        return
    from moto.cognitoidp.models import CognitoIdpBackend

    original_create, original_forgot = CognitoIdpBackend.admin_create_user, CognitoIdpBackend.forgot_password

    def admin_create_user(self: Any, user_pool_id: str, username: str, message_action: str, *args: Any) -> Any:
        user = original_create(self, user_pool_id, username, message_action, *args)
        if message_action != "SUPPRESS":
            pool = self.describe_user_pool(user_pool_id)
            template = pool.extended_config.get("AdminCreateUserConfig", {}).get("InviteMessageTemplate", {})
            text = str(template.get("EmailMessage", "{username} {####}"))
            text = text.replace("{username}", user.username).replace("{####}", str(user.password))
            _send("staff_invitation", user, str(template.get("EmailSubject", "Your temporary password")), text)
        return user

    def forgot_password(self: Any, client_id: str, username: str) -> Any:
        code, details = original_forgot(self, client_id, username)
        pool = next(pool for pool in self.user_pools.values() if client_id in pool.clients)
        user = pool._get_user(username)
        if user is not None and code:
            template = pool.extended_config.get("VerificationMessageTemplate", {})
            text = str(template.get("EmailMessage", "{####}")).replace("{####}", code)
            _send("staff_password_reset", user, str(template.get("EmailSubject", "Your verification code")), text)
        return code, details

    CognitoIdpBackend.admin_create_user = admin_create_user  # type: ignore[method-assign,assignment]
    CognitoIdpBackend.forgot_password = forgot_password  # type: ignore[method-assign]
    _installed = True


def _send(kind: str, user: Any, subject: str, text: str) -> None:
    message = {
        "channel": "email",
        "id": str(uuid.uuid4()),
        "to": user.attribute_lookup.get("email", ""),
        "subject": subject,
        "text": text,
        "kind": kind,
        "event_id": None,
        "sent_at": utcnow().isoformat(),
    }
    with _LOCK:
        _SENT.append(message)


def sent() -> list[dict[str, Any]]:
    with _LOCK:
        return [dict(message) for message in _SENT]


def clear() -> None:
    with _LOCK:
        _SENT.clear()
