"""The dataset checks catch a hand-edited interactions.csv, with exact counts of each change."""

import csv
import io
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance

from movielens_assets.definitions import build_definitions
from movielens_assets_tests.pipeline import PipelineRun, run_pipeline

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "ml-latest-small"
LONG_ID = "7" * 300
INTERACTION_CHECKS = [
    f"interactions:{name}"
    for name in (
        "interactions_match_ratings",
        "interaction_ids_known",
        "interactions_fit_personalize",
    )
]
Rows = list[list[str]]


@pytest.fixture(scope="module")
def materialised(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    run = run_pipeline(SAMPLE, tmp_path_factory.mktemp("materialised"))
    assert run.result.success
    return run


def interactions_rows(run: PipelineRun) -> Rows:
    """interactions.csv of `run` as rows of fields, the header first."""
    with (run.personalize_dir / "interactions.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def tamper(run: PipelineRun, tmp_path: Path, edit: Callable[[Rows], Rows]) -> PipelineRun:
    """A copy of `run`'s outputs whose interactions.csv rows (header first) went through `edit`."""
    output = tmp_path / "edited"
    shutil.copytree(run.output_dir, output)
    edited = PipelineRun(result=run.result, settings=replace(run.settings, output_dir=output))
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(edit(interactions_rows(run)))
    (edited.personalize_dir / "interactions.csv").write_text(text.getvalue(), encoding="utf-8")
    return edited


def run_checks(run: PipelineRun, *only: AssetCheckKey) -> dict[str, dict[str, Any]]:
    """Run the checks_only job (or the checks `only`) on what `run` stored.

    Returns check name (`asset:check`) to whether it passed, its description and its metadata.
    """
    job = build_definitions(run.settings).resolve_job_def("checks_only")
    if only:
        job = job.get_subset(asset_selection=set(), asset_check_selection=set(only))
    result = job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
    return {
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}": {
            "passed": evaluation.passed,
            "description": evaluation.description or "",
            **{label: entry.value for label, entry in evaluation.metadata.items()},
        }
        for evaluation in result.get_asset_check_evaluations()
    }


def moved_timestamp(rows: Rows) -> Rows:
    """The first interaction one second later: same count, one row that is not a rating."""
    header, first, *rest = rows
    return [header, [*first[:2], str(int(first[2]) + 1), *first[3:]], *rest]


def several_faults(rows: Rows) -> Rows:
    """A moved timestamp, the last row dropped, an unknown movie, a bad user, a user-less row."""
    header, first, *rest = moved_timestamp(rows)
    return [
        header,
        first,
        *rest[:-1],
        ["1", "999999999", "964982703", "rating", "4.0"],
        [LONG_ID, first[1], "964982703", "rating", "2.5"],
        ["", first[1], "964982703", "rating", "4.0"],
    ]


def test_untouched_outputs_pass_every_check(materialised: PipelineRun) -> None:
    outcomes = run_checks(materialised)
    assert len(outcomes) == 30
    assert all(outcome["passed"] for outcome in outcomes.values()), outcomes


def test_one_changed_value_is_caught_by_the_fingerprint(
    materialised: PipelineRun, tmp_path: Path
) -> None:
    rows = len(interactions_rows(materialised)) - 1
    matched = run_checks(tamper(materialised, tmp_path, moved_timestamp))[
        "interactions:interactions_match_ratings"
    ]
    assert matched["passed"] is False
    assert matched["interactions"] == matched["ratings_at_or_above_3"] == rows
    assert matched["not a source rating"] == 1
    assert matched["source rating missing"] == 1


def test_a_tampered_interactions_file_fails_with_exact_counts(
    materialised: PipelineRun, tmp_path: Path
) -> None:
    rows = len(interactions_rows(materialised)) - 1
    outcomes = run_checks(tamper(materialised, tmp_path, several_faults))

    matched = outcomes["interactions:interactions_match_ratings"]
    assert matched["passed"] is False
    assert matched["interactions"] == rows + 2
    assert matched["ratings_at_or_above_3"] == rows
    assert matched["rating below 3"] == 1
    assert matched["not a source rating"] == 4
    assert matched["source rating missing"] == 2

    known = outcomes["interactions:interaction_ids_known"]
    assert known["passed"] is False
    assert known["ITEM_ID not a movie"] == 1
    assert known["USER_ID not in users"] == 2

    fit = outcomes["interactions:interactions_fit_personalize"]
    assert fit["passed"] is False
    assert fit["id longer than 256"] == 1
    assert fit["TIMESTAMP not epoch seconds"] == 0

    assert outcomes["items:items_match_movies"]["passed"] is True


def test_one_check_can_run_alone(materialised: PipelineRun, tmp_path: Path) -> None:
    key = AssetCheckKey(AssetKey("interactions"), "interactions_fit_personalize")
    outcomes = run_checks(tamper(materialised, tmp_path, several_faults), key)
    assert list(outcomes) == ["interactions:interactions_fit_personalize"]
    assert outcomes["interactions:interactions_fit_personalize"]["id longer than 256"] == 1


def test_event_types_must_be_one_non_empty_value(materialised: PipelineRun, tmp_path: Path) -> None:
    def edit(rows: Rows) -> Rows:
        header, first, second, *rest = rows
        return [header, [*first[:3], "watch", first[4]], [*second[:3], "", second[4]], *rest]

    outcomes = run_checks(tamper(materialised, tmp_path, edit))
    fit = outcomes["interactions:interactions_fit_personalize"]
    assert fit["passed"] is False
    assert fit["EVENT_TYPE empty"] == 1
    assert fit["EVENT_TYPE not the same on every row"] == 1
    assert outcomes["interactions:interactions_match_ratings"]["passed"] is True


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda rows: [[*rows[0][:4], "VALUE"], *rows[1:]],
            "header is 'USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,VALUE'",
        ),
        (
            lambda rows: [["\ufeff" + rows[0][0], *rows[0][1:]], *rows[1:]],
            "so its rows cannot be read by name",
        ),
        (
            lambda rows: [*rows[:3], [*rows[3], "extra"], *rows[4:]],
            "Could not read the data: Invalid Input Error: CSV Error on Line: 4",
        ),
    ],
    ids=["renamed column", "byte order mark", "extra field"],
)
def test_an_unreadable_interactions_file_fails_every_check_saying_why(
    materialised: PipelineRun, tmp_path: Path, edit: Callable[[Rows], Rows], expected: str
) -> None:
    outcomes = run_checks(tamper(materialised, tmp_path, edit))
    for name in INTERACTION_CHECKS:
        assert outcomes[name]["passed"] is False
        assert expected in outcomes[name]["description"], outcomes[name]["description"]
