"""Every shared case (inputs that broke other pipelines) with the results its CASE.md expects.

A case folder holds only the files that differ from `_default`; variants sit in sub-folders.
Cases are tiny, so they run with the reject share limit lifted and Personalize minimums relaxed,
except where the case is about exactly those limits.
"""

import csv
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from movielens_assets_tests.pipeline import PipelineRun, run_pipeline

CASES = Path(__file__).resolve().parent / "cases"
DEFAULT_GENRES = {"Adventure", "Animation", "Children", "Comedy", "Drama", "Romance", "Thriller"}
DEFAULT_INTERACTIONS = {
    ("1", "1", "964982703", "rating", 4.0),
    ("1", "3", "964983815", "rating", 3.0),
    ("2", "1", "1445714835", "rating", 5.0),
    ("2", "5", "1445715207", "rating", 3.5),
    ("3", "2", "1260759144", "rating", 4.5),
}
DEFAULT_ITEMS = {
    "1": "Animation|Children|Comedy",
    "2": "Drama|Romance",
    "3": "Thriller",
    "4": "Adventure|Drama",
    "5": "Drama",
    "6": "Comedy",
}

RunCase = Callable[..., PipelineRun]


def assemble(case: str, target: Path) -> Path:
    """A release folder: `_default`, then the case's parent folder, then the variant folder."""
    target.mkdir(parents=True)
    folder = CASES / case
    layers = [CASES / "_default"]
    if folder.parent != CASES:
        layers.append(folder.parent)
    layers.append(folder)
    for layer in layers:
        for path in layer.glob("*.csv"):
            shutil.copyfile(path, target / path.name)
    return target


@pytest.fixture(scope="module")
def run_case(tmp_path_factory: pytest.TempPathFactory) -> RunCase:
    """Run a case once per module and option set; later calls reuse the run."""
    runs: dict[tuple, PipelineRun] = {}

    def run(case: str, **options: object) -> PipelineRun:
        key = (case, tuple(sorted(options.items())))
        if key not in runs:
            root = tmp_path_factory.mktemp(case.replace("/", "-"))
            options = {"max_reject_share": 1.0, "enforce_minimums": False, **options}
            runs[key] = run_pipeline(assemble(case, root / "release"), root / "data", **options)
        return runs[key]

    return run


def dataset(run: PipelineRun, name: str) -> tuple[list[str], list[list[str]]]:
    with (run.personalize_dir / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def interactions(run: PipelineRun) -> set[tuple[str, str, str, str, float]]:
    header, rows = dataset(run, "interactions")
    assert header == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"]
    assert len({tuple(row) for row in rows}) == len(rows)
    return {(user, item, ts, kind, float(value)) for user, item, ts, kind, value in rows}


def items(run: PipelineRun) -> dict[str, str]:
    header, rows = dataset(run, "items")
    assert header[:2] == ["ITEM_ID", "GENRES"]
    return {row[0]: row[1] for row in rows}


def counts(run: PipelineRun) -> dict[str, int]:
    tables = ("movies", "genres", "movie_genres", "users", "ratings", "tags", "links")
    return {table: run.count(table) for table in tables}


def rejects(run: PipelineRun, table: str) -> list[tuple[int, str, str]]:
    return run.query(f"SELECT line, reason, kind FROM {table}_rejects ORDER BY line")


def failure_messages(run: PipelineRun) -> str:
    """Every failure message and check description of a run, as one text."""
    messages = []
    for event in run.result.all_events:
        if event.is_step_failure:
            failure = event.step_failure_data
            messages.append(event.message or "")
            messages.append(failure.error.message if failure.error else "")
            if failure.user_failure_data is not None:
                messages.append(failure.user_failure_data.description or "")
    messages += [
        evaluation.description or "" for evaluation in run.result.get_asset_check_evaluations()
    ]
    return "\n".join(messages)


def test_default_gives_the_outputs_its_readme_lists(run_case: RunCase) -> None:
    run = run_case("_default")
    assert run.result.success
    assert counts(run) == {
        "movies": 6,
        "genres": 7,
        "movie_genres": 10,
        "users": 3,
        "ratings": 8,
        "tags": 3,
        "links": 6,
    }
    assert {row[0] for row in run.query("SELECT genre FROM genres")} == DEFAULT_GENRES
    assert run.query("SELECT user_id FROM users ORDER BY user_id") == [(1,), (2,), (3,)]
    assert run.query("SELECT imdb_id, tmdb_id FROM links WHERE movie_id = 1") == [
        ("0100001", 10001)
    ]
    assert interactions(run) == DEFAULT_INTERACTIONS
    assert items(run) == DEFAULT_ITEMS


def test_01_commas_inside_quoted_titles(run_case: RunCase) -> None:
    run = run_case("01-title-commas-quoted")
    titles = dict(run.query("SELECT movie_id, title FROM movies"))
    assert titles[2] == "Knight, the Fox and the Lantern, The (2005)"
    assert titles[6] == "Hello, Goodbye, Hello Again (2010)"
    assert counts(run) == {
        "movies": 6,
        "genres": 8,
        "movie_genres": 12,
        "users": 3,
        "ratings": 8,
        "tags": 3,
        "links": 6,
    }
    genres = {row[0] for row in run.query("SELECT genre FROM genres")}
    assert genres == DEFAULT_GENRES | {"Fantasy"}
    assert not any(re.search(r"[ ,0-9()]", genre) for genre in genres)
    assert items(run) == {
        **DEFAULT_ITEMS,
        "2": "Adventure|Children|Fantasy",
        "6": "Comedy|Romance",
    }
    assert interactions(run) == DEFAULT_INTERACTIONS


def test_02_doubled_quotes_round_trip(run_case: RunCase) -> None:
    run = run_case("02-embedded-doubled-quotes")
    titles = dict(run.query("SELECT movie_id, title FROM movies"))
    assert titles[3] == '"Midnight Broadcast" Encore (1997)'
    assert len(titles[3]) == 34
    assert titles[4] == "12'30\"45 - Salt and Stone (1999)"
    assert titles[5] == 'Quiet Orchard, The "Director\'s Cut" (2001)'
    tags = [row[0] for row in run.query("SELECT tag FROM tags ORDER BY timestamp")]
    assert sorted(tags) == sorted(['"charming"', '"so bad"=so good', 'slow, "quiet" burn'])
    assert (run.count("genres"), run.count("movie_genres")) == (7, 10)
    default = run_case("_default")
    for name in ("interactions.csv", "items.csv"):
        assert (run.personalize_dir / name).read_bytes() == (
            default.personalize_dir / name
        ).read_bytes()


def test_04_no_genres_listed_is_not_a_genre(run_case: RunCase) -> None:
    run = run_case("04-no-genres-listed")
    assert counts(run)["movies"] == 6
    assert {row[0] for row in run.query("SELECT genre FROM genres")} == DEFAULT_GENRES
    assert run.count("movie_genres") == 8
    assert items(run) == {**DEFAULT_ITEMS, "5": "", "6": ""}
    assert "(no genres listed)" not in (run.personalize_dir / "items.csv").read_text()
    assert interactions(run) == DEFAULT_INTERACTIONS
    assert {item for _, item, _, _, _ in interactions(run)} <= set(items(run))


def test_05_orphan_ratings_and_tags_are_quarantined(run_case: RunCase) -> None:
    run = run_case("05-orphan-ratings-and-tags")
    assert run.result.success
    assert rejects(run, "ratings") == [
        (4, "movieId not in movies.csv", "rejected"),
        (11, "movieId not in movies.csv", "rejected"),
        (12, "movieId not in movies.csv", "rejected"),
    ]
    assert rejects(run, "tags") == [(5, "movieId not in movies.csv", "rejected")]
    assert (run.count("ratings"), run.count("tags"), run.count("users")) == (8, 3, 3)
    assert run.query("SELECT count(*) FROM users WHERE user_id = 4") == [(0,)]
    assert interactions(run) == DEFAULT_INTERACTIONS
    assert items(run) == DEFAULT_ITEMS


def test_05_under_the_default_reject_limit_the_run_stops(run_case: RunCase) -> None:
    run = run_case("05-orphan-ratings-and-tags", max_reject_share=0.01)
    assert not run.result.success
    assert run.check_results()["ratings:rejects_within_limit"] is False
    assert "3 of 11 lines of ratings.csv rejected or duplicate" in failure_messages(run)
    assert not (run.personalize_dir / "interactions.csv").exists()


def test_07_bom_and_crlf_change_nothing(run_case: RunCase) -> None:
    run = run_case("07-bom-and-crlf")
    default = run_case("_default")
    assert counts(run) == counts(default)
    assert {row[0] for row in run.query("SELECT genre FROM genres")} == DEFAULT_GENRES
    assert run.query(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'ratings' AND column_name = 'timestamp'"
    ) == [("BIGINT",)]
    for name in ("interactions.csv", "items.csv"):
        data = (run.personalize_dir / name).read_bytes()
        assert b"\r" not in data
        assert data == (default.personalize_dir / name).read_bytes()


def test_09a_one_wide_row_is_quarantined_with_its_line(run_case: RunCase) -> None:
    run = run_case("09-ragged-rows/a-one-wide-row")
    assert [(line, kind) for line, _, kind in rejects(run, "tags")] == [(5, "rejected")]
    assert "5 fields, expected 4" in rejects(run, "tags")[0][1]
    assert sorted(row[0] for row in run.query("SELECT tag FROM tags")) == sorted(
        ["charming", "slow burn", "bittersweet", "quiet"]
    )
    columns = run.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'tags' "
        "ORDER BY ordinal_position"
    )
    assert [row[0] for row in columns] == ["user_id", "movie_id", "tag", "timestamp"]


def test_09b_trailing_comma_on_every_row_is_tolerated(run_case: RunCase) -> None:
    run = run_case("09-ragged-rows/b-trailing-comma-every-row")
    default = run_case("_default")
    assert counts(run) == counts(default)
    assert rejects(run, "ratings") == []
    assert interactions(run) == DEFAULT_INTERACTIONS


def test_10_latest_rating_wins_whatever_the_file_order(run_case: RunCase) -> None:
    run = run_case("10-duplicate-and-re-ratings")
    assert run.count("ratings") == 8
    assert run.query("SELECT count(*) FROM (SELECT DISTINCT user_id, movie_id FROM ratings)") == [
        (8,)
    ]
    ratings = {
        (user, movie): (float(rating), timestamp)
        for user, movie, rating, timestamp in run.query("SELECT * FROM ratings")
    }
    assert ratings[(1, 2)] == (4.0, 964990000)
    assert ratings[(3, 2)] == (2.0, 1260800000)
    assert run.count("users") == 3
    assert {(user, item, ts) for user, item, ts, _, _ in interactions(run)} == {
        ("1", "1", "964982703"),
        ("1", "2", "964990000"),
        ("1", "3", "964983815"),
        ("2", "1", "1445714835"),
        ("2", "5", "1445715207"),
    }
    assert rejects(run, "ratings") == [
        (3, "superseded by the later rating on line 12", "duplicate"),
        (9, "superseded by the later rating on line 8", "duplicate"),
        (11, "exact duplicate of line 5", "duplicate"),
    ]


@pytest.mark.parametrize(
    ("variant", "ratings", "users", "message"),
    [
        ("a-999-after-filter", 1000, 40, "999 interactions, minimum 1,000"),
        ("c-24-users-with-2", 1035, 54, "24 users with at least 2 interactions, minimum 25"),
    ],
)
def test_11_below_personalize_minimums_nothing_is_written(
    run_case: RunCase, variant: str, ratings: int, users: int, message: str
) -> None:
    run = run_case(f"11-personalize-minimums/{variant}", enforce_minimums=True)
    assert not run.result.success
    assert (run.count("ratings"), run.count("users")) == (ratings, users)
    assert run.check_results()["interactions:meets_personalize_minimums"] is False
    assert message in failure_messages(run)
    assert not (run.personalize_dir / "interactions.csv").exists()


def test_11_exact_boundary_is_accepted(run_case: RunCase) -> None:
    run = run_case("11-personalize-minimums/b-exact-boundary", enforce_minimums=True)
    assert run.result.success
    assert len(interactions(run)) == 1000
    assert run.count("users") == 26
    assert len(items(run)) == 400


def test_12_float_seconds_accepted_milliseconds_rejected(run_case: RunCase) -> None:
    run = run_case("12-timestamp-units")
    assert run.count("ratings") == 7
    assert run.query("SELECT timestamp FROM ratings WHERE user_id = 1 AND movie_id = 3") == [
        (964983815,)
    ]
    [(line, reason, kind)] = rejects(run, "ratings")
    assert (line, kind) == (5, "rejected")
    assert "1445714835000" in reason
    assert "not epoch seconds" in reason
    assert {(user, item, ts) for user, item, ts, _, _ in interactions(run)} == {
        ("1", "1", "964982703"),
        ("1", "3", "964983815"),
        ("2", "5", "1445715207"),
        ("3", "2", "1260759144"),
    }
    _, rows = dataset(run, "interactions")
    assert all(re.fullmatch(r"[0-9]{9,10}", row[2]) for row in rows)


def test_13_titles_keep_their_text_and_years_parse(run_case: RunCase) -> None:
    run = run_case("13-title-year-edges")
    with (CASES / "13-title-year-edges" / "movies.csv").open(encoding="utf-8") as handle:
        source = {int(row["movieId"]): row["title"] for row in csv.DictReader(handle)}
    titles = dict(run.query("SELECT movie_id, title FROM movies"))
    assert titles[4] == "Salt and Stone (1999)"
    assert {movie: title for movie, title in titles.items() if movie != 4} == {
        movie: title for movie, title in source.items() if movie != 4
    }
    assert dict(run.query("SELECT movie_id, year FROM movies")) == {
        1: 1998,
        2: None,
        3: 2006,
        4: 1999,
        5: 2001,
        6: 2004,
    }
    assert items(run) == DEFAULT_ITEMS
    assert interactions(run) == DEFAULT_INTERACTIONS


def test_16a_a_file_without_header_stops_the_run(run_case: RunCase) -> None:
    run = run_case("16-header-missing-or-reordered/a-no-header")
    assert not run.result.success
    message = failure_messages(run)
    assert "ratings.csv line 1" in message
    assert "userId,movieId,rating,timestamp" in message
    assert "1,1,4.0,964982703" in message
    assert not (run.personalize_dir / "interactions.csv").exists()


def test_16b_columns_are_mapped_by_name(run_case: RunCase) -> None:
    run = run_case("16-header-missing-or-reordered/b-columns-reordered")
    assert run.result.success
    assert run.count("ratings") == 8
    assert interactions(run) == DEFAULT_INTERACTIONS
