"""glibc's malloc, told to keep request buffers in its heap instead of mapping fresh pages
for each.

Every read from a socket allocates a buffer of up to 256 KiB (asyncio), and aiohttp's
parser copies each chunk of a body into a bytes object of that size. glibc maps any block
over its threshold (128 KiB, moved up only when a mapped block of a larger size is freed)
with mmap, and unmaps it when freed, so the next block's pages fault in again: about 70
page faults for each 1,000-event batch, 0.2 µs of kernel time an event, 3-5 % of the
exporter's CPU as pure Python and 1-9 % compiled (docs/performance.md). With the
thresholds fixed here, those buffers come from the heap and its top is kept for the next
request: a body up to the default ``max_body_bytes`` is served from memory already
mapped, and the heap gives back its top when more than TRIM_THRESHOLD_BYTES lie free
there.

An operator who tunes malloc through the environment (``GLIBC_TUNABLES``,
``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``) is left alone, as is any C library
other than glibc.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

MMAP_THRESHOLD_BYTES = 1 << 20
"""Blocks up to this size come from the heap: socket buffers (256 KiB), body chunks, and
bodies up to the default max_body_bytes."""
TRIM_THRESHOLD_BYTES = 4 << 20
"""Free memory at the heap's top kept for the next requests; above this, given back."""

ENVIRONMENT_SETTINGS = ("GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc(environ: Mapping[str, str] = os.environ) -> str:
    """Fix glibc's thresholds unless the environment tunes malloc itself; says what was
    done, for the start-up log."""
    settings = [name for name in ENVIRONMENT_SETTINGS if name in environ]
    if settings:
        return f"malloc as the environment sets it ({', '.join(settings)})"
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return "malloc untuned (not glibc)"
    if not (
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    ):
        return "malloc untuned (mallopt refused)"
    return (
        f"malloc: blocks up to {MMAP_THRESHOLD_BYTES >> 20} MiB from the heap, "
        f"its top trimmed above {TRIM_THRESHOLD_BYTES >> 20} MiB free"
    )
