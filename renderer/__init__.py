"""The renderer: an untrusted-code worker that evaluates an app's islands and pages.

It answers pure requests over wire R (see ``protocol/SPEC.md``) and holds no
per-connection state, so the front can kill and replace it at any time.
"""
