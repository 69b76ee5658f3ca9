"""The two wire contracts of nowaki, as sans-IO code shared by front and renderer.

Nothing here touches a socket: encoders, decoders, the framing buffer, the
token format and the HTML diff are pure functions, so both wires are tested
byte for byte without a server. ``SPEC.md`` beside this file is the contract
in prose; the two change together.
"""

from nowaki.protocol.errors import ProtocolError

VERSION = 1
"""Version of wire R (front ⇄ renderer), sent in ``hello``."""

__all__ = ["VERSION", "ProtocolError"]
