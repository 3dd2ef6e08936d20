"""Print where the datasets of the last run are and how many rows each table holds."""

import duckdb

from movielens_assets.settings import Settings


def main() -> None:
    """Summarise the local outputs for a person who just ran `make run`."""
    settings = Settings.from_env()
    if settings.storage != "duckdb":
        print(f"Datasets were written to S3 ({settings.storage} mode).")
        return
    print(f"\nSeeded tables in {settings.database.resolve()}:")
    with duckdb.connect(str(settings.database), read_only=True) as connection:
        tables = [row[0] for row in connection.execute("SHOW TABLES").fetchall()]
        for table in tables:
            rows = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            print(f"  {table:<16} {rows:>10,} rows")
    print(f"\nPersonalize datasets in {settings.personalize_dir.resolve()}:")
    for path in sorted(settings.personalize_dir.iterdir()):
        if not path.name.startswith("."):
            print(f"  {path.name:<26} {path.stat().st_size:>12,} bytes")


if __name__ == "__main__":
    main()
