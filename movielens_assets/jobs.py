"""Jobs beyond the implicit "materialise everything" one: `checks_only` re-runs the checks.

The checks read the stored tables and dataset files, so they run against the latest
materialisations without writing anything. meets_personalize_minimums is not in the job: it is
computed by the interactions asset while it writes, so it runs only with a materialisation.
"""

from dagster import AssetSelection, define_asset_job

from movielens_assets.checks import asset_checks

checks_only = define_asset_job(
    "checks_only",
    selection=AssetSelection.checks(*asset_checks),
    description=(
        "Every standalone asset check against the stored tables and datasets, with no asset "
        "materialised. meets_personalize_minimums runs only when interactions is materialised."
    ),
)
