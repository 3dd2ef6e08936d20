"""The floor: bare DuckDB doing the pipeline's work in one process, with no checks and no Dagster.

It loads the four release files into typed tables of one DuckDB file, derives the three tables the
pipeline also stores (movie_genres, genres, users), and writes the two Personalize datasets
(interactions: ratings >= 3; items: movies with their genres and year) with the same columns as the
pipeline. No row rules, no duplicate handling, no line accounting: this is what the job costs when
nothing can go wrong, the yardstick for the pipeline's overhead.

Usage: python benchmarks/floor.py RELEASE_DIR OUTPUT_DIR
"""

import argparse
import time
from pathlib import Path

import duckdb

EN_DASH = "\u2013"
YEAR_PATTERN = rf"\((\d{{4}})(?:\s*[-{EN_DASH}]\s*(?:\d{{4}})?)?\)$"
CSV_OPTIONS = "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"'"
TABLES = {
    "movies": (
        "movies.csv",
        "{'movieId': 'BIGINT', 'title': 'VARCHAR', 'genres': 'VARCHAR'}",
        "movieId AS movie_id, rtrim(title) AS title, genres",
    ),
    "ratings": (
        "ratings.csv",
        "{'userId': 'BIGINT', 'movieId': 'BIGINT', 'rating': 'DOUBLE', 'timestamp': 'DOUBLE'}",
        "userId AS user_id, movieId AS movie_id, CAST(rating AS DECIMAL(2, 1)) AS rating, "
        "CAST(timestamp AS BIGINT) AS timestamp",
    ),
    "tags": (
        "tags.csv",
        "{'userId': 'BIGINT', 'movieId': 'BIGINT', 'tag': 'VARCHAR', 'timestamp': 'DOUBLE'}",
        "userId AS user_id, movieId AS movie_id, tag, CAST(timestamp AS BIGINT) AS timestamp",
    ),
    "links": (
        "links.csv",
        "{'movieId': 'BIGINT', 'imdbId': 'VARCHAR', 'tmdbId': 'BIGINT'}",
        "movieId AS movie_id, imdbId AS imdb_id, tmdbId AS tmdb_id",
    ),
}
# The tables the pipeline derives from the loaded ones, with the same rows and columns.
DERIVED = {
    "movie_genres": """
        SELECT DISTINCT movie_id, genre
        FROM (SELECT movie_id, unnest(string_split(genres, '|')) AS genre FROM movies)
        WHERE genre NOT IN ('(no genres listed)', '')
        ORDER BY movie_id, genre
    """,
    "genres": "SELECT genre, count(*) AS movies FROM movie_genres GROUP BY genre ORDER BY genre",
    "users": """
        SELECT user_id, coalesce(rated.ratings, 0) AS ratings, coalesce(tagged.tags, 0) AS tags
        FROM (SELECT user_id, count(*) AS ratings FROM ratings GROUP BY user_id) AS rated
        FULL JOIN (SELECT user_id, count(*) AS tags FROM tags GROUP BY user_id) AS tagged
            USING (user_id)
        ORDER BY user_id
    """,
}


def run_floor(release: Path, output: Path) -> dict[str, int]:
    """Load every table into floor.duckdb and write both datasets under `output`; count rows."""
    datasets = output / "personalize"
    datasets.mkdir(parents=True, exist_ok=True)
    database = output / "floor.duckdb"
    database.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    with duckdb.connect(str(database)) as connection:
        for table, (file_name, columns, select) in TABLES.items():
            connection.execute(
                f"CREATE TABLE {table} AS SELECT {select} "
                f"FROM read_csv(?, {CSV_OPTIONS}, columns = {columns})",
                [str(release / file_name)],
            )
            counts[table] = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table, query in DERIVED.items():
            connection.execute(f"CREATE TABLE {table} AS {query}")
            counts[table] = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        counts["interactions"] = connection.execute(
            """
            COPY (
                SELECT
                    CAST(user_id AS VARCHAR) AS USER_ID,
                    CAST(movie_id AS VARCHAR) AS ITEM_ID,
                    timestamp AS TIMESTAMP,
                    'rating' AS EVENT_TYPE,
                    rating AS EVENT_VALUE
                FROM ratings
                WHERE rating >= 3
            ) TO ? (FORMAT csv, HEADER true)
            """,
            [str(datasets / "interactions.csv")],
        ).fetchone()[0]
        counts["items"] = connection.execute(
            """
            COPY (
                SELECT
                    CAST(movie_id AS VARCHAR) AS ITEM_ID,
                    nullif(array_to_string(list_sort(list_filter(
                        string_split(genres, '|'), lambda genre: genre <> '(no genres listed)'
                    )), '|'), '') AS GENRES,
                    CAST(nullif(regexp_extract(title, ?, 1), '') AS INTEGER) AS YEAR
                FROM movies
                ORDER BY movie_id
            ) TO ? (FORMAT csv, HEADER true)
            """,
            [YEAR_PATTERN, str(datasets / "items.csv")],
        ).fetchone()[0]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="Folder with the four MovieLens CSV files.")
    parser.add_argument("output", type=Path, help="Folder for floor.duckdb and the datasets.")
    arguments = parser.parse_args()
    started = time.monotonic()
    counts = run_floor(arguments.release, arguments.output)
    print(
        f"Floor: {', '.join(f'{count:,} {name}' for name, count in counts.items())} "
        f"in {time.monotonic() - started:.1f} s."
    )


if __name__ == "__main__":
    main()
