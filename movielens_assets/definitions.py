"""The asset graph: raw files -> seeded tables -> Personalize datasets, with checks and storage."""

from dagster import Definitions, in_process_executor, multiprocess_executor

from movielens_assets.checks import asset_checks
from movielens_assets.jobs import checks_only
from movielens_assets.personalize import interactions, items
from movielens_assets.raw import raw_assets
from movielens_assets.seeded import genres, links, movies, ratings, tags, users
from movielens_assets.settings import Settings
from movielens_assets.storage import storage_resources


def build_definitions(settings: Settings) -> Definitions:
    """The whole graph, with storage chosen by `settings.storage`."""
    return Definitions(
        assets=[
            *raw_assets,
            movies,
            genres,
            ratings,
            tags,
            links,
            users,
            interactions,
            items,
        ],
        asset_checks=asset_checks,
        jobs=[checks_only],
        resources=storage_resources(settings),
        # DuckDB: one process per run, as the file has one writer and steps skip process start-up.
        # S3: each step reads its inputs from the bucket, so steps run in their own processes,
        # forked from a server that has imported this package once (a spawned step would spend
        # seconds importing it again).
        executor=(
            multiprocess_executor.configured({"start_method": {"forkserver": {}}})
            if settings.storage == "s3"
            else in_process_executor
        ),
    )


defs = build_definitions(Settings.from_env())
