"""Time the pipeline against the bare-DuckDB floor on generated releases, and report the ratio.

For each size the release is generated once (benchmarks/work/release-<size>-seed<seed>, reused
while its files are complete), then the floor (benchmarks/floor.py) and the pipeline (`dagster
asset materialize --select '*'`, every check included) run alternately, `--repeats` times each,
each run in a fresh folder. For every run we record wall time, peak RSS of the whole process tree
(the sum of VmRSS over the process and all its descendants, sampled every 50 ms from /proc) and
peak intermediate disk use (everything the run writes except the two Personalize datasets: the
DuckDB file, DuckDB's spill files, Dagster's run storage). Medians go into a table; with
`--write-readme` the table and a description of the machine replace the results section of
benchmarks/README.md.

Usage: python benchmarks/run.py [--sizes 1000000 5000000 25000095] [--repeats 3] [--write-readme]
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import dagster
import duckdb

from benchmarks.generate import generate

BENCHMARKS = Path(__file__).resolve().parent
PROJECT = BENCHMARKS.parent
WORK = BENCHMARKS / "work"
README = BENCHMARKS / "README.md"
RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
RELEASE_FILES = ("movies.csv", "ratings.csv", "tags.csv", "links.csv")
SAMPLE_SECONDS = 0.05
DISK_SAMPLE_EVERY = 10
DEFAULT_SIZES = (1_000_000, 5_000_000, 25_000_095)


@dataclass(frozen=True)
class Measurement:
    """One timed run of the floor or the pipeline."""

    kind: str
    ratings: int
    repeat: int
    seconds: float
    peak_rss_bytes: int
    peak_intermediate_bytes: int
    dataset_bytes: int
    cpu_seconds: float
    load_before: float


def tree_pids(root: int) -> list[int]:
    """`root` and every process descended from it, from /proc's children lists."""
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                pending.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def rss_bytes(pid: int) -> int:
    """Resident set size of one process in bytes, 0 when it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def disk_bytes(folder: Path, excluded: Path) -> int:
    """Bytes held by files under `folder`, leaving out those under `excluded`."""
    total = 0
    for directory, _, files in os.walk(folder):
        if Path(directory).is_relative_to(excluded):
            continue
        for name in files:
            try:
                total += os.stat(os.path.join(directory, name)).st_blocks * 512
            except OSError:
                continue
    return total


def cpu_of_children() -> float:
    """User plus system CPU seconds of every child process this one has waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(command: list[str], env: dict[str, str], run_dir: Path, datasets: Path) -> tuple:
    """Run `command`; return wall and CPU seconds, peak tree RSS and peak intermediate disk."""
    log = (run_dir / "run.log").open("w")
    cpu_before = cpu_of_children()
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT)
    peaks = {"rss": 0, "disk": 0}

    def sample() -> None:
        ticks = 0
        while process.poll() is None:
            peaks["rss"] = max(peaks["rss"], sum(rss_bytes(pid) for pid in tree_pids(process.pid)))
            if ticks % DISK_SAMPLE_EVERY == 0:
                peaks["disk"] = max(peaks["disk"], disk_bytes(run_dir, datasets))
            ticks += 1
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    seconds = time.monotonic() - started
    cpu = cpu_of_children() - cpu_before
    sampler.join()
    log.close()
    peaks["disk"] = max(peaks["disk"], disk_bytes(run_dir, datasets))
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {code}; see {run_dir / 'run.log'}")
    return seconds, cpu, peaks["rss"], peaks["disk"]


def release_for(ratings: int, seed: int) -> Path:
    """The generated release for `ratings`, generated now unless a complete one is there."""
    folder = WORK / f"release-{ratings}-seed{seed}"
    done = folder / ".complete"
    if not done.exists():
        started = time.monotonic()
        generate(folder, ratings, seed)
        done.write_text("")
        print(f"generated {folder} in {time.monotonic() - started:.0f} s", flush=True)
    return folder


def run_once(kind: str, release: Path, ratings: int, repeat: int) -> Measurement:
    """One run of the floor or the pipeline in a fresh folder under benchmarks/work/runs."""
    run_dir = WORK / "runs" / f"{kind}-{ratings}-{repeat}"
    shutil.rmtree(run_dir, ignore_errors=True)
    output = run_dir / "output"
    temp = run_dir / "tmp"
    home = run_dir / "dagster_home"
    for folder in (output, temp, home):
        folder.mkdir(parents=True)
    env = {**os.environ, "TMPDIR": str(temp), "DAGSTER_HOME": str(home)}
    if kind == "floor":
        command = [sys.executable, str(BENCHMARKS / "floor.py"), str(release), str(output)]
    else:
        env |= {"MOVIELENS_SOURCE_DIR": str(release), "MOVIELENS_OUTPUT_DIR": str(output)}
        dagster_cli = str(Path(sys.executable).parent / "dagster")
        command = [dagster_cli, "asset", "materialize", "-m", "movielens_assets", "--select", "*"]
    datasets = output / "personalize"
    load = os.getloadavg()[0]
    seconds, cpu, rss, intermediate = measure(command, env, run_dir, datasets)
    written = sum(path.stat().st_size for path in datasets.glob("*.csv"))
    measurement = Measurement(kind, ratings, repeat, seconds, rss, intermediate, written, cpu, load)
    print(
        f"{kind:8} {ratings:>12,} #{repeat}: {seconds:6.1f} s (CPU {cpu:6.1f} s), "
        f"peak RSS {rss / 2**20:6.0f} MiB, intermediate disk {intermediate / 2**20:6.0f} MiB, "
        f"load average before {load:.1f}",
        flush=True,
    )
    # Keep the log (per-step timings for profiling), drop the data.
    for child in run_dir.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
    return measurement


def median_of(measurements: list[Measurement], kind: str, ratings: int, field: str) -> float:
    values = [
        getattr(run, field) for run in measurements if run.kind == kind and run.ratings == ratings
    ]
    return statistics.median(values)


def input_bytes(release: Path) -> int:
    return sum((release / name).stat().st_size for name in RELEASE_FILES)


def results_table(measurements: list[Measurement], releases: dict[int, Path]) -> str:
    """The markdown table of medians, one row per size."""
    sizes = sorted(releases)
    lines = [
        "| ratings | input | floor wall | pipeline wall | ratio | floor peak RSS "
        "| pipeline peak RSS | pipeline intermediate disk | disk / input |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for ratings in sizes:
        floor = median_of(measurements, "floor", ratings, "seconds")
        pipeline = median_of(measurements, "pipeline", ratings, "seconds")
        disk = median_of(measurements, "pipeline", ratings, "peak_intermediate_bytes")
        size = input_bytes(releases[ratings])
        lines.append(
            f"| {ratings:,} | {size / 2**20:,.0f} MiB | {floor:.1f} s | {pipeline:.1f} s "
            f"| {pipeline / floor:.2f}x "
            f"| {median_of(measurements, 'floor', ratings, 'peak_rss_bytes') / 2**20:,.0f} MiB "
            f"| {median_of(measurements, 'pipeline', ratings, 'peak_rss_bytes') / 2**20:,.0f} MiB "
            f"| {disk / 2**20:,.0f} MiB | {disk / size:.2f}x |"
        )
    largest = sizes[-1]
    if 5_000_000 in sizes and largest > 5_000_000:
        pipeline_growth = median_of(measurements, "pipeline", largest, "seconds") / median_of(
            measurements, "pipeline", 5_000_000, "seconds"
        )
        floor_growth = median_of(measurements, "floor", largest, "seconds") / median_of(
            measurements, "floor", 5_000_000, "seconds"
        )
        lines.append("")
        lines.append(
            f"From 5,000,000 to {largest:,} ratings ({largest / 5_000_000:.1f}x the data) the "
            f"pipeline's time grows {pipeline_growth:.2f}x, the floor's {floor_growth:.2f}x."
        )
    return "\n".join(lines)


def machine_description() -> str:
    """nproc, memory, CPU model and the versions that matter, as a markdown list."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return "\n".join(
        [
            f"- CPUs (nproc): {os.cpu_count()}, model: {cpu}",
            f"- memory: {memory_kib / 2**20:.1f} GiB",
            f"- {platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"DuckDB {duckdb.__version__}, Dagster {dagster.__version__}",
        ]
    )


def write_readme(section: str) -> None:
    """Replace the text between the results markers of benchmarks/README.md with `section`."""
    text = README.read_text(encoding="utf-8")
    head, _, rest = text.partition(RESULTS_START)
    _, _, tail = rest.partition(RESULTS_END)
    README.write_text(f"{head}{RESULTS_START}\n{section}\n{RESULTS_END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=("floor", "pipeline"), help="Run one side only.")
    parser.add_argument("--write-readme", action="store_true")
    arguments = parser.parse_args()
    releases = {ratings: release_for(ratings, arguments.seed) for ratings in arguments.sizes}
    kinds = [arguments.only] if arguments.only else ["floor", "pipeline"]
    measurements: list[Measurement] = []
    for ratings, release in releases.items():
        for repeat in range(arguments.repeats):
            # Alternate which side goes first, so neither always meets a warm or cold page cache.
            for kind in kinds if repeat % 2 == 0 else kinds[::-1]:
                measurements.append(run_once(kind, release, ratings, repeat))
    results = WORK / "results.json"
    results.write_text(json.dumps([asdict(run) for run in measurements], indent=1))
    if arguments.only:
        return
    section = "\n\n".join(
        [
            results_table(measurements, releases),
            f"Medians of {arguments.repeats} alternating runs each, measured "
            f"{time.strftime('%Y-%m-%d')} on:",
            machine_description(),
        ]
    )
    print(section)
    if arguments.write_readme:
        write_readme(section)


if __name__ == "__main__":
    main()
