"""Asset checks: every line accounted for, keys unique and known, datasets fit for Personalize.

ERROR checks are blocking where a failure means a wrong dataset would ship; WARN checks point a
human at set-aside lines. Every result carries its numbers and the first offending rows.
"""

from collections.abc import Sequence
from typing import Any

import duckdb
from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetIn,
    ConfigurableResource,
    MetadataValue,
    asset_check,
)
from pydantic import Field

from movielens_assets.datasets import PersonalizeDataset, markdown_table
from movielens_assets.engine import DuckDBEngine
from movielens_assets.personalize import MIN_RATING
from movielens_assets.raw import facts_from
from movielens_assets.release import MOVIELENS_GENRES
from movielens_assets.seeded import (
    GENRE_PATTERN,
    LAST_PLAUSIBLE_SECOND,
    MAX_CATEGORICAL_LENGTH,
    NO_GENRES,
)

MAX_ID_LENGTH = 256
SAMPLE_ROWS = 5


class LoadPolicy(ConfigurableResource):
    """How many rejected lines a file may have before the run stops."""

    max_reject_share: float = Field(
        default=0.01, ge=0.0, le=1.0, description="Largest share of a file's lines rejected."
    )


def register(engine: DuckDBEngine, prefix: str, **relations: duckdb.DuckDBPyRelation) -> None:
    """Make each relation queryable as the view `<prefix>_<name>`."""
    for name, relation in relations.items():
        relation.create_view(f"{prefix}_{name}", replace=True)


Query = tuple[str, str] | tuple[str, str, list[Any]]


def offenders_check(
    engine: DuckDBEngine,
    queries: Sequence[Query],
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
    metadata: dict[str, Any] | None = None,
) -> AssetCheckResult:
    """Pass when every query `(label, SQL[, params])` returns no rows; report counts and samples."""
    failures = []
    results: dict[str, Any] = dict(metadata or {})
    for label, query, *params in queries:
        values = params[0] if params else None
        offenders = engine.sql(query, values)
        count = engine.scalar(f"SELECT count(*) FROM ({query})", values)
        results[label] = count
        if count:
            failures.append(f"{label}: {count:,}")
            results[f"{label} (first rows)"] = MetadataValue.md(
                markdown_table(offenders, SAMPLE_ROWS)
            )
    return AssetCheckResult(
        passed=not failures,
        severity=severity,
        description="; ".join(failures) if failures else "No offending rows.",
        metadata=results,
    )


def build_file_checks(key: str) -> list[AssetChecksDefinition]:
    """Checks on a table loaded from one release file and on its rejects."""
    table = "movies" if key == "movies" else key

    @asset_check(
        asset=table,
        name="rows_accounted_for",
        blocking=True,
        additional_ins={"raw": AssetIn(f"raw_{key}"), "rejects": AssetIn(f"{key}_rejects")},
        description=(
            f"Every data line of {key}.csv is a row of {table} or a line of {key}_rejects."
        ),
    )
    def rows_accounted_for(
        engine: DuckDBEngine,
        loaded: duckdb.DuckDBPyRelation,
        raw: duckdb.DuckDBPyRelation,
        rejects: duckdb.DuckDBPyRelation,
    ) -> AssetCheckResult:
        lines = facts_from(raw).data_lines
        register(engine, f"accounted_{key}", loaded=loaded, rejects=rejects)
        rows = engine.scalar(f"SELECT count(*) FROM accounted_{key}_loaded")
        set_aside = engine.scalar(f"SELECT count(*) FROM accounted_{key}_rejects")
        missing = lines - rows - set_aside
        return AssetCheckResult(
            passed=missing == 0,
            severity=AssetCheckSeverity.ERROR,
            description=(
                f"{lines:,} data lines = {rows:,} rows + {set_aside:,} set aside."
                if missing == 0
                else f"{key}.csv has {lines:,} data lines but {rows:,} rows + {set_aside:,} set "
                f"aside = {rows + set_aside:,}: {abs(missing):,} lines unaccounted for (a quoted "
                "field spanning lines, or an unclosed quote swallowing the lines after it)."
            ),
            metadata={"data_lines": lines, "rows": rows, "set_aside": set_aside},
        )

    @asset_check(
        asset=table,
        name="rejects_within_limit",
        blocking=True,
        additional_ins={"raw": AssetIn(f"raw_{key}"), "rejects": AssetIn(f"{key}_rejects")},
        description=(
            f"Rejected and duplicate lines of {key}.csv stay within the allowed share "
            "(MOVIELENS_MAX_REJECT_SHARE, default 1%), so a broken file stops the run."
        ),
    )
    def rejects_within_limit(
        engine: DuckDBEngine,
        load_policy: LoadPolicy,
        loaded: duckdb.DuckDBPyRelation,
        raw: duckdb.DuckDBPyRelation,
        rejects: duckdb.DuckDBPyRelation,
    ) -> AssetCheckResult:
        lines = facts_from(raw).data_lines
        register(engine, f"limit_{key}", rejects=rejects)
        counted = f"SELECT * FROM limit_{key}_rejects WHERE kind IN ('rejected', 'duplicate')"
        rejected = engine.scalar(f"SELECT count(*) FROM ({counted})")
        share = rejected / lines if lines else 0.0
        passed = share <= load_policy.max_reject_share
        return AssetCheckResult(
            passed=passed,
            severity=AssetCheckSeverity.ERROR,
            description=(
                f"{rejected:,} of {lines:,} lines of {key}.csv rejected or duplicate "
                f"({share:.2%}); the limit is {load_policy.max_reject_share:.2%}."
            ),
            metadata={
                "rejected": rejected,
                "data_lines": lines,
                "share": share,
                "limit": load_policy.max_reject_share,
                "most common reasons": MetadataValue.md(
                    markdown_table(
                        engine.sql(
                            f"SELECT kind, reason, count(*) AS lines FROM ({counted}) "
                            "GROUP BY ALL ORDER BY lines DESC, reason"
                        ),
                        limit=10,
                    )
                ),
                "first lines": MetadataValue.md(markdown_table(engine.sql(counted))),
            },
        )

    @asset_check(
        asset=f"{key}_rejects",
        name="no_lines_set_aside",
        description=f"Warns when any line of {key}.csv was set aside, with the first few.",
    )
    def no_lines_set_aside(
        engine: DuckDBEngine, rejects: duckdb.DuckDBPyRelation
    ) -> AssetCheckResult:
        register(engine, f"aside_{key}", rejects=rejects)
        counts = dict(engine.rows(f"SELECT kind, count(*) FROM aside_{key}_rejects GROUP BY kind"))
        return offenders_check(
            engine,
            [("lines set aside", f"SELECT * FROM aside_{key}_rejects ORDER BY line")],
            severity=AssetCheckSeverity.WARN,
            metadata={f"{kind} lines": count for kind, count in counts.items()},
        )

    return [rows_accounted_for, rejects_within_limit, no_lines_set_aside]


def build_key_check(table: str, key_columns: Sequence[str]) -> AssetChecksDefinition:
    """A blocking check that `key_columns` identify one row of `table`."""
    columns = ", ".join(key_columns)

    @asset_check(
        asset=table,
        name="key_is_unique",
        blocking=True,
        description=f"({columns}) identifies exactly one row of {table}.",
    )
    def key_is_unique(engine: DuckDBEngine, rows: duckdb.DuckDBPyRelation) -> AssetCheckResult:
        register(engine, f"unique_{table}", rows=rows)
        return offenders_check(
            engine,
            [
                (
                    "repeated keys",
                    f"SELECT {columns}, count(*) AS copies FROM unique_{table}_rows "
                    f"GROUP BY ALL HAVING count(*) > 1",
                ),
                (
                    "empty keys",
                    f"SELECT * FROM unique_{table}_rows "
                    f"WHERE {' OR '.join(f'{column} IS NULL' for column in key_columns)}",
                ),
            ],
        )

    return key_is_unique


def build_known_movies_check(table: str) -> AssetChecksDefinition:
    """A blocking check that every movie_id of `table` is a movie."""

    @asset_check(
        asset=table,
        name="movies_known",
        blocking=True,
        additional_ins={"movies": AssetIn("movies")},
        description=f"Every movie_id in {table} is in movies.",
    )
    def movies_known(
        engine: DuckDBEngine, rows: duckdb.DuckDBPyRelation, movies: duckdb.DuckDBPyRelation
    ) -> AssetCheckResult:
        register(engine, f"known_{table}", rows=rows, movies=movies)
        return offenders_check(
            engine,
            [
                (
                    "unknown movies",
                    f"SELECT * FROM known_{table}_rows ANTI JOIN known_{table}_movies "
                    "USING (movie_id)",
                )
            ],
        )

    return movies_known


@asset_check(
    asset="genres",
    name="genres_are_names",
    blocking=True,
    additional_ins={"movie_genres": AssetIn("movie_genres")},
)
def genres_are_names(
    engine: DuckDBEngine,
    genres: duckdb.DuckDBPyRelation,
    movie_genres: duckdb.DuckDBPyRelation,
) -> AssetCheckResult:
    """Genres are names (no placeholder, spaces, digits or stray CRs) and match movie_genres."""
    register(engine, "named", genres=genres, pairs=movie_genres)
    return offenders_check(
        engine,
        [
            (
                "not a genre name",
                f"SELECT genre FROM named_genres WHERE genre = '{NO_GENRES}' "
                f"OR NOT regexp_full_match(genre, '{GENRE_PATTERN}')",
            ),
            (
                "genres without movies",
                "SELECT genre FROM named_genres ANTI JOIN named_pairs USING (genre)",
            ),
            (
                "movie genres missing",
                "SELECT DISTINCT genre FROM named_pairs ANTI JOIN named_genres USING (genre)",
            ),
        ],
    )


@asset_check(asset="genres", name="genres_in_movielens_list")
def genres_in_movielens_list(
    engine: DuckDBEngine, genres: duckdb.DuckDBPyRelation
) -> AssetCheckResult:
    """Warns about genre names outside the MovieLens list (a new genre, or `drama` for `Drama`)."""
    register(engine, "listed", genres=genres)
    return offenders_check(
        engine,
        [
            (
                "genres outside the MovieLens list",
                "SELECT * FROM listed_genres WHERE genre NOT IN (SELECT unnest(?::VARCHAR[]))",
                [list(MOVIELENS_GENRES)],
            )
        ],
        severity=AssetCheckSeverity.WARN,
    )


@asset_check(
    asset="users",
    name="users_match_activity",
    blocking=True,
    additional_ins={"ratings": AssetIn("ratings"), "tags": AssetIn("tags")},
)
def users_match_activity(
    engine: DuckDBEngine,
    users: duckdb.DuckDBPyRelation,
    ratings: duckdb.DuckDBPyRelation,
    tags: duckdb.DuckDBPyRelation,
) -> AssetCheckResult:
    """users holds exactly the users with a kept rating or tag."""
    register(engine, "active", users=users, ratings=ratings, tags=tags)
    active = "SELECT user_id FROM active_ratings UNION SELECT user_id FROM active_tags"
    return offenders_check(
        engine,
        [
            (
                "active users missing",
                f"SELECT user_id FROM ({active}) ANTI JOIN active_users USING (user_id)",
            ),
            (
                "users without activity",
                f"SELECT user_id FROM active_users ANTI JOIN ({active}) USING (user_id)",
            ),
        ],
    )


def header_matches_schema(dataset: PersonalizeDataset) -> Query:
    """A query that returns one row when the CSV header differs from the schema's field order."""
    return (
        "header differs from schema",
        "SELECT ? AS csv_header, ? AS schema_fields WHERE ? <> ?",
        [",".join(dataset.header), ",".join(dataset.field_names)] * 2,
    )


@asset_check(
    asset="interactions",
    name="interactions_match_ratings",
    blocking=True,
    additional_ins={"ratings": AssetIn("ratings")},
)
def interactions_match_ratings(
    engine: DuckDBEngine, interactions: PersonalizeDataset, ratings: duckdb.DuckDBPyRelation
) -> AssetCheckResult:
    """One interaction per rating >= 3, none below, each at its rating's own user, item and time."""
    register(engine, "matched", interactions=interactions.rows, ratings=ratings)
    expected = engine.scalar("SELECT count(*) FROM matched_ratings WHERE rating >= ?", [MIN_RATING])
    written = engine.scalar("SELECT count(*) FROM matched_interactions")
    return offenders_check(
        engine,
        [
            (
                "count differs from ratings >= 3",
                "SELECT ? AS interactions, ? AS ratings_at_or_above_3 WHERE ? <> ?",
                [written, expected, written, expected],
            ),
            (
                "rating below 3",
                f"SELECT * FROM matched_interactions WHERE EVENT_VALUE < {MIN_RATING}",
            ),
            (
                "not a source rating",
                """
                SELECT interaction.* FROM matched_interactions AS interaction
                ANTI JOIN matched_ratings AS rating
                ON interaction.USER_ID = CAST(rating.user_id AS VARCHAR)
                AND interaction.ITEM_ID = CAST(rating.movie_id AS VARCHAR)
                AND interaction.TIMESTAMP = rating.timestamp
                AND interaction.EVENT_VALUE = rating.rating
                """,
            ),
        ],
        metadata={"interactions": written, "ratings_at_or_above_3": expected},
    )


@asset_check(
    asset="items",
    name="interaction_ids_known",
    blocking=True,
    additional_ins={"interactions": AssetIn("interactions"), "users": AssetIn("users")},
)
def interaction_ids_known(
    engine: DuckDBEngine,
    items: PersonalizeDataset,
    interactions: PersonalizeDataset,
    users: duckdb.DuckDBPyRelation,
) -> AssetCheckResult:
    """Every ITEM_ID of interactions.csv is in items.csv and every USER_ID is in users.

    It sits on items, which is written after interactions, so it checks the published pair.
    """
    register(engine, "ids", interactions=interactions.rows, items=items.rows, users=users)
    return offenders_check(
        engine,
        [
            (
                "ITEM_ID not in items",
                "SELECT * FROM ids_interactions ANTI JOIN ids_items USING (ITEM_ID)",
            ),
            (
                "USER_ID not in users",
                "SELECT * FROM ids_interactions AS interaction ANTI JOIN ids_users AS known "
                "ON interaction.USER_ID = CAST(known.user_id AS VARCHAR)",
            ),
        ],
    )


@asset_check(asset="interactions", name="interactions_fit_personalize", blocking=True)
def interactions_fit_personalize(
    engine: DuckDBEngine, interactions: PersonalizeDataset
) -> AssetCheckResult:
    """Header in schema order, ids at most 256 characters, TIMESTAMP in whole epoch seconds."""
    register(engine, "fit", interactions=interactions.rows)
    return offenders_check(
        engine,
        [
            header_matches_schema(interactions),
            (
                "id longer than 256",
                f"SELECT * FROM fit_interactions WHERE length(USER_ID) > {MAX_ID_LENGTH} "
                f"OR length(ITEM_ID) > {MAX_ID_LENGTH}",
            ),
            (
                "TIMESTAMP not epoch seconds",
                f"SELECT * FROM fit_interactions WHERE TIMESTAMP IS NULL OR TIMESTAMP < 0 "
                f"OR TIMESTAMP >= {LAST_PLAUSIBLE_SECOND}",
            ),
        ],
    )


@asset_check(
    asset="items",
    name="items_match_movies",
    blocking=True,
    additional_ins={"movies": AssetIn("movies")},
)
def items_match_movies(
    engine: DuckDBEngine, items: PersonalizeDataset, movies: duckdb.DuckDBPyRelation
) -> AssetCheckResult:
    """One item per movie, no more, no less."""
    register(engine, "catalogue", items=items.rows, movies=movies)
    return offenders_check(
        engine,
        [
            (
                "movies missing",
                "SELECT movie.* FROM catalogue_movies AS movie ANTI JOIN catalogue_items AS item "
                "ON item.ITEM_ID = CAST(movie.movie_id AS VARCHAR)",
            ),
            (
                "items that are not movies",
                "SELECT item.* FROM catalogue_items AS item ANTI JOIN catalogue_movies AS movie "
                "ON item.ITEM_ID = CAST(movie.movie_id AS VARCHAR)",
            ),
            (
                "repeated ITEM_ID",
                "SELECT ITEM_ID, count(*) AS copies FROM catalogue_items GROUP BY ITEM_ID "
                "HAVING count(*) > 1",
            ),
        ],
    )


@asset_check(asset="items", name="items_fit_personalize", blocking=True)
def items_fit_personalize(engine: DuckDBEngine, items: PersonalizeDataset) -> AssetCheckResult:
    """Header in schema order, ITEM_ID at most 256 characters, GENRES at most 1,000 characters."""
    register(engine, "fitting", items=items.rows)
    return offenders_check(
        engine,
        [
            header_matches_schema(items),
            (
                "ITEM_ID longer than 256",
                f"SELECT * FROM fitting_items WHERE length(ITEM_ID) > {MAX_ID_LENGTH}",
            ),
            (
                "GENRES longer than 1000",
                f"SELECT * FROM fitting_items WHERE length(GENRES) > {MAX_CATEGORICAL_LENGTH}",
            ),
            (
                "placeholder genre",
                f"SELECT * FROM fitting_items WHERE GENRES LIKE '%{NO_GENRES}%'",
            ),
        ],
    )


asset_checks: list[AssetChecksDefinition] = [
    *(check for key in ("movies", "ratings", "tags", "links") for check in build_file_checks(key)),
    build_key_check("movies", ["movie_id"]),
    build_key_check("ratings", ["user_id", "movie_id"]),
    build_key_check("links", ["movie_id"]),
    build_key_check("genres", ["genre"]),
    build_key_check("movie_genres", ["movie_id", "genre"]),
    build_key_check("users", ["user_id"]),
    *(build_known_movies_check(table) for table in ("ratings", "tags", "links", "movie_genres")),
    genres_are_names,
    genres_in_movielens_list,
    users_match_activity,
    interactions_match_ratings,
    interaction_ids_known,
    interactions_fit_personalize,
    items_match_movies,
    items_fit_personalize,
]
