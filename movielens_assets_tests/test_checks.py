"""The dataset checks catch a tampered interactions.csv, with exact counts of what was changed."""

import csv
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


@pytest.fixture(scope="module")
def materialised(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    run = run_pipeline(SAMPLE, tmp_path_factory.mktemp("materialised"))
    assert run.result.success
    return run


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])


def run_checks(run: PipelineRun, *only: AssetCheckKey) -> dict[str, dict[str, Any]]:
    """Run the checks_only job (or the checks `only`) on what `run` stored: name to outcome."""
    job = build_definitions(run.settings).resolve_job_def("checks_only")
    if only:
        job = job.get_subset(asset_selection=set(), asset_check_selection=set(only))
    result = job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
    return {
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}": {
            "passed": evaluation.passed,
            **{label: entry.value for label, entry in evaluation.metadata.items()},
        }
        for evaluation in result.get_asset_check_evaluations()
    }


@pytest.fixture()
def tampered(materialised: PipelineRun, tmp_path: Path) -> PipelineRun:
    """A copy of the materialised run whose interactions.csv was edited by hand (see below)."""
    output = tmp_path / "copy"
    shutil.copytree(materialised.output_dir, output)
    run = PipelineRun(
        result=materialised.result, settings=replace(materialised.settings, output_dir=output)
    )
    path = run.personalize_dir / "interactions.csv"
    header, rows = read_rows(path)
    first = rows[0]
    rows = [
        [first[0], first[1], str(int(first[2]) + 1), *first[3:]],  # a moved timestamp
        *rows[1:-1],  # the last row dropped
        ["1", "999999999", "964982703", "rating", "4.0"],  # a movie that does not exist
        [LONG_ID, first[1], "964982703", "rating", "2.5"],  # unknown, too long, below 3
        ["", first[1], "964982703", "rating", "4.0"],  # no user at all
    ]
    write_rows(path, header, rows)
    return run


def test_untouched_outputs_pass_every_check(materialised: PipelineRun) -> None:
    outcomes = run_checks(materialised)
    assert outcomes
    assert all(outcome["passed"] for outcome in outcomes.values()), outcomes


def test_a_tampered_interactions_file_fails_with_exact_counts(
    materialised: PipelineRun, tampered: PipelineRun
) -> None:
    _, original = read_rows(materialised.personalize_dir / "interactions.csv")
    outcomes = run_checks(tampered)

    matched = outcomes["interactions:interactions_match_ratings"]
    assert matched["passed"] is False
    assert matched["interactions"] == len(original) + 2
    assert matched["ratings_at_or_above_3"] == len(original)
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


def test_one_check_can_run_alone(tampered: PipelineRun) -> None:
    key = AssetCheckKey(AssetKey("interactions"), "interactions_fit_personalize")
    outcomes = run_checks(tampered, key)
    assert list(outcomes) == ["interactions:interactions_fit_personalize"]
    assert outcomes["interactions:interactions_fit_personalize"]["id longer than 256"] == 1


def tamper(run: PipelineRun, tmp_path: Path, edit: Callable[[list[str]], list[str]]) -> PipelineRun:
    """A copy of `run` whose interactions.csv lines were rewritten by `edit`."""
    output = tmp_path / "edited"
    shutil.copytree(run.output_dir, output)
    edited = PipelineRun(result=run.result, settings=replace(run.settings, output_dir=output))
    path = edited.personalize_dir / "interactions.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return edited


INTERACTION_CHECKS = [
    f"interactions:{name}"
    for name in (
        "interactions_match_ratings",
        "interaction_ids_known",
        "interactions_fit_personalize",
    )
]


def test_event_types_must_be_one_non_empty_value(materialised: PipelineRun, tmp_path: Path) -> None:
    def edit(lines: list[str]) -> list[str]:
        first, second = lines[1].split(","), lines[2].split(",")
        return [
            lines[0],
            ",".join([*first[:3], "watch", first[4]]),
            ",".join([*second[:3], "", second[4]]),
            *lines[3:],
        ]

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
            lambda lines: [lines[0].replace("EVENT_VALUE", "VALUE"), *lines[1:]],
            "header is 'USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,VALUE'",
        ),
        (lambda lines: ["\ufeff" + lines[0], *lines[1:]], "so its rows cannot be read by name"),
        (
            lambda lines: [*lines[:3], lines[3] + ",extra", *lines[4:]],
            "Could not read the data",
        ),
    ],
    ids=["renamed column", "byte order mark", "extra field"],
)
def test_an_unreadable_interactions_file_fails_every_check_saying_why(
    materialised: PipelineRun,
    tmp_path: Path,
    edit: Callable[[list[str]], list[str]],
    expected: str,
) -> None:
    run = tamper(materialised, tmp_path, edit)
    job = build_definitions(run.settings).resolve_job_def("checks_only")
    result = job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
    evaluations = {
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}": evaluation
        for evaluation in result.get_asset_check_evaluations()
    }
    for name in INTERACTION_CHECKS:
        assert evaluations[name].passed is False
        assert expected in (evaluations[name].description or ""), evaluations[name].description
