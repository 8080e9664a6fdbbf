"""Prometheus metrics at /metrics: requests (django-prometheus' middleware) and what Tollgate itself does.

The figures of background work are read when Prometheus scrapes, from the database and the broker, not counted in
the process that did the work: runs finish in Celery workers, expire in beat's jobs or in a page's "run now", and a
web process only sees its own memory. Read from the run tables, every web process reports the same totals however
many processes and hosts did the work, and a restart loses nothing.

- tollgate_runs_finished_total{run, status}: runs that succeeded or failed, by run type (ingestion, import, sprawl,
  signal: every concrete tollgate.jobs.Run);
- tollgate_runs_active{run, status}: runs pending or running now;
- tollgate_run_rows_total{run, kind}: the rows of succeeded runs (ingestion: read, written, skipped; import:
  created, updated, unchanged), as the run type declares in `counted_rows`;
- tollgate_run_duration_seconds{run}: a histogram of the durations of finished runs (start to end);
- tollgate_celery_queue_length{queue}: messages waiting in the Celery queue (Redis broker);
- what the apps register at start-up (`scrape_gauge_register`): governance's signals by type and status.

Each of these is one aggregate query (one per run type), so a scrape costs a handful of queries whatever the size.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.http import HttpRequest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from tollgate.auth import client_address
from tollgate.jobs import ACTIVE_STATUSES, Run, RunStatus

logger = logging.getLogger(__name__)

# Runs take from seconds (a sprawl recomputation of a small portfolio) to hours (a year of FOCUS exports).
DURATION_BUCKETS = (1, 5, 15, 60, 5 * 60, 15 * 60, 60 * 60, 4 * 60 * 60)
FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED)
BROKER_TIMEOUT = 2.0  # seconds: a scrape must not hang on a broker that does not answer


def run_types() -> list[type[Run]]:
    """Every concrete run model of the installed apps."""
    return [model for model in apps.get_models() if issubclass(model, Run)]


def run_label(model: type[Run]) -> str:
    return model._meta.model_name.removesuffix("run") if model._meta.model_name else model.__name__


class RunCollector:
    """Runs by type and status, their rows and durations, from the run tables (one query per run type)."""

    def collect(self) -> Iterator[Metric]:
        finished = CounterMetricFamily("tollgate_runs_finished", "Runs that ended, by run type and outcome.",
                                       labels=["run", "status"])
        active = GaugeMetricFamily("tollgate_runs_active", "Runs pending or running now, by run type.",
                                   labels=["run", "status"])
        rows = CounterMetricFamily("tollgate_run_rows", "Rows of the runs that succeeded, by run type and kind.",
                                   labels=["run", "kind"])
        durations = HistogramMetricFamily("tollgate_run_duration_seconds",
                                          "Durations of the runs that ended (start to end), by run type.",
                                          labels=["run"])
        for model in run_types():
            label = run_label(model)
            stats = _run_stats(model)
            for status in FINISHED_STATUSES:
                finished.add_metric([label, status], stats.by_status.get(status, 0))
            for status in ACTIVE_STATUSES:
                active.add_metric([label, status], stats.by_status.get(status, 0))
            for kind, total in stats.rows.items():
                rows.add_metric([label, kind], total)
            buckets = [(str(float(bound)), count) for bound, count in stats.buckets]
            durations.add_metric([label], [*buckets, ("+Inf", stats.timed)], stats.seconds)
        yield from (finished, active, rows, durations)


@dataclass(frozen=True)
class RunStats:
    by_status: dict[str, int]
    rows: dict[str, int]
    buckets: list[tuple[int, int]]  # (upper bound in seconds, runs at most that long)
    timed: int  # runs with a start and an end
    seconds: float


def _run_stats(model: type[Run]) -> RunStats:
    """One aggregate query: counts by status, and over finished runs the rows and the durations per bucket."""
    ended = Q(status__in=FINISHED_STATUSES, started_at__isnull=False, finished_at__isnull=False)
    succeeded = Q(status=RunStatus.SUCCEEDED)
    aggregates: dict[str, Aggregate] = {
        f"le_{bound}": Count("pk", filter=ended & Q(duration__lte=timedelta(seconds=bound)))
        for bound in DURATION_BUCKETS
    }
    aggregates.update({f"rows_{kind}": Sum(field, filter=succeeded) for kind, field in model.counted_rows.items()})
    groups = (model._default_manager.order_by()
              .alias(duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField()))
              .values("status")
              .annotate(n=Count("pk"), timed=Count("pk", filter=ended), seconds=Sum("duration", filter=ended),
                        **aggregates))
    by_status: dict[str, int] = {}
    rows = dict.fromkeys(model.counted_rows, 0)
    buckets = dict.fromkeys(DURATION_BUCKETS, 0)
    timed, seconds = 0, 0.0
    for group in groups:
        by_status[group["status"]] = group["n"]
        for kind in rows:
            rows[kind] += group[f"rows_{kind}"] or 0
        for bound in buckets:
            buckets[bound] += group[f"le_{bound}"]
        timed += group["timed"]
        seconds += group["seconds"].total_seconds() if group["seconds"] else 0.0
    return RunStats(by_status, rows, list(buckets.items()), timed, seconds)


class QueueDepthCollector:
    """Messages waiting in the Celery queue, read from Redis (LLEN); nothing without a Redis broker."""

    def collect(self) -> Iterator[Metric]:
        url = settings.CELERY_BROKER_URL
        if not url.startswith(("redis://", "rediss://", "unix://")):
            return
        import redis

        queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
        client = redis.Redis.from_url(url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT)
        try:
            # Kombu keeps a task sent with a priority in a list of its own beside the queue's (queue\x06\x16N).
            names = [queue, *(f"{queue}\x06\x16{step}" for step in (3, 6, 9))]
            with client.pipeline(transaction=False) as pipeline:
                for name in names:
                    pipeline.llen(name)
                waiting = sum(pipeline.execute())
        finally:
            client.close()
        gauge = GaugeMetricFamily("tollgate_celery_queue_length", "Tasks waiting in the Celery queue.",
                                  labels=["queue"])
        gauge.add_metric([queue], waiting)
        yield gauge


@dataclass(frozen=True)
class ScrapeGauge:
    """A gauge an app reads when Prometheus scrapes: `read` returns (label values, value) pairs."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    read: Callable[[], Iterable[tuple[tuple[str, ...], float]]]

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(self.name, self.documentation, labels=list(self.labels))
        for values, value in self.read():
            gauge.add_metric(list(values), value)
        yield gauge


_scrape_collectors: dict[str, Collector] = {"runs": RunCollector(), "celery_queue": QueueDepthCollector()}


def scrape_gauge_register(name: str, documentation: str, labels: tuple[str, ...],
                          read: Callable[[], Iterable[tuple[tuple[str, ...], float]]]) -> None:
    """An app's gauge, read at each scrape (registered once at start-up: a second registration replaces it)."""
    _scrape_collectors[name] = ScrapeGauge(name, documentation, labels, read)


class _Guarded:
    """A collector whose failure (the database or broker down) costs its own metrics, never the whole scrape; its
    health is tollgate_metrics_collector_up{collector}."""

    def __init__(self, collectors: dict[str, Collector]) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("tollgate_metrics_collector_up",
                               "1 when the collector read its figures at this scrape, 0 when it failed.",
                               labels=["collector"])
        for name, collector in self.collectors.items():
            try:
                metrics = list(collector.collect())
            except Exception:
                logger.warning("Metrics collector %s failed", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up


def metrics_exposition() -> bytes:
    """The text Prometheus scrapes: this process's metrics (or, under gunicorn's several processes, all of theirs
    through PROMETHEUS_MULTIPROC_DIR) and the figures read now."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(_Guarded(_scrape_collectors))
    return generate_latest(registry)


@lru_cache(maxsize=8)
def _allowed_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from None


def metrics_access_allowed(request: HttpRequest) -> bool:
    """Whether the caller may read /metrics: the METRICS_TOKEN bearer token, or an address in METRICS_ALLOWED_IPS."""
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_address(request) or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _allowed_networks(tuple(settings.METRICS_ALLOWED_IPS)))
