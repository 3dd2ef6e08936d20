"""The whole graph on the bundled ml-latest-small release, against counts made here with `csv`."""

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from movielens_assets_tests.conftest import SAMPLE
from movielens_assets_tests.pipeline import PipelineRun, run_pipeline

NO_GENRES = "(no genres listed)"


def read_rows(name: str) -> list[dict[str, str]]:
    with (SAMPLE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_dataset(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


RATINGS = read_rows("ratings.csv")
MOVIES = read_rows("movies.csv")
TAGS = read_rows("tags.csv")
LINKS = read_rows("links.csv")


def test_every_check_passed(sample_run: PipelineRun) -> None:
    assert sample_run.result.success
    results = sample_run.check_results()
    assert len(results) == 31
    assert all(results.values()), {name for name, passed in results.items() if not passed}


def test_tables_hold_every_row_of_the_release(sample_run: PipelineRun) -> None:
    users = {row["userId"] for row in RATINGS} | {row["userId"] for row in TAGS}
    genres = {genre for row in MOVIES for genre in row["genres"].split("|") if genre != NO_GENRES}
    pairs = sum(
        len({genre for genre in row["genres"].split("|") if genre != NO_GENRES}) for row in MOVIES
    )
    assert (len(RATINGS), len(MOVIES), len(TAGS), len(LINKS)) == (100_836, 9_742, 3_683, 9_742)
    assert sample_run.count("ratings") == len(RATINGS)
    assert sample_run.count("movies") == len(MOVIES)
    assert sample_run.count("tags") == len(TAGS)
    assert sample_run.count("links") == len(LINKS)
    assert sample_run.count("users") == len(users) == 610
    assert sample_run.count("genres") == len(genres)
    assert sample_run.count("movie_genres") == pairs
    for table in ("movies_rejects", "ratings_rejects", "tags_rejects", "links_rejects"):
        assert sample_run.count(table) == 0


def test_ratings_keep_their_values_and_epoch_seconds(sample_run: PipelineRun) -> None:
    expected = Counter(
        (int(row["userId"]), int(row["movieId"]), float(row["rating"]), int(row["timestamp"]))
        for row in RATINGS
    )
    stored = Counter(
        (user, movie, float(rating), timestamp)
        for user, movie, rating, timestamp in sample_run.query("SELECT * FROM ratings")
    )
    assert stored == expected


def test_interactions_are_the_ratings_at_or_above_three(sample_run: PipelineRun) -> None:
    header, rows = read_dataset(sample_run.personalize_dir / "interactions.csv")
    assert header == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"]
    expected = Counter(
        (row["userId"], row["movieId"], row["timestamp"], "rating", float(row["rating"]))
        for row in RATINGS
        if float(row["rating"]) >= 3
    )
    written = Counter(
        (user, item, ts, event, float(value)) for user, item, ts, event, value in rows
    )
    assert len(rows) == sum(expected.values()) == 81_763
    assert written == expected
    assert all(ts.isdigit() and len(ts) in (9, 10) for _, _, ts, _, _ in rows)


def test_items_are_the_movies_with_their_genres(sample_run: PipelineRun) -> None:
    header, rows = read_dataset(sample_run.personalize_dir / "items.csv")
    assert header == ["ITEM_ID", "GENRES", "YEAR"]
    expected = {
        row["movieId"]: "|".join(sorted(set(row["genres"].split("|")) - {NO_GENRES}))
        for row in MOVIES
    }
    assert {item: genres for item, genres, _ in rows} == expected
    assert len(rows) == 9_742
    text = (sample_run.personalize_dir / "items.csv").read_text(encoding="utf-8")
    assert NO_GENRES not in text
    assert sample_run.query("SELECT count(*) FROM genres WHERE genre = ?", [NO_GENRES]) == [(0,)]
    assert sample_run.query("SELECT count(*) FROM movie_genres WHERE genre = ?", [NO_GENRES]) == [
        (0,)
    ]


def test_titles_and_years(sample_run: PipelineRun) -> None:
    titles = dict(sample_run.query("SELECT movie_id, title FROM movies"))
    years = dict(sample_run.query("SELECT movie_id, year FROM movies"))
    for row in MOVIES:
        assert titles[int(row["movieId"])] == row["title"].rstrip()
    assert years[1] == 1995
    death_note = next(row for row in MOVIES if "(2006\u20132007)" in row["title"])
    assert years[int(death_note["movieId"])] == 2006
    no_year = [row for row in MOVIES if not row["title"].rstrip().endswith(")")]
    assert no_year
    assert all(years[int(row["movieId"])] is None for row in no_year)


def test_imdb_ids_keep_leading_zeros(sample_run: PipelineRun) -> None:
    stored = dict(sample_run.query("SELECT movie_id, imdb_id FROM links"))
    empty_tmdb = sum(1 for row in LINKS if not row["tmdbId"])
    assert {int(row["movieId"]): row["imdbId"] for row in LINKS} == stored
    assert stored[1] == "0114709"
    assert sample_run.query("SELECT count(*) FROM links WHERE tmdb_id IS NULL") == [(empty_tmdb,)]


def test_schemas_match_the_csv_headers(sample_run: PipelineRun) -> None:
    for name in ("interactions", "items"):
        schema = json.loads((sample_run.personalize_dir / f"{name}.schema.json").read_text())
        header, _ = read_dataset(sample_run.personalize_dir / f"{name}.csv")
        assert [field["name"] for field in schema["fields"]] == header
        assert schema["namespace"] == "com.amazonaws.personalize.schema"
        assert schema["version"] == "1.0"
    items = json.loads((sample_run.personalize_dir / "items.schema.json").read_text())
    genres = next(field for field in items["fields"] if field["name"] == "GENRES")
    assert genres == {"name": "GENRES", "type": ["null", "string"], "categorical": True}


@pytest.mark.parametrize("name", ["interactions.csv", "items.csv"])
def test_datasets_have_no_carriage_returns_or_float_timestamps(
    sample_run: PipelineRun, name: str
) -> None:
    data = (sample_run.personalize_dir / name).read_bytes()
    assert b"\r" not in data
    assert data.endswith(b"\n")


def test_a_second_run_gives_byte_identical_datasets(tmp_path: Path) -> None:
    output = tmp_path / "data"
    first = run_pipeline(SAMPLE, output)
    datasets = {path.name: path.read_bytes() for path in first.personalize_dir.iterdir()}
    counts = {table: first.count(table) for table in ("ratings", "movies", "users", "tags")}
    second = run_pipeline(SAMPLE, output)
    assert second.result.success
    assert {path.name: path.read_bytes() for path in second.personalize_dir.iterdir()} == datasets
    assert {table: second.count(table) for table in counts} == counts
