"""The kit's shape alone, for a run of the user's own locustfile (``--locustfile``).

The runner loads this module beside the user's file (``-f kit_shape.py,THEIR_FILE``): the
users are theirs, the schedule (spike, sustained or ``--stages``) comes from the runner in
``--kit-schedule``, and the phase log, recovery watch and request log are the kit's.
"""

from scenarios.locust_support import ScheduleShape

__all__ = ["ScheduledShape"]


class ScheduledShape(ScheduleShape):
    scenario = "custom"
