"""The DuckDB engine every step computes in: one in-memory connection per process, spilling to disk.

Asset code builds relations on this connection; IO managers attach storage to the same connection
and persist those relations, so big tables never leave DuckDB.
"""

import tempfile
from collections.abc import Sequence
from typing import Any

import duckdb
from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr


class DuckDBEngine(ConfigurableResource):
    """An in-memory DuckDB connection with bounded memory and a spill directory."""

    memory_limit: str = Field(default="1GB", description="DuckDB memory_limit for one process.")
    threads: int = Field(default=0, description="DuckDB threads; 0 lets DuckDB use every core.")
    temp_dir: str = Field(default="", description="Spill directory; a fresh temp dir when empty.")

    _connection: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        spill = self.temp_dir or tempfile.mkdtemp(prefix="movielens-duckdb-")
        connection = duckdb.connect(":memory:")
        connection.execute("SET memory_limit = ?", [self.memory_limit])
        connection.execute("SET temp_directory = ?", [spill])
        if self.threads:
            connection.execute("SET threads = ?", [self.threads])
        self._connection = connection

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            raise RuntimeError("DuckDBEngine used outside a run: no connection is open.")
        return self._connection

    def sql(self, query: str, params: Sequence[Any] | None = None) -> duckdb.DuckDBPyRelation:
        """A lazy relation for `query`; values go in `params`, never into the SQL text."""
        return self.connection.sql(query, params=list(params) if params else None)

    def execute(self, query: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement for its effect (CREATE, DROP, COPY)."""
        self.connection.execute(query, list(params) if params else None)

    def rows(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a small query and return its rows."""
        return self.connection.execute(query, list(params) if params else None).fetchall()

    def scalar(self, query: str, params: Sequence[Any] | None = None) -> Any:
        """Run a query that returns one value."""
        return self.rows(query, params)[0][0]

    def stage(self, name: str, relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
        """Compute `relation` once into a temp table `name` and return a relation over it."""
        view = f"{name}__source"
        relation.create_view(view, replace=True)
        self.execute(f"CREATE OR REPLACE TEMP TABLE {quote(name)} AS SELECT * FROM {quote(view)}")
        self.execute(f"DROP VIEW {quote(view)}")
        return self.sql(f"SELECT * FROM {quote(name)}")


def quote(identifier: str) -> str:
    """Quote a DuckDB identifier (table or column name)."""
    return '"' + identifier.replace('"', '""') + '"'
