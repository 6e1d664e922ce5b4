"""The roles of a schedule's phases, inferred from their user counts alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.roles import infer_roles
from reports.run_format import ROLE_BASELINE, ROLE_RECOVERY, ROLE_SPIKE, ROLE_STEADY
from tests.examples import examples

B, S, R, T = ROLE_BASELINE, ROLE_SPIKE, ROLE_RECOVERY, ROLE_STEADY


@pytest.mark.parametrize(
    ("users", "roles"),
    [
        ([10], [T]),  # a single phase
        ([10, 10, 10], [T, T, T]),  # flat
        ([10, 50], [B, S]),  # a rise, nothing after it
        ([10, 20, 30, 50, 10], [B, T, T, S, R]),  # ramp up to the peak, then down
        ([50, 10, 20], [T, T, T]),  # the peak comes first: nothing rises above the start
        ([10, 20, 50], [B, T, S]),  # the peak comes last: no recovery
        ([10, 50, 20, 50, 10], [B, S, R, T, T]),  # a tie for the max: the first one wins
        ([10, 50, 50, 10], [B, S, T, T]),  # a plateau is not lower: no recovery
    ],
)
def test_roles_by_user_counts(users, roles):
    assert infer_roles(users) == roles


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.integers(1, 100), min_size=1, max_size=12))
def test_roles_follow_the_rule_for_any_user_counts(users):
    """The docstring's rule, written out plainly: the reference the inference must agree with."""
    expected = [T] * len(users)
    spike = users.index(max(users))  # the first highest
    if users[spike] > users[0]:
        expected[0], expected[spike] = B, S
        if spike + 1 < len(users) and users[spike + 1] < users[spike]:
            expected[spike + 1] = R
    assert infer_roles(users) == expected
