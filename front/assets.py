"""The client runtime asset: built once at start, served with ETag, gzip and long cache."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources

RUNTIME_PATH = "/__nowaki/runtime.js"


@dataclass(frozen=True, slots=True)
class Asset:
    """A static file held in memory, plain and gzip -9 compressed."""

    body: bytes
    gzipped: bytes
    etag: str
    content_type: str

    @property
    def version(self) -> str:
        """Short content hash, used as ``?v=`` so the URL can be cached forever."""
        return self.etag.strip('"')[:12]


def load_runtime() -> Asset:
    """The built runtime shipped inside the package (``front/static/runtime.js``)."""
    body = resources.files("nowaki.front").joinpath("static/runtime.js").read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    return Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag=f'"{digest[:32]}"',
        content_type="text/javascript; charset=utf-8",
    )


def script_tag(asset: Asset) -> str:
    """The tag the front adds to pages with live islands (a module: its own scope)."""
    return f'<script type="module" src="{RUNTIME_PATH}?v={asset.version}"></script>'
