"""A merchant's partner system sending signed purchase events, as the README tells partners to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loyalty.domain.partner_messages import signature

from tests.support.events import sqs_record


@dataclass(frozen=True)
class PartnerSender:
    partner_id: str
    secret: str

    def attributes(self, body: str) -> dict[str, str]:
        return {"partner_key": self.partner_id, "signature": signature(self.secret, body)}

    def record(self, body: str, **kwargs: Any) -> dict[str, Any]:
        """The SQS record Lambda would get for ``body`` sent with this partner's signature."""
        return sqs_record(body, attributes=self.attributes(body), **kwargs)

    def message_attributes(self, body: str) -> dict[str, dict[str, str]]:
        """The same, as ``sqs.send_message(MessageAttributes=...)`` takes them."""
        return {name: {"DataType": "String", "StringValue": value} for name, value in self.attributes(body).items()}
