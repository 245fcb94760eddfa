"""The calls AutoBot makes: the method names of its in-process metrics collector, plus
context managers and a decorator. Every call only builds an event and enqueues it; none
raises (a failure is logged once and the event counted as dropped)."""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from autobot_exporter_client.core import ClientSettings, DeliveryStats, EventBuffer
from autobot_exporter_client.reads import ExporterReads
from autobot_exporter_client.stats import WorkflowExecutionStats, WorkflowStatsBook
from autobot_exporter_client.tracing import current_trace_id

log = logging.getLogger("autobot_exporter_client")

F = TypeVar("F", bound=Callable[..., Any])

_current_workflow: ContextVar[str | None] = ContextVar("autobot_workflow_id", default=None)


def _error_type(error: BaseException | str | None) -> str | None:
    if error is None:
        return None
    if isinstance(error, BaseException):
        return type(error).__name__
    return str(error)[:128] or None


def numeric_fields(data: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numbers of a resource dict, nested dicts flattened as ``outer.inner`` (the
    original get_current_metrics() nested network_io)."""
    numbers: dict[str, float] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            numbers.update(numeric_fields(value, prefix=f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            numbers[name[:128]] = float(value)
    return numbers


def _never_raises(method: F) -> F:
    """Monitoring must never break the application: a call failing inside is logged once
    and its event counted as dropped (None returned). A call that does not fit the
    method's signature is the caller's bug: it raises TypeError at the call site, as any
    Python function does, rather than vanishing."""

    @functools.wraps(method)
    def guarded(self: EventRecorder, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except TypeError as error:
            if error.__traceback__ is not None and error.__traceback__.tb_next is None:
                raise  # raised binding the arguments, before the method ran
            self._failed(method.__name__)
        except Exception:
            self._failed(method.__name__)
        return None

    return guarded  # type: ignore[return-value]


class EventRecorder(ExporterReads):
    """Base of both clients: the collector's calls (recorded and sent as events) and its
    read methods (ExporterReads); subclasses provide ``_wake()`` to hurry their sender."""

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self.stats = DeliveryStats()
        self._buffer = EventBuffer(settings.max_buffered_events, self.stats)
        # event ids: unique per client (random prefix) and cheap per call (a counter)
        self._id_prefix = uuid.uuid4().hex[:16]
        self._ids = itertools.count()
        self._failed_calls: set[str] = set()
        """Calls whose failure was logged: once each (the stats count every one)."""
        self._book = WorkflowStatsBook(settings.max_tracked_workflows)

    def _wake(self) -> None:
        raise NotImplementedError

    def _record(self, event_type: str, workflow_id: str, now: float, **fields: Any) -> None:
        event = {
            "type": event_type,
            "workflow_id": str(workflow_id),
            "event_id": f"{self._id_prefix}-{next(self._ids)}",
            "ts": now,
        }
        event.update((k, v) for k, v in fields.items() if v is not None)
        if self._buffer.put(event) == self.settings.batch_size:
            self._wake()

    def _failed(self, call: str) -> None:
        self.stats.add(dropped=1)
        if call not in self._failed_calls:
            self._failed_calls.add(call)
            log.exception(
                "autobot-exporter client: %s failed; its event is dropped (logged once per call)",
                call,
            )

    # ---- the original WorkflowMetricsCollector's method names --------------------------

    @_never_raises
    def start_workflow_tracking(
        self, workflow_id: str, workflow_data: Mapping[str, Any] | None = None
    ) -> None:
        """``workflow_data`` as AutoBot passes it: user_message, complexity, total_steps,
        agents_involved."""
        data = dict(workflow_data or {})
        now = time.time()
        self._book.started(str(workflow_id), data, now)
        agents = data.get("agents_involved")
        self._record(
            "workflow_started",
            workflow_id,
            now,
            complexity=str(data.get("complexity") or "unknown"),
            user_message=data.get("user_message"),
            total_steps=data.get("total_steps"),
            agents_involved=[str(a) for a in agents] if agents else None,
        )

    @_never_raises
    def start_step_timing(self, workflow_id: str, step_id: str, agent_type: str) -> None:
        now = time.time()
        self._book.step_started(str(workflow_id), str(step_id), now)
        self._record("step_started", workflow_id, now, step_id=str(step_id), agent=str(agent_type))

    @_never_raises
    def end_step_timing(
        self,
        workflow_id: str,
        step_id: str,
        success: bool = True,
        error: BaseException | str | None = None,
    ) -> None:
        now = time.time()
        self._book.step_ended(str(workflow_id), str(step_id), bool(success), now)
        self._record(
            "step_finished",
            workflow_id,
            now,
            step_id=str(step_id),
            success=bool(success),
            error_type=_error_type(error) if not success else None,
            trace_id=current_trace_id(),
        )

    @_never_raises
    def record_resource_usage(self, workflow_id: str, resource_data: Mapping[str, Any]) -> None:
        numbers = numeric_fields(resource_data)
        self._book.resource_usage(str(workflow_id), numbers)
        self._record("resource_sample", workflow_id, time.time(), data=numbers)

    @_never_raises
    def end_workflow_tracking(
        self, workflow_id: str, final_status: str = "completed"
    ) -> WorkflowExecutionStats | None:
        """The workflow's final statistics as the original returned them, from the calls
        this client saw; None for a workflow it did not see start."""
        now = time.time()
        self._record(
            "workflow_finished", workflow_id, now, status=final_status, trace_id=current_trace_id()
        )
        return self._book.finished(str(workflow_id), str(final_status), now)

    @_never_raises
    def record_approval_wait_time(
        self,
        workflow_id: str,
        wait_time_ms: float,
        outcome: str = "approved",
        approval_id: str | None = None,
    ) -> None:
        """The original call: the application timed the wait itself."""
        wait_ms = max(0.0, float(wait_time_ms))
        self._book.approval_waited(str(workflow_id), wait_ms)
        self._record(
            "approval_resolved",
            workflow_id,
            time.time(),
            approval_id=approval_id,
            outcome=outcome,
            wait_seconds=wait_ms / 1000.0,
        )

    # ---- approvals timed by the exporter -------------------------------------------------

    @_never_raises
    def request_approval(self, workflow_id: str, approval_id: str | None = None) -> None:
        self._record("approval_requested", workflow_id, time.time(), approval_id=approval_id)

    @_never_raises
    def resolve_approval(
        self, workflow_id: str, outcome: str = "approved", approval_id: str | None = None
    ) -> None:
        self._record(
            "approval_resolved", workflow_id, time.time(), approval_id=approval_id, outcome=outcome
        )

    # ---- context managers and decorator -------------------------------------------------

    @contextlib.contextmanager
    def workflow(
        self,
        workflow_id: str,
        complexity: str = "unknown",
        user_message: str | None = None,
        total_steps: int | None = None,
        agents_involved: list[str] | None = None,
    ) -> Iterator[WorkflowScope]:
        """Start and finish a workflow; an exception finishes it as ``failed`` and is
        re-raised unchanged."""
        metadata = {
            "complexity": complexity,
            "user_message": user_message,
            "total_steps": total_steps,
            "agents_involved": agents_involved,
        }
        self.start_workflow_tracking(workflow_id, metadata)
        token = _current_workflow.set(workflow_id)
        try:
            yield WorkflowScope(self, workflow_id)
        except BaseException:
            self.end_workflow_tracking(workflow_id, "failed")
            raise
        else:
            self.end_workflow_tracking(workflow_id, "completed")
        finally:
            _current_workflow.reset(token)

    @contextlib.contextmanager
    def step(
        self, agent: str, step_id: str | None = None, workflow_id: str | None = None
    ) -> Iterator[None]:
        """Time a step of the given (else the current) workflow; an exception marks it
        failed with its class name as error_type and is re-raised unchanged."""
        workflow = workflow_id or _current_workflow.get() or "unknown"
        step = step_id or f"{agent}-{next(self._ids)}"
        self.start_step_timing(workflow, step, agent)
        try:
            yield
        except BaseException as error:
            self.end_step_timing(workflow, step, success=False, error=error)
            raise
        self.end_step_timing(workflow, step, success=True)

    def timed_step(self, agent: str) -> Callable[[F], F]:
        """Decorator: each call of the function (sync or async) is a step of the current
        workflow."""

        def decorate(function: F) -> F:
            if inspect.iscoroutinefunction(function):

                @functools.wraps(function)
                async def run_async(*args: Any, **kwargs: Any) -> Any:
                    with self.step(agent):
                        return await function(*args, **kwargs)

                return run_async  # type: ignore[return-value]

            @functools.wraps(function)
            def run(*args: Any, **kwargs: Any) -> Any:
                with self.step(agent):
                    return function(*args, **kwargs)

            return run  # type: ignore[return-value]

        return decorate

    @property
    def pending(self) -> int:
        return len(self._buffer)


class WorkflowScope:
    """What ``with client.workflow(...) as wf`` yields."""

    def __init__(self, recorder: EventRecorder, workflow_id: str) -> None:
        self._recorder = recorder
        self.workflow_id = workflow_id

    def step(self, agent: str, step_id: str | None = None) -> contextlib.AbstractContextManager:
        return self._recorder.step(agent, step_id=step_id, workflow_id=self.workflow_id)

    def request_approval(self, approval_id: str | None = None) -> None:
        self._recorder.request_approval(self.workflow_id, approval_id)

    def resolve_approval(self, outcome: str = "approved", approval_id: str | None = None) -> None:
        self._recorder.resolve_approval(self.workflow_id, outcome, approval_id)

    def record_resource_usage(self, data: Mapping[str, Any]) -> None:
        self._recorder.record_resource_usage(self.workflow_id, data)
