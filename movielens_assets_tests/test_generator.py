"""The benchmark's release generator: deterministic, MovieLens-shaped, and accepted whole.

A 50,000-rating release goes through the whole graph; the expected counts are worked out here
with the csv module, independently of DuckDB and of the pipeline.
"""

import csv
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.generate import generate
from movielens_assets_tests.pipeline import PipelineRun, run_pipeline

RATINGS = 50_000
FILES = ("movies.csv", "ratings.csv", "tags.csv", "links.csv")
HEADERS = {
    "movies.csv": ["movieId", "title", "genres"],
    "ratings.csv": ["userId", "movieId", "rating", "timestamp"],
    "tags.csv": ["userId", "movieId", "tag", "timestamp"],
    "links.csv": ["movieId", "imdbId", "tmdbId"],
}
HALF_STARS = {f"{stars / 2:.1f}" for stars in range(1, 11)}


def read_rows(path: Path) -> list[list[str]]:
    """Every row of a CSV file, header included, as the csv module parses it."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated") / "release"


@pytest.fixture(scope="module")
def generated(release: Path) -> Path:
    generate(release, RATINGS, seed=11)
    return release


@pytest.fixture(scope="module")
def pipeline_run(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    return run_pipeline(generated, tmp_path_factory.mktemp("generated-run") / "data")


def test_same_seed_same_bytes(generated: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", RATINGS, seed=11)
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (generated / name).read_bytes(), name


def test_other_seed_other_ratings(generated: Path, tmp_path: Path) -> None:
    generate(tmp_path / "other", RATINGS, seed=12)
    assert (tmp_path / "other" / "ratings.csv").read_bytes() != (
        generated / "ratings.csv"
    ).read_bytes()


def test_crlf_holds_the_same_rows(generated: Path, tmp_path: Path) -> None:
    generate(tmp_path / "crlf", RATINGS, seed=11, crlf=True)
    for name in FILES:
        data = (tmp_path / "crlf" / name).read_bytes()
        assert data.count(b"\r\n") == data.count(b"\n") == len(read_rows(generated / name)), name
        assert read_rows(tmp_path / "crlf" / name) == read_rows(generated / name), name


def test_files_are_movielens_shaped(generated: Path) -> None:
    rows = {name: read_rows(generated / name) for name in FILES}
    for name in FILES:
        assert rows[name][0] == HEADERS[name]
    ratings = rows["ratings.csv"][1:]
    movie_ids = {row[0] for row in rows["movies.csv"][1:]}
    assert len(ratings) == RATINGS
    assert len({(row[0], row[1]) for row in ratings}) == RATINGS
    assert min(Counter(row[0] for row in ratings).values()) >= 20
    assert {row[2] for row in ratings} <= HALF_STARS
    assert 0.75 <= sum(float(row[2]) >= 3 for row in ratings) / RATINGS <= 0.85
    assert {row[1] for row in ratings} <= movie_ids
    assert {row[1] for row in rows["tags.csv"][1:]} <= movie_ids
    assert ratings == sorted(ratings, key=lambda row: (int(row[0]), int(row[1])))
    titles = [row[1] for row in rows["movies.csv"][1:]]
    assert any("," in title for title in titles)
    assert any('"' in title for title in titles)
    assert '""' in (generated / "movies.csv").read_text(encoding="utf-8")
    assert any(row[2] == "(no genres listed)" for row in rows["movies.csv"][1:])


def test_heavy_tails(generated: Path) -> None:
    ratings = read_rows(generated / "ratings.csv")[1:]
    per_user = sorted(Counter(row[0] for row in ratings).values())
    per_movie = sorted(Counter(row[1] for row in ratings).values())
    # The busiest user rates many times the median user; the top movie beats the median movie
    # by far more.
    assert per_user[-1] >= 5 * per_user[len(per_user) // 2]
    assert per_movie[-1] >= 10 * per_movie[len(per_movie) // 2]


def test_pipeline_accepts_every_line(generated: Path, pipeline_run: PipelineRun) -> None:
    rows = {name: read_rows(generated / name)[1:] for name in FILES}
    ratings = rows["ratings.csv"]
    users = {row[0] for row in ratings} | {row[0] for row in rows["tags.csv"]}
    at_or_above_3 = sum(float(row[2]) >= 3 for row in ratings)

    assert pipeline_run.result.success
    assert all(pipeline_run.check_results().values()), pipeline_run.check_results()
    assert pipeline_run.count("ratings") == len(ratings)
    assert pipeline_run.count("users") == len(users)
    assert pipeline_run.count("movies") == len(rows["movies.csv"])
    assert pipeline_run.count("tags") == len(rows["tags.csv"])
    assert pipeline_run.count("links") == len(rows["links.csv"])
    for table in ("movies_rejects", "ratings_rejects", "tags_rejects", "links_rejects"):
        assert pipeline_run.count(table) == 0, table
    interactions = read_rows(pipeline_run.personalize_dir / "interactions.csv")
    assert len(interactions) - 1 == at_or_above_3
    items = read_rows(pipeline_run.personalize_dir / "items.csv")
    assert len(items) - 1 == len(rows["movies.csv"])
