"""What each phase of a schedule is, from its user counts alone.

One rule for the whole kit: the runner names the roles of ``--stages`` with it, and the
reports give roles to a run without run.json (segmented from Locust's user count) with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from reports.run_format import ROLE_BASELINE, ROLE_RECOVERY, ROLE_SPIKE, ROLE_STEADY


def infer_roles(users: Sequence[int]) -> list[str]:
    """Roles of consecutive phases by their user counts.

    When load rises above the first phase, the first is the baseline, the (first) highest the
    spike and the phase right after it, when lower, the recovery; every other is steady.
    """
    found = [ROLE_STEADY] * len(users)
    if len(users) < 2:
        return found
    peak = max(range(len(users)), key=lambda i: (users[i], -i))
    if users[peak] <= users[0]:
        return found
    found[0], found[peak] = ROLE_BASELINE, ROLE_SPIKE
    if peak + 1 < len(users) and users[peak + 1] < users[peak]:
        found[peak + 1] = ROLE_RECOVERY
    return found
