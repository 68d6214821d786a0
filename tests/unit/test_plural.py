"""Plural forms after numbers: Russian one/few/many by the last two digits, English singular for 1 only."""

from __future__ import annotations

import pytest
from loyalty.notifications.plural import POINTS_EN, POINTS_RU, plural_en, plural_ru, points_word


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (0, "баллов"),
        (1, "балл"),
        (2, "балла"),
        (3, "балла"),
        (4, "балла"),
        (5, "баллов"),
        (9, "баллов"),
        (10, "баллов"),
        (11, "баллов"),
        (12, "баллов"),
        (13, "баллов"),
        (14, "баллов"),
        (15, "баллов"),
        (20, "баллов"),
        (21, "балл"),
        (22, "балла"),
        (24, "балла"),
        (25, "баллов"),
        (100, "баллов"),
        (101, "балл"),
        (102, "балла"),
        (111, "баллов"),
        (112, "баллов"),
        (114, "баллов"),
        (121, "балл"),
        (1001, "балл"),
        (1011, "баллов"),
        (1_000_000, "баллов"),
        (-1, "балл"),
        (-2, "балла"),
        (-5, "баллов"),
        (-11, "баллов"),
        (-21, "балл"),
    ],
)
def test_russian_plural_by_last_two_digits(n: int, word: str) -> None:
    assert plural_ru(n, POINTS_RU) == word


def test_russian_plural_takes_any_noun() -> None:
    minutes = ("минута", "минуты", "минут")
    assert [plural_ru(n, minutes) for n in (1, 3, 7, 31, 113)] == ["минута", "минуты", "минут", "минута", "минут"]


@pytest.mark.parametrize(
    ("n", "word"), [(1, "point"), (-1, "point"), (0, "points"), (2, "points"), (11, "points"), (21, "points")]
)
def test_english_plural_is_singular_for_one_only(n: int, word: str) -> None:
    assert plural_en(n, POINTS_EN) == word


@pytest.mark.parametrize(
    ("language", "n", "word"),
    [
        ("ru", 1, "балл"),
        ("ru", 22, "балла"),
        ("ru", 125, "баллов"),
        ("en", 1, "point"),
        ("en", 125, "points"),
        ("en-GB", 2, "points"),
        ("EN_us", 1, "point"),
        ("RU", 3, "балла"),
        ("de", 5, "баллов"),  # a language we do not write in reads Russian, like the templates
        ("", 1, "балл"),
    ],
)
def test_points_word_follows_the_language(language: str, n: int, word: str) -> None:
    assert points_word(n, language) == word
