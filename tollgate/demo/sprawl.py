"""The demo company's sprawl: clusters found by the real engine over its initiatives, and on the first load a
reviewer's decisions on three of them, so the demo shows open, confirmed and dismissed clusters side by side, and a
member a reviewer took out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum

from governance.choices import SprawlRunTrigger, SprawlStatus
from governance.models import SprawlCluster
from governance.sprawl.services.clusters import (
    sprawl_cluster_confirm,
    sprawl_cluster_dismiss,
    sprawl_member_remove,
)
from governance.sprawl.services.runs import sprawl_run_execute_by_id, sprawl_run_submit
from portfolio.models import Initiative
from tollgate.demo import data
from tollgate.demo.governance import REVIEWERS
from tollgate.roles import may
from tollgate.types import Actor

# Decisions a CoE reviewer already took on the first load, by a member's external id (skipped when the engine does
# not group that initiative): the demo shows open, confirmed and dismissed clusters side by side. "remove" takes that
# member out of its open cluster, which stays open: the engine groups GitHub Copilot with the general-purpose
# assistants bought across departments, and a reviewer knows a coding assistant does another job.
SPRAWL_DECISIONS = (
    ("NW-0046", "confirm", "Four image tools for one creative team: consolidate on the tool with the lowest cost per "
                           "user and cancel the other subscriptions at renewal."),
    ("NW-0082", "dismiss", "A deliberate bake-off of the two warehouse vendors' natural-language BI until the end of "
                           "Q1; the loser is retired then."),
    ("NW-0070", "remove", "A coding assistant for the engineers, not a general-purpose assistant: its seats are "
                          "reviewed with the code-assistant licence pool."),
)


@dataclass(frozen=True)
class SprawlCounts:
    clusters: int
    open: int
    monthly_spend: Decimal
    estimated_saving: Decimal


def sprawl_detect(users: dict[str, Actor], *, decide: bool) -> None:
    """Find the demo company's sprawl clusters through the real engine, as a recomputation run from the command line
    (idempotent: a rerun with nothing changed writes no cluster; it records its run), so the sprawl page says when it
    last ran and its run page shows the pair model it grouped with; on the first load a reviewer also confirms one
    cluster, dismisses another and takes a member out of a third."""
    # The run is executed here: its task, sent at the commit, then finds it done.
    run = sprawl_run_submit(trigger=SprawlRunTrigger.COMMAND)
    sprawl_run_execute_by_id(run_id=run.pk)
    if not decide:
        return
    reviewers = [users[data.email(name)] for name in REVIEWERS if data.email(name) in users]
    for external_id, decision, reason in SPRAWL_DECISIONS:
        cluster = SprawlCluster.objects.filter(
            status=SprawlStatus.OPEN, members__initiative__external_id=external_id, members__removed=False
        ).first()
        if cluster is None:
            continue
        reviewer = next((r for r in reviewers if may(r, "governance.decide_sprawlcluster", cluster)), None)
        if reviewer is None:
            continue
        if decision == "remove":
            try:  # the service keeps a cluster at two members at least: then the demo leaves it as found
                sprawl_member_remove(actor=reviewer, cluster=cluster,
                                     initiative=Initiative.objects.get(external_id=external_id), reason=reason)
            except ValidationError:
                pass
            continue
        service = sprawl_cluster_confirm if decision == "confirm" else sprawl_cluster_dismiss
        service(actor=reviewer, cluster=cluster, reason=reason)


def sprawl_counts() -> SprawlCounts:
    """For load_demo's summary: clusters found, still open, and the open ones' monthly spend and estimated saving (a
    dismissed cluster saves nothing, a confirmed one is counted as decided, not as open)."""
    open_ = Q(status=SprawlStatus.OPEN)
    totals = SprawlCluster.objects.aggregate(
        clusters=Count("pk"), open=Count("pk", filter=open_),
        spend=Sum("monthly_spend", filter=open_), saving=Sum("estimated_saving", filter=open_),
    )
    cents = Decimal("0.01")
    return SprawlCounts(totals["clusters"], totals["open"], (totals["spend"] or Decimal("0")).quantize(cents),
                        (totals["saving"] or Decimal("0")).quantize(cents))
