"""The bare renderer of the chain floor: framed CBOR requests in on stdin, a fixed HTML reply out.

``python -m bench.floor_pipe HTML_BYTES``. No app, no sandbox, no checks: it
decodes each request, bumps ``state.count`` and answers with an HTML string of
``HTML_BYTES`` bytes, so what it costs is the least a renderer process can.
"""

from __future__ import annotations

import os
import struct
import sys

import cbor2

_HEADER = struct.Struct(">I")


def make_html(size: int) -> str:
    """An HTML string of exactly ``size`` bytes (at least the wrapper's 26)."""
    head, tail = '<div class="counter"><b>', "</b></div>"
    return head + "x" * max(0, size - len(head) - len(tail)) + tail


def serve(html: str, fd_in: int = 0, fd_out: int = 1) -> int:
    """Answer every request until stdin closes."""
    buf = bytearray()
    while True:
        data = os.read(fd_in, 262144)
        if not data:
            return 0
        buf += data
        out: list[bytes] = []
        while len(buf) >= 4:
            (length,) = _HEADER.unpack_from(buf)
            if len(buf) < 4 + length:
                break
            request = cbor2.loads(bytes(buf[4 : 4 + length]))
            del buf[: 4 + length]
            state = request.get("state")
            count = state.get("count", 0) + 1 if isinstance(state, dict) else 1
            payload = cbor2.dumps({"id": request["id"], "ok": {"state": {"count": count}, "html": html}})
            out.append(_HEADER.pack(len(payload)) + payload)
        if out:
            view = memoryview(b"".join(out))
            while view:
                view = view[os.write(fd_out, view) :]


if __name__ == "__main__":
    sys.exit(serve(make_html(int(sys.argv[1]) if len(sys.argv) > 1 else 150)))
