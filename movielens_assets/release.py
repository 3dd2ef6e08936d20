"""The contract of a MovieLens release: its four CSV files, their header names and column types."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of a release file: its header name, our table name, and what its text holds.

    `kind` is one of: `id` (a whole number, required), `optional_id` (a whole number or empty),
    `rating` (0.5 to 5.0 in half steps), `seconds` (whole epoch seconds), `text`.
    """

    header: str
    name: str
    kind: str
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
EPOCH_SECONDS = "Seconds since 1970-01-01 UTC, as given in the file."

MOVIES = ReleaseFile(
    key="movies",
    columns=(
        Column("movieId", "movie_id", "id", MOVIE_ID),
        Column("title", "title", "text", "Title with the release year in parentheses."),
        Column("genres", "genres", "text", "Genres separated by '|'."),
    ),
    description="One line per movie.",
)

RATINGS = ReleaseFile(
    key="ratings",
    columns=(
        Column("userId", "user_id", "id", USER_ID),
        Column("movieId", "movie_id", "id", MOVIE_ID),
        Column("rating", "rating", "rating", "Stars from 0.5 to 5.0 in half steps."),
        Column("timestamp", "timestamp", "seconds", EPOCH_SECONDS),
    ),
    description="One line per rating of a movie by a user.",
)

TAGS = ReleaseFile(
    key="tags",
    columns=(
        Column("userId", "user_id", "id", USER_ID),
        Column("movieId", "movie_id", "id", MOVIE_ID),
        Column("tag", "tag", "text", "Free text a user attached to a movie."),
        Column("timestamp", "timestamp", "seconds", EPOCH_SECONDS),
    ),
    description="One line per tag a user applied to a movie.",
)

LINKS = ReleaseFile(
    key="links",
    columns=(
        Column("movieId", "movie_id", "id", MOVIE_ID),
        Column("imdbId", "imdb_id", "text", "IMDb id digits, zero-padded as published."),
        Column("tmdbId", "tmdb_id", "optional_id", "TMDB id; empty when unknown."),
    ),
    description="One line per movie with its IMDb and TMDB ids.",
)

RELEASE_FILES: tuple[ReleaseFile, ...] = (MOVIES, RATINGS, TAGS, LINKS)

# The genres MovieLens releases use; `(no genres listed)` marks a movie without any.
MOVIELENS_GENRES: tuple[str, ...] = (
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "IMAX",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
NO_GENRES = "(no genres listed)"
