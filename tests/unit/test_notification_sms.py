"""SMS segment counting: GSM-7 160/153 with two-septet extension characters, otherwise UCS-2 70/67."""

from __future__ import annotations

import pytest
from loyalty.notifications.sms import GSM7_BASIC, GSM7_EXTENSION, is_gsm7, sms_segments


def test_the_alphabets() -> None:
    assert len(GSM7_BASIC) == 127  # 128 code points less ESC
    assert "\x1b" not in GSM7_BASIC
    assert GSM7_BASIC.isdisjoint(GSM7_EXTENSION)


@pytest.mark.parametrize(
    ("text", "gsm7"),
    [
        ("", True),
        ("Hello, world! 100% @ home_1\n", True),
        ("Price: 5€ [sale] {now} ~ ^|\\", True),
        ("Ça va? Äpfel, Øre, ß", True),
        ("Привет", False),
        ("Hello «world»", False),
        ("Hello — world", False),
        ("ok 😀", False),
        ("ç", False),  # the GSM alphabet has the capital only
    ],
)
def test_is_gsm7(text: str, gsm7: bool) -> None:
    assert is_gsm7(text) is gsm7


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("a" * 460, 4),
        ("€" * 80, 1),  # 160 septets
        ("€" * 81, 2),
        ("a" * 159 + "{", 2),  # the escape makes it 161 septets
        ("я", 1),
        ("я" * 70, 1),
        ("я" * 71, 2),
        ("я" * 134, 2),
        ("я" * 135, 3),
        ("я" * 201, 3),
        ("я" * 202, 4),
        ("a" * 69 + "я", 1),  # one Cyrillic letter switches the whole text to UCS-2
        ("a" * 70 + "я", 2),
        ("😀" * 35, 1),  # each is a surrogate pair: two UTF-16 code units
        ("😀" * 36, 2),
    ],
)
def test_sms_segments(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


def test_an_escape_sequence_is_not_split_between_parts() -> None:
    text = "a" * 152 + "€" + "a" * 152  # 306 septets, but the € cannot straddle the first part's end
    assert sms_segments(text) == 3
    assert sms_segments("a" * 151 + "€" + "a" * 153) == 2  # the € ends the first part exactly


def test_a_surrogate_pair_is_not_split_between_parts() -> None:
    text = "я" * 66 + "😀" + "я" * 66  # 134 code units, but the pair cannot straddle the first part's end
    assert sms_segments(text) == 3
    assert sms_segments("я" * 65 + "😀" + "я" * 67) == 2
