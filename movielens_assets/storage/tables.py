"""What every store needs to know about a table asset: its name and the columns it declares."""

import duckdb
from dagster import AssetKey, OutputContext

from movielens_assets.datasets import declared_columns


class ColumnDriftError(Exception):
    """An asset produced columns other than the ones it declares."""


def table_name(asset_key: AssetKey) -> str:
    """The table (or object) name for an asset: the last part of its key."""
    return asset_key.path[-1]


def check_declared_columns(context: OutputContext, relation: duckdb.DuckDBPyRelation) -> None:
    """Refuse to store a relation whose column names or types differ from the declared schema."""
    declared = declared_columns(dict(context.definition_metadata or {}))
    if declared is None:
        return
    expected = [(column.name, column.type) for column in declared]
    found = [(name, str(kind)) for name, kind in zip(relation.columns, relation.types, strict=True)]
    if expected != found:
        raise ColumnDriftError(
            f"{table_name(context.asset_key)} produced columns {found}, but declares {expected}."
        )
