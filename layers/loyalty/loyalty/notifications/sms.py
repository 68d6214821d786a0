"""How many SMS segments a text costs, which is what the SMS provider bills.

A text of GSM 03.38 characters goes as 7-bit septets: 160 in one SMS, 153 per part of a
multipart one (the rest of each part holds the concatenation header). Any other character, every
Cyrillic letter included, switches the whole text to UCS-2: 70 UTF-16 code units in one SMS, 67
per part.
"""

from __future__ import annotations

from collections.abc import Iterable

# The GSM 03.38 default alphabet without ESC (0x1B), which only introduces an extension character.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as ESC + character, so each costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def sms_segments(text: str) -> int:
    """The number of SMS a text is sent as; 0 for an empty text."""
    if not text:
        return 0
    if is_gsm7(text):
        septets = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return _segments(septets, GSM7_SINGLE, GSM7_PART)
    code_units = [2 if ord(char) > 0xFFFF else 1 for char in text]  # astral characters are surrogate pairs
    return _segments(code_units, UCS2_SINGLE, UCS2_PART)


def _segments(units: list[int], single: int, part: int) -> int:
    if sum(units) <= single:
        return 1
    return _parts(units, part)


def _parts(units: Iterable[int], capacity: int) -> int:
    # Phones and gateways never split an escape sequence or a surrogate pair between two parts,
    # so a part may end a unit short; plain division would undercount such texts.
    parts, used = 1, 0
    for size in units:
        if used + size > capacity:
            parts, used = parts + 1, 0
        used += size
    return parts
