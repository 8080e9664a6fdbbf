"""The demo company's signals: the model substitutes the CoE accepts, the people who left (deactivated after the
history is written), then the signals computed as the nightly job does; on the first load an owner acknowledges
the licence-waste signal and a reviewer dismisses one KPI signal, so the lifecycle shows on the pages."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count

from governance.choices import LIVE_SIGNAL_STATUSES, SignalRunTrigger, SignalStatus, SignalType
from governance.models import Signal
from governance.signals.services import (
    signal_acknowledge,
    signal_dismiss,
    signal_run_execute_by_id,
    signal_run_submit,
)
from portfolio.models import AIModel
from portfolio.services import ai_model_substitute_set, person_deactivate
from tollgate.demo import data
from tollgate.demo.governance import REVIEWERS
from tollgate.roles import may
from tollgate.types import Actor

User = get_user_model()

DISMISSAL = ("The KPI targets are being re-baselined with Finance after the Q2 process change; judge the pilot on "
             "the new targets next quarter.")


def signals_story(users: dict[str, Actor], *, actor: Actor, first_load: bool) -> None:
    models = {m.name: m for m in AIModel.objects.filter(name__in=[m.name for m in data.AI_MODELS])}
    for model in data.AI_MODELS:
        if model.substitute and model.name in models:
            ai_model_substitute_set(actor=actor, model=models[model.name], substitute=models[model.substitute])
    for person in User.objects.filter(email__in=[data.email(local) for local in data.DEPARTED], is_active=True):
        person_deactivate(actor=actor, user=person)
    # The demo writes no e-mail; owners still find the new signals among their notifications. The run is the one the
    # cost ingestion queued, if any, executed here: its task, sent at the commit, then finds it done.
    run = signal_run_submit(trigger=SignalRunTrigger.COMMAND)
    signal_run_execute_by_id(run_id=run.pk, send_email=False)
    if not first_load:
        return
    # Once: an owner acknowledges the licence waste, a reviewer dismisses one KPI signal (never repeated by a rebuild,
    # whatever people did with the signals meanwhile).
    live = Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES).prefetch_related("initiatives__owner")
    waste = live.filter(type=SignalType.LICENCE_WASTE, status=SignalStatus.OPEN,
                        initiatives__isnull=False).order_by("pk").first()
    if waste is not None and not Signal.objects.filter(acknowledged_at__isnull=False).exists():
        owner = waste.initiatives.all()[0].owner
        if may(owner, "governance.acknowledge_signal", waste):
            signal_acknowledge(actor=owner, signal=waste)
    reviewers = [users[data.email(name)] for name in REVIEWERS if data.email(name) in users]
    missed = list(live.filter(type=SignalType.KPI_TARGETS_MISSED).order_by("pk")[:2])
    if len(missed) > 1 and not Signal.objects.filter(status=SignalStatus.DISMISSED).exists():  # one stays open
        reviewer = next((r for r in reviewers if may(r, "governance.dismiss_signal", missed[0])), None)
        if reviewer is not None:
            signal_dismiss(actor=reviewer, signal=missed[0], reason=DISMISSAL)


def signal_counts() -> dict[str, int]:
    """For load_demo's summary: open and acknowledged signals by type."""
    rows = Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES).order_by().values("type").annotate(n=Count("pk"))
    return {row["type"]: row["n"] for row in rows}
