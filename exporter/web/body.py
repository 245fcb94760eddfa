"""Reading an ingest body: its size bound, its Content-Encoding, its failures.

aiohttp's automatic decompression is off (``web/serving.py``): decoding here makes every
failure a 4xx that names it, where aiohttp's turned a body that is not gzip into a 500,
accepted a truncated gzip body, and read an unknown encoding as plain. The bound
(``max_body_bytes``) applies to the decoded size, so a small gzip bomb is a 413.
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestPayloadError

from exporter.workflows.metrics import RejectReason

READ_CHUNK_BYTES = 64 * 1024
WINDOW_BITS = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,
}
"""Content-Encodings accepted besides none (``identity``): gzip and zlib-wrapped deflate."""


class BodyRefused(Exception):
    """The body cannot be taken; ``status`` and ``message`` are the reply."""

    def __init__(self, status: int, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def _too_large(limit: int) -> BodyRefused:
    return BodyRefused(
        413, "too_large", f"body exceeds max_body_bytes ({limit} bytes); send smaller batches"
    )


class _Decoded:
    """The decoded body so far, within ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self._limit = limit
        self._body = bytearray()
        self._encoding = encoding
        wbits = WINDOW_BITS.get(encoding)
        self._inflate = zlib.decompressobj(wbits) if wbits is not None else None

    def feed(self, chunk: bytes) -> None:
        if self._inflate is None:
            self._body += chunk
        else:
            room = self._limit - len(self._body) + 1  # one byte more tells "too large"
            try:
                self._body += self._inflate.decompress(chunk, room)
            except zlib.error as error:
                raise BodyRefused(
                    400, "malformed", f"body is not valid {self._encoding}: {error}"
                ) from None
            if self._inflate.unconsumed_tail:
                raise _too_large(self._limit)
        if len(self._body) > self._limit:
            raise _too_large(self._limit)

    def finish(self) -> bytes:
        if self._inflate is not None:
            if not self._inflate.eof:
                raise BodyRefused(
                    400, "malformed", f"{self._encoding} body is truncated (its stream never ends)"
                )
            if self._inflate.unused_data:
                raise BodyRefused(
                    400, "malformed", f"data after the end of the {self._encoding} stream"
                )
        return bytes(self._body)


def _encoding(request: web.Request, limit: int) -> str:
    """The body's Content-Encoding, lower case, "" for none; refused when not accepted, or
    when a plain body's Content-Length is over the limit (before a byte of it is read)."""
    encoding = request.headers.get(hdrs.CONTENT_ENCODING, "").strip().lower()
    if encoding in ("", "identity"):
        if request.content_length is not None and request.content_length > limit:
            raise _too_large(limit)
        return ""
    if encoding in WINDOW_BITS:
        return encoding
    raise BodyRefused(
        415,
        "unsupported_media_type",
        f"Content-Encoding {encoding!r} is not accepted; send gzip, deflate or none",
    )


def buffered_body(request: web.Request, limit: int) -> bytes | None:
    """The decoded body when all of it came with the headers (most single events), read
    without waiting; None when some is still on its way."""
    if not request.content.is_eof():
        return None
    encoding = _encoding(request, limit)
    raw = request.content.read_nowait()
    if not encoding:  # the common case: the bytes as they came, no copy
        if len(raw) > limit:
            raise _too_large(limit)
        return raw
    decoded = _Decoded(encoding, limit)
    decoded.feed(raw)
    return decoded.finish()


async def read_body(request: web.Request, limit: int) -> bytes:
    """The decoded body, read as it arrives; a client gone mid-body is a BodyRefused
    counted as ``client_disconnected``, not an error of the exporter."""
    decoded = _Decoded(_encoding(request, limit), limit)
    try:
        async for chunk in request.content.iter_chunked(READ_CHUNK_BYTES):
            decoded.feed(chunk)
    except ConnectionError:
        raise BodyRefused(
            400, "client_disconnected", "the client closed the connection mid-body"
        ) from None
    except RequestPayloadError as error:
        raise BodyRefused(400, "malformed", f"body framing is broken: {error}") from None
    return decoded.finish()


async def request_body(request: web.Request, limit: int, timeout: float) -> bytes:
    """The decoded body, or BodyRefused: 413 past ``limit``, 408 when it does not arrive
    within ``timeout`` seconds (a stalled client would otherwise hold its slot for ever)."""
    body = buffered_body(request, limit)
    if body is not None:
        return body
    try:
        async with asyncio.timeout(timeout):
            return await read_body(request, limit)
    except TimeoutError:
        raise BodyRefused(
            408,
            "read_timeout",
            f"the body did not arrive within ingest_read_timeout ({timeout:g}s)",
        ) from None
