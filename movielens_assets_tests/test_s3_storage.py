"""S3 storage against a real S3 API over HTTP (moto's server on loopback).

The same graph in both modes must give byte-identical datasets and the same table rows; a run
that loses S3 mid-upload must leave the previous datasets as they were; no secret may reach the
run's logs or metadata.
"""

import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInvalidConfigError
from dagster_shared.serdes import serialize_value

from movielens_assets_tests.conftest import SAMPLE, MotoS3
from movielens_assets_tests.pipeline import PipelineRun, run_cli, run_pipeline
from movielens_assets_tests.test_cases import CASES

PREFIX = "movielens"
DATASET_FILES = ("interactions.csv", "interactions.schema.json", "items.csv", "items.schema.json")
DATASET_KEYS = [f"{PREFIX}/personalize/{name}" for name in DATASET_FILES]


def run_s3(source: Path | str, tmp_path: Path, enforce_minimums: bool = True) -> PipelineRun:
    """The whole graph in-process in s3 mode; the bucket and endpoint come from the env."""
    return run_pipeline(
        source, tmp_path / "unused", enforce_minimums=enforce_minimums, storage="s3"
    )


def failure_messages(run: PipelineRun) -> dict[str, str]:
    """Step key (or event type, for run-level failures) to the full text of each error."""
    messages = {}
    for event in run.result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        texts = []
        while error is not None:
            texts.append(error.to_string())
            error = error.cause
        if texts:
            messages[event.step_key or event.event_type_value] = "\n".join(texts)
    return messages


def table_names(run: PipelineRun) -> list[str]:
    return sorted(row[0] for row in run.query("SHOW TABLES"))


def assert_no_secrets(moto: MotoS3, texts: Iterable[bytes]) -> None:
    """None of the fake secrets occurs in any of `texts`, which do mention the bucket."""
    joined = b"\n".join(texts)
    assert moto.bucket.encode() in joined  # the search looked at the run's own records
    for secret in moto.secrets:
        assert secret.encode() not in joined


def test_s3_mode_writes_the_same_datasets_and_tables_as_duckdb_mode(
    moto_s3: MotoS3, sample_run: PipelineRun, tmp_path: Path, capfd: Any
) -> None:
    run = run_s3(SAMPLE, tmp_path)

    assert run.result.success
    tables = table_names(sample_run)
    assert "ratings" in tables and "raw_ratings" in tables
    assert moto_s3.keys() == sorted(
        [*DATASET_KEYS, *(f"{PREFIX}/tables/{table}.parquet" for table in tables)]
    )
    for name, key in zip(DATASET_FILES, DATASET_KEYS, strict=True):
        assert moto_s3.read(key) == (sample_run.personalize_dir / name).read_bytes(), name
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for table in tables:
        local = downloads / f"{table}.parquet"
        local.write_bytes(moto_s3.read(f"{PREFIX}/tables/{table}.parquet"))
        with duckdb.connect() as connection:
            stored = connection.execute(
                "SELECT * FROM read_parquet(?) ORDER BY ALL", [str(local)]
            ).fetchall()
            stored_types = connection.execute(
                "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
                [str(local)],
            ).fetchall()
        assert stored == sample_run.query(f'SELECT * FROM "{table}" ORDER BY ALL'), table
        assert stored_types == sample_run.query(
            f'SELECT column_name, column_type FROM (DESCRIBE "{table}")'
        ), table

    metadata = {
        event.asset_key.path[-1]: event.step_materialization_data.materialization.metadata
        for event in run.result.all_events
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION
    }
    interactions = metadata["interactions"]
    assert (
        interactions["uri"].value == f"s3://{moto_s3.bucket}/{PREFIX}/personalize/interactions.csv"
    )
    assert interactions["schema_uri"].value == (
        f"s3://{moto_s3.bucket}/{PREFIX}/personalize/interactions.schema.json"
    )
    assert interactions["dagster/row_count"].value == len(
        sample_run.query("SELECT * FROM ratings WHERE rating >= 3")
    )
    assert (
        metadata["ratings"]["uri"].value == f"s3://{moto_s3.bucket}/{PREFIX}/tables/ratings.parquet"
    )
    assert metadata["ratings"]["dagster/row_count"].value == sample_run.count("ratings")

    captured = capfd.readouterr()
    assert_no_secrets(
        moto_s3,
        [
            *(serialize_value(event).encode() for event in run.result.all_events),
            captured.out.encode(),
            captured.err.encode(),
        ],
    )


def test_cli_run_with_the_multiprocess_executor_succeeds_and_leaks_no_secret(
    moto_s3: MotoS3, sample_run: PipelineRun, tmp_path: Path
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()

    completed = run_cli(
        {"DAGSTER_HOME": str(home), "MOVIELENS_STORAGE": "s3", "MOVIELENS_SOURCE_DIR": str(SAMPLE)},
        timeout=3600,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Executing steps using multiprocess executor" in completed.stderr
    assert "RUN_SUCCESS" in completed.stderr
    assert moto_s3.keys() == sorted(
        [*DATASET_KEYS, *(f"{PREFIX}/tables/{table}.parquet" for table in table_names(sample_run))]
    )
    for name, key in zip(DATASET_FILES, DATASET_KEYS, strict=True):
        assert moto_s3.read(key) == (sample_run.personalize_dir / name).read_bytes(), name
    # Event log, run records and compute logs all live under DAGSTER_HOME.
    stored = [path.read_bytes() for path in home.rglob("*") if path.is_file()]
    assert_no_secrets(moto_s3, [*stored, completed.stdout.encode(), completed.stderr.encode()])


class StopOnDatasetUpload:
    """WSGI middleware: the first upload of a Personalize object stops the server mid-request."""

    def __init__(self, app: Callable[..., Any], stop: Callable[[], None]) -> None:
        self.app = app
        self.stop = stop
        self.tripped_on: str | None = None
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] == "PUT" and "/personalize/" in path:
            with self.lock:
                if self.tripped_on is None:
                    self.tripped_on = path
                    self.stop()
            raise ConnectionAbortedError("the S3 server went away during the upload")
        return self.app(environ, start_response)


def changed_release(source: Path, target: Path) -> Path:
    """A copy of `source` with one more rating >= 3 and a movie's genres changed."""
    shutil.copytree(source, target)
    with (target / "ratings.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write("3,4,4.5,1445716000\n")
    movies = (target / "movies.csv").read_text(encoding="utf-8")
    (target / "movies.csv").write_text(
        movies.replace("Thriller", "Thriller|Mystery"), encoding="utf-8"
    )
    return target


def test_losing_s3_mid_upload_leaves_the_previous_datasets_and_fails_clearly(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    first = run_s3(CASES / "_default", tmp_path / "first", enforce_minimums=False)
    assert first.result.success
    before = {key: moto_s3.read(key) for key in DATASET_KEYS}
    release = changed_release(CASES / "_default", tmp_path / "changed")
    holder: dict[str, StopOnDatasetUpload] = {}

    def stop_on_dataset_upload(app: Callable[..., Any]) -> StopOnDatasetUpload:
        holder["middleware"] = StopOnDatasetUpload(app, lambda: moto_s3.server.stop())
        return holder["middleware"]

    moto_s3.restart(stop_on_dataset_upload)
    failed = run_s3(release, tmp_path / "second", enforce_minimums=False)
    moto_s3.restart()

    assert not failed.result.success
    tripped_on = holder["middleware"].tripped_on
    assert tripped_on is not None
    dataset = "interactions" if "interactions" in tripped_on else "items"
    message = failure_messages(failed)[dataset]
    assert (
        f"Could not publish s3://{moto_s3.bucket}/{PREFIX}/personalize/{dataset}.csv, "
        f"s3://{moto_s3.bucket}/{PREFIX}/personalize/{dataset}.schema.json: "
    ) in message
    assert "The previous object at each of these keys is unchanged." in message
    assert {key: moto_s3.read(key) for key in DATASET_KEYS} == before
    assert moto_s3.keys(f"{PREFIX}/personalize/") == DATASET_KEYS


def test_a_release_on_s3_gives_the_same_datasets_as_a_local_one(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    client = moto_s3.client()
    for path in (CASES / "_default").glob("*.csv"):
        client.upload_file(str(path), moto_s3.bucket, f"releases/default/{path.name}")
    local = run_pipeline(CASES / "_default", tmp_path / "local", enforce_minimums=False)

    remote = run_s3(f"s3://{moto_s3.bucket}/releases/default", tmp_path, False)

    assert local.result.success and remote.result.success
    for name, key in zip(DATASET_FILES, DATASET_KEYS, strict=True):
        assert moto_s3.read(key) == (local.personalize_dir / name).read_bytes(), name


def test_a_missing_bucket_variable_fails_the_run_at_its_start_naming_it(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    moto_s3.monkeypatch.delenv("MOVIELENS_S3_BUCKET")

    with pytest.raises(DagsterInvalidConfigError) as raised:
        run_s3(CASES / "_default", tmp_path, enforce_minimums=False)

    assert 'the environment variable "MOVIELENS_S3_BUCKET" which is not set' in str(raised.value)
    assert moto_s3.keys() == []


def test_a_bucket_that_does_not_exist_fails_the_run_at_its_start_naming_it(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    moto_s3.monkeypatch.setenv("MOVIELENS_S3_BUCKET", "movielens-no-such-bucket")

    run = run_s3(CASES / "_default", tmp_path, enforce_minimums=False)

    assert not run.result.success
    assert not [event for event in run.result.all_events if event.is_step_start]
    message = failure_messages(run)["RESOURCE_INIT_FAILURE"]
    assert (
        "The bucket 'movielens-no-such-bucket' (MOVIELENS_S3_BUCKET) does not exist at this "
        "endpoint and region."
    ) in message
