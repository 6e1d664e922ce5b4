"""The verdict colours, one set for every view: charts, HTML reports and the web UI's tab.

Kept apart from the chart code so that a light process (Locust's web UI) can use them
without loading matplotlib and pandas.
"""

LEVEL_COLOURS = {"healthy": "#2e7d32", "degraded": "#ef8f00", "critical": "#c62828"}
