"""The contract of a MovieLens release: its four CSV files, their header names and column types."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of a release file: its header name, our table name, and how DuckDB reads it."""

    header: str
    name: str
    read_as: str
    description: str


@dataclass(frozen=True)
class ReleaseFile:
    """One CSV file of a MovieLens release, matched to its columns by header name."""

    key: str
    columns: tuple[Column, ...]
    description: str

    @property
    def file_name(self) -> str:
        return f"{self.key}.csv"

    @property
    def header_names(self) -> tuple[str, ...]:
        return tuple(column.header for column in self.columns)

    def column(self, header: str) -> Column:
        return next(column for column in self.columns if column.header == header)


USER_ID = "MovieLens user id, a positive integer."
MOVIE_ID = "MovieLens movie id, a positive integer."
# Epoch seconds are read as DOUBLE so that `964983815.0` (pandas' way of writing an integer column
# that once held a NaN) parses; a row rule then insists on whole, plausible seconds.
EPOCH_SECONDS = "Seconds since 1970-01-01 UTC, as given in the file."

MOVIES = ReleaseFile(
    key="movies",
    columns=(
        Column("movieId", "movie_id", "BIGINT", MOVIE_ID),
        Column("title", "title", "VARCHAR", "Title with the release year in parentheses."),
        Column("genres", "genres", "VARCHAR", "Genres separated by '|'."),
    ),
    description="One line per movie.",
)

RATINGS = ReleaseFile(
    key="ratings",
    columns=(
        Column("userId", "user_id", "BIGINT", USER_ID),
        Column("movieId", "movie_id", "BIGINT", MOVIE_ID),
        Column("rating", "rating", "DOUBLE", "Stars from 0.5 to 5.0 in half steps."),
        Column("timestamp", "timestamp", "DOUBLE", EPOCH_SECONDS),
    ),
    description="One line per rating of a movie by a user.",
)

TAGS = ReleaseFile(
    key="tags",
    columns=(
        Column("userId", "user_id", "BIGINT", USER_ID),
        Column("movieId", "movie_id", "BIGINT", MOVIE_ID),
        Column("tag", "tag", "VARCHAR", "Free text a user attached to a movie."),
        Column("timestamp", "timestamp", "DOUBLE", EPOCH_SECONDS),
    ),
    description="One line per tag a user applied to a movie.",
)

LINKS = ReleaseFile(
    key="links",
    columns=(
        Column("movieId", "movie_id", "BIGINT", MOVIE_ID),
        Column("imdbId", "imdb_id", "VARCHAR", "IMDb id digits, zero-padded as published."),
        Column("tmdbId", "tmdb_id", "BIGINT", "TMDB id; empty when unknown."),
    ),
    description="One line per movie with its IMDb and TMDB ids.",
)

RELEASE_FILES: tuple[ReleaseFile, ...] = (MOVIES, RATINGS, TAGS, LINKS)
