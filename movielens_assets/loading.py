"""Reading one release file into typed rows and an account of every line that was set aside.

DuckDB's CSV reader splits the file into text fields and keeps what it cannot split in its rejects
table (field count, quoting, encoding, each with its line number). Each field's text is then
converted strictly in SQL: a number must be written as one (DuckDB's own casts would round `1.5`
to 2 and read `1_0` as 10), and the row rules (positive ids, plausible epoch seconds) are applied
in the same pass. Known movies are counted afterwards with one anti-join, and duplicate keys with
one aggregate. Line numbers for rows that pass the parser are costly (an ordered scan), so a file
is first read without them and read again with them only when a rule, an unknown movie or a
duplicate needs one.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
from dagster import get_dagster_logger

from movielens_assets.engine import DuckDBEngine, quote
from movielens_assets.release import Column, ReleaseFile
from movielens_assets.source import FileFacts, ReleaseFileError

REJECT_COLUMNS = "file VARCHAR, line BIGINT, raw_line VARCHAR, reason VARCHAR, kind VARCHAR"

PARSER_REASON = """
    CASE error_type
        WHEN 'CAST' THEN format(
            '{}: "{}" is not {}',
            column_name,
            regexp_extract(error_message, 'string "(.*)" to', 1),
            CASE WHEN error_message LIKE '%DOUBLE%' THEN 'a number' ELSE 'a whole number' END
        )
        WHEN 'TOO MANY COLUMNS' THEN format(
            '{} fields, expected {}',
            regexp_extract(error_message, 'Found: (\\d+)', 1),
            regexp_extract(error_message, 'Columns: (\\d+)', 1)
        )
        WHEN 'MISSING COLUMNS' THEN format(
            '{} fields, expected {}',
            regexp_extract(error_message, 'Found: (\\d+)', 1),
            regexp_extract(error_message, 'Columns: (\\d+)', 1)
        )
        WHEN 'UNQUOTED VALUE' THEN 'a quote that is not closed, or text after a closing quote'
        WHEN 'INVALID ENCODING' THEN 'bytes that are not valid UTF-8'
        WHEN 'LINE SIZE OVER MAXIMUM' THEN 'line longer than the reader allows'
        ELSE error_message
    END
"""


@dataclass(frozen=True)
class Rule:
    """A row rule: rows where `broken` (SQL) holds are rejected with `reason` (a SQL expression)."""

    broken: str
    reason: str


@dataclass(frozen=True)
class Duplicates:
    """How rows sharing `key` are resolved: the first row in `winner_order` is kept.

    `reason` is a SQL expression for each losing row; it may use window functions
    `OVER winners` (for instance `first_value(line) OVER winners`, the kept line).
    """

    key: tuple[str, ...]
    winner_order: str
    reason: str


@dataclass(frozen=True)
class Loaded:
    """Accepted rows of one file and every line that did not become a row, with its reason."""

    rows: duckdb.DuckDBPyRelation
    rejects: duckdb.DuckDBPyRelation


def sql_string(value: str) -> str:
    """Quote a value as a DuckDB string literal (for the few places parameters cannot go)."""
    return "'" + value.replace("'", "''") + "'"


RATING_TEXTS = tuple(text for half in range(1, 11) for text in {f"{half / 2:.1f}", f"{half / 2:g}"})


@dataclass(frozen=True)
class Conversion:
    """SQL for one column: its value, whether its text is written plainly, and why it is not.

    `plain` and `malformed` may refer to the value as the column `value_column`, computed once in
    an inner query (ratings are tested on their text). The value may be a number DuckDB read
    leniently (`1.5` cast to 2); such a row is never kept, because `plain` is false for it and the
    row is set aside as malformed.
    """

    value: str
    plain: str
    malformed: str


def conversion(column: Column, value_column: str) -> Conversion:
    """How one column's text becomes its value, strictly.

    Numbers must be written plainly: an id is its digits as DuckDB would print them back, a rating
    one of 0.5, 1.0 (or 1), ..., 5.0, and epoch seconds digits with at most a `.0` fraction (how
    pandas writes an integer column that once held a NaN). Each test is one cheap comparison for
    the plain case; the `.0` fraction is looked at only on rows that are not plain digits.
    """
    text = quote(column.header)
    if column.kind == "text":
        return Conversion(value=text, plain="true", malformed="NULL")
    if column.kind in ("id", "optional_id"):
        value = f"TRY_CAST({text} AS BIGINT)"
        plain = f"CAST({value_column} AS VARCHAR) = {text}"
        expected = "a plain whole number"
    elif column.kind == "rating":
        allowed = ", ".join(sql_string(rating) for rating in sorted(set(RATING_TEXTS)))
        value = f"TRY_CAST({text} AS DOUBLE)"
        plain = f"{text} IN ({allowed})"
        expected = "one of 0.5, 1.0, ..., 5.0"
    elif column.kind == "seconds":
        whole = f"split_part({text}, '.', 1)"
        value = (
            f"CASE WHEN CAST(TRY_CAST({text} AS BIGINT) AS VARCHAR) = {text} "
            f"THEN TRY_CAST({text} AS BIGINT) "
            f"WHEN regexp_full_match({text}, '-?[0-9]+[.]0+') "
            f"AND CAST(TRY_CAST({whole} AS BIGINT) AS VARCHAR) = {whole} "
            f"THEN TRY_CAST({whole} AS BIGINT) END"
        )
        plain = f"{value_column} IS NOT NULL"
        expected = "whole epoch seconds"
    else:
        raise ValueError(f"unknown column kind {column.kind!r}")
    if column.kind == "optional_id":
        plain = f"({text} IS NULL OR {plain})"
    empty = "NULL" if column.kind == "optional_id" else sql_string(f"{column.header} is empty")
    malformed = (
        f"CASE WHEN {text} IS NULL THEN {empty} WHEN NOT coalesce({plain}, false) "
        f"THEN format('{column.header} \"{{}}\" is not {expected}', {text}) END"
    )
    return Conversion(value=value, plain=plain, malformed=malformed)


def csv_field(text: str) -> str:
    """SQL quoting a text value as one CSV field (quoted only when it has to be)."""
    return f"""CASE
        WHEN {text} IS NULL THEN ''
        WHEN regexp_matches({text}, '[",\\r\\n]') THEN '"' || replace({text}, '"', '""') || '"'
        ELSE {text}
    END"""


def csv_scan(release_file: ReleaseFile, header: Sequence[str]) -> str:
    """The read_csv call for a file whose header is `header` (names already checked)."""
    columns = ", ".join(f"{sql_string(name)}: 'VARCHAR'" for name in header)
    key = release_file.key
    return f"""read_csv(
        ?,
        header = true,
        auto_detect = false,
        delim = ',',
        quote = '"',
        escape = '"',
        strict_mode = true,
        store_rejects = true,
        rejects_table = {sql_string(f"rejects_{key}")},
        rejects_scan = {sql_string(f"rejects_{key}_scans")},
        columns = {{{columns}}}
    )"""


def parse(
    engine: DuckDBEngine,
    release_file: ReleaseFile,
    facts: FileFacts,
    rules: Sequence[Rule],
    known_movies: bool,
    numbered: bool,
) -> str:
    """Parse and classify the file in one pass into a scratch table; return the table's name.

    Each row gets its typed columns, `malformed` (why a field is not written plainly) and
    `reason` (why the row is set aside, NULL when it is kept). When `numbered`, rows also get
    their physical `line` and the original text of malformed rows. With `known_movies`, rules may
    use `known_movie`: on the numbered pass whether movie_id is in the view `known_movies`, on the
    first pass always true (`load_release_file` counts unknown movies separately).
    """
    key = release_file.key
    engine.execute(f"DROP TABLE IF EXISTS {quote(f'rejects_{key}')}")
    engine.execute(f"DROP TABLE IF EXISTS {quote(f'rejects_{key}_scans')}")
    conversions = {
        column.name: conversion(column, quote(f"{column.name}__value"))
        for column in release_file.columns
    }
    values = ", ".join(
        f"{converted.value} AS {quote(f'{name}__value')}" for name, converted in conversions.items()
    )
    typed = ", ".join(f"{quote(f'{name}__value')} AS {quote(name)}" for name in conversions)
    # An empty required number makes its test NULL, which CASE treats as not plain.
    all_plain = " AND ".join(converted.plain for converted in conversions.values())
    why = ", ".join(converted.malformed for converted in conversions.values())
    malformed = f"CASE WHEN {all_plain} THEN NULL ELSE NULLIF(concat_ws('; ', {why}), '') END"
    original = " || ',' || ".join(csv_field(quote(header)) for header in facts.header)
    extra = ""
    if numbered:
        extra += f", CASE WHEN {all_plain} THEN NULL ELSE {original} END AS malformed_line"
    if known_movies:
        # A lookup per row costs about a quarter of the pass, so the first pass assumes every
        # movie is known and `load_release_file` counts the unknown ones with one anti-join.
        known = (
            "movie_id__value IN (SELECT movie_id FROM known_movies WHERE movie_id IS NOT NULL)"
            if numbered
            else "true"
        )
        extra += f", {known} AS known_movie"
    ordinal = "row_number() OVER () AS ordinal, " if numbered else ""
    parsed = engine.sql(
        f"""
        SELECT *, {reason_case(rules)} AS reason
        FROM (
            SELECT {"ordinal, " if numbered else ""}{typed}, {malformed} AS malformed{extra}
            FROM (
                SELECT {ordinal}*, {values}
                FROM {csv_scan(release_file, facts.header)}
            )
        )
        """,
        [facts.local_path],
    )
    table = f"parsed_{key}"
    try:
        engine.stage(table, parsed)
    except duckdb.Error as error:
        # DuckDB stops on what it cannot frame at all (e.g. a quote or newline state it cannot
        # leave); row-level problems never get here, they land in its rejects table.
        raise ReleaseFileError(
            f"{facts.file_name}: DuckDB could not read the file: {error}"
        ) from None
    engine.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {quote(f"unparsed_{key}")} AS
        SELECT
            line,
            trim(any_value(csv_line), chr(13) || chr(10)) AS raw_line,
            string_agg(DISTINCT {PARSER_REASON}, '; ') AS reason
        FROM {quote(f"rejects_{key}")}
        GROUP BY line
        """
    )
    if numbered:
        engine.stage(f"numbered_{key}", number_lines(engine, release_file, facts))
        return f"numbered_{key}"
    return table


def number_lines(
    engine: DuckDBEngine, release_file: ReleaseFile, facts: FileFacts
) -> duckdb.DuckDBPyRelation:
    """Turn parse ordinals into physical line numbers by stepping over unparsed and blank lines.

    The k-th parsed row sits on line k + 1 + i, where i is the number of skipped lines before
    it: the largest i whose i-th skipped line r_i satisfies r_i - i <= k.
    """
    key = release_file.key
    return engine.sql(
        f"""
        WITH skipped AS (
            SELECT line, row_number() OVER (ORDER BY line) AS n
            FROM (
                SELECT line FROM {quote(f"unparsed_{key}")}
                UNION ALL
                SELECT unnest(?::BIGINT[]) AS line
            )
        ),
        steps AS (
            SELECT line - n AS after_ordinal, max(n) AS n
            FROM skipped
            GROUP BY line - n
        )
        SELECT parsed.* EXCLUDE (ordinal), parsed.ordinal + 1 + coalesce(steps.n, 0) AS line
        FROM {quote(f"parsed_{key}")} AS parsed
        ASOF LEFT JOIN steps ON parsed.ordinal >= steps.after_ordinal
        """,
        [list(facts.blank_lines)],
    )


def reason_case(rules: Sequence[Rule]) -> str:
    """The first reason a row is set aside: a malformed field, then the first broken rule."""
    branches = "\n".join(
        f"WHEN {rule.broken} THEN {rule.reason}"
        for rule in (Rule("malformed IS NOT NULL", "malformed"), *rules)
    )
    return f"CASE {branches} ELSE NULL END"


def raw_line_sql(release_file: ReleaseFile) -> str:
    """The line for the rejects table: the original fields of a malformed row, else its values."""
    fields = " || ',' || ".join(
        csv_field(f"CAST({quote(column.name)} AS VARCHAR)") for column in release_file.columns
    )
    return f"coalesce(malformed_line, {fields})"


def load_release_file(
    engine: DuckDBEngine,
    release_file: ReleaseFile,
    facts: FileFacts,
    rules: Sequence[Rule],
    duplicates: Duplicates | None = None,
    known_movies: duckdb.DuckDBPyRelation | None = None,
) -> Loaded:
    """Parse, check and de-duplicate one file; every data line ends up in `rows` or `rejects`."""
    key = release_file.key
    columns = ", ".join(quote(column.name) for column in release_file.columns)
    if known_movies is not None:
        known_movies.create_view("known_movies", replace=True)
    parsed = parse(engine, release_file, facts, rules, known_movies is not None, numbered=False)
    broken = engine.scalar(f"SELECT count(*) FROM {parsed} WHERE reason IS NOT NULL")
    if known_movies is not None:
        broken += engine.scalar(
            f"SELECT count(*) FROM {parsed} ANTI JOIN known_movies USING (movie_id) "
            "WHERE reason IS NULL"
        )
    repeated = 0
    if duplicates is not None:
        repeated = engine.scalar(
            f"""
            SELECT count(*) FROM (
                SELECT {", ".join(quote(name) for name in duplicates.key)}
                FROM {parsed}
                WHERE reason IS NULL
                GROUP BY ALL
                HAVING count(*) > 1
            )
            """
        )
    engine.sql(
        f"""
        SELECT ? AS file, line, raw_line, reason, 'rejected' AS kind
        FROM {quote(f"unparsed_{key}")}
        UNION ALL
        SELECT ? AS file, unnest(?::BIGINT[]) AS line, '' AS raw_line,
            'blank line' AS reason, 'blank' AS kind
        """,
        [release_file.file_name, release_file.file_name, list(facts.blank_lines)],
    ).create_view(f"skipped_{key}", replace=True)
    if broken == 0 and repeated == 0:
        return Loaded(
            rows=engine.sql(f"SELECT {columns} FROM {parsed}"),
            rejects=engine.sql(f"SELECT * FROM skipped_{key} ORDER BY line"),
        )

    get_dagster_logger().info(
        f"{release_file.file_name}: {broken:,} rows break a row rule and {repeated:,} keys repeat;"
        " reading the file again with line numbers to report them."
    )
    numbered = parse(engine, release_file, facts, rules, known_movies is not None, numbered=True)
    if duplicates is None:
        engine.stage(
            f"ranked_{key}",
            engine.sql(
                f"SELECT *, 1 AS rank, NULL AS duplicate_reason FROM {numbered} "
                "WHERE reason IS NULL"
            ),
        )
    else:
        engine.stage(
            f"ranked_{key}",
            engine.sql(
                f"""
                SELECT
                    *,
                    row_number() OVER winners AS rank,
                    {duplicates.reason} AS duplicate_reason
                FROM {numbered}
                WHERE reason IS NULL
                WINDOW winners AS (
                    PARTITION BY {", ".join(quote(name) for name in duplicates.key)}
                    ORDER BY {duplicates.winner_order}
                )
                """
            ),
        )
    rejects = engine.sql(
        f"""
        SELECT ? AS file, line, {raw_line_sql(release_file)} AS raw_line, reason,
            'rejected' AS kind
        FROM {numbered}
        WHERE reason IS NOT NULL
        UNION ALL
        SELECT ? AS file, line, {raw_line_sql(release_file)} AS raw_line,
            duplicate_reason AS reason, 'duplicate' AS kind
        FROM ranked_{key}
        WHERE rank > 1
        UNION ALL
        SELECT * FROM skipped_{key}
        ORDER BY line
        """,
        [release_file.file_name, release_file.file_name],
    )
    rows = engine.sql(f"SELECT {columns} FROM ranked_{key} WHERE rank = 1 ORDER BY line")
    return Loaded(rows=rows, rejects=rejects)
