"""Sprawl pages: lists (filters, CSV, constant query counts), cluster review with its forms, recompute runs, use
cases, the initiative panel, and the possible-duplicates fragments of the intake form and scoring page."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.choices import SprawlConfidence, SprawlStatus, UseCaseOrigin
from governance.models import InitiativeEmbedding, SprawlCluster, SprawlClusterMember, SprawlRun, TextEmbedding
from governance.sprawl.analysis import Duplicate
from governance.sprawl.services.clusters import sprawl_cluster_confirm
from portfolio.choices import RunStatus, Stage
from tests.factories import DepartmentFactory, InitiativeFactory, VendorFactory
from tests.governance.sprawl.factories import (
    InitiativeUseCaseFactory,
    SprawlClusterFactory,
    UseCaseFactory,
    decided_clusters,
)

pytestmark = pytest.mark.django_db


def make_clusters(n: int) -> list[SprawlCluster]:
    clusters = []
    for i in range(n):
        members = [InitiativeFactory(department=DepartmentFactory(), vendors=[VendorFactory(name=f"Vendor {i}-{j}")])
                   for j in range(3)]
        clusters.append(SprawlClusterFactory(initiatives=members, title=f"Cluster {i}",
                                             estimated_saving=Decimal(100 * (i + 1)),
                                             use_case=UseCaseFactory(code=f"uc-{i}")))
    return clusters


# Cluster list --------------------------------------------------------------------------------------------------------


def test_cluster_list_shows_open_clusters_with_their_figures_and_chart(login, executive):
    open_one, decided = make_clusters(2)
    decided.status = SprawlStatus.DISMISSED
    decided.save()
    page = login(executive).get(reverse("governance:sprawl_list"))
    body = page.content.decode()
    assert page.status_code == 200
    assert open_one.title in body and decided.title not in body  # status filter defaults to open
    assert 'id="cluster-count">1<' in body
    assert "/static/vendor/plotly.min.js" in body and 'id="saving-chart-data"' in body
    assert "Vendor 0-0, Vendor 0-1, Vendor 0-2" in body
    assert "Recompute now" not in body  # executives read only
    everything = login(executive).get(reverse("governance:sprawl_list") + "?status=").content.decode()
    assert decided.title in everything


def test_cluster_list_counts_by_status_add_up_to_what_is_listed(login, executive):
    clusters = make_clusters(5)
    for cluster, status in zip(clusters[2:], [SprawlStatus.CONFIRMED, SprawlStatus.DISMISSED, SprawlStatus.DISMISSED],
                               strict=True):
        cluster.status = status
        cluster.save()
    client = login(executive)
    for query, listed in (("", 2), ("?status=confirmed", 1), ("?status=dismissed", 2), ("?status=", 5)):
        page = client.get(reverse("governance:sprawl_list") + query)
        tabs = {tab["status"]: tab["count"] for tab in page.context["status_tabs"]}
        assert tabs == {"open": 2, "confirmed": 1, "dismissed": 2, "": 5}
        assert tabs["open"] + tabs["confirmed"] + tabs["dismissed"] == tabs[""]
        chosen = [tab for tab in page.context["status_tabs"] if tab["chosen"]]
        assert [tab["count"] for tab in chosen] == [listed] == [page.context["cluster_count"]]
        assert len(page.context["table"].rows) == listed
    body = client.get(reverse("governance:sprawl_list")).content.decode()
    assert 'id="cluster-count">2<' in body and "clusters listed" in body
    assert "2 open</strong></a> + " in body and "5 clusters in all</span>." in body
    department = clusters[0].members.first().initiative.department
    page = client.get(reverse("governance:sprawl_list") + f"?department={department.pk}")
    assert {tab["status"]: tab["count"] for tab in page.context["status_tabs"]} == {
        "open": 1, "confirmed": 0, "dismissed": 0, "": 1}


def test_cluster_list_counts_clusters_by_confidence_not_their_members(login, executive):
    likely = make_clusters(3)  # three members each: a count over the members' join would say 9
    possible = make_clusters(2)
    for cluster in possible:
        cluster.confidence = SprawlConfidence.POSSIBLE
        cluster.save()
    client = login(executive)
    page = client.get(reverse("governance:sprawl_list"))
    assert page.context["confidence_counts"] == {"likely": 3, "linked": 0, "possible": 2, "chosen": "likely",
                                                  "total": 5, "status": "open"}
    assert len(page.context["table"].rows) == len(likely)
    body = page.content.decode()
    assert ">3 likely</a>" in body and ">2 possible</a>" in body and 'id="confidence-linked"' not in body
    page = client.get(reverse("governance:sprawl_list") + "?confidence=possible")
    assert page.context["confidence_counts"]["chosen"] == "possible" and len(page.context["table"].rows) == 2
    # A cluster reviewers' verdicts hold together is sprawl with the likely ones: listed, counted and totalled.
    likely[0].confidence = SprawlConfidence.LINKED
    likely[0].save()
    page = client.get(reverse("governance:sprawl_list"))
    assert page.context["confidence_counts"] == {"likely": 3, "linked": 1, "possible": 2, "chosen": "likely",
                                                  "total": 5, "status": "open"}
    assert len(page.context["table"].rows) == 3
    assert page.context["total_saving"] == sum(c.estimated_saving for c in likely)
    assert ">1 linked by reviewers</a>" in page.content.decode()
    page = client.get(reverse("governance:sprawl_list") + "?confidence=linked")
    assert [row.record.pk for row in page.context["table"].rows] == [likely[0].pk]


def test_a_confirmed_possible_cluster_is_listed_under_the_default_filter_at_once(login, reviewer, executive):
    """The dashboard counts a confirmed cluster whatever its confidence; the page's default "likely" filter hid a
    confirmed "possible" one until the next recomputation relabelled it."""
    [cluster] = make_clusters(1)
    cluster.confidence = SprawlConfidence.POSSIBLE
    cluster.save()
    sprawl_cluster_confirm(actor=reviewer, cluster=cluster, reason="Two contract tools in Legal")
    client = login(executive)
    for query in ("?status=confirmed", "?status=confirmed&confidence=likely"):
        page = client.get(reverse("governance:sprawl_list") + query)
        assert [row.record.pk for row in page.context["table"].rows] == [cluster.pk]
        assert {tab["status"]: tab["count"] for tab in page.context["status_tabs"]}["confirmed"] == 1


def test_cluster_list_says_what_the_last_run_found(login, executive):
    SprawlRun.objects.create(status=RunStatus.SUCCEEDED, initiatives=120, clusters_found=33, clusters_created=5,
                             clusters_updated=16, clusters_unchanged=12, clusters_closed=4)
    body = login(executive).get(reverse("governance:sprawl_list")).content.decode()
    assert "Found this run, among 120 initiatives: <span id=\"last-run-found\">33 groups</span> (5 new, 16 updated, " \
           "12 unchanged); 4 open clusters no longer found, closed." in body


def test_cluster_list_shows_how_often_reviewers_found_the_detector_right(login, reviewer, executive):
    client = login(executive)
    body = client.get(reverse("governance:sprawl_list")).content.decode()
    assert "no likely cluster decided yet" in body
    decided_clusters(reviewer)

    body = client.get(reverse("governance:sprawl_list")).content.decode()

    assert 'id="track-record-likely">2 of 5</span> pairs right in the 3 likely clusters they decided (0.40)' in body
    likely = body.split('<tr id="track-record-likely">')[1].split("</tr>")[0]
    cells = [re.sub(r"<[^>]+>", "", cell) for cell in likely.split("</td>")[:-1]]
    assert cells == ["Likely", "3", "1", "1", "1", "2 of 5", "0.40", "0.12–0.77"]
    possible = body.split('<tr id="track-record-possible">')[1].split("</tr>")[0]
    assert "1 of 1" in possible and "1.00" in possible
    # Each count lists its clusters, across the portfolio (the page's other filters are left behind).
    assert '<a href="?status=dismissed&amp;confidence=likely">1</a>' in likely
    assert '<a href="?status=confirmed&amp;confidence=possible">1</a>' in possible


def test_cluster_list_filters_by_department_and_exports_csv(login, reviewer):
    first, second = make_clusters(2)
    department = first.members.first().initiative.department
    client = login(reviewer)
    body = client.get(reverse("governance:sprawl_list") + f"?department={department.pk}").content.decode()
    assert first.title in body and second.title not in body
    export = client.get(reverse("governance:sprawl_list") + "?_export=csv&sort=-estimated_saving")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:3] == ["Cluster", "Use case", "Members"]
    assert [r[0] for r in rows[1:]] == ["Cluster 1", "Cluster 0"]
    assert rows[1][6] == "200.00"
    # each cluster's score (the factory's 0.750) read as how often clusters of that score were right elsewhere
    from governance.sprawl.selectors import score_band

    assert rows[0][7:9] == ["Score", "Right elsewhere"]
    share = score_band(Decimal("0.750")).share
    assert rows[1][8] == f"{share:.3f}"
    assert f">{share:.2f}</td>" in client.get(reverse("governance:sprawl_list")).content.decode()


def test_cluster_list_query_count_does_not_grow_with_clusters(login, reviewer, django_assert_max_num_queries):
    client = login(reviewer)
    make_clusters(2)
    with django_assert_max_num_queries(25) as few:
        client.get(reverse("governance:sprawl_list"))
    make_clusters(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("governance:sprawl_list")).status_code == 200


# Cluster detail and review -------------------------------------------------------------------------------------------


@pytest.fixture
def cluster(initiative, other_initiative):
    third = InitiativeFactory(name="Third notes tool")
    return SprawlClusterFactory(initiatives=[initiative, other_initiative, third], title="Meeting notes",
                                saving_basis="Consolidating onto X saves USD 1,000.00 a month.")


def test_detail_shows_members_saving_basis_and_forms_for_an_independent_reviewer(login, reviewer, cluster):
    body = login(reviewer).get(cluster.get_absolute_url()).content.decode()
    assert "Consolidating onto X saves USD 1,000.00 a month." in body
    assert 'id="decision-form"' in body and body.count('class="remove-member"') == 3
    assert "Third notes tool" in body and "declared" in body


def test_detail_says_how_often_clusters_of_its_score_were_right_elsewhere(login, executive, cluster):
    from governance.sprawl.selectors import score_band

    cluster.score = Decimal("0.93")
    cluster.save()
    band = score_band(cluster.score)
    body = login(executive).get(cluster.get_absolute_url()).content.decode()
    assert (f"the likely clusters the detector proposed at a score from 0.90 to 1.00 were right in {band.right} of "
            f"their {band.pairs} pairs ({band.share:.2f}; 95% interval") in body
    assert 'id="cluster-band"' in body
    assert 'id="cluster-band-here"' not in body  # no label check yet


def test_detail_says_how_often_clusters_of_its_score_were_right_on_the_latest_label_check(login, executive, cluster):
    from datetime import timedelta

    from django.utils import timezone

    from governance.models import SprawlLabelCheck
    from governance.sprawl.engine.calibration import MINILM
    from governance.sprawl.engine.quality import score_bands

    cluster.score = Decimal("0.84")
    cluster.save()
    bands = score_bands([(0.85, 5, 4), (0.95, 3, 3)], likely=0.6, possible=0.2)
    SprawlLabelCheck.objects.create(filename="older.csv", status=RunStatus.SUCCEEDED,
                                    result={"encoder": MINILM.encoder, "bands": bands},
                                    finished_at=timezone.now() - timedelta(days=3))
    latest = SprawlLabelCheck.objects.create(
        filename="sample.csv", status=RunStatus.SUCCEEDED, finished_at=timezone.now() - timedelta(days=1),
        result={"encoder": MINILM.encoder, "bands": score_bands([(0.81, 3, 1)], likely=0.6, possible=0.2)})
    SprawlLabelCheck.objects.create(filename="running.csv", status=RunStatus.RUNNING)  # not finished: not read
    # Measured since, while the company served another model: its scores came from another pair model.
    SprawlLabelCheck.objects.create(filename="served.csv", status=RunStatus.SUCCEEDED, finished_at=timezone.now(),
                                    result={"encoder": "sentence-transformers/all-mpnet-base-v2", "bands": bands})
    client = login(executive)
    body = client.get(cluster.get_absolute_url()).content.decode()
    assert 'id="cluster-band-here"' in body and latest.get_absolute_url() in body
    assert "older.csv" not in body and "served.csv" not in body
    assert ("against sample.csv, the clusters found at a score from 0.80 to 0.90 were right in 1 of their 3 pairs "
            "(0.33; 95% interval") in body
    owner_page = login(cluster.members.first().initiative.owner).get(cluster.get_absolute_url()).content.decode()
    assert 'id="cluster-band"' in owner_page and 'id="cluster-band-here"' not in owner_page  # owners read no checks
    client = login(executive)
    cluster.score = Decimal("0.95")  # the latest check found no cluster at that score: it says nothing there
    cluster.save()
    assert 'id="cluster-band-here"' not in client.get(cluster.get_absolute_url()).content.decode()
    latest.result = {"encoder": MINILM.encoder}  # a check measured before checks kept their bands
    latest.save()
    assert 'id="cluster-band-here"' not in client.get(cluster.get_absolute_url()).content.decode()


def test_owner_of_a_member_sees_no_decision_forms(login, owner, cluster):
    body = login(owner).get(cluster.get_absolute_url()).content.decode()
    assert 'id="decision-form"' not in body and 'class="remove-member"' not in body
    assert login(owner).post(reverse("governance:sprawl_confirm", args=[cluster.pk])).status_code == 403


def test_confirm_and_dismiss_from_the_page(login, reviewer, cluster):
    client = login(reviewer)
    response = client.post(reverse("governance:sprawl_dismiss", args=[cluster.pk]), {"reason": ""})
    assert response.status_code == 400 and "Give a written reason to dismiss" in response.content.decode()
    assert SprawlCluster.objects.get(pk=cluster.pk).status == SprawlStatus.OPEN
    response = client.post(reverse("governance:sprawl_confirm", args=[cluster.pk]), {"reason": "Three tools"})
    assert response.status_code == 302
    body = client.get(cluster.get_absolute_url()).content.decode()
    assert "Confirmed by" in body and "Three tools" in body and 'id="decision-form"' not in body


@pytest.mark.parametrize("action", ["sprawl_confirm", "sprawl_dismiss"])
def test_a_page_decision_reason_over_4000_characters_is_refused(login, reviewer, cluster, action):
    """The API capped the reason at 4,000 characters, the page did not: a 2 MB reason was stored and shown."""
    response = login(reviewer).post(reverse(f"governance:{action}", args=[cluster.pk]), {"reason": "x" * 4001})
    assert response.status_code == 400 and "at most 4000 characters" in response.content.decode()
    assert SprawlCluster.objects.get(pk=cluster.pk).status == SprawlStatus.OPEN


@pytest.mark.parametrize("second", ["sprawl_confirm", "sprawl_dismiss"])
def test_deciding_a_cluster_decided_meanwhile_says_who_decided_it(login, reviewer, admin_user, cluster, second):
    login(reviewer).post(reverse("governance:sprawl_confirm", args=[cluster.pk]), {"reason": "Three tools"})
    decided = SprawlCluster.objects.get(pk=cluster.pk).decided_at
    # From a page opened before the decision, as from a second tab or by a second reviewer.
    response = login(admin_user).post(reverse(f"governance:{second}", args=[cluster.pk]), {"reason": "changed mind"})
    body = response.content.decode()
    assert response.status_code == 400 and 'id="form-errors"' in body
    name = reviewer.get_full_name() or reviewer.username
    assert f"is already confirmed by {name} on {timezone.localtime(decided):%Y-%m-%d %H:%M}" in body
    assert SprawlCluster.objects.get(pk=cluster.pk).status == SprawlStatus.CONFIRMED


def test_remove_member_from_the_page(login, reviewer, cluster, other_initiative):
    client = login(reviewer)
    url = reverse("governance:sprawl_member_remove", args=[cluster.pk])
    response = client.post(url, {"remove-initiative": other_initiative.pk, "remove-reason": ""})
    assert response.status_code == 400 and "Give a written reason to remove a member." in response.content.decode()
    response = client.post(url, {"remove-initiative": other_initiative.pk, "remove-reason": "Sales calls only"})
    assert response.status_code == 302
    member = SprawlClusterMember.objects.get(cluster=cluster, initiative=other_initiative)
    assert member.removed and member.removed_reason == "Sales calls only"
    body = client.get(cluster.get_absolute_url()).content.decode()
    assert "Removed by" in body and body.count('class="remove-member"') == 0  # two left: no more removals
    assert '<span class="n" id="member-count">2</span>' in body and "(1 removed)" in body
    stale = client.post(url, {"remove-initiative": other_initiative.pk, "remove-reason": ""})  # an old page's form
    assert stale.status_code == 400 and 'id="remove-errors"' in stale.content.decode()


def test_a_member_that_joined_a_confirmed_cluster_is_marked_for_a_look(login, reviewer, cluster):
    from datetime import timedelta

    from django.utils import timezone

    from governance.sprawl.services.clusters import sprawl_cluster_confirm

    sprawl_cluster_confirm(actor=reviewer, cluster=cluster, reason="Three notes tools")
    body = login(reviewer).get(cluster.get_absolute_url()).content.decode()
    assert "after the decision" not in body  # the members the reviewer confirmed
    newcomer = InitiativeFactory(name="Fourth notes tool")
    member = SprawlClusterMember.objects.create(cluster=cluster, initiative=newcomer)
    SprawlClusterMember.objects.filter(pk=member.pk).update(created_at=timezone.now() + timedelta(minutes=1))
    body = login(reviewer).get(cluster.get_absolute_url()).content.decode()
    assert body.count("after the decision") == 1 and "Fourth notes tool" in body
    assert body.count('class="remove-member"') == 4  # and it can be removed like any member


def test_detail_query_count_does_not_grow_with_members(login, reviewer, django_assert_max_num_queries):
    client = login(reviewer)
    small = SprawlClusterFactory(initiatives=[InitiativeFactory(vendors=[VendorFactory()]) for _ in range(2)])
    client.get(small.get_absolute_url())  # the first request of a process reads what Django caches
    with django_assert_max_num_queries(30) as few:
        client.get(small.get_absolute_url())
    large = SprawlClusterFactory(initiatives=[InitiativeFactory(vendors=[VendorFactory()]) for _ in range(8)])
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        assert client.get(large.get_absolute_url()).status_code == 200
    sql = [query["sql"] for query in many.captured_queries]
    assert len(sql) == len(few.captured_queries) == 14
    assert [query for query in set(sql) if sql.count(query) > 1] == []  # the cluster is read once, not per check


# Recompute -----------------------------------------------------------------------------------------------------------


def test_recompute_now_queues_a_run_and_shows_its_progress(login, reviewer, django_capture_on_commit_callbacks):
    client = login(reviewer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("governance:sprawl_recompute"))
    run = SprawlRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert len(callbacks) == 1
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'http-equiv="refresh"' in page and "Waiting for a worker" in page
    SprawlRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, progress=200)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Step 2 of 6: Embedding what each initiative does" in page and 'style="width: 22%"' in page
    assert "of this step done" not in page
    SprawlRun.objects.filter(pk=run.pk).update(progress=250)  # halfway through the embedding
    page = client.get(run.get_absolute_url()).content.decode()
    assert "50% of this step done." in page and 'style="width: 30%"' in page
    run.status, run.initiatives = RunStatus.SUCCEEDED, 120
    run.clusters_found, run.clusters_created, run.clusters_updated, run.clusters_unchanged = 4, 1, 2, 1
    run.save()
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'http-equiv="refresh"' not in page and 'id="run-found">4<' in page
    assert 'id="run-unchanged">1<' in page and "groups found this run" in page
    assert "Last recomputation" in client.get(reverse("governance:sprawl_list")).content.decode()


def test_run_page_says_how_the_run_scored_pairs_and_what_decisions_changed(login, executive):
    from governance.sprawl.engine import pairs

    UseCaseFactory(code="meeting-notes", name="Meeting notes")
    refit = pairs.PairModel(weights=tuple(w + 0.5 if w else 0.0 for w in pairs.SHIPPED.weights), bias=-6.0,
                            decisions=12, fingerprint="abc", use_case_bias=(("meeting-notes", -0.8),))
    run = SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={
        **refit.as_dict(), "encoder": "all-MiniLM-L6-v2", "purpose_metric": "minilm"})
    page = login(executive).get(run.get_absolute_url()).content.decode()
    assert "How this run scored pairs" in page and "all-MiniLM-L6-v2" in page
    assert "in a metric learnt from labelled duplicates" in page and 'id="run-metric">minilm<' in page
    shipped = pairs.SHIPPED
    assert 'id="run-decisions">12<' in page
    assert f"likely clusters at a pair probability of {shipped.threshold}, possible ones at {shipped.possible}" in page
    assert f"joins a cluster a reviewer confirmed at a probability of {shipped.join} with each confirmed member" in page
    exact = shipped.weights[pairs.FEATURES.index("archetype_exact")] + 0.5  # the refit's, beside the shipped one
    assert "The same job in the catalogue" in page and f"{exact:.3f}" in page
    # A run from before the metric says it compared purposes on the encoder's own cosine, beside its shipped weights.
    before = SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={
        **pairs.PairModel(weights=tuple(w + 0.5 if w else 0.0 for w in pairs.COSINE.weights), bias=-6.0,
                          decisions=3).as_dict(), "encoder": "all-MiniLM-L6-v2"})
    older_page = login(executive).get(before.get_absolute_url()).content.decode()
    cosine_exact = pairs.COSINE.weights[pairs.FEATURES.index("archetype_exact")] + 0.5
    assert "learnt from labelled duplicates" not in older_page and f"{cosine_exact:.3f}" in older_page
    assert f"likely clusters at a pair probability of {pairs.COSINE.threshold}," in older_page
    assert "Meeting notes" in page and "-0.800" in page
    # A run of an earlier version's features shows its weights as recorded, and says what it did not record.
    earlier = SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={
        "features": [name for name in pairs.FEATURES if name != "same_owner"],
        "weights": [0.0, 1.5, 3.0, 2.0, 2.9, 3.2, 1.3, 2.6, -0.9, 0.0], "bias": -6.2, "decisions": 0,
        "encoder": "all-MiniLM-L6-v2", "purpose_metric": "minilm"})
    earlier_page = login(executive).get(earlier.get_absolute_url()).content.decode()
    assert "How this run scored pairs" in earlier_page and 'id="run-earlier-features"' in earlier_page
    assert "the thresholds it grouped at were not recorded" in earlier_page and "-0.900" in earlier_page
    assert 'id="run-earlier-features"' not in page
    # A run that recorded no model (before runs recorded one) says nothing about it.
    older = SprawlRun.objects.create(status=RunStatus.SUCCEEDED, pair_model={})
    assert "How this run scored pairs" not in login(executive).get(older.get_absolute_url()).content.decode()


# Use cases -----------------------------------------------------------------------------------------------------------


def test_use_case_list_shows_spend_by_use_case_counting_each_initiative_once(login, executive):
    notes, images = UseCaseFactory(code="t-notes", name="T notes"), UseCaseFactory(code="t-images", name="T images")
    a = InitiativeFactory(declared_monthly_cost=Decimal("1000"))
    b = InitiativeFactory(declared_monthly_cost=Decimal("250"))
    killed = InitiativeFactory(declared_monthly_cost=Decimal("999"), stage=Stage.KILLED)
    InitiativeUseCaseFactory(initiative=a, use_case=notes, confidence=Decimal("0.9"))
    InitiativeUseCaseFactory(initiative=a, use_case=images, confidence=Decimal("0.4"))  # not a's main one
    InitiativeUseCaseFactory(initiative=b, use_case=images, confidence=Decimal("0.2"), origin=UseCaseOrigin.CONFIRMED)
    InitiativeUseCaseFactory(initiative=killed, use_case=notes)
    export = login(executive).get(reverse("governance:usecase_list") + "?used=true&_export=csv&sort=-monthly_spend")
    rows = {r["Use case"]: r for r in csv.DictReader(io.StringIO(export.content.decode()))}
    assert set(rows) == {"T notes", "T images"}
    spend = "Monthly spend (declared: no complete month of cost data yet)"  # no cost data read: declared costs
    assert (rows["T notes"]["Initiatives"], rows["T notes"][spend]) == ("2", "1000.00")
    assert (rows["T images"]["Initiatives"], rows["T images"][spend]) == ("2", "250.00")


def test_use_case_spend_names_its_month_and_basis(login, executive):
    """"Monthly spend" mixed the latest month's allocated cost with planned initiatives' declared cost and named
    neither: the header and the page's note name the month and both sources, and how a shared initiative counts."""
    from datetime import date

    from governance.sprawl.selectors import spend_by_use_case_heading

    assert spend_by_use_case_heading(date(2026, 9, 1)) == (
        "Monthly spend, 2026-09 (actual; declared for initiatives without cost data)")
    body = login(executive).get(reverse("governance:usecase_list")).content.decode()
    assert "Monthly spend (declared: no complete month of cost data yet)" in body
    note = body.split('id="use-case-spend-basis">', 1)[1].split("</span>", 1)[0]
    assert "declared monthly cost" in note
    assert "An initiative linked to several use cases counts in the Initiatives column of each" in note


def test_use_case_list_query_count_is_constant(login, reviewer, django_assert_max_num_queries):
    client = login(reviewer)
    InitiativeUseCaseFactory(use_case=UseCaseFactory(code="q-use-case-first"))
    with django_assert_max_num_queries(25) as few:
        client.get(reverse("governance:usecase_list") + "?q=use-case")
    for i in range(5):
        InitiativeUseCaseFactory(use_case=UseCaseFactory(code=f"q-use-case-{i}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("governance:usecase_list") + "?q=use-case").status_code == 200


def test_use_case_detail_lists_its_initiatives(login, owner, initiative):
    use_case = UseCaseFactory(code="t-detail", name="Detail case", synonyms=["alias one"])
    InitiativeUseCaseFactory(initiative=initiative, use_case=use_case, confidence=Decimal("0.750"))
    body = login(owner).get(use_case.get_absolute_url()).content.decode()
    assert "Detail case" in body and "alias one" in body and initiative.name in body and "0.750" in body


# Initiative page, intake form and scoring page -----------------------------------------------------------------------


def test_initiative_page_shows_use_cases_and_lets_its_owner_set_them(login, owner, initiative):
    suggested = UseCaseFactory(code="t-suggested", name="Suggested case")
    chosen = UseCaseFactory(code="t-chosen", name="Chosen case")
    InitiativeUseCaseFactory(initiative=initiative, use_case=suggested, confidence=Decimal("0.640"))
    client = login(owner)
    body = client.get(initiative.get_absolute_url()).content.decode()
    assert "Suggested case" in body and "64% confidence" in body and 'id="use-cases-form"' in body
    assert reverse("governance:initiative_duplicates", args=[initiative.pk]) in body
    assert "js/possible_duplicates.js" in body
    response = client.post(reverse("governance:initiative_use_cases", args=[initiative.pk]),
                           {"use_cases": [chosen.code]})
    assert response.status_code == 302
    assert [(link.use_case, link.origin) for link in initiative.use_case_links.all()] == [
        (chosen, UseCaseOrigin.CONFIRMED)]


def test_other_owner_sees_use_cases_without_the_form(login, other_owner, initiative):
    body = login(other_owner).get(initiative.get_absolute_url()).content.decode()
    assert 'id="use-cases"' in body and 'id="use-cases-form"' not in body


def test_an_ended_initiatives_page_offers_no_use_case_form_and_a_post_is_refused(login, owner, reviewer,
                                                                                 initiative):
    chosen = UseCaseFactory(code="t-chosen", name="Chosen case")
    initiative.stage = Stage.RETIRED
    initiative.save()
    for user in (owner, reviewer):
        body = login(user).get(initiative.get_absolute_url()).content.decode()
        assert 'id="use-cases"' in body and 'id="use-cases-form"' not in body and "Set the use cases" not in body
    client = login(owner)
    response = client.post(reverse("governance:initiative_use_cases", args=[initiative.pk]),
                           {"use_cases": [chosen.code]}, follow=True)
    assert "an ended initiative is read-only" in response.content.decode()
    assert not initiative.use_case_links.exists()


def test_initiative_form_has_the_draft_duplicates_panel(login, owner, initiative):
    body = login(owner).get(reverse("portfolio:initiative_create")).content.decode()
    assert reverse("governance:draft_duplicates") in body and 'data-form="initiative-form"' in body
    edit = login(owner).get(reverse("portfolio:initiative_edit", args=[initiative.pk])).content.decode()
    assert f'data-exclude="{initiative.pk}"' in edit


def test_draft_fragment_lists_duplicates_with_reasons_and_suggested_use_cases(login, owner, engine, other_initiative):
    vendor = VendorFactory(name="Otter")
    notes = UseCaseFactory(code="t-notes-draft", name="Meeting notes draft")
    engine["state"]["duplicates"] = [Duplicate(other_initiative.pk, 0.81, ["shared use case: Meeting notes",
                                                                           "similar purpose"])]
    engine["state"]["use_cases"] = [("t-notes-draft", 0.72), ("no-longer-there", 0.2)]
    response = login(owner).get(reverse("governance:draft_duplicates"), {
        "name": "Minutes bot", "description": "Writes meeting minutes", "vendors": [vendor.pk, "x"],
        "category": "conversational_assistant", "department": str(other_initiative.department_id), "exclude": "",
    })
    body = response.content.decode()
    assert response.status_code == 200 and other_initiative.name in body
    assert "shared use case: Meeting notes; similar purpose" in body and "score 0.81" in body
    assert notes.name in body and "72% confidence" in body
    call = engine["calls"]["draft_duplicates"][0]
    assert call["vendor_names"] == ["Otter"] and call["department_id"] == other_initiative.department_id
    assert call["exclude_id"] is None and call["top"] == 5
    assert call["owner_id"] == owner.pk  # a new draft is its writer's unless the form names another owner


def test_draft_fragment_passes_the_owner_the_form_names_else_the_initiatives_own(login, admin_user, owner, engine,
                                                                                 initiative):
    client, url = login(admin_user), reverse("governance:draft_duplicates")
    client.get(url, {"name": "Minutes bot", "owner": str(owner.pk)})
    client.get(url, {"name": "Minutes bot", "exclude": str(initiative.pk)})
    named, own = engine["calls"]["draft_duplicates"]
    assert named["owner_id"] == owner.pk
    assert own["owner_id"] is None and own["exclude_id"] == initiative.pk  # the engine takes the initiative's own


HUGE_ID = "99999999999999999999"  # past the 64-bit id column: SQLite cannot even be sent it


@pytest.mark.parametrize("params", [
    {"vendors": HUGE_ID}, {"ai_models": "9999999999999999999999999"}, {"exclude": "999999999999999999999999999999"},
    {"vendors": [HUGE_ID, "-" + HUGE_ID, "²"], "ai_models": "0", "department": HUGE_ID, "owner": HUGE_ID},
])
def test_draft_fragment_ignores_ids_beyond_the_id_column_as_unknown_ids(login, owner, engine, params):
    response = login(owner).get(reverse("governance:draft_duplicates"), {"name": "chatbot", **params})
    assert response.status_code == 200
    call = engine["calls"]["draft_duplicates"][0]
    assert call["vendor_names"] == [] and call["model_names"] == []
    assert call["exclude_id"] is None and call["department_id"] is None
    assert call["owner_id"] == owner.pk  # as for an owner id that is not a number


def test_draft_fragment_with_the_real_engine_reads_only_in_a_few_queries(login, owner, portfolio, embedder):
    client = login(owner)
    url = reverse("governance:draft_duplicates")
    draft = {"name": "Creative AI imagery", "description": "Social visuals for campaigns",
             "vendors": [portfolio["A"].vendors.get().pk], "department": str(portfolio["C"].department_id)}
    with CaptureQueriesContext(connection) as first:
        client.get(url, draft)  # builds the process's portfolio index
    first_writes = [q["sql"] for q in first if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    with CaptureQueriesContext(connection) as typing:
        response = client.get(url, {**draft, "description": "Social visuals for campaigns with Canva"})
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-initiative="{portfolio["A"].pk}"' in body and f'data-initiative="{portfolio["B"].pk}"' in body
    writes = [q["sql"] for q in typing if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == [] and first_writes == []
    count = len(typing)  # read now: the next request resets the connection's query log
    assert count <= 15, "\n".join(q["sql"][:150] for q in typing)
    assert not InitiativeEmbedding.objects.exists() and not TextEmbedding.objects.exists()
    InitiativeFactory.create_batch(5)
    client.get(url, draft)  # the index takes the new initiatives in
    with CaptureQueriesContext(connection) as larger:
        client.get(url, {**draft, "name": "Creative imagery"})
    assert len(larger) == count  # a lookup's queries do not grow with the portfolio


def test_a_candidate_in_a_cluster_shows_the_clusters_likelihood_beside_its_rank(login, executive, portfolio,
                                                                                 images_cluster):
    """NW-0017 was listed at "score 0.61" on NW-0018's page while their cluster read 0.933: the list now shows the
    pair model's probability for the pair (the figure a cluster of the two scores) beside the rank, says which is
    which, and links the cluster."""
    cluster = images_cluster
    body = login(executive).get(reverse("governance:initiative_duplicates",
                                        args=[portfolio["A"].pk])).content.decode()
    item = body[body.index(f'data-initiative="{portfolio["B"].pk}"'):].split("</li>", 1)[0]
    percent = round(cluster.score * 100)
    assert f"likelihood they do the same job: {percent}%" in item
    assert f"The pair model's probability that the two do the same job ({cluster.score})" in item
    assert "rank score " in item and "It only orders the list" in item
    assert f'href="{cluster.get_absolute_url()}"' in item
    assert "The <strong>rank score</strong> only orders the list" in body  # the line under the list


def test_the_scoring_page_shows_the_likelihood_beside_the_criterion_and_links_the_cluster(
        login, reviewer, in_review, engine, other_initiative):
    cluster = SprawlClusterFactory(initiatives=[in_review, other_initiative], title="Minutes")
    engine["state"]["duplicates"] = [Duplicate(other_initiative.pk, 0.61, ["similar purpose"], probability=0.9317)]
    body = login(reviewer).get(reverse("governance:score", args=[in_review.pk])).content.decode()
    criterion_row = body[body.index('id="score-duplicates"'):].split("</div>", 1)[0]
    assert "rank score 0.61" in criterion_row and "likelihood they do the same job: 93%" in criterion_row
    assert "(0.932): the figure a sprawl cluster of the two shows" in criterion_row
    assert f'href="{cluster.get_absolute_url()}"' in criterion_row
    assert "The <strong>rank score</strong> only orders the list" in criterion_row


def test_the_edit_forms_list_links_the_cluster_a_candidate_shares(login, owner, portfolio, images_cluster):
    cluster = images_cluster
    a = portfolio["A"]
    body = login(owner).get(reverse("governance:draft_duplicates"), {
        "name": a.name, "description": a.description, "exclude": str(a.pk),
        "department": str(a.department_id)}).content.decode()
    item = body[body.index(f'data-initiative="{portfolio["B"].pk}"'):].split("</li>", 1)[0]
    assert "likelihood they do the same job: " in item and f'href="{cluster.get_absolute_url()}"' in item


def test_the_initiatives_duplicates_stay_within_their_query_budget(login, executive, portfolio, images_cluster):
    """The likelihoods come from one batched computation per list, no query per candidate: the fragment's queries
    do not grow with the candidates or the clusters they share."""
    client = login(executive)
    url = reverse("governance:initiative_duplicates", args=[portfolio["A"].pk])
    client.get(url)  # builds the process's index
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    assert len(few) <= 25, "\n".join(q["sql"][:150] for q in few)
    SprawlClusterFactory(title="Images too", initiatives=list(portfolio.values()))
    InitiativeFactory.create_batch(3)
    client.get(url)
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()
    assert body.count("likelihood they do the same job: ") == body.count("<li data-initiative=") == 5
    assert "Images too" in body
    assert len(many) == len(few)


def test_draft_fragment_asks_for_text_before_calling_the_engine(login, owner, engine):
    body = login(owner).get(reverse("governance:draft_duplicates")).content.decode()
    assert 'id="duplicates-hint"' in body and engine["calls"]["draft_duplicates"] == []


def test_initiative_fragment_excludes_the_initiative_itself(login, executive, engine, initiative, other_initiative):
    engine["state"]["duplicates"] = [Duplicate(other_initiative.pk, 0.7, ["similar purpose"])]
    body = login(executive).get(reverse("governance:initiative_duplicates", args=[initiative.pk])).content.decode()
    assert other_initiative.name in body
    call = engine["calls"]["draft_duplicates"][0]
    assert call["exclude_id"] == initiative.pk and call["owner_id"] == initiative.owner_id
    assert 'title="How strongly three rankings agree' in body and "score 0.70" in body  # the score says what it is


def test_scoring_page_shows_duplicates_beside_the_duplication_criterion(login, reviewer, in_review, engine,
                                                                         other_initiative):
    engine["state"]["duplicates"] = [Duplicate(other_initiative.pk, 0.66, ["shared use case: Meeting notes"])]
    body = login(reviewer).get(reverse("governance:score", args=[in_review.pk])).content.decode()
    criterion_row = body[body.index("<strong>Reuse of shared services / duplication"):]
    assert 'id="score-duplicates"' in criterion_row[:3000]
    assert other_initiative.name in criterion_row and "shared use case: Meeting notes" in criterion_row
    assert 'title="How strongly three rankings agree' in criterion_row and "score 0.66" in criterion_row


def test_cluster_list_counts_say_what_they_count(login, executive):
    """The default view said "Confidence: 2 likely · 1 possible" and "Clusters by status: 2 open + 1 confirmed + 0
    dismissed = 3 all" over 4 clusters: each count says what it is of, and the whole."""
    likely = make_clusters(3)
    likely[2].status = SprawlStatus.CONFIRMED
    likely[2].save()
    possible = make_clusters(1)[0]
    possible.confidence = SprawlConfidence.POSSIBLE
    possible.save()
    client = login(executive)

    def counts(query: str = "") -> tuple[str, str]:
        body = client.get(reverse("governance:sprawl_list") + query).content.decode()
        return tuple(" ".join(re.sub(r"<[^>]+>", "", body.split(f'id="{name}">', 1)[1].split("</p>", 1)[0]).split())
                     for name in ("cluster-confidence-counts", "cluster-status-counts"))

    confidence, status = counts()
    assert confidence.startswith("Of the 3 open clusters, by confidence: 2 likely · 1 possible")
    assert status == ("Of the likely clusters (with every decided one), by status: 2 open + 1 confirmed + 0 dismissed "
                      "= 3; 4 clusters in all: 1 more, open and only possible, not counted here.")
    confidence, status = counts("?status=&confidence=")
    assert confidence.startswith("Of all 4 clusters, by confidence: 3 likely · 1 possible")
    assert status == "Clusters by status: 3 open + 1 confirmed + 0 dismissed = 4 in all."
