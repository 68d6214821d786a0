"""Codes people read aloud or type at a till: coupon promo codes, referral codes, gift-card codes."""

from __future__ import annotations

import secrets

READABLE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to confuse


def new_code(length: int) -> str:
    return "".join(secrets.choice(READABLE_ALPHABET) for _ in range(length))


def normalise_code(code: str) -> str:
    """What a person typed (any case, with dashes or spaces) as the code it stands for."""
    return "".join(char for char in code.upper() if char.isalnum())


def format_code(code: str, group: int = 4) -> str:
    return "-".join(code[i : i + group] for i in range(0, len(code), group))
