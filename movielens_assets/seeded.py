"""Seeded tables: the release as typed tables; every set-aside line goes to a rejects table.

movies, ratings, tags and links each come from one file together with `<table>_rejects` (file,
line, raw line, reason, kind). genres, movie_genres and users are derived from them.
"""

from collections.abc import Iterator
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    Failure,
    Output,
    TableColumn,
    TableSchema,
    asset,
    multi_asset,
)

from movielens_assets.engine import DuckDBEngine
from movielens_assets.loading import (
    REJECT_COLUMNS,
    Duplicates,
    Loaded,
    Rule,
    load_release_file,
)
from movielens_assets.raw import facts_from
from movielens_assets.release import LINKS, MOVIES, NO_GENRES, RATINGS, TAGS, ReleaseFile
from movielens_assets.source import ReleaseFileError

# A trailing "(1995)", or a range with a hyphen or an en dash ("(1975-1979)", "(2007-)"):
# the first year counts.
EN_DASH = "\u2013"
YEAR_PATTERN = rf"\((\d{{4}})(?:\s*[-{EN_DASH}]\s*(?:\d{{4}})?)?\)$"
GENRE_PATTERN = r"[A-Za-z][A-Za-z-]*"
# Personalize's longest categorical value (GENRES is categorical).
MAX_CATEGORICAL_LENGTH = 1_000
# Whole seconds from 1970 up to 2100-01-01: anything larger is milliseconds or worse.
LAST_PLAUSIBLE_SECOND = 4_102_444_800


def schema(*columns: tuple[str, str, str]) -> TableSchema:
    return TableSchema(
        columns=[TableColumn(name, kind, description=d) for name, kind, d in columns]
    )


REJECTS_SCHEMA = schema(
    ("file", "VARCHAR", "Release file the line came from."),
    ("line", "BIGINT", "Physical line number in that file (the header is line 1)."),
    ("raw_line", "VARCHAR", "The line as read, or the parsed values re-joined as CSV."),
    ("reason", "VARCHAR", "Why the line did not become a row."),
    ("kind", "VARCHAR", "rejected (bad row), duplicate (key seen again) or blank (empty line)."),
)
USER_ID = ("user_id", "BIGINT", "MovieLens user id.")
MOVIE_ID = ("movie_id", "BIGINT", "MovieLens movie id.")
MOVIES_SCHEMA = schema(
    MOVIE_ID,
    ("title", "VARCHAR", "Title as published, trailing whitespace trimmed."),
    ("year", "INTEGER", "Year from a trailing (YYYY) or the first year of a range; else NULL."),
)
MOVIE_GENRES_SCHEMA = schema(MOVIE_ID, ("genre", "VARCHAR", "One of the movie's genres."))
GENRES_SCHEMA = schema(
    ("genre", "VARCHAR", "A genre name; '(no genres listed)' is not one."),
    ("movies", "BIGINT", "Number of movies with this genre."),
)
RATINGS_SCHEMA = schema(
    USER_ID,
    MOVIE_ID,
    ("rating", "DECIMAL(2,1)", "Stars from 0.5 to 5.0 in half steps."),
    ("timestamp", "BIGINT", "When the rating was made, in epoch seconds (UTC)."),
)
TAGS_SCHEMA = schema(
    USER_ID,
    MOVIE_ID,
    ("tag", "VARCHAR", "Free text the user attached to the movie."),
    ("timestamp", "BIGINT", "When the tag was applied, in epoch seconds (UTC)."),
)
LINKS_SCHEMA = schema(
    MOVIE_ID,
    ("imdb_id", "VARCHAR", "IMDb id digits with their leading zeros."),
    ("tmdb_id", "BIGINT", "TMDB id; NULL when the release has none."),
)
USERS_SCHEMA = schema(
    USER_ID,
    ("ratings", "BIGINT", "Ratings kept for this user."),
    ("tags", "BIGINT", "Tags kept for this user."),
)


def positive_id(column: str, header: str) -> Rule:
    return Rule(
        broken=f"{column} IS NULL OR {column} <= 0",
        reason=f"format('{header} {{}} is not a positive integer', "
        f"coalesce(CAST({column} AS VARCHAR), '(empty)'))",
    )


EPOCH_RULES = (
    Rule(
        f"timestamp < 0 OR timestamp >= {LAST_PLAUSIBLE_SECOND}",
        "format('timestamp {} is not epoch seconds (outside 1970-2099; milliseconds?)', timestamp)",
    ),
)
KNOWN_MOVIE = Rule("NOT known_movie", "'movieId not in movies.csv'")

MOVIE_RULES = (
    positive_id("movie_id", "movieId"),
    Rule("title IS NULL OR trim(title) = ''", "'title is empty'"),
    Rule(
        f"""genres IS NOT NULL AND NOT list_bool_and(list_transform(
            string_split(genres, '|'),
            lambda genre: genre = '{NO_GENRES}' OR regexp_full_match(genre, '{GENRE_PATTERN}')
        ))""",
        "format('genres \"{}\" holds a name that is not a genre', genres)",
    ),
    Rule(
        f"length(genres) > {MAX_CATEGORICAL_LENGTH}",
        f"format('genres is {{}} characters long; Personalize allows {MAX_CATEGORICAL_LENGTH:,} "
        "for a categorical value', length(genres))",
    ),
)
RATING_RULES = (
    positive_id("user_id", "userId"),
    positive_id("movie_id", "movieId"),
    *EPOCH_RULES,
    KNOWN_MOVIE,
)
TAG_RULES = (
    positive_id("user_id", "userId"),
    positive_id("movie_id", "movieId"),
    Rule("tag IS NULL OR trim(tag) = ''", "'tag is empty'"),
    *EPOCH_RULES,
    KNOWN_MOVIE,
)
LINK_RULES = (
    positive_id("movie_id", "movieId"),
    Rule(
        "imdb_id IS NULL OR NOT regexp_full_match(imdb_id, '[0-9]+')",
        "format('imdbId \"{}\" is not digits', coalesce(imdb_id, ''))",
    ),
    Rule("tmdb_id <= 0", "format('tmdbId {} is not a positive integer', tmdb_id)"),
    KNOWN_MOVIE,
)
FIRST_LINE_WINS = Duplicates(
    key=("movie_id",),
    winner_order="line",
    reason="format('movieId {} repeats line {}, which is kept', movie_id, "
    "first_value(line) OVER winners)",
)
LATEST_RATING_WINS = Duplicates(
    key=("user_id", "movie_id"),
    # Latest timestamp wins whatever the file order; a tie goes to the higher rating.
    winner_order="timestamp DESC, rating DESC, line",
    reason="""CASE
        WHEN rating = first_value(rating) OVER winners
            AND timestamp = first_value(timestamp) OVER winners
        THEN format('exact duplicate of line {}', first_value(line) OVER winners)
        WHEN timestamp = first_value(timestamp) OVER winners
        THEN format(
            'superseded by the higher rating on line {}, made at the same second',
            first_value(line) OVER winners
        )
        ELSE format('superseded by the later rating on line {}', first_value(line) OVER winners)
    END""",
)


def reject_out(file_name: str) -> AssetOut:
    return AssetOut(
        group_name="seeded",
        kinds={"duckdb"},
        description=(
            f"One row per line of {file_name} that did not become a row, with the reason: "
            "rejected by the parser or a row rule, a duplicate key, or a blank line."
        ),
        metadata={"dagster/column_schema": REJECTS_SCHEMA},
    )


def table_out(description: str, table_schema: TableSchema) -> AssetOut:
    return AssetOut(
        group_name="seeded",
        kinds={"duckdb"},
        description=description,
        metadata={"dagster/column_schema": table_schema},
    )


def load_or_fail(
    engine: DuckDBEngine, release_file: ReleaseFile, raw: duckdb.DuckDBPyRelation, **options: Any
) -> Loaded:
    """Load a release file; a file DuckDB cannot read at all fails the step with its message."""
    facts = facts_from(raw)
    try:
        with engine.reporting_progress(release_file.file_name, facts.data_lines):
            return load_release_file(engine, release_file, facts, **options)
    except ReleaseFileError as error:
        raise Failure(description=str(error), allow_retries=False) from None


def typed(engine: DuckDBEngine, loaded: Loaded, key: str, select: str) -> duckdb.DuckDBPyRelation:
    """Apply a final SELECT (casts, trims) to the accepted rows of `loaded`."""
    loaded.rows.create_view(f"accepted_{key}", replace=True)
    return engine.sql(f"SELECT {select} FROM accepted_{key}")


def rejects_table(
    context: AssetExecutionContext, engine: DuckDBEngine, loaded: Loaded, key: str
) -> duckdb.DuckDBPyRelation:
    """The rejects of `loaded` with the declared column types; logs how many of each kind."""
    loaded.rejects.create_view(f"set_aside_{key}", replace=True)
    counts = engine.rows(f"SELECT kind, count(*) FROM set_aside_{key} GROUP BY kind ORDER BY kind")
    context.log.info(
        f"{key}.csv: set aside {sum(count for _, count in counts):,} lines"
        f" ({', '.join(f'{count:,} {kind}' for kind, count in counts) or 'none'})."
    )
    columns = ", ".join(
        f"CAST({name} AS {kind}) AS {name}"
        for name, kind in (column.split() for column in REJECT_COLUMNS.split(", "))
    )
    return engine.sql(f"SELECT {columns} FROM set_aside_{key}")


@multi_asset(
    outs={
        "movies": table_out("One row per movie: id, title and year.", MOVIES_SCHEMA),
        "movie_genres": table_out("One row per (movie, genre) pair.", MOVIE_GENRES_SCHEMA),
        "movies_rejects": reject_out("movies.csv"),
    },
    ins={"raw_movies": AssetIn()},
)
def movies(
    context: AssetExecutionContext, engine: DuckDBEngine, raw_movies: duckdb.DuckDBPyRelation
) -> Iterator[Output[duckdb.DuckDBPyRelation]]:
    """Parse movies.csv into movies and movie_genres; repeated movieIds keep the first line."""
    loaded = load_or_fail(engine, MOVIES, raw_movies, rules=MOVIE_RULES, duplicates=FIRST_LINE_WINS)
    accepted = engine.stage(
        "accepted_movies",
        typed(
            engine,
            loaded,
            "movies",
            f"""
            movie_id,
            regexp_replace(title, '\\s+$', '') AS title,
            CAST(NULLIF(regexp_extract(regexp_replace(title, '\\s+$', ''), '{YEAR_PATTERN}', 1),
                '') AS INTEGER) AS year,
            genres
            """,
        ),
    )
    yield Output(accepted.select("movie_id, title, year"), output_name="movies")
    accepted.create_view("accepted_movie_rows", replace=True)
    yield Output(
        engine.sql(
            f"""
            SELECT DISTINCT movie_id, genre
            FROM (
                SELECT movie_id, unnest(string_split(genres, '|')) AS genre
                FROM accepted_movie_rows
            )
            WHERE genre NOT IN ('{NO_GENRES}', '')
            ORDER BY movie_id, genre
            """
        ),
        output_name="movie_genres",
    )
    yield Output(rejects_table(context, engine, loaded, "movies"), output_name="movies_rejects")


@asset(
    group_name="seeded",
    kinds={"duckdb"},
    metadata={"dagster/column_schema": GENRES_SCHEMA},
)
def genres(engine: DuckDBEngine, movie_genres: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """One row per genre that at least one movie has, with its number of movies."""
    movie_genres.create_view("genre_pairs", replace=True)
    return engine.sql(
        "SELECT genre, count(*) AS movies FROM genre_pairs GROUP BY genre ORDER BY genre"
    )


@multi_asset(
    outs={
        "ratings": table_out(
            "One row per (user, movie): the user's latest rating of the movie.", RATINGS_SCHEMA
        ),
        "ratings_rejects": reject_out("ratings.csv"),
    },
    ins={"raw_ratings": AssetIn(), "movies": AssetIn()},
)
def ratings(
    context: AssetExecutionContext,
    engine: DuckDBEngine,
    raw_ratings: duckdb.DuckDBPyRelation,
    movies: duckdb.DuckDBPyRelation,
) -> Iterator[Output[duckdb.DuckDBPyRelation]]:
    """Parse ratings.csv; the latest timestamp wins per (user, movie), in any file order."""
    loaded = load_or_fail(
        engine,
        RATINGS,
        raw_ratings,
        rules=RATING_RULES,
        duplicates=LATEST_RATING_WINS,
        known_movies=movies,
    )
    yield Output(
        typed(
            engine,
            loaded,
            "ratings",
            "user_id, movie_id, CAST(rating AS DECIMAL(2,1)) AS rating, "
            "CAST(timestamp AS BIGINT) AS timestamp",
        ),
        output_name="ratings",
    )
    yield Output(rejects_table(context, engine, loaded, "ratings"), output_name="ratings_rejects")


@multi_asset(
    outs={
        "tags": table_out("One row per tag a user applied to a movie.", TAGS_SCHEMA),
        "tags_rejects": reject_out("tags.csv"),
    },
    ins={"raw_tags": AssetIn(), "movies": AssetIn()},
)
def tags(
    context: AssetExecutionContext,
    engine: DuckDBEngine,
    raw_tags: duckdb.DuckDBPyRelation,
    movies: duckdb.DuckDBPyRelation,
) -> Iterator[Output[duckdb.DuckDBPyRelation]]:
    """Parse tags.csv; every valid tag line is kept, repeats included."""
    loaded = load_or_fail(engine, TAGS, raw_tags, rules=TAG_RULES, known_movies=movies)
    yield Output(
        typed(
            engine, loaded, "tags", "user_id, movie_id, tag, CAST(timestamp AS BIGINT) AS timestamp"
        ),
        output_name="tags",
    )
    yield Output(rejects_table(context, engine, loaded, "tags"), output_name="tags_rejects")


@multi_asset(
    outs={
        "links": table_out("One row per movie with its IMDb and TMDB ids.", LINKS_SCHEMA),
        "links_rejects": reject_out("links.csv"),
    },
    ins={"raw_links": AssetIn(), "movies": AssetIn()},
)
def links(
    context: AssetExecutionContext,
    engine: DuckDBEngine,
    raw_links: duckdb.DuckDBPyRelation,
    movies: duckdb.DuckDBPyRelation,
) -> Iterator[Output[duckdb.DuckDBPyRelation]]:
    """Parse links.csv; imdbId stays text so its leading zeros survive."""
    loaded = load_or_fail(
        engine,
        LINKS,
        raw_links,
        rules=LINK_RULES,
        duplicates=FIRST_LINE_WINS,
        known_movies=movies,
    )
    yield Output(typed(engine, loaded, "links", "movie_id, imdb_id, tmdb_id"), output_name="links")
    yield Output(rejects_table(context, engine, loaded, "links"), output_name="links_rejects")


@asset(
    group_name="seeded",
    kinds={"duckdb"},
    metadata={"dagster/column_schema": USERS_SCHEMA},
)
def users(
    engine: DuckDBEngine,
    ratings: duckdb.DuckDBPyRelation,
    tags: duckdb.DuckDBPyRelation,
) -> duckdb.DuckDBPyRelation:
    """One row per user with at least one kept rating or tag."""
    ratings.create_view("user_ratings", replace=True)
    tags.create_view("user_tags", replace=True)
    return engine.sql(
        """
        SELECT
            user_id,
            count(*) FILTER (WHERE source = 'rating') AS ratings,
            count(*) FILTER (WHERE source = 'tag') AS tags
        FROM (
            SELECT user_id, 'rating' AS source FROM user_ratings
            UNION ALL
            SELECT user_id, 'tag' AS source FROM user_tags
        )
        GROUP BY user_id
        ORDER BY user_id
        """
    )
