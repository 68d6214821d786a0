"""Loyalty card numbers: 16 digits with a Luhn check digit, like the plastic cards POS readers know."""

from __future__ import annotations

import secrets

CARD_PREFIX = "7788"
CARD_LENGTH = 16


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:  # every second digit from the right, starting with the one left of the check
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return number.isdigit() and 8 <= len(number) <= 19 and luhn_check_digit(number[:-1]) == number[-1]


def new_card_number() -> str:
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _ in range(CARD_LENGTH - len(CARD_PREFIX) - 1))
    return body + luhn_check_digit(body)
