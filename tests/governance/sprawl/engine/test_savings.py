"""Consolidation saving of a sprawl cluster, on numbers (governance.sprawl.engine.savings has no ORM)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from governance.sprawl.engine.savings import MemberCost, consolidation_saving, member_monthly_spend

D = Decimal


def test_member_spend_is_the_allocated_cost_when_there_is_any():
    assert member_monthly_spend(allocated=D("812.345"), declared=D("500")) == (D("812.35"), True)
    assert member_monthly_spend(allocated=D("0"), declared=D("500")) == (D("0.00"), True)  # allocated zero is known
    assert member_monthly_spend(allocated=None, declared=D("500")) == (D("500.00"), False)
    assert member_monthly_spend(allocated=None, declared=None) == (D("0.00"), False)


def test_users_known_for_all_consolidates_onto_lowest_cost_per_user():
    members = [
        MemberCost(1, "Midjourney for marketing", D("1200"), users=40),   # 30.00 per user
        MemberCost(2, "Firefly for the studio", D("600"), users=30),      # 20.00 per user: the target
        MemberCost(3, "Canva visuals", D("1000"), users=20),              # 50.00 per user
    ]
    saving = consolidation_saving(members, variable_share=D("0.5"), currency="USD")
    assert saving.monthly_spend == D("2800.00")
    # 90 users x 20.00 = 1800.00; 2800 - 1800 = 1000.00
    assert saving.estimated_saving == D("1000.00")
    assert saving.target_id == 2
    assert saving.basis == (
        "Consolidating onto Firefly for the studio, the member with the lowest cost per user ($20.00 for 30 "
        "users), would serve all 90 users for $1,800.00 a month instead of $2,800.00: a saving of "
        "$1,000.00 a month."
    )


def test_users_unknown_for_one_member_keeps_variable_share_on_the_most_expensive():
    members = [
        MemberCost(1, "Sentinel", D("3000"), users=100),
        MemberCost(2, "Claims bot", D("1500"), users=None),
        MemberCost(3, "Support assistant", D("500"), users=10),
    ]
    saving = consolidation_saving(members, variable_share=D("0.5"), currency="EUR")
    assert saving.monthly_spend == D("5000.00")
    assert saving.estimated_saving == D("1000.00")  # others 2000 x (1 - 0.5)
    assert saving.target_id == 1
    assert "most expensive member (€3,000.00 a month), where 50% of the others' €2,000.00" in saving.basis
    assert saving.basis.endswith("a saving of €1,000.00 a month.")


@pytest.mark.parametrize(("share", "expected"), [("0", "2000.00"), ("0.25", "1500.00"), ("1", "0.00")])
def test_variable_share_policy_scales_the_saving(share, expected):
    members = [MemberCost(1, "A", D("3000")), MemberCost(2, "B", D("1200")), MemberCost(3, "C", D("800"))]
    assert consolidation_saving(members, variable_share=D(share), currency="USD").estimated_saving == D(expected)


def test_zero_users_counts_as_unknown():
    members = [MemberCost(1, "A", D("100"), users=0), MemberCost(2, "B", D("300"), users=10)]
    saving = consolidation_saving(members, variable_share=D("0.5"), currency="USD")
    assert saving.target_id == 2 and saving.estimated_saving == D("50.00")


def test_equal_cost_per_user_saves_nothing():
    members = [MemberCost(1, "A", D("100"), users=10), MemberCost(2, "B", D("200"), users=20)]
    assert consolidation_saving(members, variable_share=D("0.5"), currency="USD").estimated_saving == D("0.00")


def test_no_spend_and_single_member_state_why_there_is_no_saving():
    nothing = consolidation_saving([MemberCost(1, "A", D("0")), MemberCost(2, "B", D("0"))], variable_share=D("0.5"),
                                   currency="USD")
    assert nothing.estimated_saving == 0 and "No member has allocated or declared spend" in nothing.basis
    single = consolidation_saving([MemberCost(1, "A", D("10"))], variable_share=D("0.5"), currency="USD")
    assert single.estimated_saving == 0 and single.monthly_spend == D("10.00")


def test_variable_share_out_of_range_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        consolidation_saving([MemberCost(1, "A", D("1"))], variable_share=D("1.5"), currency="USD")
