"""The run lifecycle of every background job (inventory imports, cost ingestion, sprawl recomputations) and the one
Celery task decorator of the project.

A run is a row that a page shows while a worker executes it: submitted (saved, its task sent when the transaction
commits), claimed (pending -> running, atomically, so a redelivered message never executes it twice), reporting its
progress (on a side connection, visible while the run's own transaction is still open), finished, or expired (failed
because no worker is executing it any more, so whatever waits for it -- a schedule, "recompute now" -- goes on).

How "no worker any more" is known: on PostgreSQL the executing worker holds a session advisory lock on the run, taken
on a side connection of its own. The server releases it the moment that connection dies (the worker stopped, was
killed or lost the network), so a running run whose lock is free has lost its worker: the expiry fails it within a
minute, and a redelivered message restarts it. Elsewhere (SQLite, one process) the last sign of life (heartbeat,
start, creation) older than the run type's `stale_after` is the only evidence. A pending run that no worker claimed
within `stale_after` lost its message and is failed the same way.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, TypeVar

from celery import current_app, shared_task
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

if TYPE_CHECKING:
    from celery import Task
    from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class Run(models.Model):
    """What every run records: its status and times, which worker executes it, how far it got and why it failed.

    Subclasses set `stale_after` (how long a run may go without a sign of life before it counts as lost),
    `lost_hint` (what the user should know or do when it was lost) and `counted_rows` (the row figures it reports).
    """

    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the worker executing it (claim or progress report)."
    )
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker that last claimed it.")
    progress = models.PositiveIntegerField(default=0, help_text="Work done so far, for the progress display.")
    error = models.TextField(blank=True)

    stale_after: ClassVar[timedelta] = timedelta(hours=1)
    lost_hint: ClassVar[str] = "Run it again."
    # The row counts a run type reports to Prometheus (tollgate.metrics): kind -> field.
    counted_rows: ClassVar[dict[str, str]] = {}

    class Meta:
        abstract = True

    @property
    def in_progress(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @classmethod
    def spread_runs(cls) -> Q | None:
        """Runs executed by several tasks at once (a month read in parts), which no single worker's lease holds:
        they are judged by their heartbeat, which every task refreshes, never by a lock. None: this type has none."""
        return None

    @classmethod
    def failure_fields(cls, message: str) -> dict[str, Any]:
        """The columns that record a failure with `message` (a run type with its own error format overrides it)."""
        return {"error": message}

    @classmethod
    def failed_audit(cls, run: Run, *, before: str) -> None:
        """Audit `run`, just failed by the job runner itself (its task could not be sent, or an unexpected error
        while it was claimed), from status `before`; a run type whose failures are audited overrides it."""


R = TypeVar("R", bound=Run)
P = ParamSpec("P")
T = TypeVar("T")


# The task decorator ---------------------------------------------------------------------------------------------------


class TransientError(Exception):
    """A failure worth retrying as it is (network, rate limit, a server's 5xx); every other error is final."""


def is_transient(exc: BaseException) -> bool:
    """TransientError, or any error that says so itself (a connector's ConnectorError with `transient=True`)."""
    return isinstance(exc, TransientError) or getattr(exc, "transient", False) is True


_final_attempt: ContextVar[bool] = ContextVar("final_attempt", default=True)
# Set while task_send executes a task in the process that sent it: no broker holds a retry for later.
_in_process: ContextVar[bool] = ContextVar("in_process", default=False)


def final_attempt() -> bool:
    """Inside a job task: whether a transient failure now is the last one (the run must then fail, not wait)."""
    return _final_attempt.get()


def tasks_in_process() -> bool:
    """Whether a sent task executes at once in the sending process (no broker configured: `make run`, the tests)."""
    return bool(current_app.conf.task_always_eager)


def retry_countdown(retries: int, *, base: int, cap: int) -> int:
    """Seconds before retry number `retries` + 1: doubling from `base`, never over `cap`."""
    return min(base * 2**retries, cap)


def job_task(
    *, max_retries: int = 3, backoff: int = 30, backoff_max: int = 10 * 60, **options: Any
) -> Callable[[Callable[P, T]], Task]:
    """The project's Celery task: acknowledged after it ran (acks_late) and put back on the queue when its worker
    dies (reject_on_worker_lost), so a run is never silently dropped; its run's claim makes that redelivery safe.
    Only transient errors are retried, after 30 s, 60 s, 120 s... capped at `backoff_max`; any other error is final.
    Executed in-process by task_send (no broker), its one attempt is the final one: nothing would run a retry.
    The registered name stays <module>.<function>, as the beat schedule names it."""

    def decorate(func: Callable[P, T]) -> Task:
        @functools.wraps(func)
        def run(self: Task, *args: P.args, **kwargs: P.kwargs) -> T:
            retries, limit = self.request.retries or 0, self.max_retries or 0
            final = retries >= limit or _in_process.get()
            token = _final_attempt.set(final)
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                if not is_transient(exc) or final:
                    raise
                raise self.retry(exc=exc, countdown=retry_countdown(retries, base=backoff, cap=backoff_max)) from exc
            finally:
                _final_attempt.reset(token)

        return shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=max_retries,
                           **options)(run)

    return decorate


# Submitting ----------------------------------------------------------------------------------------------------------


def task_send(task: Task, *args: Any) -> BaseException | None:
    """Send `task` with `args` to the workers; returns the error it failed with in-process, else None.

    Without a broker the task executes here and now, inside the request or command that sent it, as its only
    attempt (a transient failure is final: nothing would run a retry later). Its failure is logged, never raised:
    the sender's own work is committed and done, and a run records its failure itself (see run_submit)."""
    if not tasks_in_process():
        task.delay(*args)
        return None
    token = _in_process.set(True)
    try:
        result = task.delay(*args)
    except Exception as exc:  # CELERY_TASK_EAGER_PROPAGATES: the task's error reaches its sender
        logger.exception("Task %s%r failed in-process", getattr(task, "name", task), args)
        return exc
    finally:
        _in_process.reset(token)
    error = getattr(result, "result", None) if getattr(result, "failed", lambda: False)() else None
    if isinstance(error, BaseException):
        logger.error("Task %s%r failed in-process", getattr(task, "name", task), args, exc_info=error)
        return error
    return None


def run_submit(run: R, *, task: Task) -> R:
    """Save the run (if new) and send its task with the run's id once the transaction commits: a worker must find
    the row, and a rolled-back request must not leave a task behind.

    Without a broker the run executes in-process at the commit (task_send); a run it left unfinished would wait for
    a worker that does not exist, so it is failed then with what went wrong, never raised into the request."""
    with transaction.atomic():
        if run._state.adding:
            run.save()
        run_id = run.pk
        transaction.on_commit(lambda: _run_send(type(run), run_id, task))
    return run


def _run_send(model: type[Run], run_id: int, task: Task) -> None:
    try:
        error = task_send(task, run_id)
    except Exception as exc:  # the broker refused it: no worker will ever see the run
        logger.exception("Task %s(%r) could not be sent", getattr(task, "name", task), run_id)
        unfinished = model._default_manager.filter(pk=run_id, status=RunStatus.PENDING)
        _runs_fail(model, unfinished, f"Not sent to the workers ({type(exc).__name__}): {exc}")
        return
    if not tasks_in_process():
        return
    if error is not None:  # whatever it left pending or running, nobody else executes
        unfinished = model._default_manager.filter(pk=run_id, status__in=ACTIVE_STATUSES)
        message = f"Failed ({type(error).__name__}): {error}"
    else:  # it ended without claiming the run
        unfinished = model._default_manager.filter(pk=run_id, status=RunStatus.PENDING)
        message = "Not executed: the task ended without starting the run."
    _runs_fail(model, unfinished, message)


def _runs_fail(model: type[Run], unfinished: QuerySet[Any], message: str) -> None:
    """Fail the runs of `unfinished` with `message` and the type's hint, each audited from the status it left."""
    with transaction.atomic():
        before = dict(unfinished.select_for_update().values_list("pk", "status"))
        model._default_manager.filter(pk__in=list(before), status__in=ACTIVE_STATUSES).update(
            status=RunStatus.FAILED, finished_at=timezone.now(),
            **printable(model.failure_fields(f"{message.rstrip('.')}. {model.lost_hint}")))
        for run in model._default_manager.filter(pk__in=list(before)):
            model.failed_audit(run, before=before[run.pk])


# Locks: the worker's lease on a run, and exclusive sections --------------------------------------------------------

LOCK_SPACE_EXCLUSIVE = "tollgate.jobs.exclusive"


def _int4(text: str) -> int:
    """A stable signed 32-bit key for pg_advisory_lock(int, int)."""
    value = zlib.crc32(text.encode())
    return value - 2**32 if value >= 2**31 else value


def _run_lock_key(model: type[Run], run_id: int) -> tuple[int, int]:
    return _int4(model._meta.label_lower), int(run_id) % 2**31


def _exclusive_lock_key(name: str) -> tuple[int, int]:
    return _int4(LOCK_SPACE_EXCLUSIVE), _int4(name)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def transaction_lock(name: str) -> None:
    """Hold the section `name` until the current transaction ends (PostgreSQL; SQLite serialises writing
    transactions by itself). Writers of one shared table take it before they read what they will rewrite."""
    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(_exclusive_lock_key(name)))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_local_exclusive_guard = threading.Lock()
_local_exclusive: dict[str, threading.Lock] = {}


class _Lease:
    """What a worker holds while it executes a run.

    On PostgreSQL: a side connection in autocommit holding the session advisory locks (the run's, and any exclusive
    section's); it also writes the progress. The locks go when the connection goes, whatever kills the worker.
    Elsewhere: in-process locks for exclusive sections (correct for the single process SQLite serves).
    """

    def __init__(self, model: type[Run], run_id: int, *, additive: bool = False) -> None:
        self.model, self.run_id = model, run_id
        self.additive, self.reported = additive, 0  # additive: one part of a spread run adds its own progress
        self.side: BaseDatabaseWrapper | None = None
        self.local_locks: list[threading.Lock] = []
        self.reporting = False
        if _postgres():
            main = connections[DEFAULT_DB_ALIAS]
            self.side = main.__class__(dict(main.settings_dict), main.alias)

    def _execute(self, sql: str, params: list[Any]) -> Any:
        assert self.side is not None
        with self.side.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if cursor.description else None

    def try_lock_run(self) -> bool:
        if self.side is None:
            return True
        key = list(_run_lock_key(self.model, self.run_id))
        return bool(self._execute("SELECT pg_try_advisory_lock(%s, %s)", key)[0])

    def lock_exclusive(self, name: str) -> None:
        """Wait until no other run holds the section `name`, then hold it until the lease ends."""
        if self.side is not None:
            self._execute("SELECT pg_advisory_lock(%s, %s)", list(_exclusive_lock_key(name)))
            return
        with _local_exclusive_guard:
            lock = _local_exclusive.setdefault(name, threading.Lock())
        lock.acquire()
        self.local_locks.append(lock)

    def report(self, run: Run) -> None:
        """Write progress and heartbeat where other connections see them now. Best effort: never fails the run.

        Only non-key columns change, which the run's own inserts (FOR KEY SHARE on the run row) never block."""
        if self.side is None:
            if not connection.in_atomic_block:  # SQLite: the heartbeat fallback, unless a transaction holds it
                self.model._default_manager.filter(pk=run.pk).update(progress=run.progress, heartbeat_at=timezone.now())
            return
        try:
            if not self.reporting:  # after the locks: a progress write must never wait long
                self._execute("SET lock_timeout = '2s'", [])
                self.reporting = True
            table = connection.ops.quote_name(self.model._meta.db_table)
            if self.additive:
                self._execute(f"UPDATE {table} SET progress = progress + %s, heartbeat_at = %s WHERE id = %s",
                              [run.progress - self.reported, timezone.now(), run.pk])
                self.reported = run.progress
                return
            self._execute(f"UPDATE {table} SET progress = %s, heartbeat_at = %s WHERE id = %s",
                          [run.progress, timezone.now(), run.pk])
        except Exception:  # progress is cosmetic; the run's data must not depend on it
            logger.warning("Could not report the progress of %s %s", self.model._meta.label, run.pk, exc_info=True)

    def close(self) -> None:
        for lock in reversed(self.local_locks):
            lock.release()
        self.local_locks = []
        if self.side is not None:
            try:
                self.side.close()  # releases the advisory locks
            except Exception:
                logger.warning("Could not close the lease connection of %s %s", self.model._meta.label, self.run_id,
                               exc_info=True)
            self.side = None


_leases: dict[tuple[str, int], _Lease] = {}


def _lost_running() -> Q:
    """Running runs that a worker holding the run's lock may take over: on PostgreSQL any run claimed through this
    lifecycle (its lock was free, so its worker is gone); elsewhere those silent for longer than their stale_after,
    decided by the caller."""
    return Q(status=RunStatus.RUNNING, heartbeat_at__isnull=False)


@contextmanager
def run_claimed(
    model: type[R], *, run_id: int, exclusive: Callable[[R], str] | None = None
) -> Iterator[R | None]:
    """Claim run `run_id` for this worker and hold it while the body executes it; None when there is nothing to do.

    Pending -> running, atomically, so two copies of a message never both execute it. A running run is taken over
    (restarted) only when its previous worker is known to be gone (PostgreSQL: its lock was free; elsewhere: silent
    for longer than `stale_after`); a finished run, or one a live worker executes, is left alone.

    `exclusive(run)` names a section at most one run may execute at a time (an ingestion's source and period); a
    second run waits, as running, until the first one ends and then does its own work in full.
    """
    lease = _Lease(model, run_id)
    key = (model._meta.label_lower, run_id)
    try:
        if not lease.try_lock_run():
            yield None  # a live worker is executing it
            return
        now = timezone.now()
        lost = _lost_running()
        if lease.side is None:
            lost &= Q(heartbeat_at__lt=now - model.stale_after)
        spread = model.spread_runs()
        if spread is not None:
            lost &= ~spread  # its parts are its workers; a redelivered message of the run itself has nothing to do
        restart = model._default_manager.filter(lost, pk=run_id).exists()
        changes: dict[str, Any] = {"status": RunStatus.RUNNING, "started_at": now, "heartbeat_at": now,
                                   "worker": worker_name(), "finished_at": None}
        if restart:
            changes.update(progress=0, error="Restarted: the worker executing this run was lost.")
        claimed = model._default_manager.filter(Q(status=RunStatus.PENDING) | lost, pk=run_id).update(**changes)
        if not claimed:
            yield None
            return
        if restart:
            logger.warning("Restarting %s %s: its previous worker was lost", model._meta.label, run_id)
        run = model._default_manager.get(pk=run_id)
        _leases[key] = lease
        if exclusive is not None:
            lease.lock_exclusive(exclusive(run))
        try:
            yield run
        except BaseException as exc:
            # The services record their own failures; this only keeps an unexpected one from leaving the run
            # "running" for the expiry to find.
            mine = model._default_manager.filter(pk=run_id, status=RunStatus.RUNNING, worker=changes["worker"])
            failed = mine.update(
                status=RunStatus.FAILED, finished_at=timezone.now(),
                **printable(model.failure_fields(f"Unexpected error ({type(exc).__name__}): {exc}")),
            )
            if failed:
                model.failed_audit(model._default_manager.get(pk=run_id), before=RunStatus.RUNNING)
            raise
    finally:
        _leases.pop(key, None)
        lease.close()


@contextmanager
def exclusive_section(run: Run, name: str) -> Iterator[None]:
    """Hold the section `name` for `run` while the block executes, as a claimed run's lease holds it (a session
    lock on a side connection, released when the block ends, whatever happens to the transaction): the last task
    of a run spread over several tasks holds its section this way while it writes."""
    lease = _Lease(type(run), run.pk)
    try:
        lease.lock_exclusive(name)
        yield
    finally:
        lease.close()


@contextmanager
def run_part(run: Run) -> Iterator[None]:
    """While one task executes a part of a spread run: its progress (run_progress) adds to the run's and refreshes
    the run's heartbeat, on a side connection, as a lease's does (no lock: the run has no single worker)."""
    lease = _Lease(type(run), run.pk, additive=True)
    key = (run._meta.label_lower, run.pk)
    _leases[key] = lease
    try:
        yield
    finally:
        _leases.pop(key, None)
        lease.close()


def run_progress(run: Run, done: int) -> None:
    """Record how far `run` is: visible to pages at once on PostgreSQL (side connection, outside the run's own
    transaction, which may hold the run's records until it commits); elsewhere saved with the run at its end."""
    run.progress = done
    lease = _leases.get((run._meta.label_lower, run.pk))
    if lease is not None:
        lease.report(run)


# A run that counts steps stores its position as step × STEP_SCALE + the percent of that step done (run_at_step).
STEP_SCALE = 100


@dataclass(frozen=True)
class Step:
    """Where a run that counts its progress in steps is: step `number` of `of`, doing `label`, `done` percent of it
    (0 when the step cannot tell)."""

    number: int
    of: int
    label: str
    done: int = 0

    @property
    def percent(self) -> int:
        """The bar's width: the steps done and the share of the running one, never full while the last one runs."""
        return min(99, round(100 * (self.number - 1 + self.done / 100) / self.of) + 5)


def run_at_step(run: Run, position: float) -> None:
    """Report where a run that counts steps is: `position` is the step's number (from 1) plus the share of it done,
    2.5 halfway through step 2. A position that shows the same as the last one writes nothing, so a step may report
    after every batch of its work."""
    number = int(position)
    done = min(99, int((position - number) * 100 + 1e-9))  # 2.3 - 2 is 0.29999...: still 30%
    encoded = number * STEP_SCALE + done
    if encoded != run.progress:
        run_progress(run, encoded)


def run_step(run: Run, steps: Sequence[str]) -> Step | None:
    """The step a running run reported (run_at_step; `steps` names them in order), for its page; None while it waits
    for a worker or before its first report. A run whose work is a few long computations rather than rows says where
    it is this way.

    A position under STEP_SCALE is a step number stored as it was before steps counted their share (no step is 0):
    a run a worker of the earlier version still reports on, while or just after this version is deployed."""
    number, done = divmod(run.progress, STEP_SCALE)
    if number == 0:
        number, done = run.progress, 0
    if run.status != RunStatus.RUNNING or not 1 <= number <= len(steps):
        return None
    return Step(number=number, of=len(steps), label=steps[number - 1], done=done)


def printable(value: Any) -> Any:
    """`value` with NUL characters shown as \\x00: a message quoting a broken file (a column name with a NUL byte)
    must not make the database refuse the run's own record of the failure (PostgreSQL stores no NUL in text)."""
    if isinstance(value, str):
        return value.replace("\x00", "\\x00")
    if isinstance(value, list):
        return [printable(item) for item in value]
    if isinstance(value, dict):
        return {printable(key): printable(item) for key, item in value.items()}
    return value


def run_finish(run: R, *, status: str, error: str = "", **fields: Any) -> R:
    """Record the outcome of an executed run (with its figures in `fields`) and end it."""
    run.status, run.error, run.finished_at = status, printable(error), timezone.now()
    for name, value in fields.items():
        setattr(run, name, printable(value))
    run.save()
    return run


# Expiry --------------------------------------------------------------------------------------------------------------


def runs_expire(model: type[Run], *, older_than: timedelta | None = None) -> int:
    """Fail the runs of `model` that no worker will finish, so whatever waits for them goes on; returns how many.

    - pending with no sign of life (heartbeat, start, creation) for `older_than` (default: the model's
      `stale_after`): a lost broker message;
    - running: on PostgreSQL at once when its lock is free (the worker is gone; a live worker is never failed for
      being slow), elsewhere -- and for runs claimed before the lock existed -- when silent for `older_than`.
    """
    older_than = model.stale_after if older_than is None else older_than
    now = timezone.now()
    hint = model.lost_hint
    expired = 0
    silent = model._default_manager.annotate(last_sign=Coalesce("heartbeat_at", "started_at", "created_at")).filter(
        last_sign__lt=now - older_than
    )
    expired += silent.filter(status=RunStatus.PENDING).update(
        status=RunStatus.FAILED, finished_at=now,
        **model.failure_fields(
            f"Stopped: no worker picked the run up within {older_than}; its message was probably lost. {hint}"
        ),
    )
    running = silent.filter(status=RunStatus.RUNNING)
    spread = model.spread_runs()
    if _postgres():
        # The others are judged by their lock, below; runs spread over several tasks by their heartbeat.
        running = running.filter(Q(heartbeat_at__isnull=True) | spread if spread is not None
                                 else Q(heartbeat_at__isnull=True))
    expired += running.update(
        status=RunStatus.FAILED, finished_at=now,
        **model.failure_fields(
            f"Stopped: the run did not finish within {older_than}; its worker was probably lost. {hint}"
        ),
    )
    if _postgres():
        message = f"Stopped: the worker executing the run was lost (stopped or killed mid-run). {hint}"
        locked = model._default_manager.filter(_lost_running())
        if spread is not None:
            locked = locked.exclude(spread)
        for run_id in locked.values_list("pk", flat=True):
            expired += _expire_if_unlocked(model, run_id, message)
    return expired


def _expire_if_unlocked(model: type[Run], run_id: int, message: str) -> int:
    """Fail a running run whose lock nobody holds; holding the lock meanwhile keeps a restart from racing it."""
    key = list(_run_lock_key(model, run_id))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        if not cursor.fetchone()[0]:
            return 0  # its worker is alive
        try:
            return model._default_manager.filter(_lost_running(), pk=run_id).update(
                status=RunStatus.FAILED, finished_at=timezone.now(), **printable(model.failure_fields(message))
            )
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
