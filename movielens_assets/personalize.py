"""Personalize datasets: interactions (ratings >= 3 at their own time) and items (movies).

Each is written as a CSV with its Avro schema. The interactions asset refuses to write a dataset
that Personalize would reject for being too small, before anything is published.
"""

from collections.abc import Iterator
from typing import Any

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MetadataValue,
    Output,
    TableColumn,
    TableSchema,
    asset,
)
from pydantic import Field, field_validator

from movielens_assets.datasets import PersonalizeDataset
from movielens_assets.engine import DuckDBEngine

MIN_RATING = 3.0
MIN_INTERACTIONS = 1_000
MIN_ACTIVE_USERS = 25
MIN_ACTIVE_USER_SHARE = 0.01
SCHEMA_NAMESPACE = "com.amazonaws.personalize.schema"

INTERACTIONS_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Interactions",
    "namespace": SCHEMA_NAMESPACE,
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_TYPE", "type": "string"},
        {"name": "EVENT_VALUE", "type": "float"},
    ],
    "version": "1.0",
}
ITEMS_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Items",
    "namespace": SCHEMA_NAMESPACE,
    "fields": [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "GENRES", "type": ["null", "string"], "categorical": True},
        {"name": "YEAR", "type": ["null", "int"]},
    ],
    "version": "1.0",
}


def dataset_columns(schema: dict[str, Any], descriptions: dict[str, str]) -> TableSchema:
    """The CSV columns of a dataset, typed as its Avro schema types them, for the UI."""
    return TableSchema(
        columns=[
            TableColumn(
                field["name"],
                "|".join(field["type"]) if isinstance(field["type"], list) else field["type"],
                description=descriptions[field["name"]],
            )
            for field in schema["fields"]
        ]
    )


INTERACTIONS_COLUMNS = dataset_columns(
    INTERACTIONS_SCHEMA,
    {
        "USER_ID": "MovieLens userId, as text.",
        "ITEM_ID": "MovieLens movieId, as text; one of the ITEM_IDs in items.",
        "TIMESTAMP": "When the user rated the movie, in epoch seconds (not when it was loaded).",
        "EVENT_TYPE": "The run's event_type (default rating), the same on every row.",
        "EVENT_VALUE": "The rating: 3.0 to 5.0 in half steps.",
    },
)
ITEMS_COLUMNS = dataset_columns(
    ITEMS_SCHEMA,
    {
        "ITEM_ID": "MovieLens movieId, as text.",
        "GENRES": "The movie's genres in alphabetical order, joined by '|'; empty when none.",
        "YEAR": "Year from the end of the title; empty when the title has none.",
    },
)


class InteractionsConfig(Config):
    """Run configuration of the interactions dataset."""

    event_type: str = Field(
        default="rating", description="EVENT_TYPE written on every interaction."
    )
    enforce_minimums: bool = Field(
        default=True,
        description=(
            "Refuse to write a dataset below Personalize's training minimums. Turn off only to "
            "export a small sample (a demo, a test); the check then warns instead."
        ),
    )

    @field_validator("event_type")
    @classmethod
    def plain_text(cls, value: str) -> str:
        if not value or any(character in value for character in ',"\r\n') or len(value) > 256:
            raise ValueError(
                "event_type must be 1-256 characters without commas, quotes or line breaks"
            )
        return value


def minimums_result(engine: DuckDBEngine, ratings_view: str, enforce: bool) -> AssetCheckResult:
    """Count what Personalize counts (interactions after the >= 3 filter) against its minimums."""
    interactions, users, active_users = engine.rows(
        f"""
        SELECT coalesce(sum(kept), 0), count(*), count(*) FILTER (WHERE kept >= 2)
        FROM (
            SELECT user_id, count(*) FILTER (WHERE rating >= ?) AS kept
            FROM {ratings_view}
            GROUP BY user_id
        )
        WHERE kept > 0
        """,
        [MIN_RATING],
    )[0]
    share = active_users / users if users else 0.0
    problems = []
    if interactions < MIN_INTERACTIONS:
        problems.append(f"{interactions:,} interactions, minimum {MIN_INTERACTIONS:,}")
    if active_users < MIN_ACTIVE_USERS:
        problems.append(
            f"{active_users:,} users with at least 2 interactions, minimum {MIN_ACTIVE_USERS}"
        )
    if share < MIN_ACTIVE_USER_SHARE:
        problems.append(
            f"{share:.2%} of users with at least 2 interactions, minimum "
            f"{MIN_ACTIVE_USER_SHARE:.0%}"
        )
    outcome = "nothing written" if enforce else "written anyway, minimums not enforced"
    return AssetCheckResult(
        check_name="meets_personalize_minimums",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR if enforce else AssetCheckSeverity.WARN,
        description=(
            f"Too small for Amazon Personalize ({outcome}): {'; '.join(problems)}"
            if problems
            else "Meets Personalize's training minimums."
        ),
        metadata={
            "interactions": interactions,
            "users": users,
            "users_with_2_or_more": active_users,
            "minimum_interactions": MIN_INTERACTIONS,
            "minimum_users_with_2_or_more": MIN_ACTIVE_USERS,
        },
    )


# The datasets wait for the whole seeded layer: a file that failed to load, or any blocking check
# on a seeded table, stops both datasets, so a run never publishes one built from half a release.
SEEDED_LAYER = [
    "movies",
    "movie_genres",
    "genres",
    "ratings",
    "tags",
    "links",
    "users",
    "movies_rejects",
    "ratings_rejects",
    "tags_rejects",
    "links_rejects",
]


@asset(
    group_name="personalize",
    kinds={"csv"},
    io_manager_key="dataset_io_manager",
    output_required=False,
    deps=[name for name in SEEDED_LAYER if name != "ratings"],
    check_specs=[
        AssetCheckSpec(
            "meets_personalize_minimums",
            asset="interactions",
            blocking=True,
            description=(
                "At least 1,000 interactions and 25 users (and 1% of users) with 2 or more, "
                "counted after the rating >= 3 filter; below that nothing is written."
            ),
        )
    ],
    metadata={
        "personalize_schema": MetadataValue.json(INTERACTIONS_SCHEMA),
        "dagster/column_schema": INTERACTIONS_COLUMNS,
    },
)
def interactions(
    context: AssetExecutionContext,
    config: InteractionsConfig,
    engine: DuckDBEngine,
    ratings: duckdb.DuckDBPyRelation,
) -> Iterator[Output[PersonalizeDataset] | AssetCheckResult]:
    """Personalize interactions: one row per rating >= 3, at the rating's own epoch seconds.

    Rows keep the order of the ratings table, which is the order of ratings.csv: DuckDB keeps
    insertion order (`preserve_insertion_order`, on by default) through the load, the store and
    this filter, so the same release gives the same bytes without a sort of 20M rows.
    """
    ratings.create_view("interaction_ratings", replace=True)
    minimums = minimums_result(engine, "interaction_ratings", config.enforce_minimums)
    yield minimums
    if not minimums.passed:
        if config.enforce_minimums:
            context.log.error(minimums.description or "")
            return
        context.log.warning(minimums.description or "")
    rows = engine.sql(
        """
        SELECT
            CAST(user_id AS VARCHAR) AS USER_ID,
            CAST(movie_id AS VARCHAR) AS ITEM_ID,
            timestamp AS TIMESTAMP,
            ? AS EVENT_TYPE,
            rating AS EVENT_VALUE
        FROM interaction_ratings
        WHERE rating >= ?
        """,
        [config.event_type, MIN_RATING],
    )
    yield Output(PersonalizeDataset(name="interactions", rows=rows, schema=INTERACTIONS_SCHEMA))


@asset(
    group_name="personalize",
    kinds={"csv"},
    io_manager_key="dataset_io_manager",
    # After interactions: when interactions is refused (too small, bad config, a failed blocking
    # check), items.csv is left as it was too.
    deps=[
        *(name for name in SEEDED_LAYER if name not in ("movies", "movie_genres")),
        "interactions",
    ],
    metadata={
        "personalize_schema": MetadataValue.json(ITEMS_SCHEMA),
        "dagster/column_schema": ITEMS_COLUMNS,
    },
)
def items(
    engine: DuckDBEngine,
    movies: duckdb.DuckDBPyRelation,
    movie_genres: duckdb.DuckDBPyRelation,
) -> PersonalizeDataset:
    """Personalize items: one row per movie with its genres joined by '|' and its year."""
    movies.create_view("item_movies", replace=True)
    movie_genres.create_view("item_genres", replace=True)
    rows = engine.sql(
        """
        SELECT
            CAST(movie.movie_id AS VARCHAR) AS ITEM_ID,
            string_agg(pair.genre, '|' ORDER BY pair.genre) AS GENRES,
            movie.year AS YEAR
        FROM item_movies AS movie
        LEFT JOIN item_genres AS pair USING (movie_id)
        GROUP BY movie.movie_id, movie.year
        ORDER BY movie.movie_id
        """
    )
    return PersonalizeDataset(name="items", rows=rows, schema=ITEMS_SCHEMA)
