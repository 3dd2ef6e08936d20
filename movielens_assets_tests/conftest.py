"""Fixtures shared by the test modules."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from moto.moto_server import threaded_moto_server
from moto.server import ThreadedMotoServer

from movielens_assets_tests.pipeline import PipelineRun, run_pipeline

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "ml-latest-small"
MOTO_REGION = "us-east-1"


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The whole graph materialised once on the bundled sample, shared by read-only tests."""
    return run_pipeline(SAMPLE, tmp_path_factory.mktemp("sample") / "data")


@dataclass
class MotoS3:
    """A moto S3 server on loopback, one empty bucket, and the fake credentials in the env.

    boto3 finds the server through AWS_ENDPOINT_URL_S3, as a deployment finds MinIO or AWS.
    """

    monkeypatch: pytest.MonkeyPatch
    server: ThreadedMotoServer
    bucket: str
    secrets: tuple[str, ...]

    @property
    def endpoint(self) -> str:
        host, port = self.server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self) -> Any:
        """A client for the test's own reads, with the same credentials the pipeline uses."""
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=MOTO_REGION)

    def keys(self, prefix: str = "") -> list[str]:
        """Every key in the bucket under `prefix`, sorted."""
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def restart(self, middleware: Callable[[Any], Any] | None = None) -> None:
        """Stop the server and start another on a new free port, optionally behind `middleware`.

        Moto keeps its buckets in process memory, so the new server serves the same objects.
        """
        self.server.stop()
        self.server = start_moto_server(middleware)
        self.monkeypatch.setenv("AWS_ENDPOINT_URL_S3", self.endpoint)


def start_moto_server(middleware: Callable[[Any], Any] | None = None) -> ThreadedMotoServer:
    """A moto server on 127.0.0.1 and a free port; `middleware` wraps its WSGI app if given."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    if middleware is None:
        server.start()
        return server
    plain = threaded_moto_server.DomainDispatcherApplication
    with mock.patch.object(
        threaded_moto_server,
        "DomainDispatcherApplication",
        lambda create_app: middleware(plain(create_app)),
    ):
        server.start()  # the app is built before start() returns
    return server


@pytest.fixture
def moto_s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MotoS3]:
    """A moto S3 server with a fresh bucket; the env points boto3 and the pipeline at it."""
    secrets = (f"fake-secret-{uuid.uuid4().hex}", f"fake-session-token-{uuid.uuid4().hex}")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MOVIELENS_S3_PREFIX", "MOVIELENS_STORAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMOVIELENSTESTKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secrets[0])
    monkeypatch.setenv("AWS_SESSION_TOKEN", secrets[1])
    monkeypatch.setenv("AWS_REGION", MOTO_REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", MOTO_REGION)
    # No credentials or config from the machine running the tests.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    bucket = f"movielens-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("MOVIELENS_S3_BUCKET", bucket)
    moto = MotoS3(monkeypatch, start_moto_server(), bucket, secrets)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint)
    moto.client().create_bucket(Bucket=bucket)
    try:
        yield moto
    finally:
        moto.server.stop()
