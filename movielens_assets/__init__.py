"""MovieLens release files to Amazon Personalize datasets, as a Dagster asset graph."""

from movielens_assets.definitions import defs

__all__ = ["defs"]
