"""Faults around a run: killed, a held DuckDB file, two runs at once, changed input, odd paths.

The invariant each time: the last good tables and datasets are whole, and the next run completes.
"""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from movielens_assets_tests.conftest import SAMPLE
from movielens_assets_tests.pipeline import REPO, PipelineRun, run_cli, run_pipeline
from movielens_assets_tests.test_cases import CASES, assemble
from movielens_assets_tests.test_cli import cli_env

DATASETS = ("interactions.csv", "items.csv", "interactions.schema.json", "items.schema.json")
TABLES = ("movies", "ratings", "tags", "links", "users", "genres", "movie_genres")


def snapshot(output: Path) -> tuple[dict[str, bytes], dict[str, list[tuple]]]:
    """Dataset bytes and table contents of an output folder."""
    datasets = {name: (output / "personalize" / name).read_bytes() for name in DATASETS}
    with duckdb.connect(str(output / "movielens.duckdb"), read_only=True) as connection:
        tables = {
            table: connection.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall()
            for table in TABLES
        }
    return datasets, tables


def start_cli(env: dict[str, str]) -> subprocess.Popen[str]:
    """Start a CLI run in its own process group, its log readable line by line."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            *("asset", "materialize", "-m", "movielens_assets", "--select", "*"),
        ],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.parametrize("marker", ["ratings - STEP_START", "interactions - STEP_START"])
def test_a_run_killed_mid_write_leaves_the_last_good_outputs(tmp_path: Path, marker: str) -> None:
    env = cli_env(tmp_path, SAMPLE)
    assert run_cli(env).returncode == 0
    before = snapshot(tmp_path / "data")

    process = start_cli(env)
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if marker in line:
                os.killpg(process.pid, signal.SIGKILL)
                break
        else:
            pytest.fail(f"the run ended before {marker!r}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert snapshot(tmp_path / "data") == before

    assert run_cli(env).returncode == 0
    assert snapshot(tmp_path / "data") == before


def test_a_held_database_file_fails_clearly_and_touches_nothing(tmp_path: Path) -> None:
    env = cli_env(tmp_path, SAMPLE)
    assert run_cli(env).returncode == 0
    before = snapshot(tmp_path / "data")
    database = tmp_path / "data" / "movielens.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            "connection = duckdb.connect(sys.argv[1])\n"
            "print('holding', flush=True)\n"
            "time.sleep(120)\n",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        completed = run_cli({**env, "MOVIELENS_LOCK_TIMEOUT_SECONDS": "1"})
    finally:
        holder.kill()
        holder.wait()
    assert completed.returncode != 0
    assert f"{database} is in use by another process" in completed.stderr
    assert f"PID {holder.pid}" in completed.stderr
    assert snapshot(tmp_path / "data") == before


def test_two_runs_at_once_both_finish_one_after_the_other(
    tmp_path: Path, sample_run: PipelineRun
) -> None:
    env = {**cli_env(tmp_path, SAMPLE), "MOVIELENS_LOCK_TIMEOUT_SECONDS": "600"}
    # Same output folder, so the two runs contend for data/movielens.duckdb. Each has its own
    # DAGSTER_HOME: two runs created at the same instant in one fresh SQLite instance can collide
    # in Dagster's own run storage (README, Limits), which is not what this test is about.
    homes = [tmp_path / f"dagster_home_{number}" for number in (1, 2)]
    for home in homes:
        home.mkdir()
    runs = [start_cli({**env, "DAGSTER_HOME": str(home)}) for home in homes]
    errors = [process.communicate(timeout=600)[1] for process in runs]
    assert [process.returncode for process in runs] == [0, 0], [e[-2000:] for e in errors]
    assert snapshot(tmp_path / "data") == snapshot(sample_run.output_dir)


def test_a_rerun_on_changed_input_equals_a_fresh_run(tmp_path: Path) -> None:
    default = assemble("_default", tmp_path / "default")
    changed = assemble("10-duplicate-and-re-ratings", tmp_path / "changed")
    options = {"max_reject_share": 1.0, "enforce_minimums": False}
    run_pipeline(SAMPLE, tmp_path / "reused")
    run_pipeline(default, tmp_path / "reused", **options)
    rerun = run_pipeline(changed, tmp_path / "reused", **options)
    fresh = run_pipeline(changed, tmp_path / "fresh", **options)
    assert rerun.result.success and fresh.result.success
    assert snapshot(rerun.output_dir) == snapshot(fresh.output_dir)
    assert rerun.query("SELECT * FROM ratings_rejects ORDER BY line") == fresh.query(
        "SELECT * FROM ratings_rejects ORDER BY line"
    )


def test_paths_with_spaces_quotes_and_non_ascii(tmp_path: Path) -> None:
    odd = tmp_path / "a 'quoted' \"name\" with ünïcødé"
    release = shutil.copytree(CASES / "_default", odd / "release")
    run = run_pipeline(release, odd / "data", max_reject_share=1.0, enforce_minimums=False)
    plain = run_pipeline(
        assemble("_default", tmp_path / "plain"),
        tmp_path / "plain-data",
        max_reject_share=1.0,
        enforce_minimums=False,
    )
    assert run.result.success
    assert snapshot(run.output_dir) == snapshot(plain.output_dir)
    assert run.query("SELECT location FROM raw_ratings") == [
        (str((release / "ratings.csv").resolve()),)
    ]
