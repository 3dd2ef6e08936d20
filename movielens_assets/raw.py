"""Raw assets: one per release file, recording what the file holds before any row is parsed.

Each raw asset checks that its file exists and that its header maps to the expected columns, then
stores one row of facts (size, SHA-256 fingerprint, data lines, blank lines). The fingerprint is
the asset's data version, so the UI marks everything downstream stale when a file changes.
"""

import warnings

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BetaWarning,
    DataVersion,
    Failure,
    Output,
    TableColumn,
    TableSchema,
    asset,
)

from movielens_assets.engine import DuckDBEngine
from movielens_assets.release import RELEASE_FILES, ReleaseFile
from movielens_assets.source import FileFacts, ReleaseFileError, ReleaseSource

FACTS_SCHEMA = TableSchema(
    columns=[
        TableColumn("file_name", "VARCHAR", description="Name of the release file."),
        TableColumn("location", "VARCHAR", description="Where the file was read from."),
        TableColumn("local_path", "VARCHAR", description="The local copy DuckDB parsed."),
        TableColumn("header", "VARCHAR[]", description="Header names in file order."),
        TableColumn("size_bytes", "BIGINT", description="File size in bytes."),
        TableColumn("fingerprint", "VARCHAR", description="SHA-256 of the file's bytes."),
        TableColumn("data_lines", "BIGINT", description="Physical lines after the header."),
        TableColumn("blank_lines", "BIGINT[]", description="Line numbers of empty lines."),
    ]
)


def facts_relation(engine: DuckDBEngine, facts: FileFacts) -> duckdb.DuckDBPyRelation:
    """One row holding `facts`, typed as FACTS_SCHEMA declares."""
    return engine.sql(
        """
        SELECT
            ?::VARCHAR AS file_name,
            ?::VARCHAR AS location,
            ?::VARCHAR AS local_path,
            ?::VARCHAR[] AS header,
            ?::BIGINT AS size_bytes,
            ?::VARCHAR AS fingerprint,
            ?::BIGINT AS data_lines,
            ?::BIGINT[] AS blank_lines
        """,
        [
            facts.file_name,
            facts.location,
            facts.local_path,
            list(facts.header),
            facts.size_bytes,
            facts.fingerprint,
            facts.data_lines,
            list(facts.blank_lines),
        ],
    )


def facts_from(relation: duckdb.DuckDBPyRelation) -> FileFacts:
    """Read the one row of a raw asset back into FileFacts."""
    row = dict(zip(relation.columns, relation.fetchall()[0], strict=True))
    return FileFacts(
        file_name=row["file_name"],
        location=row["location"],
        local_path=row["local_path"],
        header=tuple(row["header"]),
        size_bytes=row["size_bytes"],
        fingerprint=row["fingerprint"],
        data_lines=row["data_lines"],
        blank_lines=tuple(row["blank_lines"]),
    )


def build_raw_asset(release_file: ReleaseFile) -> AssetsDefinition:
    """The raw asset for one release file."""

    @asset(
        name=f"raw_{release_file.key}",
        group_name="raw",
        kinds={"csv", "duckdb"},
        description=(
            f"{release_file.file_name} as found: one row of facts about the file (size, SHA-256, "
            f"data lines). {release_file.description} The fingerprint is the data version."
        ),
        metadata={"dagster/column_schema": FACTS_SCHEMA},
    )
    def raw_file(
        context: AssetExecutionContext, source: ReleaseSource, engine: DuckDBEngine
    ) -> Output[duckdb.DuckDBPyRelation]:
        try:
            facts = source.inspect(release_file)
        except ReleaseFileError as error:
            raise Failure(description=str(error), allow_retries=False) from None
        context.log.info(
            f"{facts.file_name}: {facts.size_bytes:,} bytes, {facts.data_lines:,} data lines, "
            f"{len(facts.blank_lines):,} blank, header {','.join(facts.header)}."
        )
        # data_version is marked beta; it is what makes downstream assets show as stale.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BetaWarning)
            return Output(
                facts_relation(engine, facts),
                data_version=DataVersion(facts.fingerprint),
                metadata={
                    "location": facts.location,
                    "size_bytes": facts.size_bytes,
                    "fingerprint": facts.fingerprint,
                    "data_lines": facts.data_lines,
                },
            )

    return raw_file


raw_assets = [build_raw_asset(release_file) for release_file in RELEASE_FILES]
