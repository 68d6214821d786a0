"""Templates: the defaults, the safe renderer, validation, the choice of template and previews."""

from __future__ import annotations

import pytest
from loyalty.notifications.kinds import LANGUAGES, PLACEHOLDERS, Channel, NotificationKind
from loyalty.notifications.sms import is_gsm7, sms_segments
from loyalty.notifications.templates import (
    DEFAULT_TEMPLATES,
    MAX_PUSH_CHARS,
    MAX_SUBJECT_CHARS,
    ProblemCode,
    Template,
    TemplateKey,
    placeholders_in,
    preview,
    render,
    sample_values,
    template_for,
    validate,
)

K = NotificationKind
ALL_KEYS = [(kind, channel, language) for kind in NotificationKind for channel in Channel for language in LANGUAGES]


def codes(kind: NotificationKind, channel: Channel, subject: str | None, body: str) -> list[tuple[str, str]]:
    return [(problem.field, problem.code) for problem in validate(kind, channel, subject, body)]


# --- kinds and defaults -------------------------------------------------------------------------


def test_every_kind_has_placeholders_and_every_one_names_the_merchant() -> None:
    assert set(PLACEHOLDERS) == set(NotificationKind)
    assert all("merchant" in names for names in PLACEHOLDERS.values())


def test_there_is_a_default_for_every_kind_channel_and_language() -> None:
    assert sorted(DEFAULT_TEMPLATES) == sorted(ALL_KEYS)


@pytest.mark.parametrize("key", ALL_KEYS, ids="-".join)
def test_every_default_validates(key: TemplateKey) -> None:
    kind, channel, language = key
    template = DEFAULT_TEMPLATES[key]
    assert validate(kind, channel, template.subject, template.body, language=language) == []
    assert (template.subject is not None) == (channel is Channel.EMAIL)


@pytest.mark.parametrize("key", ALL_KEYS, ids="-".join)
def test_every_default_renders_completely_with_its_sample_values(key: TemplateKey) -> None:
    kind, _, language = key
    template = DEFAULT_TEMPLATES[key]
    values = sample_values(kind, language)
    for text in (template.body, template.subject or ""):
        assert placeholders_in(text) <= set(values)
        rendered = render(text, values)
        assert "{" not in rendered
        assert "}" not in rendered
    assert "merchant" in placeholders_in(template.body)  # the member always knows who is writing


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_default_sms_fits_one_segment_with_typical_values(kind: NotificationKind, language: str) -> None:
    rendered = preview(kind, Channel.SMS, None, DEFAULT_TEMPLATES[kind, Channel.SMS, language].body, language)
    assert rendered.sms_segments == 1, rendered.body


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_english_sms_stay_in_gsm7_and_fit_one_segment_even_for_a_russian_merchant(kind: NotificationKind) -> None:
    body = DEFAULT_TEMPLATES[kind, Channel.SMS, "en"].body
    values = sample_values(kind, "en")
    assert is_gsm7(render(body, values))
    values["merchant"] = sample_values(kind, "ru")["merchant"]  # Cyrillic: the SMS goes as UCS-2
    assert sms_segments(render(body, values)) == 1


def test_a_default_reads_naturally() -> None:
    body = DEFAULT_TEMPLATES[K.POINTS_EARNED, Channel.SMS, "ru"].body
    assert body == "{merchant}: +{points} {points_word}. Баланс {balance} {balance_word}"
    values = {"merchant": "Зерно", "points": 21, "points_word": "балл", "balance": 1002, "balance_word": "балла"}
    assert render(body, values) == "Зерно: +21 балл. Баланс 1002 балла"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(NotificationKind))
def test_sample_values_cover_exactly_the_placeholders_of_the_kind(kind: NotificationKind, language: str) -> None:
    assert set(sample_values(kind, language)) == PLACEHOLDERS[kind]


def test_sample_values_speak_the_language() -> None:
    assert sample_values(K.POINTS_EARNED, "ru")["points_word"] == "баллов"
    assert sample_values(K.POINTS_EARNED, "en-US")["balance_word"] == "points"
    assert sample_values(K.POINTS_EARNED, "de") == sample_values(K.POINTS_EARNED, "ru")
    assert sample_values(K.SIGN_IN_CODE, "ru")["code"].isdigit()
    assert not sample_values(K.COUPON_ISSUED, "ru")["code"].isdigit()


# --- rendering ----------------------------------------------------------------------------------


def test_render_fills_placeholders() -> None:
    assert render("{name}, +{points}!", {"name": "Анна", "points": 5}) == "Анна, +5!"


def test_a_missing_or_none_value_renders_empty() -> None:
    assert render("Hi {name}!", {}) == "Hi !"
    assert render("Hi {name}!", {"name": None}) == "Hi !"


def test_double_braces_are_literal() -> None:
    assert render("{{name}} is {name}; }}{{", {"name": "Анна"}) == "{name} is Анна; }{"
    assert render("{{{name}}}", {"name": "Анна"}) == "{Анна}"


def test_values_are_never_read_as_template_syntax() -> None:
    assert render("{name}: {merchant}", {"name": "{merchant}", "merchant": "Зерно"}) == "{merchant}: Зерно"


class Trap:
    """A value that fails the test if anything but str() touches it."""

    def __str__(self) -> str:
        return "trap"

    def __format__(self, spec: str) -> str:
        raise AssertionError("formatted")

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"attribute {name} read")

    def __getitem__(self, key: object) -> object:
        raise AssertionError("indexed")


@pytest.mark.parametrize(
    "text", ["{x.__class__}", "{x.__class__.__mro__}", "{0}", "{x!r}", "{x:>10}", "{x[0]}", "{}", "{ x }", "{x-y}"]
)
def test_render_never_evaluates_format_syntax(text: str) -> None:
    values = {"x": Trap(), "0": "zero", "": "empty", "x-y": "dash"}
    assert render(text, values) == text  # shown as written, nothing looked up
    assert render(f"a {text} b {{x}}", values) == f"a {text} b trap"  # the well-formed one beside it works
    problems = validate(K.CAMPAIGN, Channel.SMS, None, text)
    assert [problem.code for problem in problems] == [ProblemCode.MALFORMED]


def test_dunder_names_are_only_looked_up_in_the_values() -> None:
    assert render("{__class__}{__init__}", {"x": Trap()}) == ""
    assert codes(K.CAMPAIGN, Channel.SMS, None, "{__class__}") == [("body", "unknown_placeholder")]


def test_the_value_itself_is_only_turned_into_text() -> None:
    assert render("{x}", {"x": Trap()}) == "trap"


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("{name", "{name"),
        ("name}", "name}"),
        ("{a{name}", "{aАнна"),
        ("{name}}", "Анна}"),
        ("}{name}{", "}Анна{"),
    ],
)
def test_unbalanced_braces_show_as_written(text: str, rendered: str) -> None:
    assert render(text, {"name": "Анна"}) == rendered
    assert ("body", "malformed") in codes(K.CAMPAIGN, Channel.SMS, None, "{merchant} " + text)


# --- validation ---------------------------------------------------------------------------------


def test_a_placeholder_of_another_kind_is_unknown() -> None:
    problems = validate(K.TIER_CHANGED, Channel.SMS, None, "{merchant}: баланс {balance}")
    assert [(problem.field, problem.code) for problem in problems] == [("body", "unknown_placeholder")]
    assert "{balance}" in problems[0].message
    assert "{new_tier}" in problems[0].message  # says what may be used instead


def test_placeholder_names_are_case_sensitive() -> None:
    assert codes(K.CAMPAIGN, Channel.PUSH, None, "{Merchant}: {text}") == [("body", "unknown_placeholder")]


@pytest.mark.parametrize("body", ["", "   ", "\n"])
def test_an_empty_body_is_a_problem(body: str) -> None:
    assert ("body", "empty") in codes(K.CAMPAIGN, Channel.PUSH, None, body)


def test_sms_and_push_have_no_subject() -> None:
    assert codes(K.CAMPAIGN, Channel.SMS, "Акция", "{text}") == [("subject", "subject_not_allowed")]
    assert codes(K.CAMPAIGN, Channel.PUSH, "Акция", "{text}") == [("subject", "subject_not_allowed")]
    assert codes(K.CAMPAIGN, Channel.PUSH, "", "{text}") == []


@pytest.mark.parametrize("subject", [None, "", "  "])
def test_an_email_needs_a_subject(subject: str | None) -> None:
    assert codes(K.CAMPAIGN, Channel.EMAIL, subject, "{text}") == [("subject", "subject_required")]


def test_an_email_subject_is_checked_like_the_body() -> None:
    assert codes(K.CAMPAIGN, Channel.EMAIL, "{merchant}: {balance} {x!r}", "{text}") == [
        ("subject", "unknown_placeholder"),
        ("subject", "malformed"),
    ]
    assert codes(K.CAMPAIGN, Channel.EMAIL, "Акция\nBcc: someone", "{text}") == [("subject", "malformed")]


def test_an_sms_may_take_three_segments_with_typical_values() -> None:
    assert codes(K.CAMPAIGN, Channel.SMS, None, "я" * 201) == []
    assert codes(K.CAMPAIGN, Channel.SMS, None, "я" * 202) == [("body", "too_long")]
    assert codes(K.CAMPAIGN, Channel.SMS, None, "a" * 459) == []
    assert codes(K.CAMPAIGN, Channel.SMS, None, "a" * 460) == [("body", "too_long")]


def test_sms_length_is_measured_after_rendering() -> None:
    body = "{merchant}" * 14  # 140 characters as written, 210 Cyrillic ones as sent
    assert codes(K.CAMPAIGN, Channel.SMS, None, body) == [("body", "too_long")]
    assert "4 SMS" in validate(K.CAMPAIGN, Channel.SMS, None, body)[0].message


def test_sms_length_uses_the_sample_values_of_the_language() -> None:
    body = "{merchant} " + "a" * 250  # GSM-7 with an English merchant, UCS-2 with a Russian one
    assert validate(K.CAMPAIGN, Channel.SMS, None, body, language="en") == []
    assert [problem.code for problem in validate(K.CAMPAIGN, Channel.SMS, None, body)] == ["too_long"]


def test_a_push_holds_at_most_178_characters() -> None:
    assert codes(K.CAMPAIGN, Channel.PUSH, None, "я" * MAX_PUSH_CHARS) == []
    assert codes(K.CAMPAIGN, Channel.PUSH, None, "я" * (MAX_PUSH_CHARS + 1)) == [("body", "too_long")]


def test_an_email_subject_holds_at_most_150_characters() -> None:
    assert codes(K.CAMPAIGN, Channel.EMAIL, "я" * MAX_SUBJECT_CHARS, "{text}") == []
    assert codes(K.CAMPAIGN, Channel.EMAIL, "я" * (MAX_SUBJECT_CHARS + 1), "{text}") == [("subject", "too_long")]


def test_an_email_body_may_be_long() -> None:
    assert codes(K.CAMPAIGN, Channel.EMAIL, "Акция", "я" * 5000) == []


# --- choosing a template ------------------------------------------------------------------------


def test_without_overrides_the_default_in_the_members_language() -> None:
    assert template_for(K.BIRTHDAY, Channel.PUSH, "ru") is DEFAULT_TEMPLATES[K.BIRTHDAY, Channel.PUSH, "ru"]
    assert template_for(K.BIRTHDAY, Channel.PUSH, "en-GB") is DEFAULT_TEMPLATES[K.BIRTHDAY, Channel.PUSH, "en"]
    assert template_for(K.BIRTHDAY, Channel.PUSH, "EN") is DEFAULT_TEMPLATES[K.BIRTHDAY, Channel.PUSH, "en"]


@pytest.mark.parametrize("language", ["de", "uz", "", "zz-ZZ"])
def test_a_language_without_templates_falls_back_to_russian(language: str) -> None:
    assert template_for(K.WELCOME, Channel.SMS, language) is DEFAULT_TEMPLATES[K.WELCOME, Channel.SMS, "ru"]


def test_a_merchant_override_wins_in_its_language() -> None:
    ours = Template(subject=None, body="{merchant}: спасибо! +{points}")
    overrides = {(K.POINTS_EARNED, Channel.SMS, "ru"): ours}
    assert template_for(K.POINTS_EARNED, Channel.SMS, "ru", overrides) is ours
    assert template_for(K.POINTS_EARNED, Channel.SMS, "de", overrides) is ours  # falls back to Russian
    assert (
        template_for(K.POINTS_EARNED, Channel.PUSH, "ru", overrides)
        is (DEFAULT_TEMPLATES[K.POINTS_EARNED, Channel.PUSH, "ru"])
    )


def test_the_members_language_comes_before_the_merchants_russian_override() -> None:
    overrides = {(K.POINTS_EARNED, Channel.SMS, "ru"): Template(subject=None, body="{merchant}: +{points}")}
    english = DEFAULT_TEMPLATES[K.POINTS_EARNED, Channel.SMS, "en"]
    assert template_for(K.POINTS_EARNED, Channel.SMS, "en", overrides) is english


def test_a_merchant_may_write_in_another_language() -> None:
    uzbek = Template(subject=None, body="{merchant}: +{points} ball")
    overrides = {(K.POINTS_EARNED, Channel.SMS, "uz"): uzbek}
    assert template_for(K.POINTS_EARNED, Channel.SMS, "uz-Latn", overrides) is uzbek


# --- previews -----------------------------------------------------------------------------------


def test_preview_of_an_sms_counts_segments() -> None:
    rendered = preview(K.POINTS_EARNED, Channel.SMS, None, "{merchant}: +{points} {points_word}", "ru")
    assert rendered.body == "Кофейня «Зерно»: +125 баллов"
    assert (rendered.subject, rendered.sms_segments) == (None, 1)


def test_preview_of_an_email_renders_the_subject() -> None:
    rendered = preview(K.BIRTHDAY, Channel.EMAIL, "{name}, happy birthday!", "{bonus_points} {bonus_points_word}", "en")
    assert (rendered.subject, rendered.body, rendered.sms_segments) == ("Anna, happy birthday!", "200 points", None)
