"""Personal data handling and card numbers."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag
from loyalty.domain.cards import is_valid_card_number, new_card_number
from loyalty.errors import InvalidRequest
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import mask_phone, normalise_email, normalise_phone
from loyalty.platform.secrets import KeyRing


def cipher() -> PiiCipher:
    ring = KeyRing("k" * 64)
    return PiiCipher(ring.pii_key, ring.lookup_key)


@pytest.mark.parametrize("raw", ["+7 916 123-45-67", "8 (916) 123 45 67", "89161234567", "+79161234567"])
def test_russian_numbers_normalise_to_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+79161234567"


@pytest.mark.parametrize("raw", ["", "12345", "+7 000", "not a phone"])
def test_invalid_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidRequest):
        normalise_phone(raw)


def test_encryption_round_trips_and_is_bound_to_its_record() -> None:
    box = cipher()
    sealed = box.encrypt("+79161234567", context="m#1")
    assert "+7916" not in sealed
    assert box.decrypt(sealed, context="m#1") == "+79161234567"
    assert box.encrypt("+79161234567", context="m#1") != sealed  # random nonce
    with pytest.raises(InvalidTag):
        box.decrypt(sealed, context="m#2")


def test_lookup_hashes_are_keyed_and_separate_kinds() -> None:
    box = cipher()
    assert box.lookup_hash("phone", "+79161234567") == box.lookup_hash("phone", "+79161234567")
    assert box.lookup_hash("phone", "x") != box.lookup_hash("email", "x")
    other_ring = KeyRing(os.urandom(32).hex())
    other = PiiCipher(other_ring.pii_key, other_ring.lookup_key)
    assert other.lookup_hash("phone", "+79161234567") != box.lookup_hash("phone", "+79161234567")


def test_masks_and_emails() -> None:
    assert mask_phone("+79161234567") == "+7916*****67"
    assert normalise_email("  Anna@Example.RU ") == "anna@example.ru"
    with pytest.raises(InvalidRequest):
        normalise_email("anna@")


def test_card_numbers_carry_a_luhn_check_digit() -> None:
    numbers = {new_card_number() for _ in range(200)}
    assert len(numbers) == 200
    assert all(is_valid_card_number(n) and len(n) == 16 for n in numbers)
    assert is_valid_card_number("4111111111111111")
    assert not is_valid_card_number("4111111111111112")
