"""The health big-data platform: build any size into partitioned Parquet, query it with DuckDB.

On one machine the store is DuckDB over Parquet partitioned by province (and year); where the
work outgrows one machine, the same builds, notebook runs and grading go to a Dask cluster
named by its scheduler address. See :func:`build`, :func:`connect` and :func:`executor`.
"""

from healthlab.platform.builds import BUILDS, BuildReport, build
from healthlab.platform.cluster import cluster_executor, default_workers, executor
from healthlab.platform.store import connect, format_result, query, read_manifest

__all__ = [
    "BUILDS",
    "BuildReport",
    "build",
    "cluster_executor",
    "connect",
    "default_workers",
    "executor",
    "format_result",
    "query",
    "read_manifest",
]
