"""Asset checks, run as one step per checked table: every line accounted for, keys unique and
known, datasets fit for Personalize.

ERROR checks are blocking where a failure means a wrong dataset would ship; WARN checks point a
human at set-aside lines. Every result carries its numbers and the first offending rows, except
a check whose data could not be read at all, which fails saying why.

The checks of one table share a step (a `multi_asset_check`), so a run pays Dagster's per-step
bookkeeping nine times rather than once per check, and the checks of the 20M-row interactions file
share one read of it.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetIn,
    ConfigurableResource,
    MarkdownMetadataValue,
    MetadataValue,
    multi_asset_check,
)
from pydantic import Field

from movielens_assets.datasets import PersonalizeDataset, markdown_table
from movielens_assets.engine import DuckDBEngine
from movielens_assets.personalize import MIN_RATING
from movielens_assets.raw import facts_from
from movielens_assets.release import MOVIELENS_GENRES
from movielens_assets.seeded import (
    GENRE_PATTERN,
    LAST_PLAUSIBLE_SECOND,
    MAX_CATEGORICAL_LENGTH,
    NO_GENRES,
)

MAX_ID_LENGTH = 256
SAMPLE_ROWS = 5


class LoadPolicy(ConfigurableResource):
    """How many rejected lines a file may have before the run stops."""

    max_reject_share: float = Field(
        default=0.01, ge=0.0, le=1.0, description="Largest share of a file's lines rejected."
    )


class CheckUnusable(Exception):
    """The data a check needs cannot be read as it must be (e.g. a dataset header was edited)."""


@dataclass(frozen=True)
class Verdict:
    """What one check found: pass or fail, a sentence, and the numbers behind it."""

    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckRun:
    """The inputs of one checks step, shared by its checks, with results worth computing once."""

    engine: DuckDBEngine
    policy: LoadPolicy
    step: str
    inputs: Mapping[str, Any]
    computed: dict[str, Any] = field(default_factory=dict)

    def view(self, name: str) -> str:
        """Register input `name` (a table, or a dataset's rows) as a view; return the view name."""
        value = self.inputs[name]
        relation = value.rows if isinstance(value, PersonalizeDataset) else value
        view = f"{self.step}_{name}"
        relation.create_view(view, replace=True)
        return view

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()`, evaluated at most once per step however many checks ask for it.

        An error is kept too, so each check that asks gets it without reading the data again.
        """
        if key not in self.computed:
            try:
                self.computed[key] = compute()
            except (CheckUnusable, duckdb.Error) as error:
                self.computed[key] = error
        if isinstance(self.computed[key], Exception):
            raise self.computed[key]
        return self.computed[key]


@dataclass(frozen=True)
class Check:
    """One check of a step: the input it targets, the inputs it also reads, and its logic."""

    name: str
    target: str
    description: str
    evaluate: Callable[[CheckRun], Verdict]
    uses: tuple[str, ...] = ()
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR


def checks_step(
    name: str, inputs: Mapping[str, str], checks: Sequence[Check]
) -> AssetChecksDefinition:
    """One step running `checks`; `inputs` maps input names to asset names.

    ERROR checks are blocking. The step can run any subset of its checks (the UI and
    `checks_only` may select a single one). A check whose data cannot be read fails with the
    reason rather than failing the step, so the step's other checks still report.
    """
    specs = {
        check.name: AssetCheckSpec(
            check.name,
            asset=inputs[check.target],
            description=check.description,
            blocking=check.severity == AssetCheckSeverity.ERROR,
            additional_deps=[inputs[used] for used in check.uses],
        )
        for check in checks
    }

    @multi_asset_check(
        name=name,
        specs=list(specs.values()),
        ins={input_name: AssetIn(asset) for input_name, asset in inputs.items()},
        can_subset=True,
        required_resource_keys={"engine", "load_policy"},
    )
    def run_checks(
        context: AssetCheckExecutionContext, **loaded: Any
    ) -> Iterator[AssetCheckResult]:
        run = CheckRun(
            engine=context.resources.engine,
            policy=context.resources.load_policy,
            step=name,
            inputs=loaded,
        )
        for check in checks:
            spec = specs[check.name]
            if spec.key not in context.selected_asset_check_keys:
                continue
            try:
                verdict = check.evaluate(run)
            except CheckUnusable as error:
                verdict = Verdict(passed=False, description=str(error))
            except duckdb.Error as error:
                message = " ".join(str(error).splitlines()[:3])
                verdict = Verdict(passed=False, description=f"Could not read the data: {message}")
            yield AssetCheckResult(
                asset_key=spec.asset_key,
                check_name=check.name,
                passed=verdict.passed,
                severity=check.severity,
                description=verdict.description,
                metadata=verdict.metadata,
            )

    return run_checks


Query = tuple[str, str] | tuple[str, str, list[Any]]


def offenders(
    engine: DuckDBEngine, queries: Sequence[Query], metadata: dict[str, Any] | None = None
) -> Verdict:
    """Pass when every query `(label, SQL[, params])` returns no rows; report counts and samples."""
    failures = []
    results: dict[str, Any] = dict(metadata or {})
    for label, query, *params in queries:
        values = params[0] if params else None
        count = engine.scalar(f"SELECT count(*) FROM ({query})", values)
        results[label] = count
        if count:
            failures.append(f"{label}: {count:,}")
            results[f"{label} (first rows)"] = sample(engine, query, values)
    return Verdict(
        passed=not failures,
        description="; ".join(failures) if failures else "No offending rows.",
        metadata=results,
    )


def sample(
    engine: DuckDBEngine, query: str, params: Sequence[Any] | None = None
) -> MarkdownMetadataValue:
    """The first rows of `query` as a markdown table for the UI."""
    return MetadataValue.md(markdown_table(engine.sql(query, params), SAMPLE_ROWS))


# Checks on a table loaded from one release file, and on its rejects.


def data_lines(run: CheckRun) -> int:
    """Data lines of the release file, as counted by its raw asset (not by DuckDB)."""
    return facts_from(run.inputs["raw"]).data_lines


def rows_accounted_for(run: CheckRun) -> Verdict:
    """Data lines = rows kept + lines set aside: nothing was lost or invented."""
    file_name = facts_from(run.inputs["raw"]).file_name
    lines = data_lines(run)
    rows = run.engine.scalar(f"SELECT count(*) FROM {run.view('table')}")
    set_aside = run.engine.scalar(f"SELECT count(*) FROM {run.view('rejects')}")
    missing = lines - rows - set_aside
    return Verdict(
        passed=missing == 0,
        description=(
            f"{lines:,} data lines = {rows:,} rows + {set_aside:,} set aside."
            if missing == 0
            else f"{file_name} has {lines:,} data lines but {rows:,} rows + {set_aside:,} set "
            f"aside = {rows + set_aside:,}: {abs(missing):,} lines unaccounted for (a quoted "
            "field spanning lines, or an unclosed quote swallowing the lines after it)."
        ),
        metadata={"data_lines": lines, "rows": rows, "set_aside": set_aside},
    )


def rejects_within_limit(run: CheckRun) -> Verdict:
    """Rejected and duplicate lines stay within the load policy's share of the file."""
    file_name = facts_from(run.inputs["raw"]).file_name
    lines = data_lines(run)
    limit = run.policy.max_reject_share
    counted = f"SELECT * FROM {run.view('rejects')} WHERE kind IN ('rejected', 'duplicate')"
    rejected = run.engine.scalar(f"SELECT count(*) FROM ({counted})")
    share = rejected / lines if lines else 0.0
    reasons = run.engine.sql(
        f"SELECT kind, reason, count(*) AS lines FROM ({counted}) "
        "GROUP BY ALL ORDER BY lines DESC, reason"
    )
    return Verdict(
        passed=share <= limit,
        description=(
            f"{rejected:,} of {lines:,} lines of {file_name} rejected or duplicate "
            f"({share:.2%}); the limit is {limit:.2%}."
        ),
        metadata={
            "rejected": rejected,
            "data_lines": lines,
            "share": share,
            "limit": limit,
            "most common reasons": MetadataValue.md(markdown_table(reasons, limit=10)),
            "first lines": sample(run.engine, counted),
        },
    )


def no_lines_set_aside(run: CheckRun) -> Verdict:
    """Every set-aside line, counted by kind, with the first few shown (a WARN check)."""
    rejects = run.view("rejects")
    counts = dict(run.engine.rows(f"SELECT kind, count(*) FROM {rejects} GROUP BY kind"))
    return offenders(
        run.engine,
        [("lines set aside", f"SELECT * FROM {rejects} ORDER BY line")],
        metadata={f"{kind} lines": count for kind, count in counts.items()},
    )


def key_is_unique(target: str, key_columns: Sequence[str], table: str = "") -> Check:
    """A check that `key_columns` identify one row of input `target` (the asset `table`)."""
    columns = ", ".join(key_columns)

    def evaluate(run: CheckRun) -> Verdict:
        rows = run.view(target)
        return offenders(
            run.engine,
            [
                (
                    "repeated keys",
                    f"SELECT {columns}, count(*) AS copies FROM {rows} "
                    "GROUP BY ALL HAVING count(*) > 1",
                ),
                (
                    "empty keys",
                    f"SELECT * FROM {rows} "
                    f"WHERE {' OR '.join(f'{column} IS NULL' for column in key_columns)}",
                ),
            ],
        )

    return Check(
        "key_is_unique",
        target,
        f"({columns}) identifies exactly one row of {table or target}.",
        evaluate,
    )


def movies_known(target: str, table: str = "") -> Check:
    """A check that every movie_id of input `target` (the asset `table`) is a movie."""

    def evaluate(run: CheckRun) -> Verdict:
        return offenders(
            run.engine,
            [
                (
                    "unknown movies",
                    f"SELECT * FROM {run.view(target)} ANTI JOIN {run.view('movies')} "
                    "USING (movie_id)",
                )
            ],
        )

    return Check(
        "movies_known",
        target,
        f"Every movie_id in {table or target} is in movies.",
        evaluate,
        uses=("movies",),
    )


def file_checks(key: str, key_columns: Sequence[str] | None) -> AssetChecksDefinition:
    """The checks of the table loaded from `<key>.csv` and of `<key>_rejects`."""
    inputs = {"table": key, "rejects": f"{key}_rejects", "raw": f"raw_{key}"}
    checks = [
        Check(
            "rows_accounted_for",
            "table",
            f"Every data line of {key}.csv is a row of {key} or a line of {key}_rejects.",
            rows_accounted_for,
            uses=("raw", "rejects"),
        ),
        Check(
            "rejects_within_limit",
            "table",
            f"Rejected and duplicate lines of {key}.csv stay within the allowed share "
            "(MOVIELENS_MAX_REJECT_SHARE, default 1%), so a broken file stops the run.",
            rejects_within_limit,
            uses=("raw", "rejects"),
        ),
        Check(
            "no_lines_set_aside",
            "rejects",
            f"Warns when any line of {key}.csv was set aside, with the first few.",
            no_lines_set_aside,
            severity=AssetCheckSeverity.WARN,
        ),
    ]
    if key_columns is not None:
        checks.append(key_is_unique("table", key_columns, table=key))
    if key != "movies":
        inputs["movies"] = "movies"
        checks.append(movies_known("table", table=key))
    return checks_step(f"{key}_checks", inputs, checks)


# Checks on the derived tables.


def genres_are_names(run: CheckRun) -> Verdict:
    """Genres are names, and exactly the genres movie_genres uses."""
    genres, pairs = run.view("genres"), run.view("movie_genres")
    return offenders(
        run.engine,
        [
            (
                "not a genre name",
                f"SELECT genre FROM {genres} WHERE genre = '{NO_GENRES}' "
                f"OR NOT regexp_full_match(genre, '{GENRE_PATTERN}')",
            ),
            (
                "genres without movies",
                f"SELECT genre FROM {genres} ANTI JOIN {pairs} USING (genre)",
            ),
            (
                "movie genres missing",
                f"SELECT DISTINCT genre FROM {pairs} ANTI JOIN {genres} USING (genre)",
            ),
        ],
    )


def genres_in_movielens_list(run: CheckRun) -> Verdict:
    """Genre names outside the MovieLens list (a WARN check)."""
    return offenders(
        run.engine,
        [
            (
                "genres outside the MovieLens list",
                f"SELECT * FROM {run.view('genres')} "
                "WHERE genre NOT IN (SELECT unnest(?::VARCHAR[]))",
                [list(MOVIELENS_GENRES)],
            )
        ],
    )


def users_match_activity(run: CheckRun) -> Verdict:
    """users holds exactly the users with a kept rating or tag."""
    users = run.view("users")
    active = (
        f"SELECT user_id FROM {run.view('ratings')} UNION SELECT user_id FROM {run.view('tags')}"
    )
    return offenders(
        run.engine,
        [
            (
                "active users missing",
                f"SELECT user_id FROM ({active}) ANTI JOIN {users} USING (user_id)",
            ),
            (
                "users without activity",
                f"SELECT user_id FROM {users} ANTI JOIN ({active}) USING (user_id)",
            ),
        ],
    )


# Checks on the Personalize datasets, as written: they read the CSV back.


def unequal(label: str, left: tuple[str, Any], right: tuple[str, Any]) -> Query:
    """A query that returns one row, the two named values, when they differ."""
    (left_name, left_value), (right_name, right_value) = left, right
    return (
        label,
        f"SELECT ? AS {left_name}, ? AS {right_name} WHERE ? <> ?",
        [left_value, right_value, left_value, right_value],
    )


def header_matches_schema(dataset: PersonalizeDataset) -> Query:
    """A query that returns one row when the CSV header differs from the schema's field order."""
    return unequal(
        "header differs from schema",
        ("csv_header", ",".join(dataset.header)),
        ("schema_fields", ",".join(dataset.field_names)),
    )


INTERACTION_FINGERPRINT = "hash(USER_ID, ITEM_ID, TIMESTAMP, EVENT_VALUE)"
# Offending rows of interactions.csv: what each count of `interactions_profile` counts.
INTERACTION_OFFENDERS = {
    "rating below 3": f"EVENT_VALUE IS NULL OR EVENT_VALUE < {MIN_RATING}",
    "id longer than 256": (
        f"length(USER_ID) > {MAX_ID_LENGTH} OR length(ITEM_ID) > {MAX_ID_LENGTH}"
    ),
    "TIMESTAMP not epoch seconds": (
        f"TIMESTAMP IS NULL OR TIMESTAMP < 0 OR TIMESTAMP >= {LAST_PLAUSIBLE_SECOND}"
    ),
    "ITEM_ID not a movie": (
        "ITEM_ID IS NULL OR ITEM_ID NOT IN "
        "(SELECT CAST(movie_id AS VARCHAR) FROM {movies} WHERE movie_id IS NOT NULL)"
    ),
    "USER_ID not in users": (
        "USER_ID IS NULL OR USER_ID NOT IN "
        "(SELECT CAST(user_id AS VARCHAR) FROM {users} WHERE user_id IS NOT NULL)"
    ),
    "EVENT_TYPE empty": "EVENT_TYPE IS NULL OR trim(EVENT_TYPE) = ''",
}


def interactions_profile(run: CheckRun) -> dict[str, Any]:
    """Everything the interactions checks count, from one read of interactions.csv.

    Besides the row count and the offending rows of each kind, it sums a 64-bit hash of every
    row (an order-free fingerprint of the file's rows) for `interactions_match_ratings`.
    """

    def compute() -> dict[str, Any]:
        dataset = run.inputs["interactions"]
        if dataset.header != dataset.field_names:
            raise CheckUnusable(
                f"interactions.csv's header is {','.join(dataset.header)!r} but the schema's "
                f"fields are {','.join(dataset.field_names)!r}, so its rows cannot be read by "
                "name; nothing else was checked."
            )
        names = {"movies": run.view("movies"), "users": run.view("users")}
        counts = ", ".join(
            f"count(*) FILTER (WHERE {condition.format(**names)})"
            for condition in INTERACTION_OFFENDERS.values()
        )
        rows, fingerprint, first_type, last_type, *offending = run.engine.rows(
            f"SELECT count(*), coalesce(sum({INTERACTION_FINGERPRINT}), 0), min(EVENT_TYPE), "
            f"max(EVENT_TYPE), {counts} FROM {run.view('interactions')}"
        )[0]
        return {
            "rows": rows,
            "fingerprint": fingerprint,
            "event types": (first_type, last_type),
            **dict(zip(INTERACTION_OFFENDERS, offending, strict=True)),
        }

    return run.once("interactions profile", compute)


def profile_offenders(run: CheckRun, labels: Sequence[str], extra: Sequence[Query] = ()) -> Verdict:
    """A verdict from counts of the interactions profile; samples are read only on failure."""
    profile = interactions_profile(run)
    names = {"movies": run.view("movies"), "users": run.view("users")}
    failures, metadata = [], {}
    for label in labels:
        metadata[label] = profile[label]
        if profile[label]:
            failures.append(f"{label}: {profile[label]:,}")
            condition = INTERACTION_OFFENDERS[label].format(**names)
            metadata[f"{label} (first rows)"] = sample(
                run.engine, f"SELECT * FROM {run.view('interactions')} WHERE {condition}"
            )
    checked = offenders(run.engine, extra)
    if not checked.passed:
        failures.append(checked.description)
    return Verdict(
        passed=not failures,
        description="; ".join(failures) if failures else "No offending rows.",
        metadata={**metadata, **checked.metadata},
    )


def interactions_match_ratings(run: CheckRun) -> Verdict:
    """Count and fingerprint of the file against ratings >= 3; row by row only if they differ.

    Equal counts and equal sums of 64-bit row hashes mean the same rows except with negligible
    probability (an accidental difference goes unnoticed about once in 2^64). The row-by-row
    comparison, two anti-joins of 20M rows, runs only to show what differs.
    """
    profile = interactions_profile(run)
    ratings = run.view("ratings")
    source = (
        f"SELECT CAST(user_id AS VARCHAR) AS USER_ID, CAST(movie_id AS VARCHAR) AS ITEM_ID, "
        f"timestamp AS TIMESTAMP, CAST(rating AS DOUBLE) AS EVENT_VALUE "
        f"FROM {ratings} WHERE rating >= {MIN_RATING}"
    )
    expected, expected_fingerprint = run.engine.rows(
        f"SELECT count(*), coalesce(sum({INTERACTION_FINGERPRINT}), 0) FROM ({source})"
    )[0]
    metadata: dict[str, Any] = {
        "interactions": profile["rows"],
        "ratings_at_or_above_3": expected,
    }
    if profile["rows"] == expected and profile["fingerprint"] == expected_fingerprint:
        verdict = profile_offenders(run, ["rating below 3"])
        return Verdict(
            passed=verdict.passed,
            description=(
                f"{expected:,} interactions, the same rows as the ratings >= 3 "
                "(equal count and row fingerprint)."
                if verdict.passed
                else verdict.description
            ),
            metadata={**metadata, **verdict.metadata},
        )
    written = f"SELECT USER_ID, ITEM_ID, TIMESTAMP, EVENT_VALUE FROM {run.view('interactions')}"
    differences = profile_offenders(
        run,
        ["rating below 3"],
        extra=[
            unequal(
                "count differs from ratings >= 3",
                ("interactions", profile["rows"]),
                ("ratings_at_or_above_3", expected),
            ),
            (
                "not a source rating",
                f"SELECT * FROM ({written}) EXCEPT ALL SELECT * FROM ({source})",
            ),
            (
                "source rating missing",
                f"SELECT * FROM ({source}) EXCEPT ALL SELECT * FROM ({written})",
            ),
        ],
    )
    return Verdict(
        passed=False,
        description=(
            differences.description
            if not differences.passed
            else "The rows' fingerprint differs from that of the ratings >= 3."
        ),
        metadata={**metadata, **differences.metadata},
    )


def interaction_ids_known(run: CheckRun) -> Verdict:
    """Every ITEM_ID of interactions.csv is a movie and every USER_ID a user."""
    return profile_offenders(run, ["ITEM_ID not a movie", "USER_ID not in users"])


def interactions_fit_personalize(run: CheckRun) -> Verdict:
    """Header, id lengths, epoch-second TIMESTAMPs, and one non-empty EVENT_TYPE on every row."""
    first_type, last_type = interactions_profile(run)["event types"]
    return profile_offenders(
        run,
        ["id longer than 256", "TIMESTAMP not epoch seconds", "EVENT_TYPE empty"],
        extra=[
            header_matches_schema(run.inputs["interactions"]),
            unequal(
                "EVENT_TYPE not the same on every row",
                ("lowest", first_type),
                ("highest", last_type),
            ),
        ],
    )


def items_match_movies(run: CheckRun) -> Verdict:
    """One item per movie, no more, no less."""
    items, movies = run.view("items"), run.view("movies")
    return offenders(
        run.engine,
        [
            (
                "movies missing",
                f"SELECT movie.* FROM {movies} AS movie ANTI JOIN {items} AS item "
                "ON item.ITEM_ID = CAST(movie.movie_id AS VARCHAR)",
            ),
            (
                "items that are not movies",
                f"SELECT item.* FROM {items} AS item ANTI JOIN {movies} AS movie "
                "ON item.ITEM_ID = CAST(movie.movie_id AS VARCHAR)",
            ),
            (
                "repeated ITEM_ID",
                f"SELECT ITEM_ID, count(*) AS copies FROM {items} GROUP BY ITEM_ID "
                "HAVING count(*) > 1",
            ),
        ],
    )


def items_fit_personalize(run: CheckRun) -> Verdict:
    """Header in schema order, ITEM_ID and GENRES within Personalize's lengths, no placeholder
    genre."""
    items = run.view("items")
    return offenders(
        run.engine,
        [
            header_matches_schema(run.inputs["items"]),
            (
                "ITEM_ID longer than 256",
                f"SELECT * FROM {items} WHERE length(ITEM_ID) > {MAX_ID_LENGTH}",
            ),
            (
                "GENRES longer than 1000",
                f"SELECT * FROM {items} WHERE length(GENRES) > {MAX_CATEGORICAL_LENGTH}",
            ),
            ("placeholder genre", f"SELECT * FROM {items} WHERE GENRES LIKE '%{NO_GENRES}%'"),
        ],
    )


asset_checks: list[AssetChecksDefinition] = [
    file_checks("movies", ["movie_id"]),
    file_checks("ratings", ["user_id", "movie_id"]),
    file_checks("tags", None),
    file_checks("links", ["movie_id"]),
    checks_step(
        "movie_genres_checks",
        {"movie_genres": "movie_genres", "movies": "movies"},
        [key_is_unique("movie_genres", ["movie_id", "genre"]), movies_known("movie_genres")],
    ),
    checks_step(
        "genres_checks",
        {"genres": "genres", "movie_genres": "movie_genres"},
        [
            key_is_unique("genres", ["genre"]),
            Check(
                "genres_are_names",
                "genres",
                "Genres are names (no placeholder, spaces, digits or stray CRs) and match "
                "movie_genres.",
                genres_are_names,
                uses=("movie_genres",),
            ),
            Check(
                "genres_in_movielens_list",
                "genres",
                "Warns about genre names outside the MovieLens list (a new genre, or `drama` "
                "for `Drama`).",
                genres_in_movielens_list,
                severity=AssetCheckSeverity.WARN,
            ),
        ],
    ),
    checks_step(
        "users_checks",
        {"users": "users", "ratings": "ratings", "tags": "tags"},
        [
            key_is_unique("users", ["user_id"]),
            Check(
                "users_match_activity",
                "users",
                "users holds exactly the users with a kept rating or tag.",
                users_match_activity,
                uses=("ratings", "tags"),
            ),
        ],
    ),
    checks_step(
        "interactions_checks",
        {
            "interactions": "interactions",
            "ratings": "ratings",
            "movies": "movies",
            "users": "users",
        },
        [
            Check(
                "interactions_match_ratings",
                "interactions",
                "One interaction per rating >= 3, none below, each at its rating's own user, "
                "item and time (count and row fingerprint; row by row when they differ).",
                interactions_match_ratings,
                # Its counts come from the one read of the file every interactions check shares.
                uses=("ratings", "movies", "users"),
            ),
            Check(
                "interaction_ids_known",
                "interactions",
                "Every ITEM_ID is a movie (items_match_movies proves items.csv holds exactly the "
                "movies) and every USER_ID is in users.",
                interaction_ids_known,
                uses=("movies", "users"),
            ),
            Check(
                "interactions_fit_personalize",
                "interactions",
                "Header in schema order, ids at most 256 characters, TIMESTAMP in whole epoch "
                "seconds, the same non-empty EVENT_TYPE on every row.",
                interactions_fit_personalize,
                uses=("movies", "users"),
            ),
        ],
    ),
    checks_step(
        "items_checks",
        {"items": "items", "movies": "movies"},
        [
            Check(
                "items_match_movies",
                "items",
                "One item per movie, no more, no less.",
                items_match_movies,
                uses=("movies",),
            ),
            Check(
                "items_fit_personalize",
                "items",
                "Header in schema order, ITEM_ID at most 256 characters, GENRES at most 1,000 "
                "characters and never the '(no genres listed)' placeholder.",
                items_fit_personalize,
            ),
        ],
    ),
]
