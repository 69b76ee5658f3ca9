"""``nowaki renderer --listen``: a stopped service stops serving its fronts."""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
from pathlib import Path

from tests.services.procs import health, nowaki_front, renderer_services
from tests.support import FIXTURE_APP
from tests.support.proc import children_of, running
from tests.support.processes import signal_pid, wait_until


def test_sigterm_to_a_renderer_service_ends_its_connections() -> None:
    """SIGTERM to the service's PID (how a supervisor stops it) ends the children serving fronts too.

    Otherwise a front keeps talking to the old code after the service was stopped
    (or replaced by a new version on the same address) and never reconnects.
    """
    folder = Path(tempfile.mkdtemp(prefix="nwk-"))
    serving: list[int] = []
    try:
        address = f"unix:{folder}/r.sock"
        with renderer_services(FIXTURE_APP) as services:
            service = services.start(address)
            with nowaki_front("front", FIXTURE_APP, "--renderer", address) as front:
                assert health(front)["renderers_up"] == 1
                serving += children_of(service.pid)
                assert serving, "the service should serve the front from a forked child"
                service.process.send_signal(signal.SIGTERM)
                service.process.wait(timeout=10)
                alive = [pid for pid in serving if running(pid)]
                try:
                    wait_until(lambda: health(front)["renderers_up"] == 0, 5,
                               "the front to lose the stopped service")
                except AssertionError as exc:
                    raise AssertionError(
                        f"{exc}: children {alive} of the stopped service {service.pid} still serve the front"
                    ) from None
    finally:
        # Our service's orphaned children end when the front closes their sockets; make sure.
        with contextlib.suppress(AssertionError):
            wait_until(lambda: not any(running(pid) for pid in serving), 5, "orphans to exit")
        for pid in serving:
            if running(pid):
                signal_pid(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
