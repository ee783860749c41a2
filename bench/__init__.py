"""The benchmark: ``manage.py bench`` seeds a large MariaDB data set and measures the lead list
API and the CSV import beside this machine's own ceilings (see ``docs/benchmarks.md``).

``bench.views`` holds the two ceiling endpoints, mounted at ``/_bench/`` only when
``settings.BENCH_ENDPOINTS`` is true (env ``BENCH_ENDPOINTS``, default false).
"""
