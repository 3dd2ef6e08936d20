"""Reading one file: line accounting, headers, and random ratings files against a Python oracle."""

import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import build_init_resource_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movielens_assets import source
from movielens_assets.engine import DuckDBEngine
from movielens_assets.loading import load_release_file
from movielens_assets.release import MOVIES, RATINGS, ReleaseFile
from movielens_assets.seeded import LATEST_RATING_WINS, MOVIE_RULES, RATING_RULES
from movielens_assets.source import (
    FileFacts,
    Measurement,
    ReleaseFileError,
    first_odd_line_ending,
    measure,
    read_header,
)

KNOWN_MOVIES = (1, 2, 3, 4, 5)
HEADER = "userId,movieId,rating,timestamp"


@pytest.fixture(scope="module")
def engine() -> Iterator[DuckDBEngine]:
    resource = DuckDBEngine()
    context = build_init_resource_context()
    resource.setup_for_execution(context)
    yield resource
    resource.teardown_after_execution(context)


def facts_for(path: Path, release_file: ReleaseFile = RATINGS) -> FileFacts:
    """FileFacts for a local release file, as the raw asset would record them."""
    measured = measure(path)
    return FileFacts(
        file_name=release_file.file_name,
        location=str(path),
        local_path=str(path),
        header=read_header(path, release_file),
        size_bytes=measured.size_bytes,
        fingerprint=measured.fingerprint,
        data_lines=measured.data_lines,
        blank_lines=measured.blank_lines,
    )


def physical_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    return lines[:-1] if data.endswith(b"\n") else lines


def split_measurement(data: bytes) -> Measurement:
    """What measure() must find in `data`, worked out by splitting the whole of it into lines."""
    lines = physical_lines(data)
    terminated = lines if data.endswith(b"\n") else lines[:-1]
    unterminated = lines[len(terminated) :]
    crlf = sum(1 for line in terminated if line.endswith(b"\r"))
    bare_cr = any(b"\r" in line.removesuffix(b"\r") for line in terminated) or any(
        b"\r" in line for line in unterminated
    )
    return Measurement(
        size_bytes=len(data),
        fingerprint=hashlib.sha256(data).hexdigest(),
        data_lines=max(len(lines) - 1, 0),
        blank_lines=tuple(
            number
            for number, line in enumerate(lines, start=1)
            if number > 1 and line in (b"", b"\r")
        ),
        odd_line_endings=0 < crlf < len(terminated) or bare_cr,
    )


@given(st.binary(max_size=64).map(lambda raw: raw.replace(b"\x00", b"")))
@settings(max_examples=300)
def test_measure_counts_lines_and_blank_lines_like_splitting(tmp_path_factory, data) -> None:
    path = tmp_path_factory.mktemp("measure") / "file.csv"
    path.write_bytes(data)
    assert measure(path) == split_measurement(data)


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 4, 7])
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"h\n",
        b"h\n\n",
        b"\n\n\n\n",
        b"h\n\n\n1\n\n",
        b"h,x\n1,2\n\n3,4\n\r\n5,6",
        b"h\r\n\r\n1\r\n\r\n",
        b"h\r\n1\r\n2",
        b"h\r\n1\r\n\r",
        b"h\n1\r2\n",
        b"h\n\r",
        b"h\n1\n\r\n2\n",
        b"h\r\r\n\n\r\r\n",
        b"header\nrow one\n\nrow three\r\n\r\nrow five",
    ],
)
def test_measure_is_exact_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, data: bytes
) -> None:
    """Blank lines, CRLFs and CRs split between reads are found as if the file were read whole."""
    monkeypatch.setattr(source, "CHUNK_BYTES", chunk_bytes)
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    assert measure(path) == split_measurement(data)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "movies.csv line 1: the file is empty"),
        (b"\x1f\x8b\x08\x00\xff\xff", "movies.csv line 1: not UTF-8 text"),
        (b"movieId,title\n1,A\n", "missing column(s) genres"),
        (b"movieId,title,genres,year\n", "unknown column(s) year"),
        (b"movieId,title,title,genres\n", "repeated column(s) title"),
        (b"1,Toy Story (1995),Comedy\n", "no header line"),
        (b"\xef\xbb\xbf", "movies.csv line 1: no header line"),
        (b"movieId\ttitle\tgenres\n", "no commas in the header"),
        (b"movieId,title,genres,\n", "the header ends in an empty column name"),
        (b"movieId,title,genres\r1,A (1995),Drama\r", "a carriage return (CR) inside the line"),
    ],
)
def test_file_level_problems_name_file_line_and_expectation(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "movies.csv"
    path.write_bytes(content)
    with pytest.raises(ReleaseFileError) as raised:
        read_header(path, MOVIES)
    assert message in str(raised.value)
    if content:
        assert "movieId,title,genres" in str(raised.value)


def test_a_stray_carriage_return_is_found_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "movies.csv"
    path.write_bytes(b"movieId,title,genres\n1,A (1995),Drama\n2,Carriage\rReturn (2000),Drama\n")
    assert measure(path).odd_line_endings
    assert first_odd_line_ending(path) == (3, "a carriage return (CR) inside the line")


def test_header_is_matched_by_name_and_bom_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"\xef\xbb\xbftimestamp,rating,userId,movieId\r\n")
    assert read_header(path, RATINGS) == ("timestamp", "rating", "userId", "movieId")


# One ratings line and what it must become: a valid row (with its values), or a rejected line.
Line = tuple[bytes, tuple[int, int, float, int] | None]

half_stars = st.sampled_from([0.5 * step for step in range(1, 11)])
seconds = st.integers(min_value=100_000_000, max_value=2_000_000_000)


@st.composite
def rating_lines(draw: st.DrawFn) -> Line:
    user = draw(st.integers(min_value=1, max_value=4))
    movie = draw(st.sampled_from((*KNOWN_MOVIES, 99)))
    rating = draw(half_stars)
    second = draw(seconds)
    valid = (user, movie, rating, second) if movie in KNOWN_MOVIES else None
    kind = draw(
        st.sampled_from(
            [
                "plain",
                "plain",
                "plain",
                "integer rating",
                "float seconds",
                "trailing comma",
                "milliseconds",
                "fraction of a second",
                "bad rating",
                "not a number",
                "zero id",
                "extra field",
                "missing field",
                "invalid utf-8",
            ]
        )
    )
    text = f"{user},{movie},{rating:.1f},{second}"
    return {
        "plain": (text.encode(), valid),
        "integer rating": (
            f"{user},{movie},{rating:g},{second}".encode(),
            valid,
        ),
        "float seconds": (f"{text}.0".encode(), valid),
        "trailing comma": (f"{text},".encode(), valid),
        "milliseconds": (f"{user},{movie},{rating:.1f},{second * 1000}".encode(), None),
        "fraction of a second": (f"{text}.5".encode(), None),
        "bad rating": (f"{user},{movie},{rating + 0.25},{second}".encode(), None),
        "not a number": (f"{user},x{movie},{rating:.1f},{second}".encode(), None),
        "zero id": (f"0,{movie},{rating:.1f},{second}".encode(), None),
        "extra field": (f"{text},extra".encode(), None),
        "missing field": (f"{user},{movie},{rating:.1f}".encode(), None),
        "invalid utf-8": (
            f"{user},{movie}".encode() + b"\xff," + f"{rating},{second}".encode(),
            None,
        ),
    }[kind]


def expected_outcome(lines: list[Line | None]) -> tuple[dict, dict[int, str]]:
    """The oracle: kept (user, movie) -> (rating, seconds), and line number -> kind set aside."""
    set_aside: dict[int, str] = {}
    valid: dict[tuple[int, int], list[tuple[float, int, int]]] = {}
    for number, line in enumerate(lines, start=2):
        if line is None:
            set_aside[number] = "blank"
        elif line[1] is None:
            set_aside[number] = "rejected"
        else:
            user, movie, rating, second = line[1]
            valid.setdefault((user, movie), []).append((rating, second, number))
    kept = {}
    for key, candidates in valid.items():
        winner = min(candidates, key=lambda c: (-c[1], -c[0], c[2]))
        kept[key] = (winner[0], winner[1])
        for candidate in candidates:
            if candidate is not winner:
                set_aside[candidate[2]] = "duplicate"
    return kept, set_aside


@given(
    lines=st.lists(st.one_of(rating_lines(), st.just(None)), max_size=30),
    final_newline=st.booleans(),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_every_line_becomes_a_row_or_a_reason(
    engine: DuckDBEngine, tmp_path_factory, lines: list[Line | None], final_newline: bool
) -> None:
    while lines and lines[-1] is None and not final_newline:
        lines = lines[:-1]  # an unterminated empty last line is no line at all
    body = b"\n".join(b"" if line is None else line[0] for line in lines)
    data = HEADER.encode() + (b"\n" + body if lines else b"") + (b"\n" if final_newline else b"")
    path = tmp_path_factory.mktemp("ratings") / "ratings.csv"
    path.write_bytes(data)
    facts = facts_for(path)
    known = engine.sql("SELECT unnest(?::BIGINT[]) AS movie_id", [list(KNOWN_MOVIES)])
    loaded = load_release_file(
        engine, RATINGS, facts, RATING_RULES, duplicates=LATEST_RATING_WINS, known_movies=known
    )
    rows = loaded.rows.fetchall()
    set_aside = loaded.rejects.fetchall()
    kept, expected_aside = expected_outcome(lines)

    assert len(rows) + len(set_aside) == facts.data_lines == len(lines)
    assert {(user, movie): (rating, int(second)) for user, movie, rating, second in rows} == kept
    assert len(rows) == len(kept)
    columns = loaded.rejects.columns
    aside = [dict(zip(columns, row, strict=True)) for row in set_aside]
    assert {row["line"]: row["kind"] for row in aside} == expected_aside
    assert all(row["reason"] and row["file"] == "ratings.csv" for row in aside)


def test_rejected_lines_keep_their_text(engine: DuckDBEngine, tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(
        f"{HEADER}\n1,1,4.0,964982703\n1,2,7.0,964982703\n1,3,4.0,964982703,x\n\n",
        encoding="utf-8",
    )
    facts = facts_for(path)
    known = engine.sql("SELECT 1 AS movie_id UNION ALL SELECT 2 UNION ALL SELECT 3")
    loaded = load_release_file(engine, RATINGS, facts, RATING_RULES, known_movies=known)
    rejects = [row[1:] for row in loaded.rejects.fetchall()]
    assert rejects == [
        (3, "1,2,7.0,964982703", 'rating "7.0" is not one of 0.5, 1.0, ..., 5.0', "rejected"),
        (4, "1,3,4.0,964982703,x", "5 fields, expected 4", "rejected"),
        (5, "", "blank line", "blank"),
    ]
    assert list(csv.reader(io.StringIO(rejects[1][1]))) == [["1", "3", "4.0", "964982703", "x"]]


def test_a_tie_on_time_goes_to_the_higher_rating(engine: DuckDBEngine, tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(f"{HEADER}\n1,1,3.0,964982703\n1,1,4.0,964982703\n", encoding="utf-8")
    known = engine.sql("SELECT 1 AS movie_id")
    loaded = load_release_file(
        engine,
        RATINGS,
        facts_for(path),
        RATING_RULES,
        duplicates=LATEST_RATING_WINS,
        known_movies=known,
    )
    assert loaded.rows.fetchall() == [(1, 1, 4.0, 964982703.0)]
    assert [row[1:] for row in loaded.rejects.fetchall()] == [
        (
            2,
            "1,1,3.0,964982703",
            "superseded by the higher rating on line 3, made at the same second",
            "duplicate",
        )
    ]


def test_genres_longer_than_personalize_allows_reject_the_movie(
    engine: DuckDBEngine, tmp_path: Path
) -> None:
    path = tmp_path / "movies.csv"
    genres = "|".join(["Drama"] * 200)
    path.write_text(f"movieId,title,genres\n1,Long (2004),{genres}\n2,Short (2004),Drama\n")
    loaded = load_release_file(engine, MOVIES, facts_for(path, MOVIES), MOVIE_RULES)
    assert [row[0] for row in loaded.rows.fetchall()] == [2]
    [(line, reason)] = [(row[1], row[3]) for row in loaded.rejects.fetchall()]
    assert line == 2
    assert reason == (
        "genres is 1199 characters long; Personalize allows 1,000 for a categorical value"
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1.5,1,4.0,964982703", 'userId "1.5" is not a plain whole number'),
        ("1_0,1,4.0,964982703", 'userId "1_0" is not a plain whole number'),
        ("+1,1,4.0,964982703", 'userId "+1" is not a plain whole number'),
        (" 1,1,4.0,964982703", 'userId " 1" is not a plain whole number'),
        ("3,0x2,4.0,964982703", 'movieId "0x2" is not a plain whole number'),
        ("17,2.5,4.0,964982703", 'movieId "2.5" is not a plain whole number'),
        ("2,1,4_5,964982703", 'rating "4_5" is not one of 0.5, 1.0, ..., 5.0'),
        ("2,1,NaN,964982703", 'rating "NaN" is not one of 0.5, 1.0, ..., 5.0'),
        ("2,1,4.0,964_982_703", 'timestamp "964_982_703" is not whole epoch seconds'),
        ("2,1,4.0,1e9", 'timestamp "1e9" is not whole epoch seconds'),
        ("2,1,4.0,964982703.00000001", 'timestamp "964982703.00000001" is not whole epoch'),
        ("2,1,4.0,964982703.5", 'timestamp "964982703.5" is not whole epoch seconds'),
        ("2,1,,964982703", "rating is empty"),
    ],
)
def test_numbers_must_be_written_plainly(
    engine: DuckDBEngine, tmp_path: Path, line: str, reason: str
) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(f"{HEADER}\n1,1,4.0,964982703\n{line}\n", encoding="utf-8")
    known = engine.sql("SELECT unnest(range(1, 20)) AS movie_id")
    loaded = load_release_file(engine, RATINGS, facts_for(path), RATING_RULES, known_movies=known)
    assert loaded.rows.fetchall() == [(1, 1, 4.0, 964982703)]
    [(number, raw_line, found, kind)] = [row[1:] for row in loaded.rejects.fetchall()]
    assert (number, raw_line, kind) == (3, line, "rejected")
    assert reason in found
