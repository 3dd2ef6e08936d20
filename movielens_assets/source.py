"""Where the release files come from, and the file-level facts we check before reading them.

A release folder is a local directory here; an `s3://bucket/prefix` release is fetched file by file
to a local cache (movielens_assets.storage.s3_source), so DuckDB always reads a local file.
"""

import csv
import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from dagster import ConfigurableResource
from pydantic import Field

from movielens_assets.release import ReleaseFile

CHUNK_BYTES = 8 << 20
# A newline followed by an empty line (LF or CRLF): the start of a blank line.
BLANK_LINE = re.compile(rb"\n(?=\r?\n)")
# Two LFs in a row. As a literal regex it is found faster than by `in` or bytes.find.
LF_BLANK_LINE = re.compile(rb"\n\n")


class ReleaseFileError(Exception):
    """A problem with a whole file: missing, not a CSV, or a header we cannot map."""


@dataclass(frozen=True)
class FileFacts:
    """What a release file holds before any row is parsed."""

    file_name: str
    location: str
    local_path: str
    header: tuple[str, ...]
    size_bytes: int
    fingerprint: str
    data_lines: int
    blank_lines: tuple[int, ...]


def read_header(path: Path, release_file: ReleaseFile) -> tuple[str, ...]:
    """Return the header names of `path` in file order, or raise naming what is wrong.

    Names are matched to the contract in any order; a BOM is ignored. A first line made of data
    (a file without a header) fails here instead of being eaten as a header.
    """
    name = release_file.file_name
    expected = ",".join(release_file.header_names)
    with path.open("rb") as handle:
        first_line = handle.readline(64 * 1024)
    if not first_line:
        raise ReleaseFileError(f"{name} line 1: the file is empty; expected the header {expected}")
    try:
        text = first_line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise ReleaseFileError(
            f"{name} line 1: not UTF-8 text (is it compressed, or not a CSV?); expected the "
            f"header {expected}, found {first_line[:60]!r}"
        ) from None
    if not text:
        raise ReleaseFileError(f"{name} line 1: no header line; expected the header {expected}")
    if "\r" in text:
        raise ReleaseFileError(
            f"{name} line 1: a carriage return (CR) inside the line; lines must end in LF or CRLF "
            f"(a file saved with old Mac line endings?). Expected the header {expected}"
        )
    found = tuple(next(csv.reader(io.StringIO(text)), []))
    if "," not in text and any(separator in text for separator in "\t;|"):
        raise ReleaseFileError(
            f"{name} line 1: no commas in the header; expected the comma-separated header "
            f"{expected}, found {text[:200]} (tab- or semicolon-separated?)"
        )
    if not set(found) & set(release_file.header_names):
        raise ReleaseFileError(
            f"{name} line 1: no header line. Expected the header {expected}, found {text[:200]} "
            "(data, not column names)"
        )
    if found[-1] == "":
        raise ReleaseFileError(
            f"{name} line 1: the header ends in an empty column name (a trailing comma?). "
            f"Expected the header {expected}, found {text[:200]}"
        )
    missing = [header for header in release_file.header_names if header not in found]
    unknown = [header for header in found if header not in release_file.header_names]
    repeated = sorted({header for header in found if found.count(header) > 1})
    if missing or unknown or repeated:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        if repeated:
            problems.append(f"repeated column(s) {', '.join(repeated)}")
        raise ReleaseFileError(
            f"{name} line 1: {'; '.join(problems)}. Expected the header {expected}, found "
            f"{text[:200]}"
        )
    return found


class Measurement(NamedTuple):
    """What one streaming pass over a file finds."""

    size_bytes: int
    fingerprint: str
    data_lines: int
    blank_lines: tuple[int, ...]
    odd_line_endings: bool


def holds_blank_line(data: bytes) -> bool:
    """Whether BLANK_LINE matches in `data`, found by scans much cheaper than BLANK_LINE itself.

    Most chunks of a release hold no blank line; they skip the regex scan entirely.
    """
    return LF_BLANK_LINE.search(data) is not None or (b"\r" in data and b"\n\r\n" in data)


def open_tail(data: bytes) -> int:
    """How many bytes at the end of `data` may start a blank line that the next chunk finishes.

    Only a trailing LF or LF CR can; holding back nothing else spares copying most chunks.
    """
    if data.endswith(b"\n"):
        return 1
    return 2 if data.endswith(b"\n\r") else 0


def measure(path: Path) -> Measurement:
    """Stream `path` once: size, SHA-256, data lines, blank line numbers, line-ending mix.

    Data lines are physical lines after the header; a last line without a newline counts. The
    SHA-256 runs in a second thread (hashlib releases the GIL on large updates), so it overlaps
    the reading and counting instead of adding to them.
    """
    digest = hashlib.sha256()
    size = newlines = crlf = carriage_returns = 0
    blank_lines: list[int] = []
    pending = last_byte = b""
    with path.open("rb") as handle, ThreadPoolExecutor(max_workers=1) as hasher:
        hashed = hasher.submit(digest.update, b"")
        while True:
            chunk = handle.read(CHUNK_BYTES)
            hashed.result()  # one chunk hashing while the next is counted: memory stays bounded
            hashed = hasher.submit(digest.update, chunk)
            size += len(chunk)
            crlf += last_byte == b"\r" and chunk[:1] == b"\n"
            if b"\r" in chunk:
                crlf += chunk.count(b"\r\n")
                carriage_returns += chunk.count(b"\r")
            last_byte = chunk[-1:] or last_byte
            data = pending + chunk
            if not chunk and size and last_byte != b"\n":
                data += b"\n"  # a last line without a newline is still a line
            # Until the end, hold back the bytes that may start a blank line split across chunks.
            settled = len(data) - open_tail(data) if chunk else len(data)
            counted = 0
            if holds_blank_line(data):
                for match in BLANK_LINE.finditer(data):
                    if match.start() >= settled:
                        break
                    newlines += data.count(b"\n", counted, match.start() + 1)
                    counted = match.start() + 1
                    blank_lines.append(newlines + 1)
            newlines += data.count(b"\n", counted, settled)
            pending = data[settled:]
            if not chunk:
                break
    real_newlines = newlines - (1 if size and last_byte != b"\n" else 0)
    return Measurement(
        size_bytes=size,
        fingerprint=digest.hexdigest(),
        data_lines=max(newlines - 1, 0),
        blank_lines=tuple(blank_lines),
        # Mixed LF and CRLF, or a CR that ends no line: DuckDB's reader cannot frame either.
        odd_line_endings=0 < crlf < real_newlines or carriage_returns > crlf,
    )


def first_odd_line_ending(path: Path) -> tuple[int, str]:
    """The first line whose ending is odd, and how: a CR inside it, or not the header's ending."""

    def ending(line: bytes) -> str:
        return "CRLF" if line.endswith(b"\r\n") else "LF"

    with path.open("rb") as handle:
        header = handle.readline()
        for number, line in enumerate(handle, start=2):
            if b"\r" in line.rstrip(b"\n").removesuffix(b"\r"):
                return number, "a carriage return (CR) inside the line"
            if line.endswith(b"\n") and ending(line) != ending(header):
                return (
                    number,
                    f"ends in {ending(line)}, but the header line ends in {ending(header)}",
                )
    return 1, "a carriage return (CR) inside the line"


class ReleaseSource(ConfigurableResource):
    """The MovieLens release folder the pipeline reads, on local disk.

    A release under an s3:// URI is read by `S3ReleaseSource` (movielens_assets.storage.s3_source),
    which downloads each file and hands DuckDB the local copy.
    """

    location: str = Field(description="Local directory of the release.")

    def local_path(self, release_file: ReleaseFile) -> Path:
        """Return the local path of the file, or fail naming the file and where it was sought."""
        path = Path(self.location) / release_file.file_name
        if path.exists() and not path.is_file():
            raise ReleaseFileError(f"{release_file.file_name}: {path} is not a file")
        if not path.is_file():
            raise ReleaseFileError(
                f"{release_file.file_name}: not found at {path} (set MOVIELENS_SOURCE_DIR to "
                "a MovieLens release folder)"
            )
        return path

    def address(self, release_file: ReleaseFile, path: Path) -> str:
        """Where the file lives, as the UI shows it: here its absolute local path."""
        return str(path.resolve())

    def inspect(self, release_file: ReleaseFile) -> FileFacts:
        """Check the file exists and its header maps to the contract; measure and fingerprint it."""
        path = self.local_path(release_file)
        header = read_header(path, release_file)
        measured = measure(path)
        if measured.odd_line_endings:
            line, problem = first_odd_line_ending(path)
            raise ReleaseFileError(
                f"{release_file.file_name} line {line}: {problem}; lines must all end in LF or "
                "all in CRLF"
            )
        return FileFacts(
            file_name=release_file.file_name,
            location=self.address(release_file, path),
            local_path=str(path),
            header=header,
            size_bytes=measured.size_bytes,
            fingerprint=measured.fingerprint,
            data_lines=measured.data_lines,
            blank_lines=measured.blank_lines,
        )
