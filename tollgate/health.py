"""What a load balancer or orchestrator asks before sending traffic: is the database reachable, is the broker (when
one is configured), are all migrations applied. Each check answers within a few seconds and never raises."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 2  # seconds: a readiness probe must answer before the orchestrator's own timeout


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = ""


def database_check() -> Check:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return _failed("database", exc)
    return Check(True)


def broker_check() -> Check:
    """The Celery broker answers (Redis: PING); skipped when tasks run in-process (no broker configured)."""
    url = settings.CELERY_BROKER_URL
    if not url:
        return Check(True, "no broker configured: tasks run in-process")
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT)
            try:
                client.ping()
            finally:
                client.close()
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=BROKER_TIMEOUT) as broker:
                broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception as exc:
        return _failed("broker", exc)
    return Check(True)


_all_migrations_applied = False


def migrations_check() -> Check:
    """No migration is waiting to be applied: this code must not serve a schema it does not know.

    Once every migration is applied the process remembers it (its code cannot gain migrations while it runs), so a
    probe every few seconds does not re-read the migration files."""
    global _all_migrations_applied
    if _all_migrations_applied:
        return Check(True)
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        graph, applied = executor.loader.graph, executor.loader.applied_migrations
        # Every migration the code has, not just what `migrate` would plan: a hole below an applied one counts too.
        unapplied = list(dict.fromkeys(key for leaf in graph.leaf_nodes() for key in graph.forwards_plan(leaf)
                                       if key not in applied))
    except Exception as exc:
        return _failed("migrations", exc)
    if unapplied:
        names = [f"{app}.{name}" for app, name in unapplied]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return Check(False, f"{len(names)} unapplied: {shown}; run `manage.py migrate`")
    _all_migrations_applied = True
    return Check(True)


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    """Whether the process may take traffic, and each check's outcome."""
    checks = {"database": database_check(), "broker": broker_check()}
    # Without a database the migration state cannot be read: say so rather than time out twice.
    checks["migrations"] = migrations_check() if checks["database"].ok else Check(False, "database unreachable")
    return all(check.ok for check in checks.values()), {name: asdict(check) for name, check in checks.items()}


def _failed(name: str, exc: Exception) -> Check:
    """The probe is public: it names the kind of failure, the server's log has the whole message."""
    logger.warning("Readiness check %s failed: %s", name, exc)
    return Check(False, f"unreachable ({type(exc).__name__})")
