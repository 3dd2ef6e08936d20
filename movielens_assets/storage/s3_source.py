"""A MovieLens release under s3://bucket/prefix, read through local copies of its files."""

import tempfile
from pathlib import Path

from dagster import ResourceDependency
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

from movielens_assets.release import ReleaseFile
from movielens_assets.source import ReleaseFileError, ReleaseSource
from movielens_assets.storage.s3 import s3_client


class S3ReleaseSource(ReleaseSource):
    """A release under s3://bucket/prefix: each file is downloaded with boto3's managed transfer."""

    location: str = Field(description="s3://bucket/prefix of the release.")
    s3: ResourceDependency[S3Resource]
    cache_dir: str = Field(
        default="",
        description="Where the release files are downloaded; a temp dir when empty.",
    )

    _cache: Path | None = PrivateAttr(default=None)

    def local_path(self, release_file: ReleaseFile) -> Path:
        """Download the file (it may have changed since the last step) and return its path."""
        bucket, _, prefix = self.location.removeprefix("s3://").partition("/")
        key = f"{prefix.rstrip('/')}/{release_file.file_name}".lstrip("/")
        if self._cache is None:
            root = Path(self.cache_dir) if self.cache_dir else Path(tempfile.mkdtemp())
            root.mkdir(parents=True, exist_ok=True)
            self._cache = root
        target = self._cache / release_file.file_name
        client = s3_client(self.s3)
        try:
            client.download_file(bucket, key, str(target))
        except Exception as error:
            raise ReleaseFileError(
                f"{release_file.file_name}: could not download s3://{bucket}/{key}: {error}"
            ) from error
        return target

    def address(self, release_file: ReleaseFile, path: Path) -> str:
        """Where the file lives: its s3:// URI, not the local copy."""
        return f"{self.location.rstrip('/')}/{release_file.file_name}"
