"""Which webhook targets may be called: never the service itself, link-local or metadata
addresses; private ranges only where a setting allows them (on-premises deployments)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from tracker.domain import InvalidValue

MAX_URL = 2000
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata services, beyond the link-local range that holds most of them.
METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
SELF_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class Target:
    """A parsed target URL: scheme, host, port and the path with its query."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidValue("target_url", "an absolute http or https URL")
        if parts.username or parts.password:
            raise InvalidValue("target_url", "credentials do not belong in the URL")
        try:
            port = parts.port
        except ValueError:
            raise InvalidValue("target_url", "the port is not a number from 1 to 65535") from None
        self.url = url
        self.tls = parts.scheme == "https"
        self.host = parts.hostname.lower()
        self.port = port or (443 if self.tls else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def refusal(address: Address, allow_private: bool) -> str | None:
    """Why an address may not be called, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA or address.is_link_local:
        return "a link-local or metadata address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "not a unicast address"
    if (address.is_private or address.is_loopback) and not allow_private:
        return "a private or loopback address (TRACKER_WEBHOOK_ALLOW_PRIVATE allows these)"
    return None


def check(url: str, allow_private: bool, own: tuple[str, int] | None = None) -> Target:
    """The target, if its URL may be subscribed; otherwise a 422 naming target_url.

    Names are resolved again before every call (outbound.py), so a name that later points
    somewhere refused is refused then.
    """
    if len(url) > MAX_URL:
        raise InvalidValue("target_url", f"at most {MAX_URL} characters")
    target = Target(url)
    if own is not None and (target.host, target.port) in {(own[0], own[1]), ("localhost", own[1])}:
        raise InvalidValue("target_url", "points at this service")
    if target.host in SELF_NAMES and not allow_private:
        raise InvalidValue("target_url", "points at this host")
    try:
        address = ipaddress.ip_address(target.host.strip("[]"))
    except ValueError:
        return target
    why = refusal(address, allow_private)
    if why is not None:
        raise InvalidValue("target_url", f"refused: {why}")
    return target
