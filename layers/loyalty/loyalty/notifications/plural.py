"""Plural forms of nouns after numbers, for "1 балл", "2 балла", "5 баллов" and "1 point", "2 points"."""

from __future__ import annotations

from loyalty.notifications.kinds import primary_language

POINTS_RU = ("балл", "балла", "баллов")
POINTS_EN = ("point", "points")


def plural_ru(n: int, forms: tuple[str, str, str]) -> str:
    """Pick the Russian form for ``n``: (one, few, many), as in 1 балл, 2 балла, 5 баллов.

    The last two digits decide: 11-14 always take "many" (11 баллов), otherwise the last digit does
    (21 балл, 22 балла). A negative number reads like its absolute value.
    """
    one, few, many = forms
    n = abs(n)
    if 11 <= n % 100 <= 14:
        return many
    last = n % 10
    if last == 1:
        return one
    if 2 <= last <= 4:
        return few
    return many


def plural_en(n: int, forms: tuple[str, str]) -> str:
    """Pick the English form for ``n``: (singular, plural); only 1 and -1 are singular."""
    singular, plural = forms
    return singular if abs(n) == 1 else plural


def points_word(n: int, language: str) -> str:
    """The word for ``n`` points in the member's language; Russian unless the language is English."""
    if primary_language(language) == "en":
        return plural_en(n, POINTS_EN)
    return plural_ru(n, POINTS_RU)


def roubles(kopecks: int, language: str) -> str:
    """Kopecks as a sum a person reads: "61,72" in Russian, "61.72" in English (the word is ₽)."""
    sign = "-" if kopecks < 0 else ""
    whole, rest = divmod(abs(kopecks), 100)
    separator = "." if primary_language(language) == "en" else ","
    return f"{sign}{whole}{separator}{rest:02d}" if rest else f"{sign}{whole}"


ROUBLE_SIGN = "₽"
