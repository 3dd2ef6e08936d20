"""Write a MovieLens-shaped release of any size, the same bytes for the same seed and size.

The four files have the real headers and the proportions of ml-25m (25,000,095 ratings, 162,541
users, 62,423 movies, 1,093,360 tags), scaled to the requested number of ratings. Users have a
heavy-tailed number of ratings (at least 20 each), movies a heavy-tailed popularity, ratings are
half stars with about 80% at 3 or above, no (user, movie) pair repeats, and every rated or tagged
movie is in movies.csv. Small files (movies, links) are written by Python's csv module; ratings
and tags are computed and written by DuckDB from hashes of the seed, so the output is the same on
every run with the same DuckDB version.

Usage: python benchmarks/generate.py OUT_DIR --ratings 1000000 [--seed 7] [--crlf]
"""

import argparse
import csv
import random
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from movielens_assets.release import MOVIELENS_GENRES, NO_GENRES

ML25M_RATINGS = 25_000_095
ML25M_USERS = 162_541
ML25M_MOVIES = 62_423
ML25M_TAGS = 1_093_360
MIN_RATINGS_PER_USER = 20
# Small releases still get a catalogue big enough for heavy users to find distinct movies.
MIN_MOVIES = 2_000
# Lomax (Pareto minus one) shape of the ratings above the minimum: a median near half the mean
# and a longest tail near the cap, as in ml-25m (median 71, mean 154, most 32,202).
USER_ACTIVITY_SHAPE = 1.8
# No user rates more than this share of the catalogue.
MAX_CATALOGUE_SHARE = 0.5
# Unix seconds: 1995-01-09 and 2019-11-21, the span of ml-25m.
FIRST_SECOND = 789_652_009
LAST_SECOND = 1_574_327_703
TITLE_WORDS = [
    "Night",
    "Day",
    "River",
    "Star",
    "Last",
    "First",
    "Dark",
    "Silent",
    "Golden",
    "Lost",
    "City",
    "Road",
    "Heart",
    "Storm",
    "Iron",
    "Blue",
    "Winter",
    "Summer",
    "King",
    "Queen",
    "Secret",
    "Shadow",
    "Dream",
    "Fire",
    "Ocean",
    "House",
    "Garden",
    "Paper",
    "Glass",
    "Wild",
    "Long",
    "Little",
    "Great",
    "Empire",
    "Ghost",
    "Machine",
    "Letter",
    "Island",
    "Journey",
    "Return",
    "Promise",
    "Thunder",
]
TAG_WORDS = [
    "atmospheric",
    "funny",
    "dark comedy",
    "sci-fi",
    "twist ending",
    "visually appealing",
    "based on a book",
    "thought-provoking",
    "dystopia",
    "classic",
    "surreal",
    "quirky",
    "violence",
    "cinematography",
    "romance",
    "great soundtrack",
    "slow",
    "overrated",
    "Oscar (Best Picture)",
    "time travel",
    "heist",
    "space",
    "animation",
    "philosophical",
    "nonlinear",
    "mindfuck",
    "predictable",
    "stylized",
    "satire",
    "revenge",
]
# Tags that need quoting in a CSV: a comma inside, or a quote inside.
AWKWARD_TAGS = ("good, not great", 'the "director\'s cut"', "war, politics, and family")
# Cumulative probabilities of 0.5, 1.0, ..., 5.0 stars (ml-25m's shares, rounded).
RATING_CUMULATIVE = (0.016, 0.047, 0.063, 0.129, 0.179, 0.375, 0.501, 0.767, 0.852)


@dataclass(frozen=True)
class Sizes:
    """How many of each thing a release of `ratings` ratings holds."""

    ratings: int
    users: int
    movies: int
    tags: int

    @classmethod
    def scaled(cls, ratings: int) -> "Sizes":
        scale = ratings / ML25M_RATINGS
        users = max(1, min(round(ML25M_USERS * scale), ratings // MIN_RATINGS_PER_USER))
        movies = max(MIN_MOVIES, round(ML25M_MOVIES * scale))
        tags = round(ML25M_TAGS * scale)
        if ratings < MIN_RATINGS_PER_USER:
            raise ValueError(f"a release needs at least {MIN_RATINGS_PER_USER} ratings")
        return cls(ratings=ratings, users=users, movies=movies, tags=tags)


def ratings_per_user(sizes: Sizes, rng: random.Random) -> list[int]:
    """Heavy-tailed ratings counts, each at least 20 and at most half the catalogue, summing up.

    Lomax weights share out the ratings above the minimum; users over the cap give their excess
    back to the others in proportion to their weights until nobody is over.
    """
    cap = max(MIN_RATINGS_PER_USER, int(sizes.movies * MAX_CATALOGUE_SHARE))
    if sizes.users * cap < sizes.ratings:
        raise ValueError(f"{sizes.ratings:,} ratings do not fit {sizes.users:,} users")
    weights = [rng.paretovariate(USER_ACTIVITY_SHAPE) - 1.0 for _ in range(sizes.users)]
    counts = [MIN_RATINGS_PER_USER] * sizes.users
    open_users = set(range(sizes.users))
    remaining = sizes.ratings - MIN_RATINGS_PER_USER * sizes.users
    while remaining > 0:
        total = sum(weights[user] for user in sorted(open_users))
        shares = {
            user: int(remaining * weights[user] / total) if total else 0 for user in open_users
        }
        if not any(shares.values()):
            # Less than one rating each is due: hand them out one at a time, in user order.
            shares = dict.fromkeys(sorted(open_users)[:remaining], 1)
        for user, share in sorted(shares.items()):
            given = min(share, cap - counts[user])
            counts[user] += given
            remaining -= given
            if counts[user] == cap:
                open_users.discard(user)
    return counts


def write_movies_and_links(
    directory: Path, sizes: Sizes, rng: random.Random, newline: str
) -> list[int]:
    """Write movies.csv and links.csv; return the movie ids, most popular first."""
    movie_ids = sorted(rng.sample(range(1, sizes.movies * 3 + 1), sizes.movies))
    with (directory / "movies.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator=newline)
        writer.writerow(["movieId", "title", "genres"])
        for index, movie_id in enumerate(movie_ids):
            writer.writerow([movie_id, movie_title(index, rng), movie_genres(rng)])
    with (directory / "links.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator=newline)
        writer.writerow(["movieId", "imdbId", "tmdbId"])
        for movie_id in movie_ids:
            tmdb = "" if rng.random() < 0.002 else str(rng.randrange(2, 700_000))
            writer.writerow([movie_id, f"{rng.randrange(1, 11_000_000):07d}", tmdb])
    popularity = list(movie_ids)
    rng.shuffle(popularity)
    return popularity


def movie_title(index: int, rng: random.Random) -> str:
    """A title in MovieLens style: words, a trailing (YYYY), now and then a comma or quotes."""
    words = " ".join(rng.choice(TITLE_WORDS) for _ in range(rng.randint(1, 4)))
    year = rng.randint(1900, 2019)
    draw = rng.random()
    if index == 7:
        return f"{words} ({year}\u2013{year + 3})"
    if draw < 0.04:
        words = f"{words}, The"
    elif draw < 0.05:
        words = f'{words} "{rng.choice(TITLE_WORDS)}"'
    elif draw < 0.055:
        return words
    elif draw < 0.057:
        return f"{words} ({year}) "
    return f"{words} ({year})"


def movie_genres(rng: random.Random) -> str:
    """One to four distinct genres joined by '|', or the placeholder for about 1% of movies."""
    if rng.random() < 0.01:
        return NO_GENRES
    return "|".join(rng.sample(MOVIELENS_GENRES, rng.randint(1, 4)))


def write_ratings_and_tags(
    directory: Path,
    sizes: Sizes,
    counts: list[int],
    popularity: list[int],
    seed: int,
    rng: random.Random,
    newline: str,
) -> None:
    """Compute ratings.csv and tags.csv in DuckDB from per-user parameters and seeded hashes.

    User u's k-th rating (of c) falls on popularity rank floor((M - c) * x^p) + k with x = (k +
    jitter) / c: strictly increasing in k, so a user never rates a movie twice, and with p > 1
    most picks land on popular movies.
    """
    users = list(range(1, sizes.users + 1))
    starts = [rng.randrange(FIRST_SECOND, LAST_SECOND - 86_400) for _ in users]
    spans = [rng.randrange(3_600, LAST_SECOND - start) for start in starts]
    skews = [round(rng.uniform(1.5, 3.5), 3) for _ in users]
    connection = duckdb.connect(":memory:")
    connection.execute(
        """
        CREATE TABLE user_plan AS
        SELECT
            unnest(?::BIGINT[]) AS user_id,
            unnest(?::BIGINT[]) AS ratings,
            unnest(?::BIGINT[]) AS first_second,
            unnest(?::BIGINT[]) AS span,
            unnest(?::DOUBLE[]) AS skew
        """,
        [users, counts, starts, spans, skews],
    )
    connection.execute(
        """
        CREATE TABLE popularity AS
        SELECT unnest(range(?)) AS rank, unnest(?::BIGINT[]) AS movie_id
        """,
        [len(popularity), popularity],
    )
    stars = " ".join(
        f"WHEN draw < {bound} THEN {(index + 1) / 2:.1f}"
        for index, bound in enumerate(RATING_CUMULATIVE)
    )
    connection.execute(
        f"""
        COPY (
            SELECT
                pick.user_id AS "userId",
                movie.movie_id AS "movieId",
                CAST(CASE {stars} ELSE 5.0 END AS DECIMAL(2, 1)) AS "rating",
                pick.first_second + CAST(floor(pick.moment * pick.span) AS BIGINT) AS "timestamp"
            FROM (
                SELECT
                    user_id,
                    first_second,
                    span,
                    CAST(floor(
                        (? - ratings) * pow((k + hash(?, 1, user_id, k) / 2.0 ^ 64) / ratings, skew)
                    ) AS BIGINT) + k AS rank,
                    hash(?, 2, user_id, k) / 2.0 ^ 64 AS draw,
                    hash(?, 3, user_id, k) / 2.0 ^ 64 AS moment
                FROM (SELECT *, unnest(range(ratings)) AS k FROM user_plan)
            ) AS pick
            JOIN popularity AS movie USING (rank)
            ORDER BY pick.user_id, movie.movie_id
        ) TO ? (FORMAT csv, HEADER true, NEW_LINE ?)
        """,
        [sizes.movies, seed, seed, seed, str(directory / "ratings.csv"), newline],
    )
    tag_texts = [*TAG_WORDS, *AWKWARD_TAGS]
    tag_users = max(1, sizes.users // 11)
    connection.execute(
        """
        COPY (
            SELECT
                -- A tenth of the users tag, a few of them a lot; tags go to popular movies.
                1 + CAST(floor(? * pow(hash(?, 4, i) / 2.0 ^ 64, 3)) AS BIGINT) * 11 AS "userId",
                movie.movie_id AS "movieId",
                list_extract(?::VARCHAR[], 1 + CAST(hash(?, 5, i) % ? AS BIGINT)) AS "tag",
                ? + CAST(hash(?, 6, i) % ? AS BIGINT) AS "timestamp"
            FROM range(?) AS tag(i)
            JOIN popularity AS movie
                ON movie.rank = CAST(floor(? * pow(hash(?, 7, i) / 2.0 ^ 64, 3)) AS BIGINT)
            ORDER BY "userId", "movieId", i
        ) TO ? (FORMAT csv, HEADER true, NEW_LINE ?)
        """,
        [
            tag_users,
            seed,
            tag_texts,
            seed,
            len(tag_texts),
            FIRST_SECOND,
            seed,
            LAST_SECOND - FIRST_SECOND,
            sizes.tags,
            sizes.movies,
            seed,
            str(directory / "tags.csv"),
            newline,
        ],
    )
    connection.close()


def generate(directory: Path, ratings: int, seed: int = 7, crlf: bool = False) -> Sizes:
    """Write the four release files for `ratings` ratings into `directory`; return the sizes."""
    sizes = Sizes.scaled(ratings)
    directory.mkdir(parents=True, exist_ok=True)
    newline = "\r\n" if crlf else "\n"
    rng = random.Random(seed)
    counts = ratings_per_user(sizes, rng)
    popularity = write_movies_and_links(directory, sizes, rng, newline)
    write_ratings_and_tags(directory, sizes, counts, popularity, seed, rng, newline)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="Folder that receives the four CSV files.")
    parser.add_argument("--ratings", type=int, required=True, help="Number of ratings.")
    parser.add_argument("--seed", type=int, default=7, help="Same seed, same bytes.")
    parser.add_argument("--crlf", action="store_true", help="End lines with CRLF, not LF.")
    arguments = parser.parse_args()
    started = time.monotonic()
    sizes = generate(arguments.directory, arguments.ratings, arguments.seed, arguments.crlf)
    print(
        f"Wrote {sizes.ratings:,} ratings by {sizes.users:,} users of {sizes.movies:,} movies and "
        f"{sizes.tags:,} tags to {arguments.directory} in {time.monotonic() - started:.1f} s."
    )


if __name__ == "__main__":
    main()
