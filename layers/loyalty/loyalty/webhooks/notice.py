"""The email that tells a merchant one of its webhook endpoints was disabled (in Russian, for the
people in the shop; the technical reason stays as the delivery log shows it)."""

from __future__ import annotations

from loyalty.notifications.sending import Message
from loyalty.webhooks.records import Endpoint


def disabled_notice(endpoint: Endpoint, reason: str, to: str, sender: str) -> Message:
    subject = "Вебхуки отключены: получатель не отвечает"
    body = "\n".join(
        [
            "Здравствуйте!",
            "",
            "Мы перестали отправлять события программы лояльности на адрес",
            f"  {endpoint.url}",
            f"(получатель {endpoint.endpoint_id}{', «' + endpoint.description + '»' if endpoint.description else ''}),",
            "потому что он долго не принимал их.",
            "",
            f"Причина: {reason}.",
            "",
            "Что сделать: проверьте сервер, который принимает вебхуки (CRM, интернет-магазин), затем",
            f"включите получатель снова: PATCH /v1/webhook-endpoints/{endpoint.endpoint_id} с телом",
            '{"enabled": true}. Неотправленные события видны в журнале доставок',
            f"(GET /v1/webhook-endpoints/{endpoint.endpoint_id}/deliveries?status=failed), каждое можно",
            "отправить повторно (POST .../deliveries/<id>/replay).",
        ]
    )
    return Message(to=to, body=body, subject=subject, sender=sender, reference=endpoint.endpoint_id)
