"""perf_lib: a query-result cache, a query performance monitor, thresholds and FastAPI glue.

Import from the modules: ``perf_lib.cache``, ``perf_lib.monitor``, ``perf_lib.thresholds``,
``perf_lib.fastapi_router``.
"""
