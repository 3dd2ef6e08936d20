"""The value a Personalize dataset asset produces, and the metadata helpers every store shares."""

import json
from dataclasses import dataclass
from typing import Any

import duckdb
from dagster import MetadataValue, TableColumn, TableSchema

PREVIEW_ROWS = 5

# Avro field types as DuckDB reads them back from a dataset CSV.
AVRO_TO_DUCKDB = {"string": "VARCHAR", "long": "BIGINT", "int": "INTEGER", "float": "DOUBLE"}


@dataclass(frozen=True)
class PersonalizeDataset:
    """A Personalize dataset: its rows (CSV columns in schema order) and its Avro schema.

    `header` is the header line as stored; it is empty for a dataset that has not been written.
    """

    name: str
    rows: duckdb.DuckDBPyRelation
    schema: dict[str, Any]
    header: tuple[str, ...] = ()

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(field["name"] for field in self.schema["fields"])

    def schema_json(self) -> str:
        return json.dumps(self.schema, indent=2) + "\n"


def avro_type(field: dict[str, Any]) -> str:
    """The non-null Avro type of a schema field (`["null", "string"]` gives `string`)."""
    kind = field["type"]
    if isinstance(kind, list):
        return next(member for member in kind if member != "null")
    return kind


def csv_columns(schema: dict[str, Any], header: tuple[str, ...]) -> dict[str, str]:
    """DuckDB column types for reading a dataset CSV whose header is `header`."""
    types = {field["name"]: AVRO_TO_DUCKDB[avro_type(field)] for field in schema["fields"]}
    return {name: types.get(name, "VARCHAR") for name in header}


def markdown_table(relation: duckdb.DuckDBPyRelation, limit: int = PREVIEW_ROWS) -> str:
    """The first rows of `relation` as a markdown table for the UI."""
    columns = relation.columns
    rows = relation.limit(limit).fetchall()
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        cells = ("" if value is None else str(value).replace("|", "\\|") for value in row)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table_metadata(relation: duckdb.DuckDBPyRelation, row_count: int) -> dict[str, Any]:
    """Row count and preview of a written table or dataset."""
    return {
        "dagster/row_count": row_count,
        "preview": MetadataValue.md(markdown_table(relation)),
    }


def declared_columns(definition_metadata: dict[str, Any]) -> list[TableColumn] | None:
    """The columns an asset declares in `dagster/column_schema`, if any."""
    schema = definition_metadata.get("dagster/column_schema")
    if isinstance(schema, TableSchema):
        return list(schema.columns)
    return None
