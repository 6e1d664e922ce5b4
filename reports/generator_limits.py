"""When a load generator counts as having kept up: one rule for the reports and the capacity
search, which must never take the generator's limit for the service's.

Light on purpose (no pandas): the Locust processes import it.
"""

#: The send lag p99 (actual send - intended start) beyond which the generator did not keep its
#: schedule. A generator with CPU to spare sends within a millisecond or two of the intended
#: moment (timer and event-loop jitter); 5 ms is clear of that jitter, yet small beside the
#: latencies the thresholds judge, so a lag above it is the generator queueing its own sends.
LAG_LIMIT_MS = 5.0
#: A Locust process's CPU (% of one core) from which it is taken as saturated: Locust's own
#: warning level. So busy a process cannot send on time or time replies precisely.
CPU_LIMIT_PCT = 90.0
