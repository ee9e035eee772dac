"""Host names are resolved in netguard's own threads, so lookups whose DNS never answers can't
hold the default executor's threads (password hashing, forecasts) and stall logins."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import pytest

from takt.core import netguard


async def test_a_host_name_is_resolved_in_the_resolvers_own_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[str] = []

    def lookup(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        threads.append(threading.current_thread().name)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    target = await netguard.resolve("https://hooks.example.com/takt", allow_private=False)
    assert target.addresses == ("93.184.215.14",)
    assert len(threads) == 1
    assert threads[0].startswith("takt-resolve")


async def test_a_lookup_that_never_answers_is_refused_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def hangs(*args: Any, **kwargs: Any) -> list[Any]:
        time.sleep(1)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", hangs)
    monkeypatch.setattr(netguard, "RESOLVE_TIMEOUT_SECONDS", 0.1)
    with pytest.raises(netguard.UnsafeTarget, match="does not resolve"):
        await netguard.resolve("https://hangs.example.com/takt", allow_private=False)


async def test_concurrent_lookups_of_one_host_share_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A host whose DNS is slow (or never answers) holds one resolver thread, however many
    deliveries ask for it at once; another host is looked up beside it."""
    calls: list[str] = []

    def slow(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        time.sleep(0.3)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    targets = await asyncio.gather(
        *(netguard.resolve("https://slow.example.com/takt", allow_private=False) for _ in range(8)),
        netguard.resolve("https://other.example.com/takt", allow_private=False),
    )
    assert all(target.addresses == ("93.184.215.14",) for target in targets)
    assert sorted(calls) == ["other.example.com", "slow.example.com"]
