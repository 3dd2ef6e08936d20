"""`dagster asset materialize` as a user runs it: success on the sample, non-zero on a bad input."""

import shutil
from pathlib import Path

from movielens_assets_tests.conftest import SAMPLE
from movielens_assets_tests.pipeline import PipelineRun, run_cli
from movielens_assets_tests.test_cases import CASES, assemble


def cli_env(tmp_path: Path, source: Path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    return {
        "DAGSTER_HOME": str(home),
        "MOVIELENS_SOURCE_DIR": str(source),
        "MOVIELENS_OUTPUT_DIR": str(tmp_path / "data"),
    }


def test_cli_materialises_the_sample_like_the_in_process_run(
    tmp_path: Path, sample_run: PipelineRun
) -> None:
    completed = run_cli(cli_env(tmp_path, SAMPLE))
    assert completed.returncode == 0, completed.stderr[-3000:]
    for name in ("interactions.csv", "items.csv", "interactions.schema.json", "items.schema.json"):
        written = (tmp_path / "data" / "personalize" / name).read_bytes()
        assert written == (sample_run.personalize_dir / name).read_bytes()


def test_cli_exits_non_zero_when_a_blocking_check_fails(tmp_path: Path) -> None:
    release = assemble("05-orphan-ratings-and-tags", tmp_path / "release")
    completed = run_cli(cli_env(tmp_path, release))
    assert completed.returncode != 0
    assert "rejects_within_limit" in completed.stderr
    assert "3 of 11 lines of ratings.csv rejected or duplicate" in completed.stderr
    assert not (tmp_path / "data" / "personalize" / "interactions.csv").exists()


def test_cli_names_the_missing_file(tmp_path: Path) -> None:
    release = tmp_path / "release"
    shutil.copytree(CASES / "_default", release)
    (release / "links.csv").unlink()
    completed = run_cli(cli_env(tmp_path, release))
    assert completed.returncode != 0
    assert f"links.csv: not found at {release / 'links.csv'}" in completed.stderr
    for name in ("interactions.csv", "items.csv"):
        assert not (tmp_path / "data" / "personalize" / name).exists()
