"""The history: finished workflows kept for the JSON API, up to ``max_history``, oldest
finish first.

A workflow is sealed as it enters: its details (steps, approvals, resource samples) and
its fields become one msgpack string, so that an entry is two Python objects instead of
some thirty (the workflow, its progress, three dicts, each kept step and its id and
duration). Once the history is full, each finish frees the oldest entry: freeing thirty
objects that left the CPU's caches long ago, and handing their scattered memory to the
next event's objects, made every event cost more on a long-running exporter than on a new
one. The readers get the entries decoded (``HistorySnapshot``), in the worker thread that
builds the answer.

A step or approval that arrives after its workflow's finish unseals the entry in place
(``live``): it is again a ``FinishedWorkflow`` whose progress takes the late detail, and
stays so until it leaves the history. That is the exception (a late batch, a retry).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping

import msgspec
from msgspec.structs import astuple

from exporter.workflows.budget import DetailBudget
from exporter.workflows.records import (
    ApprovalWait,
    FinishedWorkflow,
    WorkflowProgress,
)


class SealedWorkflow(msgspec.Struct, frozen=True, gc=False):
    snapshot: bytes
    """The workflow but for its sampler figures and its budget units, as a msgpack array
    (``seal``)."""
    sampled_usage: Mapping[str, float] | None
    """Shared with the workflows that finished over the same sampler passes: not copied."""
    kept: int
    """Units of the details budget the workflow holds, returned when it leaves."""


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode
"""Untyped: the records in it are plain arrays (``astuple``)."""


def seal(finished: FinishedWorkflow) -> SealedWorkflow:
    progress = finished.progress
    snapshot = (
        finished.workflow_id,
        finished.user_message,
        finished.complexity,
        finished.total_steps,
        finished.agents_involved,
        finished.start_ts,
        finished.end_ts,
        finished.duration_seconds,
        finished.status,
        list(progress.kept_steps.values()),
        progress.completed_steps,
        progress.failed_steps,
        {key: astuple(wait) for key, wait in progress.kept_approvals.items()},
        progress.resource_usage,
    )
    return SealedWorkflow(_encode(snapshot), progress.sampled_usage, progress.kept)


def unseal(sealed: SealedWorkflow, max_steps: int, budget: DetailBudget) -> FinishedWorkflow:
    """The workflow as it was sealed, with a progress that can take more details (its budget
    units stay taken: ``kept``)."""
    (
        workflow_id,
        user_message,
        complexity,
        total_steps,
        agents_involved,
        start_ts,
        end_ts,
        duration_seconds,
        status,
        steps,
        completed_steps,
        failed_steps,
        approvals,
        resource_usage,
    ) = _decode(sealed.snapshot)
    progress = WorkflowProgress(
        max_steps,
        budget,
        kept_steps={step[0]: tuple(step) for step in steps},
        completed_steps=completed_steps,
        failed_steps=failed_steps,
        kept_approvals={key: ApprovalWait(*wait) for key, wait in approvals.items()},
        resource_usage=resource_usage,
        sampled_usage=sealed.sampled_usage,
        kept=sealed.kept,
    )
    return FinishedWorkflow(
        workflow_id=workflow_id,
        user_message=user_message,
        complexity=complexity,
        total_steps=total_steps,
        agents_involved=tuple(agents_involved),
        start_ts=start_ts,
        end_ts=end_ts,
        duration_seconds=duration_seconds,
        status=status,
        progress=progress,
    )


Entry = FinishedWorkflow | SealedWorkflow
"""Sealed, or unsealed by a late step or approval."""


class HistorySnapshot:
    """The entries as they were when taken (on the event loop: a list of the map's values);
    iterating decodes the sealed ones, so that a reader does it once, in its worker thread."""

    def __init__(
        self, entries: list[Entry], decode: Callable[[SealedWorkflow], FinishedWorkflow]
    ) -> None:
        self._entries = entries
        self._decode = decode

    def __iter__(self) -> Iterator[FinishedWorkflow]:
        for entry in self._entries:
            yield entry if isinstance(entry, FinishedWorkflow) else self._decode(entry)

    def __len__(self) -> int:
        return len(self._entries)


class History:
    """Finished workflows by id, oldest finish first, at most ``capacity``."""

    def __init__(self, capacity: int, max_steps: int, budget: DetailBudget) -> None:
        self._capacity = capacity
        self._max_steps = max_steps
        self._budget = budget
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        """An OrderedDict finds its oldest entry in O(1) however many left before (a plain
        dict's ``next(iter())`` walks the slots its deletions left at the front)."""
        self.entry: Callable[[str], Entry | None] = self._entries.get
        """The entry, sealed or not, as the dict's own method: the tracker asks this for
        every step and approval event (is its workflow finished?)."""

    def __contains__(self, workflow_id: str) -> bool:
        return workflow_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, finished: FinishedWorkflow) -> bool:
        """Seal and keep the workflow (not held yet); True when the oldest left to make room."""
        self._entries[finished.workflow_id] = seal(finished)
        if len(self._entries) <= self._capacity:
            return False
        oldest = self._entries.popitem(last=False)[1]
        if isinstance(oldest, FinishedWorkflow):
            oldest.progress.release()
        else:
            self._budget.release(oldest.kept)
        return True

    def live(self, workflow_id: str, entry: Entry) -> FinishedWorkflow:
        """``entry`` (this workflow's), unsealed in place if it was sealed, to take a late
        step or approval; its place in the order stays."""
        if isinstance(entry, FinishedWorkflow):
            return entry
        finished = self._view(entry)
        self._entries[workflow_id] = finished
        return finished

    def get(self, workflow_id: str) -> FinishedWorkflow | None:
        """The workflow, decoded for a reader (the entry stays as it is)."""
        entry = self._entries.get(workflow_id)
        if entry is None or isinstance(entry, FinishedWorkflow):
            return entry
        return self._view(entry)

    def snapshot(self) -> HistorySnapshot:
        return HistorySnapshot(list(self._entries.values()), self._view)

    def _view(self, sealed: SealedWorkflow) -> FinishedWorkflow:
        return unseal(sealed, self._max_steps, self._budget)
