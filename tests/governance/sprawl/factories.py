"""factory_boy factories of sprawl detection: use cases, clusters and their members."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from governance.choices import SprawlConfidence, SprawlStatus, UseCaseOrigin
from governance.models import InitiativeUseCase, SprawlCluster, SprawlClusterMember, UseCase
from governance.sprawl.services.clusters import sprawl_cluster_confirm, sprawl_cluster_dismiss, sprawl_member_remove
from tests.factories import InitiativeFactory


class UseCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UseCase
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"use-case-{n}")
    name = factory.Sequence(lambda n: f"Use case {n}")
    job = "Does one job for the business."
    synonyms = factory.LazyFunction(list)
    catalogue_version = "test"


class InitiativeUseCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InitiativeUseCase

    initiative = factory.SubFactory(InitiativeFactory)
    use_case = factory.SubFactory(UseCaseFactory)
    confidence = Decimal("0.800")
    origin = UseCaseOrigin.SUGGESTED


class SprawlClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SprawlCluster
        skip_postgeneration_save = True

    status = SprawlStatus.OPEN
    score = Decimal("0.750")
    title = factory.Sequence(lambda n: f"Cluster {n}")
    monthly_spend = Decimal("3000.00")
    estimated_saving = Decimal("1000.00")
    saving_basis = "Consolidating onto A, the most expensive member."
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def initiatives(self, create, extracted, **kwargs):
        """SprawlClusterFactory(initiatives=[a, b]) adds them as active members."""
        for initiative in extracted or []:
            SprawlClusterMember.objects.create(cluster=self, initiative=initiative)


class SprawlClusterMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SprawlClusterMember

    cluster = factory.SubFactory(SprawlClusterFactory)
    initiative = factory.SubFactory(InitiativeFactory)


def decided_clusters(reviewer) -> dict[str, SprawlCluster]:
    """Clusters a reviewer decided through the services, for the track record: a likely one confirmed after removing
    one of its three members (1 of 3 pairs right), a likely one confirmed whole that a member joined afterwards (not
    counted: 1 of 1), a likely one dismissed (0 of 1), a possible one confirmed whole (1 of 1) and an open one."""
    def make(count: int, confidence: str = SprawlConfidence.LIKELY) -> tuple[SprawlCluster, list]:
        members = InitiativeFactory.create_batch(count)
        return SprawlClusterFactory(initiatives=members, confidence=confidence), members

    trimmed, (_, _, odd) = make(3)
    sprawl_member_remove(actor=reviewer, cluster=trimmed, initiative=odd, reason="Summarises sales calls")
    sprawl_cluster_confirm(actor=reviewer, cluster=trimmed)
    whole, _ = make(2)
    sprawl_cluster_confirm(actor=reviewer, cluster=whole)
    whole.refresh_from_db()
    late = SprawlClusterMember.objects.create(cluster=whole, initiative=InitiativeFactory())
    SprawlClusterMember.objects.filter(pk=late.pk).update(created_at=whole.decided_at + timedelta(days=1))
    dismissed, _ = make(2)
    sprawl_cluster_dismiss(actor=reviewer, cluster=dismissed, reason="Different audiences")
    possible, _ = make(2, SprawlConfidence.POSSIBLE)
    sprawl_cluster_confirm(actor=reviewer, cluster=possible)
    still_open, _ = make(2)
    return {"trimmed": trimmed, "whole": whole, "dismissed": dismissed, "possible": possible, "open": still_open}
