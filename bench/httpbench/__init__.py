"""Side-by-side HTTP benchmark of our server against Kinto 26.5.0 (``nox -s bench``).

Modules: ``servers`` (the servers under test and the ceiling apps, as adapters), ``databases`` (a fresh
backend per run), ``client`` (seeding and probes over HTTP), ``workloads`` (what is measured),
``loadgen`` (wrk, pinned to its own CPU), ``pg_ceiling`` (raw psycopg rates), ``profiling``
(py-spy), ``report`` (the Markdown table) and ``cli`` (the command).
"""
