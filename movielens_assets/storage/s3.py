"""S3 storage: seeded tables as Parquet, Personalize datasets as CSV with their Avro schemas.

Bytes move with boto3's managed transfer between S3 and local files, which DuckDB reads and
writes. Every object is uploaded to a staging key, its size checked, and only then copied
server-side to its final key, so a final key holds the previous object or the new one, never a
partial one. Every step is stateless: it reads its inputs from the bucket, so steps may run in
separate processes.
"""

import contextlib
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from dagster import (
    ConfigurableIOManager,
    InitResourceContext,
    InputContext,
    MetadataValue,
    OutputContext,
    ResourceDependency,
)
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

from movielens_assets.datasets import PersonalizeDataset, table_metadata
from movielens_assets.engine import DuckDBEngine, quote
from movielens_assets.loading import sql_string
from movielens_assets.storage.local import read_dataset, write_csv
from movielens_assets.storage.tables import check_declared_columns, table_name

MIB = 1 << 20
# Parts of 64 MiB, four at a time: memory stays near 256 MiB whatever the object size, and a
# 100 GB dataset (Personalize's FULL import limit) needs about 1,600 of S3's 10,000 parts.
TRANSFER = TransferConfig(
    multipart_threshold=64 * MIB, multipart_chunksize=64 * MIB, max_concurrency=4
)
# Staged objects live outside `personalize/`, so an import job pointed at that folder never
# picks up a half-published file.
STAGING = ".staging"
PARQUET = "application/vnd.apache.parquet"
CSV = "text/csv; charset=utf-8"
JSON = "application/json"
S3_ERRORS = (BotoCoreError, ClientError, Boto3Error)


class S3StorageError(Exception):
    """The bucket cannot be used, or an object could not be published or read."""


@dataclass(frozen=True)
class Upload:
    """One local file to publish under `name` (a key relative to the prefix)."""

    path: Path
    name: str
    content_type: str


def s3_client(s3: Any) -> Any:
    """The boto3 S3 client behind an `S3Resource` dependency.

    Dagster resolves a nested partial `S3Resource` to the object it attaches to op contexts,
    which is already the client; a fully configured one arrives as the resource itself.
    """
    return s3.get_client() if isinstance(s3, S3Resource) else s3


def check_bucket(client: Any, bucket: str) -> None:
    """Fail with a message a user can act on unless `bucket` exists and these credentials see it."""
    if not bucket.strip():
        raise S3StorageError("MOVIELENS_S3_BUCKET is empty; set it to the bucket to write to.")
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchBucket"}:
            raise S3StorageError(
                f"The bucket {bucket!r} (MOVIELENS_S3_BUCKET) does not exist at this endpoint "
                "and region. Create it, or set MOVIELENS_S3_BUCKET to an existing bucket."
            ) from None
        if code in {"403", "AccessDenied"}:
            raise S3StorageError(
                f"Access to the bucket {bucket!r} (MOVIELENS_S3_BUCKET) is denied: the "
                "credentials from the AWS chain need s3:ListBucket on it (see the README)."
            ) from None
        raise S3StorageError(f"Could not check the bucket {bucket!r}: {error}") from None
    except BotoCoreError as error:
        raise S3StorageError(
            f"Could not reach S3 to check the bucket {bucket!r}: {error}. Check AWS_REGION, "
            "AWS_ENDPOINT_URL_S3 and the AWS credentials chain."
        ) from None


class S3ObjectStore(ConfigurableIOManager):
    """What both S3 IO managers share: the bucket, the prefix, publishing and fetching objects.

    Files fetched or written during a step stay in a private temp folder until the step's
    resources are torn down, so the lazy relations handed to asset code can read them; a file
    whose object is unchanged (same ETag) is not downloaded again.
    """

    engine: ResourceDependency[DuckDBEngine]
    s3: ResourceDependency[S3Resource]
    bucket: str = Field(description="Bucket that receives tables and datasets.")
    prefix: str = Field(default="movielens", description="Key prefix inside the bucket.")

    _client: Any = PrivateAttr(default=None)
    _workdir: Path | None = PrivateAttr(default=None)
    _local: dict[str, tuple[str, Path]] = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._client = s3_client(self.s3)
        check_bucket(self._client, self.bucket)
        self._workdir = Path(tempfile.mkdtemp(prefix="movielens-s3-"))

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self._local.clear()

    def key(self, name: str) -> str:
        """The object key of `name` (e.g. `tables/movies.parquet`) under the prefix."""
        return "/".join(part for part in (self.prefix.strip("/"), name) if part)

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.key(name)}"

    def local_path(self, file_name: str) -> Path:
        """A fresh path for `file_name` in the step's temp folder."""
        if self._workdir is None:
            raise RuntimeError("S3 storage used outside a run: no temp folder is set up.")
        return Path(tempfile.mkdtemp(dir=self._workdir)) / file_name

    def publish(self, uploads: Sequence[Upload]) -> None:
        """Upload every file to a staging key, check its size, then copy each to its final key.

        All files are staged and checked before the first copy, so a failed transfer changes no
        final key; a copy is atomic in S3. Staging keys are removed afterwards when S3 answers.
        """
        batch = f"{STAGING}/{uuid.uuid4().hex}"
        staged: list[str] = []
        published: list[str] = []
        try:
            for upload in uploads:
                staging_key = self.key(f"{batch}/{upload.name}")
                self._client.upload_file(
                    str(upload.path),
                    self.bucket,
                    staging_key,
                    ExtraArgs={"ContentType": upload.content_type},
                    Config=TRANSFER,
                )
                staged.append(staging_key)
                size = upload.path.stat().st_size
                stored = self._client.head_object(Bucket=self.bucket, Key=staging_key)
                if stored["ContentLength"] != size:
                    raise S3StorageError(
                        f"s3://{self.bucket}/{staging_key} holds {stored['ContentLength']:,} "
                        f"bytes after upload, but {upload.path.name} has {size:,}."
                    )
            for upload, staging_key in zip(uploads, staged, strict=True):
                self._client.copy(
                    {"Bucket": self.bucket, "Key": staging_key},
                    self.bucket,
                    self.key(upload.name),
                    ExtraArgs={"ContentType": upload.content_type, "MetadataDirective": "REPLACE"},
                    Config=TRANSFER,
                )
                published.append(upload.name)
                self.remember(upload.name, upload.path)
        except (*S3_ERRORS, S3StorageError) as error:
            kept = [self.uri(upload.name) for upload in uploads if upload.name not in published]
            done = ""
            if published:
                done = f" Already published: {', '.join(map(self.uri, published))}."
            raise S3StorageError(
                f"Could not publish {', '.join(kept)}: {error}. The previous object at each of "
                f"these keys is unchanged.{done}"
            ) from None
        finally:
            if staged:
                # Best effort: with S3 unreachable the staging objects stay behind, outside the
                # dataset folder; a lifecycle rule on `.staging/` clears them (see the README).
                with contextlib.suppress(*S3_ERRORS):
                    self._client.delete_objects(
                        Bucket=self.bucket,
                        Delete={"Objects": [{"Key": key} for key in staged], "Quiet": True},
                    )

    def remember(self, name: str, path: Path) -> None:
        """Record that `path` holds the object now at `name`, so loads in this step reuse it."""
        head = self._client.head_object(Bucket=self.bucket, Key=self.key(name))
        self._local[name] = (head["ETag"], path)

    def fetch(self, name: str) -> Path:
        """A local copy of the object at `name`, downloaded unless this step already holds it."""
        key = self.key(name)
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
            cached = self._local.get(name)
            if cached is not None and cached[0] == head["ETag"] and cached[1].is_file():
                return cached[1]
            path = self.local_path(Path(name).name)
            self._client.download_file(self.bucket, key, str(path), Config=TRANSFER)
        except S3_ERRORS as error:
            raise S3StorageError(
                f"Could not read s3://{self.bucket}/{key}: {error}. Materialise the asset that "
                "writes it first, or check MOVIELENS_S3_BUCKET and MOVIELENS_S3_PREFIX."
            ) from None
        self._local[name] = (head["ETag"], path)
        return path


class S3TableIOManager(S3ObjectStore):
    """Stores each table asset as `<prefix>/tables/<table>.parquet`."""

    def handle_output(self, context: OutputContext, obj: duckdb.DuckDBPyRelation) -> None:
        name = table_name(context.asset_key)
        check_declared_columns(context, obj)
        started = time.monotonic()
        path = self.local_path(f"{name}.parquet")
        rows = write_parquet(self.engine, obj, path)
        object_name = f"tables/{name}.parquet"
        self.publish([Upload(path, object_name, PARQUET)])
        seconds = time.monotonic() - started
        context.log.info(
            f"Wrote {rows:,} rows to {self.uri(object_name)} in {seconds:.1f} s "
            f"({rows / max(seconds, 1e-9):,.0f} rows/s)."
        )
        stored = self.engine.sql("SELECT * FROM read_parquet(?)", [str(path)])
        context.add_output_metadata(
            {
                **table_metadata(stored, rows),
                "uri": MetadataValue.path(self.uri(object_name)),
                "size_bytes": path.stat().st_size,
            }
        )

    def load_input(self, context: InputContext) -> duckdb.DuckDBPyRelation:
        path = self.fetch(f"tables/{table_name(context.asset_key)}.parquet")
        return self.engine.sql("SELECT * FROM read_parquet(?)", [str(path)])


class S3DatasetIOManager(S3ObjectStore):
    """Writes each Personalize dataset as `<prefix>/personalize/<name>.csv` and `.schema.json`.

    These are the keys a dataset import job's `dataLocation` points at.
    """

    def handle_output(self, context: OutputContext, obj: PersonalizeDataset) -> None:
        csv_name = f"personalize/{obj.name}.csv"
        schema_name = f"personalize/{obj.name}.schema.json"
        started = time.monotonic()
        csv_path = self.local_path(f"{obj.name}.csv")
        rows = write_csv(self.engine, obj.rows, csv_path)
        schema_path = csv_path.with_name(f"{obj.name}.schema.json")
        schema_path.write_text(obj.schema_json(), encoding="utf-8")
        self.publish([Upload(csv_path, csv_name, CSV), Upload(schema_path, schema_name, JSON)])
        seconds = time.monotonic() - started
        context.log.info(
            f"Wrote {rows:,} rows to {self.uri(csv_name)} in {seconds:.1f} s "
            f"({rows / max(seconds, 1e-9):,.0f} rows/s)."
        )
        written = read_dataset(self.engine, obj.name, obj.schema, csv_path)
        context.add_output_metadata(
            {
                **table_metadata(written.rows, rows),
                "uri": MetadataValue.path(self.uri(csv_name)),
                "schema_uri": MetadataValue.path(self.uri(schema_name)),
                "size_bytes": csv_path.stat().st_size,
                "personalize_schema": MetadataValue.json(obj.schema),
            }
        )

    def load_input(self, context: InputContext) -> PersonalizeDataset:
        name = table_name(context.asset_key)
        schema_path = self.fetch(f"personalize/{name}.schema.json")
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        return read_dataset(self.engine, name, schema, self.fetch(f"personalize/{name}.csv"))


def write_parquet(engine: DuckDBEngine, rows: duckdb.DuckDBPyRelation, path: Path) -> int:
    """COPY `rows` to a Parquet file at `path`; returns the row count."""
    view = f"parquet_{path.stem}"
    rows.create_view(view, replace=True)
    try:
        copied = engine.rows(
            f"COPY (SELECT * FROM {quote(view)}) TO {sql_string(str(path))} (FORMAT parquet)"
        )
    finally:
        engine.execute(f"DROP VIEW IF EXISTS {quote(view)}")
    return int(copied[0][0])
