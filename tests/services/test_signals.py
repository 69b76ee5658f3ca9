"""SIGTERM and SIGINT: live sockets closed with 1001, renderers stopped, exit status 0."""

from __future__ import annotations

import signal
import time

import pytest
import trio

from tests.services.live import live, page_tokens
from tests.services.procs import nowaki_front
from tests.support import FIXTURE_APP
from tests.support.proc import running
from tests.support.processes import wait_until

EXIT_WITHIN = 5.0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_closes_live_sockets_stops_renderers_and_exits_0(signum: signal.Signals) -> None:
    """One joined client sees 1001; the front exits 0 within 5 s and leaves no renderer behind."""
    with nowaki_front("start", FIXTURE_APP, "--renderers", "2") as front:
        wait_until(lambda: len(front.renderer_pids()) == 2, 10, "two renderer children")
        renderers = front.renderer_pids()
        tokens = await page_tokens(front.url + "/")
        async with live(front.ws_url) as client:
            joined = await client.join([(0, tokens[0][1])])
            assert joined["ids"] == [0], joined
            assert (await client.event(0, "inc"))["type"] == "patch"

            sent = time.monotonic()
            front.process.send_signal(signum)
            code = await client.close_code(timeout=EXIT_WITHIN)
            closed = time.monotonic() - sent
        with trio.fail_after(10):
            while front.process.poll() is None:
                await trio.sleep(0.01)
        exited = time.monotonic() - sent
        print(f"{signum.name}: close 1001 after {closed:.3f}s, exit {front.process.returncode} "
              f"after {exited:.3f}s")
        assert code == 1001
        assert front.process.returncode == 0, front.log()
        assert exited < EXIT_WITHIN, f"exit took {exited:.2f}s"
        assert not [pid for pid in renderers if running(pid)], (renderers, front.log())
        assert f"event=shutdown signal={signum.name}" in front.log()
        assert "Traceback" not in front.log(), front.log()
