"""The environment variables that configure a deployment, read in one place."""

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = PROJECT_ROOT / "samples" / "ml-latest-small"
DEFAULT_OUTPUT = PROJECT_ROOT / "data"
STORAGE_MODES = ("duckdb", "s3")


class SettingsError(Exception):
    """An environment variable holds a value the pipeline cannot use."""


@dataclass(frozen=True)
class Settings:
    """Where the release is read from, where outputs go, and which storage is used."""

    storage: str
    source_dir: str
    output_dir: Path
    max_reject_share: float
    s3_prefix: str = "movielens"
    lock_timeout_seconds: float = 120.0

    @property
    def database(self) -> Path:
        return self.output_dir / "movielens.duckdb"

    @property
    def personalize_dir(self) -> Path:
        return self.output_dir / "personalize"

    @classmethod
    def from_env(cls) -> "Settings":
        storage = os.environ.get("MOVIELENS_STORAGE", "duckdb").strip().lower() or "duckdb"
        if storage not in STORAGE_MODES:
            raise SettingsError(
                f"MOVIELENS_STORAGE={storage!r} is not one of {', '.join(STORAGE_MODES)}."
            )
        return cls(
            storage=storage,
            source_dir=os.environ.get("MOVIELENS_SOURCE_DIR") or str(DEFAULT_SOURCE),
            output_dir=Path(os.environ.get("MOVIELENS_OUTPUT_DIR") or DEFAULT_OUTPUT),
            max_reject_share=number_from_env("MOVIELENS_MAX_REJECT_SHARE", 0.01, 0.0, 1.0),
            lock_timeout_seconds=number_from_env(
                "MOVIELENS_LOCK_TIMEOUT_SECONDS", 120.0, 0.0, 86_400.0
            ),
            s3_prefix=os.environ.get("MOVIELENS_S3_PREFIX", "movielens").strip("/"),
        )


def number_from_env(name: str, default: float, low: float, high: float) -> float:
    """A number from the environment variable `name`, or `default`; outside [low, high] fails."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise SettingsError(f"{name}={text!r} must be a number from {low:g} to {high:g}.")
    return value
