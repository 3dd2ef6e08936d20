"""Local storage: seeded tables in one DuckDB file, Personalize datasets as files on disk.

Tables are replaced atomically (CREATE OR REPLACE inside a transaction), so a failed or killed
write leaves the previous table whole. Dataset files are written under a temporary name and
renamed into place.
"""

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    ConfigurableIOManager,
    InitResourceContext,
    InputContext,
    MetadataValue,
    OutputContext,
    ResourceDependency,
)
from pydantic import Field

from movielens_assets.datasets import PersonalizeDataset, csv_columns, table_metadata
from movielens_assets.engine import DuckDBEngine, quote
from movielens_assets.loading import sql_string
from movielens_assets.storage.tables import check_declared_columns, table_name

STORE = "store"


class StoreLockedError(Exception):
    """The DuckDB file is held by another process for longer than we are willing to wait."""


class DuckDBTableIOManager(ConfigurableIOManager):
    """Stores each table asset as a table in one DuckDB file, attached to the step's engine."""

    engine: ResourceDependency[DuckDBEngine]
    database: str = Field(description="Path of the DuckDB file that holds the seeded tables.")
    lock_timeout_seconds: float = Field(
        default=120.0, description="How long to wait for another process to release the file."
    )

    def setup_for_execution(self, context: InitResourceContext) -> None:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout_seconds
        while True:
            try:
                self.engine.execute(f"ATTACH {sql_string(self.database)} AS {STORE}")
                return
            except duckdb.IOException as error:
                if "lock" not in str(error).lower():
                    raise
                if time.monotonic() >= deadline:
                    raise StoreLockedError(
                        f"{self.database} is in use by another process and was not released "
                        f"within {self.lock_timeout_seconds:g} s. DuckDB says: {error}"
                    ) from None
                time.sleep(0.5)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        # The engine connection may already be closed with the run.
        with contextlib.suppress(duckdb.Error):
            self.engine.execute(f"DETACH {STORE}")

    def handle_output(self, context: OutputContext, obj: duckdb.DuckDBPyRelation) -> None:
        name = table_name(context.asset_key)
        check_declared_columns(context, obj)
        view = f"output_{name}"
        obj.create_view(view, replace=True)
        started = time.monotonic()
        connection = self.engine.connection
        connection.execute("BEGIN TRANSACTION")
        try:
            connection.execute(
                f"CREATE OR REPLACE TABLE {STORE}.main.{quote(name)} AS SELECT * FROM {quote(view)}"
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        finally:
            connection.execute(f"DROP VIEW IF EXISTS {quote(view)}")
        stored = self.engine.sql(f"SELECT * FROM {STORE}.main.{quote(name)}")
        rows = self.engine.scalar(f"SELECT count(*) FROM {STORE}.main.{quote(name)}")
        seconds = time.monotonic() - started
        context.log.info(
            f"Wrote {rows:,} rows to table {name} in {seconds:.1f} s "
            f"({rows / max(seconds, 1e-9):,.0f} rows/s)."
        )
        context.add_output_metadata(
            {
                **table_metadata(stored, rows),
                "table": f"{Path(self.database).resolve()}::{name}",
            }
        )

    def load_input(self, context: InputContext) -> duckdb.DuckDBPyRelation:
        name = table_name(context.asset_key)
        return self.engine.sql(f"SELECT * FROM {STORE}.main.{quote(name)}")


class LocalDatasetIOManager(ConfigurableIOManager):
    """Writes each Personalize dataset as `<name>.csv` and `<name>.schema.json` in a folder."""

    engine: ResourceDependency[DuckDBEngine]
    directory: str = Field(description="Folder that receives the dataset CSVs and schemas.")

    def handle_output(self, context: OutputContext, obj: PersonalizeDataset) -> None:
        folder = Path(self.directory)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path = folder / f"{obj.name}.csv"
        schema_path = folder / f"{obj.name}.schema.json"
        started = time.monotonic()
        rows = write_csv(self.engine, obj.rows, csv_path)
        write_text_atomically(schema_path, obj.schema_json())
        seconds = time.monotonic() - started
        context.log.info(
            f"Wrote {rows:,} rows to {csv_path} in {seconds:.1f} s "
            f"({rows / max(seconds, 1e-9):,.0f} rows/s)."
        )
        written = self.read(obj.name, obj.schema, csv_path)
        context.add_output_metadata(
            {
                **table_metadata(written.rows, rows),
                "path": MetadataValue.path(str(csv_path.resolve())),
                "schema_path": MetadataValue.path(str(schema_path.resolve())),
                "personalize_schema": MetadataValue.json(obj.schema),
            }
        )

    def load_input(self, context: InputContext) -> PersonalizeDataset:
        name = table_name(context.asset_key)
        folder = Path(self.directory)
        schema = json.loads((folder / f"{name}.schema.json").read_text(encoding="utf-8"))
        return self.read(name, schema, folder / f"{name}.csv")

    def read(self, name: str, schema: dict[str, Any], csv_path: Path) -> PersonalizeDataset:
        """The dataset as stored: header as written, rows read back by DuckDB."""
        return read_dataset(self.engine, name, schema, csv_path)


def read_dataset(
    engine: DuckDBEngine, name: str, schema: dict[str, Any], csv_path: Path
) -> PersonalizeDataset:
    """Read a dataset CSV back with the column types its schema declares.

    The rows are a lazy relation over the file: every query reads the file again, so readers
    should ask for what they need in one query (the interactions checks count everything they
    need in one pass; the write's preview reads only the first rows).
    """
    with csv_path.open("r", encoding="utf-8", newline="") as handle:
        header = tuple(handle.readline().rstrip("\r\n").split(","))
    columns = ", ".join(
        f"{sql_string(column)}: {sql_string(kind)}"
        for column, kind in csv_columns(schema, header).items()
    )
    rows = engine.sql(
        f"""
        SELECT * FROM read_csv(
            ?, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
            columns = {{{columns}}}
        )
        """,
        [str(csv_path)],
    )
    return PersonalizeDataset(name=name, rows=rows, schema=schema, header=header)


def write_csv(engine: DuckDBEngine, rows: duckdb.DuckDBPyRelation, path: Path) -> int:
    """COPY `rows` to `path` via a temporary file in the same folder; returns the row count."""
    partial = path.with_name(f".{path.name}.partial")
    view = f"dataset_{path.stem}"
    rows.create_view(view, replace=True)
    try:
        copied = engine.rows(
            f"COPY (SELECT * FROM {quote(view)}) TO {sql_string(str(partial))} "
            "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"')"
        )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
        engine.execute(f"DROP VIEW IF EXISTS {quote(view)}")
    return int(copied[0][0])


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old file or the new one, never a mix."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
