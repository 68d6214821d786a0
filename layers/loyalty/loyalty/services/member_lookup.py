"""The member a till names by id, card number or phone, found in one read on a warm function.

A card or phone is found through its look-up item, a read before the member's own. A container
remembers what it found (``LookupCache``: a few minutes, a bounded number of entries), and every
use checks that the member it then reads still holds that card or phone (``Found.check``). That
check is as good as one on the look-up item in the write: look-ups change only in the same
transaction as their member's item, and the till's write is conditioned on the version of the
member it read, so a member that still held the card when read still holds it when the write
commits. A card replaced or blocked, or a phone changed, since the entry was made fails the check
(``NamedElsewhere``): the entry is dropped, the card or phone looked up again (strongly
consistent) and the request run once more; it never reaches the member who had the card.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from loyalty.data import members
from loyalty.domain.member import Member, MemberStatus
from loyalty.errors import Busy, InvalidRequest, NotFound
from loyalty.pii.cipher import PiiCipher
from loyalty.pii.contact import normalise_phone

T = TypeVar("T")
Kind = Literal["member_id", "card", "phone"]
CACHE_SECONDS = 300.0
CACHE_ENTRIES = 10_000


@dataclass(frozen=True)
class Named:
    """How the till named the member: its id, a card number, or a phone (as its look-up hash)."""

    kind: Kind
    value: str

    def held_by(self, member: Member) -> bool:
        if self.kind == "member_id":
            return True  # an id always names its member (erased or blocked ones are refused later)
        if member.status is MemberStatus.ERASED:
            return False  # an erased member's look-ups are gone
        if self.kind == "card":
            return self.value in member.all_cards
        return member.contact.phone_hash == self.value


class NamedElsewhere(Busy):
    """The card or phone no longer finds the member it found (replaced, blocked, changed meanwhile)."""


@dataclass(frozen=True)
class Found:
    member_id: str
    named: Named

    def check(self, member: Member) -> None:
        """Call on the member as read, before deciding anything: ``NamedElsewhere`` if it no
        longer holds the card or phone that found it."""
        if not self.named.held_by(member):
            raise NamedElsewhere("the card or phone changed while in use; retry")


class LookupCache:
    """(merchant, card or phone hash) -> member id, for ``ttl_seconds``, the least recently used
    dropped beyond ``entries``. Only members found are kept: a new card is found at once."""

    def __init__(self, ttl_seconds: float = CACHE_SECONDS, entries: int = CACHE_ENTRIES) -> None:
        self._ttl = ttl_seconds
        self._size = entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str], tuple[float, str]] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            cached = self._entries.get(key)
            if cached is None or cached[0] <= time.monotonic():
                self._entries.pop(key, None)
                return None
            self._entries.move_to_end(key)
            return cached[1]

    def put(self, key: tuple[str, str, str], member_id: str) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self._ttl, member_id)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


lookups = LookupCache()


def named(*, member_id: str | None, card_number: str | None, phone: str | None, cipher: PiiCipher) -> Named:
    """The one way the till names a member (exactly one of id, card, phone)."""
    given = [value for value in (member_id, card_number, phone) if value]
    if len(given) != 1:
        raise InvalidRequest(
            "identify the member by exactly one of member_id, card_number, phone",
            details={"fields": ["member_id", "card_number", "phone"]},
        )
    if member_id:
        return Named("member_id", member_id)
    if card_number:
        return Named("card", card_number)
    return Named("phone", cipher.lookup_hash("phone", normalise_phone(str(phone))))


def on_member(merchant_id: str, who: Named, act: Callable[[Found], T]) -> T:
    """Run ``act`` for the member ``who`` names; ``act`` calls ``Found.check`` on the member it
    reads. A cached look-up that no longer holds is dropped and looked up again, once."""
    if who.kind == "member_id":
        return act(Found(who.value, who))
    key = (merchant_id, who.kind, who.value)
    for consistent in (False, True):
        member_id = None if consistent else lookups.get(key)
        if member_id is None:
            member_id = _look_up(merchant_id, who, consistent=consistent)
            lookups.put(key, member_id)
        try:
            return act(Found(member_id, who))
        except NamedElsewhere:
            lookups.forget(key)
    raise Busy("the card or phone changed while in use; retry")


def _look_up(merchant_id: str, who: Named, *, consistent: bool) -> str:
    if who.kind == "card":
        member_id = members.find_by_card(merchant_id, who.value, consistent=consistent)
    else:
        member_id = members.find_by_phone(merchant_id, who.value, consistent=consistent)
    if member_id is None:
        raise NotFound("member not found", code="member_not_found")
    return member_id
