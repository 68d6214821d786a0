"""Which URLs an endpoint may have, and which addresses a delivery may connect to.

Two policies, chosen by where the system runs (``WEBHOOK_URL_POLICY``; AWS never sets it):

- ``public`` (AWS, the default): ``https`` only, to a name or address on the public internet.
  Loopback, private, link-local (the metadata service), shared, reserved and multicast addresses
  are refused, so a merchant's URL cannot reach inside our network (SSRF). Names are checked again
  when a delivery connects: every address the name resolves to, and the one actually connected
  to, must be public (a name re-pointed at 10.0.0.1 after it was saved is refused).
- ``local`` (the local stack and the tests): ``http`` or ``https``, to this machine only
  (``localhost``, 127.0.0.0/8, ::1): the stack's own receiver or a developer's server. Nothing
  leaves the machine.

Credentials in the URL (``https://user:pass@...``) and fragments are refused in both: a delivery
proves itself with its signature, and a URL is shown in lists and logs.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from urllib.parse import urlsplit

from loyalty.errors import InvalidRequest

MAX_URL_LENGTH = 2048
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp")


class UrlPolicy(StrEnum):
    PUBLIC = "public"
    LOCAL = "local"


def _refused(reason: str) -> InvalidRequest:
    return InvalidRequest(
        f"this URL cannot receive webhooks: {reason}",
        code="webhook_url_refused",
        details={"field": "url", "reason": reason},
    )


def address_allowed(address: str, policy: UrlPolicy) -> bool:
    """May a delivery connect to this IP address?"""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if policy is UrlPolicy.LOCAL:
        return ip.is_loopback
    return ip.is_global and not ip.is_multicast


def check_url(url: str, policy: UrlPolicy) -> str:
    """The URL as it will be called, or ``InvalidRequest`` (code ``webhook_url_refused``) saying why not."""
    if len(url) > MAX_URL_LENGTH:
        raise _refused(f"longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise _refused("not a valid URL") from exc
    allowed_schemes = ("https",) if policy is UrlPolicy.PUBLIC else ("http", "https")
    if parts.scheme not in allowed_schemes:
        raise _refused("it must start with https://" if policy is UrlPolicy.PUBLIC else "it must be http(s)://")
    if parts.username is not None or parts.password is not None:
        raise _refused("credentials in the URL are not allowed; deliveries are signed instead")
    if parts.fragment:
        raise _refused("a fragment (#...) is never sent; leave it out")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise _refused("it names no host")
    _check_host(host, policy)
    return parts.geturl()


def _check_host(host: str, policy: UrlPolicy) -> None:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        _check_name(host, policy)
        return
    if not address_allowed(host, policy):
        raise _refused("only this machine (loopback) locally" if policy is UrlPolicy.LOCAL else "not a public address")


def _check_name(host: str, policy: UrlPolicy) -> None:
    is_local_name = host == "localhost" or host.endswith(_PRIVATE_SUFFIXES)
    if policy is UrlPolicy.LOCAL:
        if host != "localhost" and not host.endswith(".localhost"):
            raise _refused("only this machine (localhost, 127.0.0.1) locally")
        return
    if is_local_name or "." not in host:
        raise _refused("not a public host name")
