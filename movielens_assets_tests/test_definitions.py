"""The graph's shape: exactly these assets and checks, each check aimed at an existing asset."""

from pathlib import Path

from movielens_assets import defs
from movielens_assets.settings import Settings
from movielens_assets.storage import storage_resources

ASSETS = {
    "raw_movies",
    "raw_ratings",
    "raw_tags",
    "raw_links",
    "movies",
    "movie_genres",
    "movies_rejects",
    "genres",
    "ratings",
    "ratings_rejects",
    "tags",
    "tags_rejects",
    "links",
    "links_rejects",
    "users",
    "interactions",
    "items",
}
FILE_CHECKS = {
    (table, name)
    for table in ("movies", "ratings", "tags", "links")
    for name in ("rows_accounted_for", "rejects_within_limit")
} | {(f"{table}_rejects", "no_lines_set_aside") for table in ("movies", "ratings", "tags", "links")}
CHECKS = FILE_CHECKS | {
    ("movies", "key_is_unique"),
    ("ratings", "key_is_unique"),
    ("links", "key_is_unique"),
    ("genres", "key_is_unique"),
    ("movie_genres", "key_is_unique"),
    ("users", "key_is_unique"),
    ("ratings", "movies_known"),
    ("tags", "movies_known"),
    ("links", "movies_known"),
    ("movie_genres", "movies_known"),
    ("genres", "genres_are_names"),
    ("users", "users_match_activity"),
    ("interactions", "meets_personalize_minimums"),
    ("interactions", "interactions_match_ratings"),
    ("interactions", "interaction_ids_known"),
    ("genres", "genres_in_movielens_list"),
    ("interactions", "interactions_fit_personalize"),
    ("items", "items_match_movies"),
    ("items", "items_fit_personalize"),
}
GROUPS = {
    "raw": {"raw_movies", "raw_ratings", "raw_tags", "raw_links"},
    "personalize": {"interactions", "items"},
}


def test_asset_keys_are_exactly_the_graph() -> None:
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == ASSETS


def test_check_keys_are_exactly_the_checks_and_target_existing_assets() -> None:
    graph = defs.resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert checks == CHECKS
    assets = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {asset for asset, _ in checks} <= assets


def test_assets_sit_in_their_groups() -> None:
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    for group, members in GROUPS.items():
        assert {asset for asset, name in groups.items() if name == group} == members
    seeded = ASSETS - GROUPS["raw"] - GROUPS["personalize"]
    assert {asset for asset, name in groups.items() if name == "seeded"} == seeded


def test_every_asset_says_what_a_row_is() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, f"{key.to_user_string()} has no description"


def test_every_storage_mode_offers_the_same_keys_to_assets_and_checks() -> None:
    def resource_keys(storage: str, source_dir: str) -> set[str]:
        settings = Settings(
            storage=storage, source_dir=source_dir, output_dir=Path("data"), max_reject_share=0.01
        )
        return set(storage_resources(settings))

    shared = {"engine", "source", "load_policy", "io_manager", "dataset_io_manager"}
    assert resource_keys("duckdb", "samples/ml-latest-small") == shared
    assert resource_keys("duckdb", "s3://bucket/release") == shared | {"s3"}
    assert resource_keys("s3", "samples/ml-latest-small") == shared | {"s3"}
