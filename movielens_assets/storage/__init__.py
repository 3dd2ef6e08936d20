"""The storage switch: one function that returns the resources of a storage mode.

Assets and checks see the same keys in every mode (`engine`, `source`, `load_policy`,
`io_manager`, `dataset_io_manager`); runs that touch S3 also get `s3`.
"""

import os
from typing import Any

from dagster import EnvVar

from movielens_assets.checks import LoadPolicy
from movielens_assets.engine import DuckDBEngine
from movielens_assets.settings import Settings
from movielens_assets.source import ReleaseSource
from movielens_assets.storage.local import DuckDBTableIOManager, LocalDatasetIOManager


def storage_resources(settings: Settings) -> dict[str, Any]:
    """Resources for one storage mode; tables use `io_manager`, datasets `dataset_io_manager`."""
    # Partial resources: nested uses resolve to the top-level key, so the asset, the IO managers
    # and the checks of one process share one engine (one DuckDB connection).
    engine = DuckDBEngine.configure_at_launch()
    resources: dict[str, Any] = {
        "engine": engine,
        "source": ReleaseSource(location=settings.source_dir),
        "load_policy": LoadPolicy(max_reject_share=settings.max_reject_share),
        "io_manager": DuckDBTableIOManager(
            engine=engine,
            database=str(settings.database),
            lock_timeout_seconds=settings.lock_timeout_seconds,
        ),
        "dataset_io_manager": LocalDatasetIOManager(
            engine=engine, directory=str(settings.personalize_dir)
        ),
    }
    if settings.storage != "s3" and not settings.source_dir.startswith("s3://"):
        return resources
    # dagster-aws takes about a second to import, so only runs that touch S3 load it.
    from dagster_aws.s3 import S3Resource

    from movielens_assets.storage.s3 import S3DatasetIOManager, S3TableIOManager
    from movielens_assets.storage.s3_source import S3ReleaseSource

    # boto3 reads AWS_DEFAULT_REGION and AWS_ENDPOINT_URL_S3 itself, but not AWS_REGION.
    s3 = S3Resource.configure_at_launch(region_name=os.environ.get("AWS_REGION") or None)
    resources["s3"] = s3
    if settings.source_dir.startswith("s3://"):
        resources["source"] = S3ReleaseSource(location=settings.source_dir, s3=s3)
    if settings.storage == "s3":
        # The bucket is read when a step starts, so a missing variable fails the run, naming it.
        bucket = EnvVar("MOVIELENS_S3_BUCKET")
        resources["io_manager"] = S3TableIOManager(
            engine=engine, s3=s3, bucket=bucket, prefix=settings.s3_prefix
        )
        resources["dataset_io_manager"] = S3DatasetIOManager(
            engine=engine, s3=s3, bucket=bucket, prefix=settings.s3_prefix
        )
    return resources
