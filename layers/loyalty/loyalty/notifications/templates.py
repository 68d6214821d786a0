"""Notification templates: the defaults, a merchant's overrides, a safe renderer, validation, previews.

Syntax: ``{placeholder}`` inserts a value, ``{{`` and ``}}`` are literal braces, nothing else.
Merchants write templates, so rendering never goes near ``str.format``: no attribute or index
access, no format specs or conversions, no code. A small tokenizer reads the text and a
placeholder is only ever looked up, by its exact name, in the values given.

Email bodies are plain text; whoever wraps them in HTML must escape the rendered text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from loyalty.notifications.kinds import DEFAULT_LANGUAGE, PLACEHOLDERS, Channel, NotificationKind, primary_language
from loyalty.notifications.plural import points_word
from loyalty.notifications.sms import sms_segments

MAX_SMS_SEGMENTS = 3
MAX_PUSH_CHARS = 178  # about what a lock screen shows before cutting the text
MAX_SUBJECT_CHARS = 150


@dataclass(frozen=True)
class Template:
    subject: str | None  # email only
    body: str


TemplateKey = tuple[NotificationKind, Channel, str]  # kind, channel, language


# --- tokenizer and renderer ---------------------------------------------------------------------

_PLAIN = re.compile(r"[^{}]+")
_BRACE = re.compile(r"[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class _Literal:
    text: str


@dataclass(frozen=True)
class _Placeholder:
    name: str


@dataclass(frozen=True)
class _Malformed:
    text: str  # rendered as it stands, so a broken template shows itself instead of failing a send
    position: int
    message: str


_Token = _Literal | _Placeholder | _Malformed


def _tokens(text: str) -> Iterator[_Token]:
    position = 0
    while position < len(text):
        plain = _PLAIN.match(text, position)
        if plain:
            yield _Literal(plain.group())
            position = plain.end()
            continue
        brace = text[position]
        if text.startswith(brace * 2, position):
            yield _Literal(brace)
            position += 2
        elif brace == "}":
            yield _Malformed("}", position, f"a lone '}}' at {position}: write '}}}}' for a literal brace")
            position += 1
        else:
            token, position = _opening(text, position)
            yield token


def _opening(text: str, position: int) -> tuple[_Token, int]:
    """The token a '{' at ``position`` starts, and where the next token starts."""
    following = _BRACE.search(text, position + 1)  # the nearest brace only, so tokenizing stays linear
    if following is None or following.group() == "{":
        message = f"'{{' at {position} is not closed: write '{{{{' for a literal brace"
        return _Malformed("{", position, message), position + 1
    close = following.start()
    inside = text[position + 1 : close]
    if _NAME.fullmatch(inside):
        return _Placeholder(inside), close + 1
    # Anything str.format would evaluate ({0}, {x.attr}, {x[0]}, {x!r}, {x:>10}) is just not a name here.
    message = f"'{{{inside}}}' at {position} is not a placeholder: use a plain name like {{name}}"
    return _Malformed(text[position : close + 1], position, message), close + 1


def render(text: str, values: Mapping[str, object]) -> str:
    """Fill the placeholders of ``text`` from ``values``; a missing (or None) value renders as ''.

    Values are inserted as they are and never read as template syntax themselves.
    """
    parts: list[str] = []
    for token in _tokens(text):
        match token:
            case _Placeholder(name=name):
                value = values.get(name)
                parts.append("" if value is None else str(value))
            case _Literal(text=literal) | _Malformed(text=literal):
                parts.append(literal)
    return "".join(parts)


def placeholders_in(text: str) -> frozenset[str]:
    """The names of the well-formed placeholders of ``text``."""
    return frozenset(token.name for token in _tokens(text) if isinstance(token, _Placeholder))


# --- default templates --------------------------------------------------------------------------


class _Texts(NamedTuple):
    sms: str
    push: str
    email_subject: str
    email_body: str


_K = NotificationKind

# Russian SMS go as UCS-2: 70 characters fit one SMS, so these stay telegraphic. Verbs are chosen
# to agree with any number ("вы потратили 1 балл / 5 баллов", "сгорит 2 балла"), and the merchant's
# name stands apart ("{merchant}: ...") because it cannot be declined after a preposition.
_RU: Mapping[NotificationKind, _Texts] = {
    _K.WELCOME: _Texts(
        sms="{merchant}: добро пожаловать! Ваша карта {card_number}",
        push="{merchant}: {name}, добро пожаловать в программу лояльности! Ваша карта {card_number}",
        email_subject="{merchant}: добро пожаловать в программу лояльности",
        email_body="Здравствуйте, {name}!\n\nВы участник программы лояльности {merchant}. Номер вашей карты: "
        "{card_number}. Называйте его на кассе, чтобы копить баллы и платить ими.\n\n{merchant}",
    ),
    _K.POINTS_EARNED: _Texts(
        sms="{merchant}: +{points} {points_word}. Баланс {balance} {balance_word}",
        push="{merchant}: +{points} {points_word} за покупку. Баланс: {balance} {balance_word}",
        email_subject="{merchant}: +{points} {points_word} за покупку",
        email_body="Здравствуйте, {name}!\n\nВы получили {points} {points_word} за покупку. "
        "Ваш баланс: {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.POINTS_REDEEMED: _Texts(
        sms="{merchant}: вы потратили {points} {points_word}. Баланс {balance} {balance_word}",
        push="{merchant}: вы потратили {points} {points_word}. Баланс: {balance} {balance_word}",
        email_subject="{merchant}: вы потратили {points} {points_word}",
        email_body="Здравствуйте, {name}!\n\nВы потратили {points} {points_word} на покупку. "
        "Ваш баланс: {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.POINTS_HELD: _Texts(
        sms="{merchant}: {points} {points_word} в резерве для оплаты. Баланс {balance} {balance_word}",
        push="{merchant}: {points} {points_word} зарезервировано для оплаты. Баланс: {balance} {balance_word}",
        email_subject="{merchant}: {points} {points_word} в резерве для оплаты",
        email_body="Здравствуйте, {name}!\n\n{points} {points_word} зарезервировано для оплаты покупки. Если "
        "покупка не состоится, они вернутся на вашу карту. Ваш баланс: {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.POINTS_RETURNED: _Texts(
        sms="{merchant}: {points} {points_word} вернулись на карту. Баланс {balance} {balance_word}",
        push="{merchant}: {points} {points_word} вернулись на карту. Баланс: {balance} {balance_word}",
        email_subject="{merchant}: {points} {points_word} вернулись на карту",
        email_body="Здравствуйте, {name}!\n\nОплата баллами не состоялась, и {points} {points_word} вернулись на "
        "вашу карту. Ваш баланс: {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.BONUS_RECEIVED: _Texts(
        sms="{merchant}: +{points} {points_word} {bonus}. Баланс {balance} {balance_word}",
        push="{merchant}: +{points} {points_word} {bonus}. Баланс: {balance} {balance_word}",
        email_subject="{merchant}: +{points} {points_word} {bonus}",
        email_body="Здравствуйте, {name}!\n\nВы получили {points} {points_word} {bonus}. "
        "Ваш баланс: {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.BIRTHDAY_GREETING: _Texts(
        sms="{name}, с днём рождения! Ваш {merchant}",
        push="{name}, с днём рождения! Ваш {merchant}",
        email_subject="{merchant}: с днём рождения, {name}!",
        email_body="Здравствуйте, {name}!\n\nПоздравляем с днём рождения! Приходите отметить.\n\n{merchant}",
    ),
    _K.REFUND_APPLIED: _Texts(
        sms="{merchant}: возврат покупки, -{points} {points_word}. Баланс {balance} {balance_word}",
        push="{merchant}: возврат покупки, -{points} {points_word}. Баланс: {balance} {balance_word}",
        email_subject="{merchant}: баллы за возвращённую покупку",
        email_body="Здравствуйте, {name}!\n\nВы вернули покупку, поэтому мы списали начисленные за неё "
        "{points} {points_word}. Ваш баланс: {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.TIER_CHANGED: _Texts(
        sms="{merchant}: ваш новый уровень — {new_tier}",
        push="{merchant}: {name}, ваш новый уровень — {new_tier}",
        email_subject="{merchant}: ваш новый уровень — {new_tier}",
        email_body="Здравствуйте, {name}!\n\nВаш уровень в программе лояльности изменился: был {old_tier}, "
        "теперь {new_tier}.\n\n{merchant}",
    ),
    _K.POINTS_EXPIRING: _Texts(
        sms="{merchant}: {expires_on} сгорит {points} {points_word}. Успейте потратить",
        push="{merchant}: {name}, {expires_on} сгорит {points} {points_word}. Успейте потратить!",
        email_subject="{merchant}: {expires_on} сгорит {points} {points_word}",
        email_body="Здравствуйте, {name}!\n\n{expires_on} с вашей карты сгорит {points} {points_word}. "
        "Успейте потратить их до этого дня.\n\n{merchant}",
    ),
    _K.BIRTHDAY: _Texts(
        sms="{name}, с днём рождения! {merchant} дарит {bonus_points} {bonus_points_word}",
        push="{name}, с днём рождения! {merchant} дарит вам {bonus_points} {bonus_points_word}",
        email_subject="{merchant}: с днём рождения, {name}!",
        email_body="Здравствуйте, {name}!\n\nПоздравляем с днём рождения! В подарок — {bonus_points} "
        "{bonus_points_word} на вашу карту. Приходите отметить!\n\n{merchant}",
    ),
    _K.COUPON_ISSUED: _Texts(
        sms="{merchant}: купон «{reward}» до {expires_on}, код {code}",
        push="{merchant}: {name}, для вас купон «{reward}». Код {code}, действует до {expires_on}",
        email_subject="{merchant}: купон «{reward}» для вас",
        email_body="Здравствуйте, {name}!\n\nДля вас купон «{reward}». Назовите код {code} на кассе. "
        "Купон действует до {expires_on}.\n\n{merchant}",
    ),
    _K.GIFT_CARD_STATUS: _Texts(
        sms="{merchant}: заказ карты {order_id} — {status}",
        push="{merchant}: заказ подарочной карты {order_id} — {status}",
        email_subject="{merchant}: заказ {order_id} — {status}",
        email_body="Здравствуйте!\n\nВаш заказ подарочной карты {order_id}: {status}.\n\n{merchant}",
    ),
    _K.SIGN_IN_CODE: _Texts(
        sms="{merchant}: код входа {code}. Никому не сообщайте его",
        push="{merchant}: код входа {code}, действует {minutes} мин. Никому не сообщайте его",
        email_subject="{merchant}: код входа {code}",
        email_body="Здравствуйте!\n\nВаш код входа: {code}. Он действует {minutes} мин.\n\nНикому не сообщайте "
        "этот код. Если вы не входили, просто не обращайте внимания на это письмо.\n\n{merchant}",
    ),
    _K.CAMPAIGN: _Texts(
        sms="{merchant}: {text}",
        push="{merchant}: {text}",
        email_subject="{merchant}: специально для вас",
        email_body="Здравствуйте, {name}!\n\n{text}\n\n{merchant}",
    ),
}

# English SMS keep to the GSM-7 alphabet (no dashes or curly quotes), where one SMS holds 160.
_EN: Mapping[NotificationKind, _Texts] = {
    _K.WELCOME: _Texts(
        sms="{merchant}: welcome! Your card number is {card_number}",
        push="{merchant}: welcome, {name}! Your card number is {card_number}",
        email_subject="Welcome to {merchant}",
        email_body="Hello {name},\n\nWelcome to the {merchant} loyalty program! Your card number is "
        "{card_number}. Give it at the till to earn points and pay with them.\n\n{merchant}",
    ),
    _K.POINTS_EARNED: _Texts(
        sms="{merchant}: +{points} {points_word}. Balance: {balance} {balance_word}",
        push="{merchant}: you earned {points} {points_word}. Balance: {balance} {balance_word}",
        email_subject="{merchant}: you earned {points} {points_word}",
        email_body="Hello {name},\n\nYou earned {points} {points_word} for your purchase. "
        "Your balance is {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.POINTS_REDEEMED: _Texts(
        sms="{merchant}: you spent {points} {points_word}. Balance: {balance} {balance_word}",
        push="{merchant}: you spent {points} {points_word}. Balance: {balance} {balance_word}",
        email_subject="{merchant}: you spent {points} {points_word}",
        email_body="Hello {name},\n\nYou spent {points} {points_word} on your purchase. "
        "Your balance is {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.POINTS_HELD: _Texts(
        sms="{merchant}: {points} {points_word} on hold. Balance: {balance} {balance_word}",
        push="{merchant}: {points} {points_word} reserved for a payment. Balance: {balance} {balance_word}",
        email_subject="{merchant}: {points} {points_word} reserved for a payment",
        email_body="Hello {name},\n\n{points} {points_word} are reserved for a payment. If the purchase does not "
        "go through, they come back to your card. Your balance is {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.POINTS_RETURNED: _Texts(
        sms="{merchant}: {points} {points_word} returned. Balance: {balance} {balance_word}",
        push="{merchant}: {points} {points_word} returned to your card. Balance: {balance} {balance_word}",
        email_subject="{merchant}: {points} {points_word} returned to your card",
        email_body="Hello {name},\n\nThe payment with points did not go through, so {points} {points_word} "
        "returned to your card. Your balance is {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.BONUS_RECEIVED: _Texts(
        sms="{merchant}: +{points} {points_word} {bonus}. Balance: {balance} {balance_word}",
        push="{merchant}: +{points} {points_word} {bonus}. Balance: {balance} {balance_word}",
        email_subject="{merchant}: +{points} {points_word} {bonus}",
        email_body="Hello {name},\n\nYou received {points} {points_word} {bonus}. "
        "Your balance is {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.BIRTHDAY_GREETING: _Texts(
        sms="Happy birthday, {name}! Yours, {merchant}",
        push="Happy birthday, {name}! Yours, {merchant}",
        email_subject="{merchant}: happy birthday, {name}!",
        email_body="Hello {name},\n\nHappy birthday! Come and celebrate with us.\n\n{merchant}",
    ),
    _K.REFUND_APPLIED: _Texts(
        sms="{merchant}: refund, -{points} {points_word}. Balance: {balance} {balance_word}",
        push="{merchant}: refund, -{points} {points_word}. Balance: {balance} {balance_word}",
        email_subject="{merchant}: points for a returned purchase",
        email_body="Hello {name},\n\nYou returned a purchase, so we deducted the {points} {points_word} it "
        "earned. Your balance is {balance} {balance_word}.\n\n{merchant}",
    ),
    _K.TIER_CHANGED: _Texts(
        sms="{merchant}: your tier is now {new_tier}",
        push="{merchant}: {name}, your tier is now {new_tier}",
        email_subject="{merchant}: your tier is now {new_tier}",
        email_body="Hello {name},\n\nYour tier has changed from {old_tier} to {new_tier}.\n\n{merchant}",
    ),
    _K.POINTS_EXPIRING: _Texts(
        sms="{merchant}: {points} {points_word} will expire on {expires_on}",
        push="{merchant}: {name}, {points} {points_word} will expire on {expires_on}. Use them in time!",
        email_subject="{merchant}: {points} {points_word} will expire on {expires_on}",
        email_body="Hello {name},\n\n{points} {points_word} on your card will expire on {expires_on}. "
        "Use your points before then.\n\n{merchant}",
    ),
    _K.BIRTHDAY: _Texts(
        sms="Happy birthday, {name}! {merchant} gives you {bonus_points} {bonus_points_word}",
        push="Happy birthday, {name}! {merchant} gives you {bonus_points} {bonus_points_word}",
        email_subject="{merchant}: happy birthday, {name}!",
        email_body="Hello {name},\n\nHappy birthday! As a gift, we added {bonus_points} {bonus_points_word} "
        "to your card. Come and celebrate!\n\n{merchant}",
    ),
    _K.COUPON_ISSUED: _Texts(
        sms='{merchant}: coupon "{reward}" until {expires_on}, code {code}',
        push='{merchant}: {name}, a coupon for you: "{reward}". Code {code}, valid until {expires_on}',
        email_subject='{merchant}: a "{reward}" coupon for you',
        email_body='Hello {name},\n\nHere is your coupon: "{reward}". Give the code {code} at the till. '
        "It is valid until {expires_on}.\n\n{merchant}",
    ),
    _K.GIFT_CARD_STATUS: _Texts(
        sms="{merchant}: card order {order_id} is {status}",
        push="{merchant}: gift card order {order_id} is {status}",
        email_subject="{merchant}: order {order_id} is {status}",
        email_body="Hello,\n\nYour gift card order {order_id} is {status}.\n\n{merchant}",
    ),
    _K.SIGN_IN_CODE: _Texts(
        sms="{merchant}: sign-in code {code}. Do not share it with anyone",
        push="{merchant}: sign-in code {code}, valid for {minutes} min. Do not share it with anyone",
        email_subject="{merchant}: sign-in code {code}",
        email_body="Hello,\n\nYour sign-in code is {code}. It is valid for {minutes} min.\n\nDo not share this "
        "code with anyone. If you did not try to sign in, ignore this email.\n\n{merchant}",
    ),
    _K.CAMPAIGN: _Texts(
        sms="{merchant}: {text}",
        push="{merchant}: {text}",
        email_subject="{merchant}: an offer for you",
        email_body="Hello {name},\n\n{text}\n\n{merchant}",
    ),
}


def _by_channel(texts_by_language: Mapping[str, Mapping[NotificationKind, _Texts]]) -> dict[TemplateKey, Template]:
    templates: dict[TemplateKey, Template] = {}
    for language, texts_by_kind in texts_by_language.items():
        for kind, texts in texts_by_kind.items():
            templates[kind, Channel.SMS, language] = Template(subject=None, body=texts.sms)
            templates[kind, Channel.PUSH, language] = Template(subject=None, body=texts.push)
            templates[kind, Channel.EMAIL, language] = Template(subject=texts.email_subject, body=texts.email_body)
    return templates


DEFAULT_TEMPLATES: Mapping[TemplateKey, Template] = MappingProxyType(_by_channel({"ru": _RU, "en": _EN}))


def template_for(
    kind: NotificationKind,
    channel: Channel,
    language: str,
    overrides: Mapping[TemplateKey, Template] | None = None,
) -> Template:
    """The template to send: the merchant's override, else the default, in the member's language if
    there is one (by primary subtag: "en-GB" is "en"), else in Russian.

    The language comes first: an English speaker gets the English default rather than the
    merchant's Russian override.
    """
    merchant_templates = overrides or {}
    for code in (primary_language(language), DEFAULT_LANGUAGE):
        key = (kind, channel, code)
        found = merchant_templates.get(key) or DEFAULT_TEMPLATES.get(key)
        if found is not None:
            return found
    raise KeyError(f"no default template for {kind} by {channel}")  # the defaults cover every pair


# --- sample values, previews and validation -----------------------------------------------------

_SAMPLE_POINTS = {"points": 125, "balance": 1250, "bonus_points": 200}
_SAMPLE_TEXTS: Mapping[str, Mapping[str, str]] = {
    "ru": {
        "merchant": "Кофейня «Зерно»",
        "name": "Анна",
        "card_number": "7788123456789018",
        "old_tier": "Серебро",
        "new_tier": "Золото",
        "expires_on": "31.12.2026",
        "reward": "Капучино",
        "code": "K7F2Q9",
        "status": "передан в доставку",
        "order_id": "SD-104582",
        "minutes": "10",
        "text": "Вторая чашка в подарок до воскресенья",
        "bonus": "за отзыв",
    },
    "en": {
        "merchant": "Bean Coffee",
        "name": "Anna",
        "card_number": "7788123456789018",
        "old_tier": "Silver",
        "new_tier": "Gold",
        "expires_on": "31 Dec 2026",
        "reward": "Cappuccino",
        "code": "K7F2Q9",
        "status": "shipped",
        "order_id": "SD-104582",
        "minutes": "10",
        "text": "Second cup free until Sunday",
        "bonus": "for your review",
    },
}
_SAMPLE_CODES = {NotificationKind.SIGN_IN_CODE: "482916"}  # a sign-in code is digits, a coupon code is not


def sample_values(kind: NotificationKind, language: str) -> dict[str, str]:
    """Typical values of the placeholders of ``kind``, for previews and length checks."""
    code = primary_language(language)
    values = dict(_SAMPLE_TEXTS.get(code, _SAMPLE_TEXTS[DEFAULT_LANGUAGE]))
    for name, points in _SAMPLE_POINTS.items():
        values[name] = str(points)
        values[f"{name}_word"] = points_word(points, code)
    if kind in _SAMPLE_CODES:
        values["code"] = _SAMPLE_CODES[kind]
    return {name: value for name, value in values.items() if name in PLACEHOLDERS[kind]}


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str
    sms_segments: int | None = None  # SMS only


def preview(kind: NotificationKind, channel: Channel, subject: str | None, body: str, language: str) -> Rendered:
    """The template rendered with the sample values of ``kind`` in ``language``."""
    values = sample_values(kind, language)
    rendered_body = render(body, values)
    return Rendered(
        subject=None if subject is None else render(subject, values),
        body=rendered_body,
        sms_segments=sms_segments(rendered_body) if channel is Channel.SMS else None,
    )


class ProblemCode(StrEnum):
    UNKNOWN_PLACEHOLDER = "unknown_placeholder"
    MALFORMED = "malformed"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    SUBJECT_REQUIRED = "subject_required"
    SUBJECT_NOT_ALLOWED = "subject_not_allowed"


@dataclass(frozen=True)
class TemplateProblem:
    field: str  # "subject" or "body"
    code: ProblemCode
    message: str


def validate(
    kind: NotificationKind,
    channel: Channel,
    subject: str | None,
    body: str,
    *,
    language: str = DEFAULT_LANGUAGE,
) -> list[TemplateProblem]:
    """Everything wrong with a template for ``kind`` over ``channel``; an empty list when it is fine.

    Lengths are measured on the text rendered with the sample values of ``language``, because that
    is what the member receives and what an SMS costs.
    """
    problems: list[TemplateProblem] = []
    has_subject = subject is not None and subject.strip() != ""
    if channel is Channel.EMAIL:
        if subject is None or not has_subject:
            problems.append(TemplateProblem("subject", ProblemCode.SUBJECT_REQUIRED, "an email needs a subject"))
        else:
            problems += _syntax_problems(kind, "subject", subject)
            if "\n" in subject or "\r" in subject:
                problems.append(TemplateProblem("subject", ProblemCode.MALFORMED, "the subject must be one line"))
    elif has_subject:
        problems.append(TemplateProblem("subject", ProblemCode.SUBJECT_NOT_ALLOWED, f"{channel} has no subject"))
    if not body.strip():
        problems.append(TemplateProblem("body", ProblemCode.EMPTY, "the text is empty"))
    problems += _syntax_problems(kind, "body", body)
    problems += _length_problems(preview(kind, channel, subject if has_subject else None, body, language), channel)
    return problems


def _syntax_problems(kind: NotificationKind, field: str, text: str) -> list[TemplateProblem]:
    allowed = PLACEHOLDERS[kind]
    problems: list[TemplateProblem] = []
    for token in _tokens(text):
        if isinstance(token, _Malformed):
            problems.append(TemplateProblem(field, ProblemCode.MALFORMED, token.message))
        elif isinstance(token, _Placeholder) and token.name not in allowed:
            known = ", ".join("{" + name + "}" for name in sorted(allowed))
            message = f"{{{token.name}}} is not known for {kind}; use {known}"
            problems.append(TemplateProblem(field, ProblemCode.UNKNOWN_PLACEHOLDER, message))
    return problems


def _length_problems(rendered: Rendered, channel: Channel) -> list[TemplateProblem]:
    if channel is Channel.SMS and (rendered.sms_segments or 0) > MAX_SMS_SEGMENTS:
        message = f"about {rendered.sms_segments} SMS with typical values; at most {MAX_SMS_SEGMENTS}"
        return [TemplateProblem("body", ProblemCode.TOO_LONG, message)]
    if channel is Channel.PUSH and len(rendered.body) > MAX_PUSH_CHARS:
        message = f"about {len(rendered.body)} characters with typical values; at most {MAX_PUSH_CHARS}"
        return [TemplateProblem("body", ProblemCode.TOO_LONG, message)]
    if channel is Channel.EMAIL and rendered.subject is not None and len(rendered.subject) > MAX_SUBJECT_CHARS:
        message = f"about {len(rendered.subject)} characters with typical values; at most {MAX_SUBJECT_CHARS}"
        return [TemplateProblem("subject", ProblemCode.TOO_LONG, message)]
    return []
