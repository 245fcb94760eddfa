"""Event ids as the dedup window remembers them: a 128-bit BLAKE2b digest of the id, keyed
with 16 random bytes drawn when the exporter starts, as an int.

Why not the id itself: a ``str`` costs its length, and the dedup window is the largest of
the exporter's windows (100,000 ids by default); the digest is one 48-byte int whatever the
id, so that window's memory is bounded by ``dedup_window`` alone, not by what the senders
put in their ids. Why keyed: two different ids share a digest with probability 2^-128, and
only someone who knew the key could look for a pair that does, so no sender can make a new
event pass for a repeat, nor crowd the set's hash buckets (the int's hash is the digest's
low bits). An id of at most 100 characters is at most four BLAKE2b blocks: the cost per id
is bounded whatever the ids.
"""

from __future__ import annotations

import hashlib
import os

_KEY = os.urandom(16)


def event_id_digest(event_id: str) -> int:
    """The id as the dedup window keeps it; the same id always gives the same digest within
    one exporter process."""
    return int.from_bytes(
        hashlib.blake2b(event_id.encode(), digest_size=16, key=_KEY).digest(), "big"
    )
