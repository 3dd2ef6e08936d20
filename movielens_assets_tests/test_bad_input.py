"""Whole runs on bad releases: every line accounted for, failures explained, never a bare crash."""

import csv
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movielens_assets_tests.pipeline import PipelineRun, run_pipeline
from movielens_assets_tests.test_cases import CASES, failure_messages
from movielens_assets_tests.test_loading import HEADER, Line, expected_outcome, rating_lines

FILES = ("movies", "ratings", "tags", "links")


def release_with_ratings(folder: Path, ratings: bytes) -> Path:
    """The `_default` release with `ratings.csv` replaced."""
    shutil.copytree(CASES / "_default", folder, ignore=shutil.ignore_patterns("*.md"))
    (folder / "ratings.csv").write_bytes(ratings)
    return folder


def unexplained_failures(run: PipelineRun) -> list[str]:
    """Step failures that are neither a Failure with a message nor a blocking check."""
    unexplained = []
    for event in run.result.all_events:
        if not event.is_step_failure:
            continue
        failure = event.step_failure_data
        if failure.user_failure_data is not None and failure.user_failure_data.description:
            continue
        if failure.error and failure.error.cls_name == "DagsterAssetCheckFailedError":
            continue
        unexplained.append(f"{event.step_key}: {failure.error.message if failure.error else ''}")
    return unexplained


def test_a_header_only_ratings_file_gives_an_empty_typed_table(tmp_path: Path) -> None:
    release = release_with_ratings(tmp_path / "release", f"{HEADER}\n".encode())
    run = run_pipeline(release, tmp_path / "data", enforce_minimums=True)
    assert not run.result.success
    assert run.count("ratings") == 0
    assert run.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'ratings' ORDER BY ordinal_position"
    ) == [
        ("user_id", "BIGINT"),
        ("movie_id", "BIGINT"),
        ("rating", "DECIMAL(2,1)"),
        ("timestamp", "BIGINT"),
    ]
    assert "0 interactions, minimum 1,000" in failure_messages(run)
    assert unexplained_failures(run) == []


def test_mixed_line_endings_stop_the_run_naming_the_line(tmp_path: Path) -> None:
    ratings = f"{HEADER}\n1,1,4.0,964982703\n1,3,3.0,964983815\r\n2,1,5.0,1445714835\n"
    release = release_with_ratings(tmp_path / "release", ratings.encode())
    run = run_pipeline(release, tmp_path / "data", max_reject_share=1.0, enforce_minimums=False)
    assert not run.result.success
    assert "ratings.csv line 3: ends in CRLF, but the header line ends in LF" in (
        failure_messages(run)
    )
    assert unexplained_failures(run) == []


def test_blank_lines_and_a_missing_final_newline_are_accounted_for(tmp_path: Path) -> None:
    ratings = f"{HEADER}\n1,1,4.0,964982703\n\n1,3,3.0,964983815\n\n2,1,5.0,1445714835"
    release = release_with_ratings(tmp_path / "release", ratings.encode())
    run = run_pipeline(release, tmp_path / "data", max_reject_share=1.0, enforce_minimums=False)
    assert run.result.success
    assert run.count("ratings") == 3
    assert run.query("SELECT line, kind FROM ratings_rejects ORDER BY line") == [
        (3, "blank"),
        (5, "blank"),
    ]


@given(
    lines=st.lists(st.one_of(rating_lines(), st.just(None)), min_size=1, max_size=25),
)
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_random_releases_keep_every_invariant(tmp_path_factory, lines: list[Line | None]) -> None:
    root = tmp_path_factory.mktemp("random")
    body = b"\n".join(b"" if line is None else line[0] for line in lines)
    release = release_with_ratings(root / "release", HEADER.encode() + b"\n" + body + b"\n")
    run = run_pipeline(release, root / "data", max_reject_share=1.0, enforce_minimums=False)

    assert unexplained_failures(run) == []
    assert run.result.success, failure_messages(run)
    for name in FILES:
        with (release / f"{name}.csv").open("rb") as handle:
            data_lines = sum(1 for _ in handle) - 1
        table_rows = run.count(name)
        set_aside = run.count(f"{name}_rejects")
        assert table_rows + set_aside == data_lines, name
    kept, _ = expected_outcome(lines)
    with (run.personalize_dir / "interactions.csv").open(encoding="utf-8", newline="") as handle:
        written = {
            (int(row["USER_ID"]), int(row["ITEM_ID"])): (
                float(row["EVENT_VALUE"]),
                int(row["TIMESTAMP"]),
            )
            for row in csv.DictReader(handle)
        }
    assert written == {key: value for key, value in kept.items() if value[0] >= 3}
