"""The calls of webhook deliveries (`webhooks.sender`): connections kept alive per endpoint and
reused only for the host they were opened for; an answer read no further than 4 KiB; a kept
connection the server closed meanwhile replaced once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from takt.core.netguard import Target
from takt.webhooks.delivery import _tls
from takt.webhooks.sender import CallFailed, Sender
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
async def sender() -> AsyncIterator[Sender]:
    sender = Sender(_tls(), keep=4)
    yield sender
    await sender.aclose()


def target(url: str) -> Target:
    parsed = httpx.URL(url)
    assert parsed.host
    assert parsed.port
    return Target(url=parsed, host=parsed.host, port=parsed.port, addresses=("127.0.0.1",))


async def post(sender: Sender, url: str, body: bytes = b"{}") -> tuple[int, str | None]:
    answer = await sender.post(target(url), "127.0.0.1", {"content-type": "application/json"}, body)
    return answer.status, answer.excerpt


async def test_calls_to_one_endpoint_reuse_a_kept_connection(
    receiver: Receiver, sender: Sender
) -> None:
    receiver.answer("/in", 204, body=b"")
    for n in range(3):
        assert await post(sender, receiver.url("/in"), b'{"n": %d}' % n) == (204, None)

    first, second, third = receiver.received("/in")
    assert first.peer == second.peer == third.peer
    assert [r.body for r in (first, second, third)] == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    assert first.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert first.headers["accept-encoding"] == "identity"


async def test_a_connection_is_reused_only_for_the_host_it_was_opened_for(
    receiver: Receiver, sender: Sender
) -> None:
    """`localhost` and `127.0.0.1` are one address here, but two hosts: over TLS a connection
    verified for one name must never carry the other's calls, so neither does a plain one."""
    await post(sender, receiver.url("/in", host="localhost"))
    await post(sender, receiver.url("/in", host="127.0.0.1"))
    await post(sender, receiver.url("/in", host="localhost"))

    by_name, by_address, by_name_again = receiver.received("/in")
    assert by_name.headers["host"] == f"localhost:{receiver.port}"
    assert by_address.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert by_name.peer != by_address.peer
    assert by_name.peer == by_name_again.peer


async def test_an_answer_longer_than_4_kib_is_cut_and_its_connection_closed(
    receiver: Receiver, sender: Sender
) -> None:
    receiver.answer("/big", 200, body=b"x" * 20_000)
    status, excerpt = await post(sender, receiver.url("/big"))
    await post(sender, receiver.url("/big"))

    assert status == 200
    assert excerpt == "x" * 4096
    first, second = receiver.received("/big")
    assert first.peer != second.peer  # the rest was never read: that connection closed


async def test_a_connection_the_server_closes_is_not_reused(
    receiver: Receiver, sender: Sender
) -> None:
    receiver.answer("/bye", 200, headers={"Connection": "close"})
    await post(sender, receiver.url("/bye"))
    await post(sender, receiver.url("/bye"))

    first, second = receiver.received("/bye")
    assert first.peer != second.peer


async def test_a_kept_connection_closed_by_the_server_meanwhile_is_replaced_once(
    sender: Sender,
) -> None:
    """The server answers the first request on a connection and keeps it open, then closes it
    when the second arrives, without answering (its idle timeout struck as the request came):
    the call goes again on a new connection and gets its answer."""
    requests: list[tuple[int, bytes]] = []
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        number = connections
        served = 0
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
            requests.append((number, await reader.readexactly(length)))
            served += 1
            if number == 1 and served == 2:
                writer.close()  # gone without a word
                return
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert await post(sender, f"http://127.0.0.1:{port}/in", b"one") == (204, None)
        assert await post(sender, f"http://127.0.0.1:{port}/in", b"two") == (204, None)
    finally:
        server.close()
    # The second request reached the first connection, which closed; then a new one.
    assert requests == [(1, b"one"), (1, b"two"), (2, b"two")]


async def test_a_refused_connection_says_nothing_was_sent(sender: Sender) -> None:
    server = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()

    with pytest.raises(CallFailed) as refused:
        await post(sender, f"http://127.0.0.1:{port}/in")
    assert refused.value.connecting
    assert str(refused.value).startswith("could not connect:")


async def test_credentials_in_the_url_are_sent_as_basic_auth(
    receiver: Receiver, sender: Sender
) -> None:
    await post(sender, f"http://hook:s3cret@127.0.0.1:{receiver.port}/auth")
    (request,) = receiver.received("/auth")
    assert request.headers["authorization"] == "Basic aG9vazpzM2NyZXQ="


def test_calls_work_on_uvloop_as_under_takt_serve(receiver: Receiver) -> None:
    """`takt serve` runs its embedded worker on uvloop, whose transports are not asyncio's
    classes."""
    import uvloop

    async def twice() -> list[tuple[int, str | None]]:
        sender = Sender(_tls(), keep=4)
        try:
            return [await post(sender, receiver.url("/uv")) for _ in range(2)]
        finally:
            await sender.aclose()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(twice()) == [(200, "ok"), (200, "ok")]
    first, second = receiver.received("/uv")
    assert first.peer == second.peer
