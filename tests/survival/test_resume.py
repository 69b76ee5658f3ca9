"""State that survives, over wire B: resume after a dropped connection, snapshots across a restart."""

from __future__ import annotations

import httpx
import trio
from trio_websocket import ConnectionClosed

from nowaki.protocol.token import sign_snapshot
from tests.support import Front
from tests.support.processes import free_port
from tests.survival.helpers import (
    COUNTER,
    POLL,
    SECRET,
    TcpProxy,
    launch,
    log_problems,
    page_tokens,
    port_of,
    stop,
)
from tests.survival.wire import Client, Message, connect, count_of


async def counter_token(url: str) -> str:
    """A fresh token for the Counter of /live."""
    pairs = await trio.to_thread.run_sync(page_tokens, url)
    assert pairs[COUNTER][0] == "Counter", pairs
    return pairs[COUNTER][1]


async def live_count(url: str) -> int:
    """Live connections the front counts (/__nowaki/health)."""
    async with httpx.AsyncClient(timeout=5) as http:
        return int((await http.get(url + "/__nowaki/health")).json()["live"])


async def wait_live(url: str, count: int, timeout: float = 5.0) -> None:
    """Wait until the front counts ``count`` live connections (a drop has been processed)."""
    with trio.fail_after(timeout):
        while await live_count(url) != count:
            await trio.sleep(0.05)


async def inc_to(client: Client, island: int, count: int) -> None:
    """Send ``count`` incs, each answered by a patch."""
    for _ in range(count):
        reply = await client.event(island, "inc")
        assert reply["type"] == "patch", reply
    assert count_of(client.copies[island]) == count


async def rejoin_count(client: Client, island: int, token: str, **join: str) -> int:
    """Join with ``render: true`` (as the runtime does on reconnect); the count the front pushes."""
    await client.join([(island, token)], render=True, **join)
    patch = await client.next(lambda m: m["type"] == "patch" and m.get("id") == island, timeout=3)
    assert patch.get("push") is True and "at" not in patch, patch
    return count_of(patch["html"])


async def dropped_session(front: Front, token: str, count: int) -> str:
    """Join Counter through a proxy, inc it ``count`` times, cut the TCP connection; the session."""
    proxy = await trio.to_thread.run_sync(TcpProxy, port_of(front.url))
    try:
        async with connect(proxy.ws_url) as client:
            joined = await client.join([(COUNTER, token)])
            session = joined["session"]
            assert isinstance(session, str) and session, joined
            await inc_to(client, COUNTER, count)
            await trio.to_thread.run_sync(proxy.cut)
            with trio.fail_after(3):
                try:
                    while True:
                        await client.ws.get_message()
                except ConnectionClosed as exc:
                    assert exc.reason.code != 1001, exc.reason
    finally:
        await trio.to_thread.run_sync(proxy.close)
    await wait_live(front.url, 0)
    return session


async def test_resume_after_a_dropped_connection_continues_the_count(main_front: Front) -> None:
    """A drop with no close frame keeps the states under the session; a resume takes them back once."""
    await wait_live(main_front.url, 0)
    token = await counter_token(main_front.url)
    session = await dropped_session(main_front, token, 3)
    async with connect(main_front.ws_url) as client:
        assert await rejoin_count(client, COUNTER, token, resume=session) == 3
        reply = await client.event(COUNTER, "inc")
        assert "push" not in reply and count_of(client.copies[COUNTER]) == 4
        assert "event=resume" in main_front.log()
    async with connect(main_front.ws_url) as again:
        assert await rejoin_count(again, COUNTER, token, resume=session) == 0, "a session resumes once"
    assert not log_problems(main_front), log_problems(main_front)


async def test_resume_with_an_unknown_session_starts_from_the_token(main_front: Front) -> None:
    """A session this front never gave out: the island starts from its token, no error."""
    token = await counter_token(main_front.url)
    async with connect(main_front.ws_url) as client:
        joined_count = await rejoin_count(client, COUNTER, token, resume="no-such-session")
        assert joined_count == 0
        errors = [m for m in client.seen if m["type"] == "error"]
        assert not errors, errors


async def test_resume_window_expires(short_front: Front) -> None:
    """NOWAKI_LIVE_RESUME=1: 1.5 s after the drop the kept states are gone."""
    token = await counter_token(short_front.url)
    session = await dropped_session(short_front, token, 2)
    await trio.sleep(1.5)
    async with connect(short_front.ws_url) as client:
        assert await rejoin_count(client, COUNTER, token, resume=session) == 0


async def test_resume_within_a_short_window_works(short_front: Front) -> None:
    """The same 1 s window, reconnecting at once: the states are still there."""
    token = await counter_token(short_front.url)
    session = await dropped_session(short_front, token, 2)
    async with connect(short_front.ws_url) as client:
        assert await rejoin_count(client, COUNTER, token, resume=session) == 2


async def test_leaving_the_page_keeps_nothing(main_front: Front) -> None:
    """``leave`` (the runtime sends it on pagehide) and a close: nothing is kept for that session."""
    token = await counter_token(main_front.url)
    async with connect(main_front.ws_url) as client:
        session = (await client.join([(COUNTER, token)]))["session"]
        await inc_to(client, COUNTER, 3)
        await client.ws.send_message('{"type":"leave"}')
        await client.ws.aclose(code=1001, reason="going away")
    await wait_live(main_front.url, 0)
    seen_by_front = [line for line in main_front.log().splitlines() if "event=disconnect" in line][-1]
    async with connect(main_front.ws_url) as again:
        resumed = await rejoin_count(again, COUNTER, token, resume=session)
        assert resumed == 0, f"a page that left kept its states; the front logged: {seen_by_front}"


async def test_a_client_back_before_its_old_socket_died_takes_it_over(main_front: Front) -> None:
    """Resume while the old connection is still open (half-open): its states move over."""
    token = await counter_token(main_front.url)
    async with connect(main_front.ws_url) as old:
        session = (await old.join([(COUNTER, token)]))["session"]
        await inc_to(old, COUNTER, 2)
        async with connect(main_front.ws_url) as new:
            resumed = await rejoin_count(new, COUNTER, token, resume=session)
            assert resumed == 2, resumed


async def test_only_the_first_join_carries_a_session(main_front: Front) -> None:
    """``joined.session`` comes with the first join of a connection only."""
    token = await counter_token(main_front.url)
    async with connect(main_front.ws_url) as client:
        first = await client.join([(COUNTER, token)])
        second = await client.join([(COUNTER, token)])
        assert isinstance(first.get("session"), str) and first["session"]
        assert "session" not in second, second


# -- snapshots across a restart --------------------------------------------------------


async def sigterm_snapshot(front: Front, client: Client) -> tuple[str, list[Message]]:
    """SIGTERM ``front``; the client must get a ``snapshot`` and then close 1001."""
    front.process.terminate()
    messages, code = await client.closed_code(timeout=8)
    snapshots = [m for m in messages if m["type"] == "snapshot"]
    assert len(snapshots) == 1, messages
    assert messages[-1]["type"] == "snapshot", f"the snapshot comes last, right before the close: {messages}"
    assert code == 1001, code
    token = snapshots[0]["token"]
    assert isinstance(token, str) and token.count(".") == 1, token
    return token, messages


async def refused_snapshot(ws_url: str, token: str, snapshot: str) -> None:
    """Joining the Counter with ``snapshot`` gets one ``bad_snapshot`` error and a fresh count (0)."""
    async with connect(ws_url) as client:
        await client.join([(COUNTER, token)], render=True, snapshot=snapshot)
        await client.until(lambda: COUNTER in client.copies, timeout=3)
        errors = [m for m in client.seen if m["type"] == "error"]
        assert [e["code"] for e in errors] == ["bad_snapshot"], client.seen
        assert count_of(client.copies[COUNTER]) == 0


def tamper(token: str) -> str:
    """Flip one character of the signature part."""
    body, _, mac = token.partition(".")
    index = len(mac) // 2
    flipped = "A" if mac[index] != "A" else "B"
    return f"{body}.{mac[:index]}{flipped}{mac[index + 1:]}"


async def test_snapshot_carries_states_to_the_next_front(main_front: Front) -> None:
    """Front A (secret s1) hands out a snapshot on SIGTERM; front B with s1 on the same port resumes it."""
    port = await trio.to_thread.run_sync(free_port)
    env = {"NOWAKI_SECRET": "s1"}
    first = await trio.to_thread.run_sync(lambda: launch(port, env))
    try:
        pairs = await trio.to_thread.run_sync(page_tokens, first.url)
        counter, poll = pairs[COUNTER][1], pairs[POLL][1]
        async with connect(first.ws_url) as client:
            await client.join([(COUNTER, counter), (POLL, poll)])
            await inc_to(client, COUNTER, 5)
            for _ in range(2):
                await client.event(POLL, "vote", {"choice": "yes"})
            snapshot, _ = await sigterm_snapshot(first, client)
        assert await trio.to_thread.run_sync(lambda: first.process.wait(10)) == 0
        assert not log_problems(first), log_problems(first)
    finally:
        await trio.to_thread.run_sync(stop, first)

    second = await trio.to_thread.run_sync(lambda: launch(port, env))
    try:
        assert second.url == first.url
        async with connect(second.ws_url) as client:
            await client.join([(COUNTER, counter), (POLL, poll)], render=True, snapshot=snapshot)
            await client.until(lambda: COUNTER in client.copies and POLL in client.copies, timeout=3)
            assert count_of(client.copies[COUNTER]) == 5
            assert 'class="yes">2<' in client.copies[POLL], "a snapshot seeds a shared island"
            assert not [m for m in client.seen if m["type"] == "error"], client.seen
            await client.event(COUNTER, "inc")
            assert count_of(client.copies[COUNTER]) == 6

        async with connect(second.ws_url) as forged:
            await forged.join([(COUNTER, counter)], render=True, snapshot=tamper(snapshot))
            await forged.until(lambda: COUNTER in forged.copies, timeout=3)
            errors = [m for m in forged.seen if m["type"] == "error"]
            assert len(errors) == 1 and errors[0]["code"] == "bad_snapshot", forged.seen
            assert "id" not in errors[0] and "push" not in errors[0], errors[0]
            assert count_of(forged.copies[COUNTER]) == 0
        assert not log_problems(second), log_problems(second)
    finally:
        await trio.to_thread.run_sync(stop, second)

    # A front with another secret refuses the same (genuine) snapshot.
    await refused_snapshot(main_front.ws_url, await counter_token(main_front.url), snapshot)


async def test_a_snapshot_is_only_good_for_the_resume_window(short_front: Front) -> None:
    """A genuine snapshot older than NOWAKI_LIVE_RESUME (1 s here) is refused as expired."""
    # short_front signs with SECRET: mint what a front going away would have sent, fresh and old.
    token = await counter_token(short_front.url)
    fresh = sign_snapshot(SECRET.encode(), {COUNTER: ["Counter", {"count": 7}, {}]})
    stale = sign_snapshot(SECRET.encode(), {COUNTER: ["Counter", {"count": 7}, {}]}, now=0)
    async with connect(short_front.ws_url) as client:
        await client.join([(COUNTER, token)], render=True, snapshot=fresh)
        await client.until(lambda: COUNTER in client.copies, timeout=3)
        assert count_of(client.copies[COUNTER]) == 7
    await refused_snapshot(short_front.ws_url, token, stale)
