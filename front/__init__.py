"""The front: the trusted edge that owns sockets and state, and never runs app code."""
