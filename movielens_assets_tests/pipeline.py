"""Run the whole graph in-process on a release folder, as the tests need it."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
from dagster import DagsterInstance, ExecuteInProcessResult

from movielens_assets.definitions import build_definitions
from movielens_assets.settings import Settings

REPO = Path(__file__).resolve().parent.parent


@dataclass
class PipelineRun:
    """A finished in-process run and where it wrote."""

    result: ExecuteInProcessResult
    settings: Settings

    @property
    def output_dir(self) -> Path:
        return self.settings.output_dir

    @property
    def database(self) -> Path:
        return self.settings.database

    @property
    def personalize_dir(self) -> Path:
        return self.settings.personalize_dir

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        """Rows of `sql` against the seeded tables, read-only."""
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.execute(sql, params).fetchall()

    def count(self, table: str) -> int:
        return self.query(f'SELECT count(*) FROM "{table}"')[0][0]

    def check_results(self) -> dict[str, bool]:
        """Check name (`asset:check`) to whether it passed, for every check that ran."""
        return {
            f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}": evaluation.passed
            for evaluation in self.result.get_asset_check_evaluations()
        }


def run_pipeline(
    source_dir: Path | str,
    output_dir: Path,
    max_reject_share: float = 0.01,
    enforce_minimums: bool = True,
    storage: str = "duckdb",
) -> PipelineRun:
    """Materialise every asset (with its checks) from `source_dir` into `output_dir`.

    Tiny releases need `enforce_minimums=False` to get an interactions file at all. With
    `storage="s3"` the bucket and endpoint come from the environment, as in a deployment.
    """
    settings = Settings(
        storage=storage,
        source_dir=str(source_dir),
        output_dir=output_dir,
        max_reject_share=max_reject_share,
    )
    job = build_definitions(settings).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
        run_config={"ops": {"interactions": {"config": {"enforce_minimums": enforce_minimums}}}},
    )
    return PipelineRun(result=result, settings=settings)


def run_cli(
    env: dict[str, str], *arguments: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`dagster asset materialize --select '*'` as a user runs it, from the repo root."""
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "asset",
        "materialize",
        "-m",
        "movielens_assets",
        "--select",
        "*",
        *arguments,
    ]
    return subprocess.run(
        command,
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
