"""The demo company lent to the demo tests: what one test changes is gone for the next, and the ordinary test
database never holds it."""

from __future__ import annotations

from portfolio.models import Initiative


def test_what_a_demo_test_changes_is_rolled_back_for_the_next(_demo_database, db, django_db_blocker):
    database, _company = _demo_database
    with django_db_blocker.unblock():
        with database.lent():
            deleted, _ = Initiative.objects.filter(external_id="NW-0001").delete()
            assert deleted and not Initiative.objects.filter(external_id="NW-0001").exists()
        with database.lent():
            assert Initiative.objects.filter(external_id="NW-0001").exists()
    assert not Initiative.objects.filter(external_id__startswith="NW-").exists()


def test_the_demo_is_built_by_load_demo(demo):
    assert demo.output.startswith("Demo company built in ")
    assert Initiative.objects.filter(external_id="NW-0001").exists()
