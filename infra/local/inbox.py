"""The dev inbox: every SMS, push and email the system sent, read back from the embedded moto
(and Cognito's staff e-mails, which ``infra.local.cognito_mail`` records)."""

from __future__ import annotations

from typing import Any

from infra.local import cognito_mail
from infra.local.provision import ACCOUNT_ID


def _deliveries(region: str) -> dict[str, dict[str, str]]:
    """Our delivery records by provider message id: which event and kind each message came from.
    (A scan is fine here: this is the local dev inbox, never a product path.)"""
    import boto3

    table = boto3.resource("dynamodb", region_name=region).Table("notifications")
    found: dict[str, dict[str, str]] = {}
    for item in table.scan().get("Items", []):
        if str(item.get("pk", "")).startswith("DELIVERY#") and item.get("message_id"):
            _, event_id, channel = str(item["pk"]).split("#", 2)
            for message_id in str(item["message_id"]).split(","):
                found[message_id] = {"event_id": event_id, "kind": str(item.get("kind", "")), "channel": channel}
    return found


def sent_messages(region: str) -> list[dict[str, Any]]:
    from moto.sesv2.models import sesv2_backends
    from moto.sns.models import sns_backends

    messages: list[dict[str, Any]] = []
    sns = sns_backends[ACCOUNT_ID][region]
    for message_id, (phone, text) in dict(sns.sms_messages).items():
        messages.append({"channel": "sms", "id": message_id, "to": phone, "text": text})
    for arn, endpoint in dict(sns.platform_endpoints).items():
        for message_id, text in dict(endpoint.messages).items():
            messages.append({"channel": "push", "id": message_id, "to": arn, "text": text})
    ses = sesv2_backends[ACCOUNT_ID][region].core_backend
    for message in list(ses.sent_messages):
        body = getattr(message, "body", None) or getattr(message, "raw_data", "")
        messages.append(
            {
                "channel": "email",
                "id": message.id,
                "to": ", ".join(getattr(message, "destinations", {}).get("ToAddresses", [])),
                "subject": getattr(message, "subject", None),
                "text": body,
            }
        )
    origins = _deliveries(region)
    for message in messages:
        origin = origins.get(str(message["id"]), {})
        message["event_id"], message["kind"] = origin.get("event_id"), origin.get("kind")
    return messages + [{k: v for k, v in m.items() if k != "sent_at"} for m in cognito_mail.sent()]
