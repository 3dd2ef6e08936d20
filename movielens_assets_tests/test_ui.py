"""The UI as users meet it: `dagster dev` on loopback, "materialise all" through GraphQL, and the
asset graph rendered by a real browser.

The browser is Debian's Chromium at /usr/bin/chromium (`.ci/run` installs it), driven by
Playwright, which downloads no browser of its own here. Set MOVIELENS_UI_SCREENSHOT to a path to
keep the screenshot, as the README's docs/lineage.png was made.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from movielens_assets.definitions import defs
from movielens_assets.settings import PROJECT_ROOT

DAGSTER = Path(sys.executable).parent / "dagster"
CHROMIUM = "/usr/bin/chromium"
# Without the network flags, Chromium on a machine with no network keeps retrying connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCATION = "movielens_assets"
REPOSITORY = "__repository__"
ASSET_JOB = "__ASSET_JOB"
# Upper bounds on waiting, so a broken server fails the test instead of hanging it.
STARTUP_SECONDS = 300
RUN_SECONDS = 900
STOP_SECONDS = 20
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
SCREENSHOT_ENV = "MOVIELENS_UI_SCREENSHOT"
# Tall enough that the whole graph fits at a zoom where the names stay readable.
BROWSER_VIEWPORT = {"width": 1280, "height": 2200}
MAX_ZOOM_STEPS = 15

REPOSITORY_QUERY = """
query Repository($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository { assetNodes { assetKey { path } } }
    ... on Error { message }
  }
}
"""
LAUNCH_MUTATION = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
    ... on Error { message }
  }
}
"""
RUN_ERRORS_QUERY = """
query RunErrors($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message }
        ... on ErrorEvent { error { message } }
      }
    }
  }
}
"""
ASSETS_QUERY = """
query Assets {
  assetNodes {
    assetKey { path }
    assetMaterializations(limit: 1) {
      runId
      metadataEntries { label ... on IntMetadataEntry { intRepr } }
    }
    assetChecksOrError {
      ... on AssetChecks {
        checks { name executionForLatestMaterialization { runId status } }
      }
    }
  }
}
"""


@dataclass
class DagsterDev:
    """A running `dagster dev` and where its output goes."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        assert not body.get("errors"), f"GraphQL errors: {body['errors']}"
        return body["data"]

    def run_errors(self, run_id: str) -> str:
        """The failure events of a run with their messages, for an assertion message."""
        events = self.graphql(RUN_ERRORS_QUERY, {"runId": run_id})["logsForRun"].get("events", [])
        return "\n".join(
            f"{event['__typename']}: {event.get('message')} {event['error']['message']}"
            if event.get("error")
            else f"{event['__typename']}: {event.get('message')}"
            for event in events
            if event.get("error") or "Failure" in event["__typename"]
        )

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class MaterialiseAll:
    """The run that "Materialize all" launched, and how it ended."""

    run_id: str
    status: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C for the whole group, as a terminal sends it; SIGKILL whatever is left after that.

    dagster dev's children (webserver, daemon, code servers, run workers) stay in its group.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def interruptible_children() -> Iterator[None]:
    """Let children started inside take Ctrl-C, even when this process was started ignoring it.

    A shell starts background jobs with SIGINT ignored, children inherit that, and dagster dev maps
    SIGTERM onto its SIGINT handling: it would then ignore both and only SIGKILL would stop it.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def wait_until_loaded(server: DagsterDev) -> list[str]:
    """Wait for /server_info to answer and the code location to load; return its asset names."""
    deadline = time.monotonic() + STARTUP_SECONDS
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"dagster dev exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/server_info", timeout=10):
                pass
            found = server.graphql(REPOSITORY_QUERY, {"selector": selector})["repositoryOrError"]
        except (urllib.error.URLError, ConnectionError):
            time.sleep(1)
            continue
        if found["__typename"] == "Repository":
            return sorted("/".join(node["assetKey"]["path"]) for node in found["assetNodes"])
        if found["__typename"] == "PythonError":
            pytest.fail(f"The code location did not load: {found['message']}")
        time.sleep(1)
    pytest.fail(f"dagster dev was not ready within {STARTUP_SECONDS} s:\n{server.log_tail()}")


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    """`dagster dev` as `make dev` starts it, with its own DAGSTER_HOME and output folder."""
    root = tmp_path_factory.mktemp("ui")
    home = root / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MOVIELENS_OUTPUT_DIR": str(root / "output"),
        "MOVIELENS_STORAGE": "duckdb",
    }
    env.pop("MOVIELENS_SOURCE_DIR", None)
    port = free_port()
    log = root / "dagster_dev.log"
    with log.open("wb") as log_file, interruptible_children():
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield DagsterDev(url=f"http://127.0.0.1:{port}", process=process, log=log)
    finally:
        stop_process_group(process)


@pytest.fixture(scope="module")
def asset_names(dagster_dev: DagsterDev) -> list[str]:
    return wait_until_loaded(dagster_dev)


@pytest.fixture(scope="module")
def materialise_all(dagster_dev: DagsterDev, asset_names: list[str]) -> MaterialiseAll:
    """Launch what the UI's "Materialize all" launches, and wait for the run to finish."""
    params = {
        "selector": {
            "repositoryLocationName": LOCATION,
            "repositoryName": REPOSITORY,
            "jobName": ASSET_JOB,
            "assetSelection": [{"path": name.split("/")} for name in asset_names],
        },
        "mode": "default",
        "runConfigData": {},
    }
    launched = dagster_dev.graphql(LAUNCH_MUTATION, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        run = dagster_dev.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        if run["status"] in FINISHED:
            return MaterialiseAll(run_id=run_id, status=run["status"])
        time.sleep(2)
    pytest.fail(f"Run {run_id} did not finish within {RUN_SECONDS} s:\n{dagster_dev.log_tail()}")


def test_ui_serves_every_asset_of_the_definitions(asset_names: list[str]) -> None:
    defined = sorted(
        key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()
    )
    assert asset_names == defined


def test_materialise_all_succeeds_with_row_counts_and_passing_checks(
    dagster_dev: DagsterDev, asset_names: list[str], materialise_all: MaterialiseAll
) -> None:
    assert materialise_all.status == "SUCCESS", (
        f"{dagster_dev.run_errors(materialise_all.run_id)}\n{dagster_dev.log_tail()}"
    )
    nodes = dagster_dev.graphql(ASSETS_QUERY)["assetNodes"]

    row_counts = {}
    for node in nodes:
        name = "/".join(node["assetKey"]["path"])
        [latest] = node["assetMaterializations"]
        assert latest["runId"] == materialise_all.run_id, name
        entries = {entry["label"]: entry.get("intRepr") for entry in latest["metadataEntries"]}
        row_counts[name] = int(entries["dagster/row_count"])
    assert sorted(row_counts) == asset_names
    assert all(rows > 0 for name, rows in row_counts.items() if not name.endswith("_rejects"))

    outcomes = {
        f"{'/'.join(node['assetKey']['path'])}:{check['name']}": (
            check["executionForLatestMaterialization"] or {}
        )
        for node in nodes
        for check in node["assetChecksOrError"]["checks"]
    }
    defined_checks = {
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key in defs.resolve_asset_graph().asset_check_keys
    }
    assert set(outcomes) == defined_checks
    not_passed = {
        check: outcome.get("status")
        for check, outcome in outcomes.items()
        if outcome.get("status") != "SUCCEEDED" or outcome.get("runId") != materialise_all.run_id
    }
    assert not not_passed


def expand_all_groups(page: Page) -> None:
    """Expand every group of the lineage graph through the graph's own context menu."""
    page.get_by_role("button", name="Materialize all").wait_for()
    canvas = page.locator("[data-svg-viewport]")
    box = canvas.bounding_box()
    assert box is not None
    # Collapsed groups sit mid-canvas and the toolbar covers its top: the bottom left is empty.
    canvas.click(button="right", position={"x": 40, "y": box["height"] - 40})
    page.get_by_role("menuitem", name="Expand all groups").click()


def wait_for_zoom_to_settle(page: Page) -> None:
    """Resolve once the graph's transform has held still for a few animation frames."""
    page.evaluate(
        """() => new Promise(resolve => {
            const layer = document.querySelector("[data-svg-viewport] > div");
            let last = null;
            let still = 0;
            const tick = () => {
                const now = layer.style.transform;
                still = now === last ? still + 1 : 0;
                last = now;
                if (still >= 5) { resolve(); } else { requestAnimationFrame(tick); }
            };
            tick();
        })"""
    )


def zoom_out_until_drawn(page: Page, names: list[str]) -> list[str]:
    """Zoom out until every name is drawn (the graph draws only nodes in view); return any left."""
    zoom_out = page.get_by_role("button", name="zoom_out")
    for _ in range(MAX_ZOOM_STEPS):
        wait_for_zoom_to_settle(page)
        missing = [name for name in names if not page.get_by_text(name, exact=True).count()]
        if not missing:
            return []
        zoom_out.click()
    return missing


def test_asset_graph_shows_every_asset_in_chromium(
    dagster_dev: DagsterDev,
    asset_names: list[str],
    materialise_all: MaterialiseAll,
    tmp_path: Path,
) -> None:
    screenshot = tmp_path / "lineage.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=BROWSER_VIEWPORT,
        )
        try:
            # A first visit opens a newsletter prompt over the graph; this is its "Skip".
            browser.add_init_script("window.localStorage.setItem('communityNux', '\"1\"')")
            page = browser.new_page()
            page.goto(f"{dagster_dev.url}/asset-groups")
            page.get_by_role("button", name="Hide navigation").click()
            expand_all_groups(page)
            assert zoom_out_until_drawn(page, asset_names) == []
            for name in asset_names:
                expect(page.get_by_text(name, exact=True).first).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=screenshot)
            if os.environ.get(SCREENSHOT_ENV):
                page.screenshot(path=os.environ[SCREENSHOT_ENV])
        finally:
            browser.close()
    assert screenshot.stat().st_size > 0
