"""The storage switch: one function that returns the same resource keys for every storage mode."""

from typing import Any

from dagster_aws.s3 import S3Resource

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
    s3 = S3Resource.configure_at_launch()
    shared = {
        "engine": engine,
        "s3": s3,
        "source": ReleaseSource(location=settings.source_dir, s3=s3),
        "load_policy": LoadPolicy(max_reject_share=settings.max_reject_share),
    }
    return {
        **shared,
        "io_manager": DuckDBTableIOManager(engine=engine, database=str(settings.database)),
        "dataset_io_manager": LocalDatasetIOManager(
            engine=engine, directory=str(settings.personalize_dir)
        ),
    }
