"""Benchmarks: each module's ``run()`` returns rows of ratios against a named peer."""
