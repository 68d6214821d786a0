"""What a channel's provider is asked to send, and how it can fail: the small interface every
provider implements (SNS and SES in ``loyalty.platform.providers``; another SMS gateway is one more
class with ``send``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ProviderError(Exception):
    """The provider failed; retrying may help."""


class RecipientGone(Exception):
    """The provider says this address will never work (a disabled push endpoint, say)."""


@dataclass(frozen=True)
class Message:
    to: str  # E.164 phone, SNS endpoint ARN, or email address
    body: str
    subject: str | None = None
    sender: str | None = None
    marketing: bool = False
    reference: str | None = None  # our event id, for the provider's logs


class Provider(Protocol):
    def send(self, message: Message) -> str:
        """Send; return the provider's message id."""
        ...
