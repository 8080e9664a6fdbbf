"""Label checks: a reviewer measures the detector against the company's own labelled duplicates from the Sprawl
page. The file is checked at upload (every problem named, nothing stored), the measurement runs as a job and gives
exactly what `manage.py sprawl_quality --json` prints."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from governance.models import SprawlLabelCheck
from governance.sprawl import selectors
from governance.sprawl.services.label_checks import sprawl_label_check_execute_by_id, sprawl_label_check_submit
from governance.sprawl.tasks import sprawl_label_check_task, sprawl_runs_expire_stale
from portfolio.choices import RunStatus
from tollgate import jobs

pytestmark = pytest.mark.django_db

LABELS = "external_id,cluster\nA,images\nB,images\nC,notes\nD,notes\n"


def _upload(text: str, name: str = "labels.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_a_reviewer_measures_the_labels_in_the_background_and_reads_the_figures(
        client, reviewer, portfolio, embedder, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(reviewer)
    page = client.get(reverse("governance:sprawl_check_new"))
    assert page.status_code == 200 and "external_id,cluster" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("governance:sprawl_check_new"),
                               {"file": _upload(LABELS), "top": 2, "possible": "on"})
    check = SprawlLabelCheck.objects.get()
    assert response.status_code == 302 and response["Location"] == check.get_absolute_url()
    assert check.status == RunStatus.SUCCEEDED and check.actor == reviewer
    assert (check.top, check.possible, check.undecided) == (2, True, False)

    path = tmp_path / "labels.csv"
    path.write_text(LABELS, encoding="utf-8")
    out = io.StringIO()
    call_command("sprawl_quality", str(path), "--json", "--top", "2", "--possible", stdout=out)
    assert check.result == json.loads(out.getvalue())  # the page and the command measure the same thing

    body = client.get(check.get_absolute_url()).content.decode()
    assert f'id="check-precision">{check.result["precision"]:.3f}<' in body
    assert f'id="check-f1">{check.result["f1"]:.3f}<' in body
    assert "external_id,cluster" not in body and "The detector against labels.csv" in body
    # The Sprawl page leads there, and the form lists the check among the recent ones.
    assert reverse("governance:sprawl_check_new") in client.get(reverse("governance:sprawl_list")).content.decode()
    assert check.get_absolute_url() in client.get(reverse("governance:sprawl_check_new")).content.decode()


def test_a_sample_is_measured_only_among_the_initiatives_it_lists(client, reviewer, portfolio, embedder, tmp_path,
                                                                   django_capture_on_commit_callbacks):
    sample = "external_id,cluster\nA,images\nB,images\nC,quill\n"  # C checked and unique; D and E not checked
    client.force_login(reviewer)
    refused = client.post(reverse("governance:sprawl_check_new"), {"file": _upload(sample), "top": 5})
    assert "&#x27;quill&#x27; has one member" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("governance:sprawl_check_new"),
                    {"file": _upload(sample), "top": 5, "possible": "on", "listed_only": "on"})
    check = SprawlLabelCheck.objects.get()
    assert check.listed_only and check.status == RunStatus.SUCCEEDED
    path = tmp_path / "labels.csv"
    path.write_text(sample, encoding="utf-8")
    out = io.StringIO()
    call_command("sprawl_quality", str(path), "--json", "--possible", "--listed-only", stdout=out)
    assert check.result == json.loads(out.getvalue()) and check.result["listed_only"] is True
    body = client.get(check.get_absolute_url()).content.decode()
    assert "only the initiatives the file lists" in body and 'id="check-unlisted"' not in body


def test_the_file_to_fill_in_lists_every_initiative_and_reads_back_as_labels(client, reviewer, portfolio, embedder,
                                                                           django_capture_on_commit_callbacks,
                                                                           django_assert_max_num_queries):
    from tests.factories import InitiativeFactory

    planted = InitiativeFactory(external_id="=HYPERLINK(1)", name="@SUM(A1)")  # a spreadsheet must not run either
    client.force_login(reviewer)
    with django_assert_max_num_queries(6):  # session, user, permissions and the one query of the rows
        response = client.get(reverse("governance:sprawl_check_template"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="labels-to-fill-in.csv"' in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with it
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["external_id", "cluster", "name", "department", "category", "stage", "purpose"]
    assert {row[0] for row in rows[1:]} == {*"ABCDE", "'=HYPERLINK(1)"}  # neutralised for the spreadsheet
    assert all(row[1] == row[0] for row in rows[1:])  # each with a label of its own: duplicates nothing yet
    assert ["'@SUM(A1)"] == [row[2] for row in rows[1:] if row[0] == "'=HYPERLINK(1)"]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["A"][2] == portfolio["A"].name and by_id["A"][6] == " ".join(portfolio["A"].description.split())

    # The reviewer gives the image tools one label, keeps the rows they checked and uploads it as a sample.
    by_id["B"][1] = by_id["A"][1] = "images"
    kept = [rows[0], by_id["A"], by_id["B"], by_id["C"], by_id["'=HYPERLINK(1)"]]
    out = io.StringIO()
    csv.writer(out).writerows(kept)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("governance:sprawl_check_new"),
                    {"file": _upload(out.getvalue(), "labels-to-fill-in.csv"), "top": 5, "possible": "on",
                     "listed_only": "on"})
    check = SprawlLabelCheck.objects.get()
    assert check.status == RunStatus.SUCCEEDED, check.error
    assert check.labels == {"A": "images", "B": "images", "C": "C", planted.external_id: planted.external_id}
    assert check.result["labelled_members"] == 2 and check.result["listed"] == 4
    assert reverse("governance:sprawl_check_template") in client.get(
        reverse("governance:sprawl_check_new")).content.decode()


def test_a_bad_labels_file_is_refused_with_every_problem_and_nothing_is_stored(client, reviewer, portfolio):
    client.force_login(reviewer)
    response = client.post(reverse("governance:sprawl_check_new"), {
        "file": _upload("external_id,cluster\nA,x\nZ,x\nA,y\nE,y\n"), "top": 5})
    body = response.content.decode()
    assert response.status_code == 200
    # the file's own problems first: its ids are looked up once the file reads right
    assert "no initiative" not in body
    assert "labels.csv: row 4, column external_id: &#x27;A&#x27; is already labelled on row 2" in body
    assert "labels.csv: row 5, column cluster: &#x27;y&#x27; has one member (&#x27;E&#x27;)" in body
    response = client.post(reverse("governance:sprawl_check_new"), {
        "file": _upload("external_id,cluster\nA,x\nZ,x\n"), "top": 5})
    assert "labels.csv: row 3, column external_id: no initiative &#x27;Z&#x27; in this database" \
        in response.content.decode()
    response = client.post(reverse("governance:sprawl_check_new"), {"file": _upload(LABELS, "labels.xlsx"), "top": 5})
    assert "Upload a .csv file" in response.content.decode()
    latin = SimpleUploadedFile("labels.csv", "external_id,cluster\nA,caf\xe9\n".encode("latin-1"))
    response = client.post(reverse("governance:sprawl_check_new"), {"file": latin, "top": 5})
    assert "labels.csv: row 2: not UTF-8; save the labels as CSV UTF-8" in response.content.decode()
    assert not SprawlLabelCheck.objects.exists()


def test_only_reviewers_and_administrators_measure(owner, executive, portfolio):
    for user in (owner, executive):
        with pytest.raises(PermissionDenied):
            sprawl_label_check_submit(actor=user, filename="labels.csv", content=LABELS.encode())
    assert not SprawlLabelCheck.objects.exists()


def test_the_service_refuses_an_out_of_range_top(reviewer, portfolio):
    with pytest.raises(ValidationError) as caught:
        sprawl_label_check_submit(actor=reviewer, filename="labels.csv", content=LABELS.encode(), top=0)
    assert caught.value.message_dict == {"top": ["Rank between 1 and 50 possible duplicates."]}


def test_the_task_is_idempotent_and_a_vanished_initiative_fails_the_check_with_its_row(portfolio, embedder):
    check = SprawlLabelCheck.objects.create(filename="labels.csv", labels={"A": "x", "B": "x"},
                                            label_rows={"A": 2, "B": 3})
    assert sprawl_label_check_task(check.pk) == RunStatus.SUCCEEDED
    result = SprawlLabelCheck.objects.get(pk=check.pk).result
    assert sprawl_label_check_task(check.pk) is None  # a redelivered copy leaves the finished check alone
    assert SprawlLabelCheck.objects.get(pk=check.pk).result == result
    assert sprawl_label_check_task(123456) is None

    portfolio["B"].delete()
    gone = SprawlLabelCheck.objects.create(filename="labels.csv", labels={"A": "x", "B": "x"},
                                           label_rows={"A": 2, "B": 3})
    assert sprawl_label_check_execute_by_id(run_id=gone.pk).status == RunStatus.FAILED
    assert SprawlLabelCheck.objects.get(pk=gone.pk).error == \
        "labels.csv: row 3, column external_id: no initiative 'B' in this database"


def test_a_check_reports_its_steps_and_its_page_and_the_api_say_which_one_runs(client, executive, portfolio,
                                                                              embedder, monkeypatch):
    steps = []
    real_progress = jobs.run_progress
    monkeypatch.setattr(jobs, "run_progress", lambda run, step: (steps.append(step), real_progress(run, step)))
    check = SprawlLabelCheck.objects.create(filename="labels.csv", labels={"A": "x", "B": "x"},
                                            label_rows={"A": 2, "B": 3})
    sprawl_label_check_execute_by_id(run_id=check.pk)
    assert sorted({step // jobs.STEP_SCALE for step in steps}) == [1, 2, 3, 4, 5, 6] and steps == sorted(steps)
    assert 299 in steps  # the embedding said how far it was: its last batch, not yet step 3

    running = SprawlLabelCheck.objects.create(filename="mine.csv", status=RunStatus.RUNNING, progress=600)
    client.force_login(executive)
    body = client.get(running.get_absolute_url()).content.decode()
    assert "Step 6 of 6: Comparing what was found with the labels" in body
    read = client.get(reverse("governance_api:sprawllabelcheck-detail", args=[running.pk])).json()
    assert read["step"] == {"number": 6, "of": 6, "name": "Comparing what was found with the labels", "done": 0}
    assert client.get(reverse("governance_api:sprawllabelcheck-detail", args=[check.pk])).json()["step"] is None


def test_a_lost_check_is_failed_by_the_beat_job():
    check = SprawlLabelCheck.objects.create(filename="labels.csv", status=RunStatus.RUNNING)
    SprawlLabelCheck.objects.filter(pk=check.pk).update(created_at="2020-01-01T00:00:00Z")
    assert sprawl_runs_expire_stale() == 1
    assert SprawlLabelCheck.objects.get(pk=check.pk).status == RunStatus.FAILED


@pytest.fixture
def finished(portfolio):
    return SprawlLabelCheck.objects.create(
        status=RunStatus.SUCCEEDED, filename="labels.csv",
        labels={"A": "images", "B": "images", "C": "notes", "GONE": "forms"}, result={
            "precision": 0.5, "recall": 0.5, "f1": 0.5, "top": 5, "top_hit_rate": 0.75, "top_hits": 3,
            "labelled_members": 4,
            "correct_pairs": 1, "predicted_pairs": 2, "true_pairs": 2, "initiatives": 5, "clusters_found": 2,
            "labelled_clusters": 2, "encoder": "all-MiniLM-L6-v2", "listed_only": False, "listed": 4,
            "unlisted_pairs": 1, "intervals": {"precision": [0.095, 0.905], "recall": [0.095, 0.905],
                                               "top_hit_rate": [0.301, 0.954]},
            "wrong_pairs": [["C", "E"]], "missed_pairs": [["A", "B"]], "without_partner": ["GONE"],
            "names": {"A": "Marketing's Midjourney accounts", "B": "Firefly for the creative studio",
                      "C": "Project Quill", "E": "AP invoice reader", "GONE": "=cmd|' /C calc'!A0"}})


def test_the_rows_name_and_link_each_initiative_in_one_query(finished, portfolio, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = selectors.label_check_rows(finished)
    assert [(r["kind_code"], r["first_id"], r["second_id"]) for r in rows] == [
        ("wrong", "C", "E"), ("missed", "A", "B"), ("without", "GONE", "")]
    assert rows[0]["first_pk"] == portfolio["C"].pk and rows[2]["first_pk"] is None  # deleted since: no link
    assert [(r["first_label"], r["second_label"]) for r in rows] == [("notes", ""), ("images", "images"),
                                                                    ("forms", "")]
    assert [r["first_id"] for r in selectors.label_check_rows(finished, kind="missed")] == ["A"]


def test_the_check_page_filters_by_kind_and_exports_csv(client, executive, finished, portfolio,
                                                       django_assert_max_num_queries):
    client.force_login(executive)  # executives read checks; they do not run them
    with django_assert_max_num_queries(12):
        body = client.get(finished.get_absolute_url()).content.decode()
    assert 'id="check-precision">0.500<' in body and "3 of 4 labelled duplicates" in body
    assert "1 of 2 pairs put together are labelled together; 95% interval 0.095–0.905" in body
    assert f'href="{reverse("portfolio:initiative_detail", args=[portfolio["A"].pk])}">A</a>' in body
    assert "Measure again" not in body
    # E, which the file leaves out, is behind the one wrong pair: the page says so and how to measure a sample
    assert 'id="check-unlisted"' in body and "1 of the 1 wrong pairs put together an initiative" in body
    assert "notes · not in the file" in body
    missed = client.get(finished.get_absolute_url() + "?kind=missed").content.decode()
    assert "Firefly for the creative studio" in missed and "Project Quill" not in missed
    export = client.get(finished.get_absolute_url() + "?_export=csv")
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == ["What", "Initiative", "With", "Their labels in the file"]
    assert ["Labelled together, left apart", "A Marketing's Midjourney accounts", "B Firefly for the creative studio",
            "images · images"] in rows
    assert ["No true partner among its possible duplicates", "GONE =cmd|' /C calc'!A0", "", "forms"] in rows


def test_the_api_queues_a_check_and_refuses_a_bad_file_with_its_rows(client, reviewer, portfolio, embedder,
                                                                     django_capture_on_commit_callbacks):
    client.force_login(reviewer)
    url = reverse("governance_api:sprawllabelcheck-list")
    refused = client.post(url, {"file": _upload("external_id,cluster\nA,x\nZ,x\n"), "top": 5})
    assert refused.status_code == 400
    assert refused.json() == {"file": ["labels.csv: row 3, column external_id: no initiative 'Z' in this database"]}
    assert client.post(url, {"file": _upload(LABELS), "top": 0}).status_code == 400
    assert not SprawlLabelCheck.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(url, {"file": _upload(LABELS), "top": 3, "undecided": "true", "listed_only": "true"})
    assert queued.status_code == 202
    check = SprawlLabelCheck.objects.get()
    assert queued.json()["id"] == check.pk and (check.top, check.undecided, check.listed_only) == (3, True, True)
    assert queued.json()["listed_only"] is True
    read = client.get(reverse("governance_api:sprawllabelcheck-detail", args=[check.pk])).json()
    assert read["status"] == "succeeded" and read["result"]["top"] == 3 and read["result"]["labelled_members"] == 4
    assert set(read["result"]) >= {"precision", "recall", "f1", "top_hit_rate", "wrong_pairs", "missed_pairs"}
    assert client.get(url).json()["results"][0]["id"] == check.pk


def test_a_check_gives_every_cluster_found_by_score_beside_the_same_scores_elsewhere(client, executive, portfolio,
                                                                                    embedder, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(LABELS, encoding="utf-8")
    out = io.StringIO()
    call_command("sprawl_quality", str(path), "--json", stdout=out)  # the figures count the likely clusters only
    result = json.loads(out.getvalue())
    bands = result["bands"]
    likely = [band for band in bands if band["confidence"] == "likely"]
    assert sum(band["clusters"] for band in likely) == result["clusters_found"] >= 1
    assert (sum(band["pairs"] for band in likely), sum(band["right"] for band in likely)) == \
        (result["predicted_pairs"], result["correct_pairs"])  # the likely bands hold exactly the figures' pairs
    assert bands[0]["low"] == 0.2 and bands[-1]["high"] == 1.0
    for band in bands:
        shipped = selectors.score_band(band["low"])
        assert band["elsewhere"] == {"right": shipped.right, "pairs": shipped.pairs}
        assert band["share"] == (round(band["right"] / band["pairs"], 4) if band["pairs"] else None)
    text = io.StringIO()
    call_command("sprawl_quality", str(path), stdout=text)
    assert "Every cluster found, by score (likely and possible), against these labels:" in text.getvalue()

    check = SprawlLabelCheck.objects.create(filename="labels.csv", status=RunStatus.SUCCEEDED, result=result,
                                            labels={"A": "images", "B": "images", "C": "notes", "D": "notes"})
    client.force_login(executive)
    body = client.get(check.get_absolute_url()).content.decode()
    assert 'id="check-bands-table"' in body and 'id="check-bands-chart-data"' in body
    shown = next(band for band in selectors.label_check_bands(check) if band.clusters)
    assert f"{shown.right} of {shown.pairs}" in body
    assert f"{shown.elsewhere_share:.2f} ({shown.elsewhere_right} of {shown.elsewhere_pairs})" in body
    read = client.get(reverse("governance_api:sprawllabelcheck-detail", args=[check.pk])).json()
    assert read["result"]["bands"] == bands

    check.result = {key: value for key, value in result.items() if key != "bands"}  # measured before bands were kept
    check.save()
    assert 'id="check-bands"' not in client.get(check.get_absolute_url()).content.decode()
