"""A demo merchant (with a known API key) and a demo member, so the first minute is easy."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty import runtime
from loyalty.api.members import EnrollRequest
from loyalty.api.purchases import PurchaseRequest
from loyalty.clock import utcnow
from loyalty.domain.access import Scope
from loyalty.services import accrual, enrollment, keys, merchants

DEMO_MERCHANT_ID = "mch_demo"
DEMO_PHONE = "+79990001122"


@dataclass(frozen=True)
class Demo:
    merchant_id: str
    api_key: str
    member_id: str
    card_number: str


def seed_merchant(api_key: str, name: str = "Demo Coffee") -> None:
    """The demo merchant with its documented key, created now (by the stack's clock)."""
    now = utcnow()
    merchants.create_merchant(name, now, merchant_id=DEMO_MERCHANT_ID)
    keys.issue(DEMO_MERCHANT_ID, "demo", Scope.FULL, now, created_by="local-seed", secret=api_key)


def seed_demo(api_key: str) -> Demo:
    seed_merchant(api_key)
    now = utcnow()
    cipher = runtime.current().cipher()
    member = enrollment.enroll(DEMO_MERCHANT_ID, EnrollRequest(phone=DEMO_PHONE, name="Demo Shopper"), now, cipher)
    for number, amount in enumerate((45_000, 120_000), start=1):
        accrual.accrue(
            DEMO_MERCHANT_ID,
            PurchaseRequest(transaction_id=f"demo-{number}", member_id=member.member_id, amount_kopecks=amount),
            now,
            cipher,
        )
    return Demo(DEMO_MERCHANT_ID, api_key, member.member_id, member.card_number)
