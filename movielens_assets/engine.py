"""The DuckDB engine every step computes in: one in-memory connection per process, spilling to disk.

Asset code builds relations on this connection; IO managers attach storage to the same connection
and persist those relations, so big tables never leave DuckDB. Intermediate tables are staged in a
scratch database file that is deleted when the run ends.
"""

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
from dagster import ConfigurableResource, InitResourceContext, get_dagster_logger
from pydantic import Field, PrivateAttr

WORK_CATALOG = "work"
PROGRESS_SECONDS = 10.0


class DuckDBEngine(ConfigurableResource):
    """An in-memory DuckDB connection with bounded memory and a spill directory."""

    memory_limit: str = Field(default="1GB", description="DuckDB memory_limit for one process.")
    threads: int = Field(default=0, description="DuckDB threads; 0 lets DuckDB use every core.")
    temp_dir: str = Field(
        default="",
        description="Spill and scratch directory; when empty, a temp dir removed afterwards.",
    )

    _connection: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _work_file: Path | None = PrivateAttr(default=None)
    _owned_spill: Path | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        spill = Path(self.temp_dir or tempfile.mkdtemp(prefix="movielens-duckdb-"))
        spill.mkdir(parents=True, exist_ok=True)
        self._work_file = spill / f"work-{os.getpid()}-{id(self)}.duckdb"
        connection = duckdb.connect(":memory:")
        connection.execute("SET memory_limit = ?", [self.memory_limit])
        connection.execute("SET temp_directory = ?", [str(spill)])
        if self.threads:
            connection.execute("SET threads = ?", [self.threads])
        # Progress is read by `reporting_progress`, never printed.
        connection.execute("SET enable_progress_bar = true")
        connection.execute("SET enable_progress_bar_print = false")
        # Staged tables go to a scratch database file, not to memory: written compressed, a
        # 25M-row ratings table takes about 180 MB of disk instead of 800 MB of buffer pool,
        # and the queries that follow spill less and scan faster.
        path = str(self._work_file).replace("'", "''")
        connection.execute(f"ATTACH '{path}' AS {WORK_CATALOG}")
        # Views and ad-hoc objects stay in memory; bare names also find the staged tables.
        connection.execute(f"SET search_path = 'memory.main,{WORK_CATALOG}.main'")
        self._owned_spill = None if self.temp_dir else spill
        self._connection = connection

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._work_file is not None:
            for leftover in (
                self._work_file,
                self._work_file.with_name(self._work_file.name + ".wal"),
            ):
                leftover.unlink(missing_ok=True)
            self._work_file = None
        if self._owned_spill is not None:
            shutil.rmtree(self._owned_spill, ignore_errors=True)
            self._owned_spill = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            raise RuntimeError("DuckDBEngine used outside a run: no connection is open.")
        return self._connection

    @contextlib.contextmanager
    def reporting_progress(self, what: str, rows: int) -> Iterator[None]:
        """Log every 10 s, while the block runs, how far DuckDB's current query has got.

        DuckDB reports the share of its input a running query has read; with `rows` input rows
        that gives the rows done and, over the last interval, the rows per second. A step that
        parses or writes millions of rows thus shows in the UI that it is moving, and how fast.
        """
        logger = get_dagster_logger()
        stop = threading.Event()

        def watch() -> None:
            previous = 0
            while not stop.wait(PROGRESS_SECONDS):
                share = self.connection.query_progress()
                if share < 0:
                    continue
                done = int(rows * share / 100)
                # A share lower than last time means a new query has started from zero.
                rate = (done - previous if done >= previous else done) / PROGRESS_SECONDS
                previous = done
                logger.info(
                    f"{what}: the current query has read about {done:,} of {rows:,} rows "
                    f"({share:.0f}%), {rate:,.0f} rows/s over the last {PROGRESS_SECONDS:.0f} s."
                )

        watcher = threading.Thread(target=watch, name=f"progress of {what}", daemon=True)
        started = time.monotonic()
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join()
            seconds = time.monotonic() - started
            if seconds >= PROGRESS_SECONDS:
                logger.info(
                    f"{what}: {rows:,} rows done in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)."
                )

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
        """Compute `relation` once into the scratch table `name`; return a relation over it."""
        view = f"{name}__source"
        relation.create_view(view, replace=True)
        table = f"{WORK_CATALOG}.main.{quote(name)}"
        self.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {quote(view)}")
        self.execute(f"DROP VIEW {quote(view)}")
        return self.sql(f"SELECT * FROM {table}")


def quote(identifier: str) -> str:
    """Quote a DuckDB identifier (table or column name)."""
    return '"' + identifier.replace('"', '""') + '"'
