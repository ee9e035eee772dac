"""Where Takt may send requests on a user's behalf (webhook URLs): never to this machine, the
private network or a cloud metadata service, unless the operator allows private targets
(TAKT_WEBHOOK_ALLOW_PRIVATE, for self-hosting on a private network and for tests).

`resolve` checks every address a host name resolves to and hands them back: the sender then
connects to one of *those* addresses (with the name kept for the Host header and TLS), so a DNS
answer that changes between the check and the call (rebinding) can't move the call elsewhere.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused even when private targets are allowed: cloud metadata services and link-local.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
}
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: private in practice
RESOLVE_TIMEOUT_SECONDS = 5.0
# Host names are resolved in threads of their own (the system resolver blocks): in the loop's
# default executor, a few names whose DNS never answers (a lookup outlives its timeout, the
# thread can't be stopped) would hold the threads password hashing and forecasts run in, and
# stall logins. Concurrent lookups of one host share one thread (`_lookup`), so a host that
# never answers holds one of these however many deliveries wait on it, not all of them.
_RESOLVER = ThreadPoolExecutor(max_workers=32, thread_name_prefix="takt-resolve")
_IN_FLIGHT: dict[tuple[int, str, int], asyncio.Future[list[Any]]] = {}


async def _lookup(host: str, port: int) -> list[Any]:
    """`socket.getaddrinfo` for (host, port) in a resolver thread, one lookup per host and port
    at a time in this event loop (later askers wait for the same answer), given up after
    RESOLVE_TIMEOUT_SECONDS (the lookup itself runs on, for whoever asks next)."""
    loop = asyncio.get_running_loop()
    key = (id(loop), host, port)
    lookup = _IN_FLIGHT.get(key)
    if lookup is None:
        call = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        lookup = loop.run_in_executor(_RESOLVER, call)
        _IN_FLIGHT[key] = lookup
        lookup.add_done_callback(lambda _: _IN_FLIGHT.pop(key, None))
    return await asyncio.wait_for(asyncio.shield(lookup), RESOLVE_TIMEOUT_SECONDS)


class UnsafeTarget(ValueError):
    """The URL can't be used as a target: its reason is safe to show to the caller."""


@dataclass(frozen=True)
class Target:
    url: httpx.URL
    host: str
    port: int
    addresses: tuple[str, ...]


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why `address` may not be called, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    # Before the reserved check: Python counts IPv6 loopback (::1, in ::/8) as reserved too.
    if address.is_loopback:
        return None if allow_private else "a loopback address"
    if address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if allow_private:
        return None
    if address.is_private or address in _SHARED:
        return "a private address"
    if not address.is_global:
        return "a non-public address"
    return None


def parse_target(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise UnsafeTarget("not a valid URL") from exc
    try:
        # httpx decodes the host (IDNA) only when it is read: a malformed `xn--` label raises
        # UnicodeError (a ValueError) here, not when the URL is parsed.
        host = parsed.host
    except ValueError as exc:
        raise UnsafeTarget("the host is not a valid host name") from exc
    if parsed.scheme not in ("http", "https"):
        raise UnsafeTarget("only http and https URLs can be called")
    if not host:
        raise UnsafeTarget("the URL has no host")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise UnsafeTarget("the port must be between 1 and 65535")
    return parsed


async def resolve(url: str, *, allow_private: bool) -> Target:
    """The target of `url` with every address its host resolves to, each one allowed; raises
    UnsafeTarget when any of them is not (one bad answer is enough to refuse)."""
    parsed = parse_target(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    host = parsed.host
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            infos = await _lookup(host, port)
        except (OSError, TimeoutError) as exc:
            raise UnsafeTarget(f"the host {host!r} does not resolve") from exc
        except ValueError as exc:  # UnicodeError: an empty or over-long label, IDNA can't encode
            raise UnsafeTarget("the host is not a valid host name") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise UnsafeTarget(f"the host {host!r} does not resolve")
    for address in addresses:
        reason = refusal(ipaddress.ip_address(address.split("%")[0]), allow_private=allow_private)
        if reason:
            raise UnsafeTarget(f"the host {host!r} resolves to {reason}")
    return Target(url=parsed, host=host, port=port, addresses=tuple(addresses))
