"""The four scenarios as data: who runs, for how long, and where their Locust module lives.

The runner and the tests read this; only the Locust modules turn it into users and shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scenarios.schedule import Schedule, constant_schedule, spike_schedule

PACKAGE_DIR = Path(__file__).resolve().parent
#: Basic-auth credentials for the target ("user:password"), passed to Locust out of band so
#: that no file of the run (Locust's HTML report included) ever shows them.
BASIC_AUTH_ENV = "LOADKIT_BASIC_AUTH"
#: How long a user waits to connect, and then for each read, before its request fails.
REQUEST_TIMEOUT_S = 60.0
#: Users that a phase change or the end of the run removes finish the request they have in
#: flight, so that it is logged (Locust's ``--stop-timeout``: a user in a task is asked to
#: stop after it, a user between tasks stops at once). A request ends within its timeout, so
#: the wait is only ever that long when the service hangs; Locust takes whole seconds.
STOP_TIMEOUT_S = int(REQUEST_TIMEOUT_S) + 5

#: The open model: arrivals per second in the first phase when --rate is not given (the
#: embedded service holds this, and the spike's x5, healthy on a 2-core machine beside the
#: load generator), and the requests outstanding at most (k6's maxVUs) before arrivals drop.
OPEN_DEFAULT_RATE = 200.0
OPEN_DEFAULT_MAX_IN_FLIGHT = 200

#: The capacity search: its first and highest rates (req/s), and each step's length and
#: warm-up (seconds at time scale 1; the warm-up is left out of the step's judgement).
CAPACITY_DEFAULT_START_RATE = 50.0
CAPACITY_DEFAULT_MAX_RATE = 5000.0
CAPACITY_DEFAULT_STEP_S = 10.0
CAPACITY_DEFAULT_WARMUP_S = 3.0
#: Bisection ends when the lowest rate that failed is within this share of the highest held.
CAPACITY_DEFAULT_PRECISION = 0.05
#: After a failed step the next one waits until no request is outstanding (the service has
#: worked off its backlog), but no longer than this (seconds at time scale 1).
CAPACITY_REST_LIMIT_S = 30.0
#: Between two capacity steps: the step's judgement, a worker's report, the next step's lead.
CAPACITY_PAUSE_S = 5.0

#: Think time (seconds, min..max) between a user's requests, per scenario. The budgeted
#: scenarios run flat out (their request count is fixed). Sustained and spike are paced so
#: that the load generator never becomes the limit: on a shared 2-core machine Locust needs
#: about 0.7 ms of CPU per checked request, and a saturated generator measures itself. So
#: paced, sustained's 10 users send ~900 req/s and the spike's 50 ~940 req/s, with the
#: Locust process at 55-75 % of a core (generator.csv); the earlier 2 and 20 ms held it at
#: 90-100 %, which the report rightly flagged as generator-limited.
DEFAULT_WAIT: dict[str, tuple[float, float]] = {
    "baseline": (0.0, 0.0),
    "historical": (0.0, 0.0),
    "sustained": (0.006, 0.01),
    "spike": (0.04, 0.06),
}


def parse_think_time(text: str) -> tuple[float, float]:
    """``"0.01,0.03"`` (min,max) or ``"0.02"`` seconds; ValueError for anything else."""
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise ValueError(f"think time must be SECONDS or MIN,MAX, not {text!r}") from None
    if len(parts) not in (1, 2):
        raise ValueError(f"think time must be SECONDS or MIN,MAX, not {text!r}")
    low, high = parts[0], parts[-1]
    if not 0 <= low <= high < float("inf"):
        raise ValueError(f"think time must satisfy 0 <= MIN <= MAX, not {text!r}")
    return low, high


@dataclass(frozen=True)
class Scenario:
    name: str
    users: int
    requests_per_user: int | None  # a fixed budget per user, or None for a timed run
    duration_s: float | None  # a timed run's length at time scale 1

    @property
    def module(self) -> Path:
        return PACKAGE_DIR / f"{self.name}.py"

    @property
    def open_module(self) -> Path:
        """The open model's shape and driver for this scenario (timed scenarios only)."""
        return PACKAGE_DIR / f"open_{self.name}.py"

    def schedule(
        self, users: int | None = None, time_scale: float = 1.0, duration_s: float | None = None
    ) -> Schedule | None:
        """The timed schedule (None for budgeted scenarios), with users and time scaled.

        ``duration_s`` replaces a constant scenario's length (``--duration``).
        """
        users = users or self.users
        if self.name == "spike":
            return spike_schedule().with_users(users).scaled(time_scale)
        if self.duration_s is not None:
            length = duration_s or self.duration_s
            return constant_schedule(self.name, users, length).scaled(time_scale)
        return None


#: The capacity search (``python -m scenarios capacity``): open-model steps the search
#: decides, one driver per Locust process; no schedule of its own.
CAPACITY = Scenario("capacity", users=1, requests_per_user=None, duration_s=None)

SCENARIOS: dict[str, Scenario] = {
    "baseline": Scenario("baseline", users=10, requests_per_user=100, duration_s=None),
    "historical": Scenario("historical", users=10, requests_per_user=50, duration_s=None),
    "sustained": Scenario("sustained", users=10, requests_per_user=None, duration_s=60.0),
    "spike": Scenario("spike", users=10, requests_per_user=None, duration_s=None),
}
