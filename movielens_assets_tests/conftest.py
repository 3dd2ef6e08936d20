"""Fixtures shared by the test modules."""

from pathlib import Path

import pytest

from movielens_assets_tests.pipeline import PipelineRun, run_pipeline

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "ml-latest-small"


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The whole graph materialised once on the bundled sample, shared by read-only tests."""
    return run_pipeline(SAMPLE, tmp_path_factory.mktemp("sample") / "data")
