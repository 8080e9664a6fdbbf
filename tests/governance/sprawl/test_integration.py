"""Sprawl end to end with the real detection engine (offline embeddings and the shipped catalogue): recomputation
stores clusters and suggested use cases, keeps decisions, and the demo company shows clusters with their saving."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.choices import SprawlRunTrigger, SprawlStatus
from governance.models import InitiativeUseCase, SprawlCluster, SprawlClusterMember, SprawlRun
from governance.sprawl.engine import pairs
from governance.sprawl.engine.catalogue import CATALOGUE_PATH
from governance.sprawl.services.clusters import sprawl_cluster_confirm
from governance.sprawl.services.recompute import sprawl_recompute
from portfolio.choices import Category, RunStatus, Stage
from tests.factories import DepartmentFactory, InitiativeFactory, VendorFactory

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not CATALOGUE_PATH.exists(), reason="needs the shipped use-case catalogue")]


@pytest.fixture
def portfolio(db):
    def make(name, description, vendor, department, cost, category=Category.CONTENT_GENERATION):
        return InitiativeFactory(name=name, description=description, vendors=[VendorFactory(name=vendor)],
                                 department=DepartmentFactory(name=department, code=department.lower()[:20]),
                                 declared_monthly_cost=Decimal(cost), category=category, stage=Stage.PILOT)

    images = [
        make("Marketing's Midjourney accounts", "Generate campaign images and social visuals for marketing.",
             "Midjourney", "Marketing", "1200"),
        make("Firefly for the creative studio", "Create campaign imagery and banner visuals with Adobe Firefly.",
             "Adobe", "Creative Studio", "900"),
        make("Employer-brand visuals in Canva", "AI-generated images for recruitment campaigns and social posts.",
             "Canva", "People", "400"),
    ]
    others = [
        make("Cloud cost anomaly alerts", "Alert FinOps when cloud spend deviates from its forecast.", "Datadog",
             "IT", "700", Category.ANOMALY_DETECTION),
        make("Deposition transcript summaries", "Summarise deposition transcripts for litigation counsel.",
             "Harvey", "Legal", "1500", Category.DOCUMENT_PROCESSING),
    ]
    return images, others


def test_recompute_with_the_real_engine_groups_the_same_job_and_keeps_decisions(portfolio, reviewer):
    images, others = portfolio
    summary = sprawl_recompute()
    assert summary.initiatives >= 5
    cluster = SprawlCluster.objects.get(members__initiative=images[0])
    members = set(cluster.members.values_list("initiative_id", flat=True))
    assert len(members & {i.pk for i in images}) >= 2 and not members & {o.pk for o in others}
    assert cluster.monthly_spend > 0 and cluster.saving_basis
    assert InitiativeUseCase.objects.filter(initiative=images[0]).exists()  # suggested use cases stored

    sprawl_cluster_confirm(actor=reviewer, cluster=cluster, reason="One image tool is enough")
    sprawl_recompute()  # the decision refits the pair model: the cluster's score may move once
    with CaptureQueriesContext(connection) as queries:
        sprawl_recompute()
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []  # nothing new: embeddings cached, model, clusters and suggestions unchanged
    assert SprawlCluster.objects.get(pk=cluster.pk).status == SprawlStatus.CONFIRMED


def test_demo_company_shows_sprawl_clusters_with_their_saving(demo):
    from tollgate.demo.sprawl import sprawl_counts

    counts = sprawl_counts()
    assert counts.clusters >= 6 and counts.estimated_saving > 0
    # The summary's spend and saving are the open clusters' (a dismissed cluster's saving was counted too).
    open_clusters = SprawlCluster.objects.filter(status=SprawlStatus.OPEN)
    assert counts.estimated_saving == sum(c.estimated_saving for c in open_clusters)
    assert counts.monthly_spend == sum(c.monthly_spend for c in open_clusters)
    clusters = list(SprawlCluster.objects.prefetch_related("members__initiative__department"))
    with_saving = [c for c in clusters if c.estimated_saving > 0]
    assert len(with_saving) >= 6 and all("saving of" in c.saving_basis for c in with_saving)
    # The images cluster of the issue: one job, several vendors, confirmed by a reviewer on the first load.
    images = SprawlCluster.objects.get(members__initiative__external_id="NW-0046")
    assert images.status == SprawlStatus.CONFIRMED and images.decided_by is not None
    vendors = {v.name for m in images.members.filter(removed=False) for v in m.initiative.vendors.all()}
    assert len(vendors) >= 3
    assert SprawlCluster.objects.filter(status=SprawlStatus.DISMISSED).count() <= 1  # if the engine pairs NW-0082
    # GitHub Copilot, grouped with the general-purpose assistants, was taken out of that open cluster by a reviewer.
    copilot = SprawlClusterMember.objects.get(initiative__external_id="NW-0070", removed=True)
    assert copilot.removed_by is not None and "coding assistant" in copilot.removed_reason
    assert copilot.cluster.status == SprawlStatus.OPEN and copilot.cluster.members.filter(removed=False).count() >= 2
    assert not SprawlClusterMember.objects.filter(initiative__external_id="NW-0070", removed=False,
                                                  cluster__members__initiative__external_id="NW-0126").exists()
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("load_demo", stdout=out)  # already loaded: prints the summary, changes nothing
    assert f"Sprawl: {counts.clusters} clusters ({counts.open} open)" in out.getvalue()
    assert sprawl_counts() == counts
    # Every cluster is among running or planned initiatives only.
    stages = {m.initiative.stage for c in clusters for m in c.members.all()}
    assert not stages & {Stage.RETIRED, Stage.KILLED, Stage.REJECTED}
    # The clusters were found by a recomputation run, recorded as any other: the sprawl page says when it ran, and its
    # page shows the pair model and thresholds it grouped at.
    run = SprawlRun.objects.order_by("-pk").first()
    assert run is not None and (run.status, run.trigger) == (RunStatus.SUCCEEDED, SprawlRunTrigger.COMMAND)
    assert run.clusters_found >= counts.open and run.pair_model["thresholds"]["likely"] == pairs.SHIPPED.threshold
