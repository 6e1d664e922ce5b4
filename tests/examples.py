"""How many examples a property test draws: all of them in `make test`, a fifth in the edit loop.

`make test-fast` sets ``HYPOTHESIS_PROFILE=fast``. The profile (registered in conftest) lowers
Hypothesis's default; tests that name their own count pass it through ``examples()``.
"""

from __future__ import annotations

import os

FAST = os.environ.get("HYPOTHESIS_PROFILE") == "fast"


def examples(full: int) -> int:
    return max(5, full // 5) if FAST else full
