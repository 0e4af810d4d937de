"""Targets and settings of the explain stage (its rules: workflow/rules/explain.smk)."""

# The explain settings that determine a store's content (the explainer itself is per wildcard):
# listed, so that a new config key, explain.models or explain.scatter (the parts are files of
# their own) does not re-run every store.
EXPLAIN_STORE_KEYS = ("splits", "max_trials", "seed", "engine", "dtype", "chunk_trials", "batch_size", "basis_batch")


def explain_settings():
    """Store settings shared by all explainers (the explainers themselves are per wildcard)."""
    return settings("explain", EXPLAIN_STORE_KEYS)


def explainer_hash(model, explainer):
    """Hash of everything that determines one heatmap store's content besides its inputs."""
    import hashlib
    import json

    relevant = {
        "model": model,
        "explainer": config["explain"]["explainers"][explainer],
        "explain": explain_settings(),
        "maxp_rule": config["models"]["maxp_rule"],
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def explain_targets():
    """Outputs of the explain stage (workflow/rules/explain.smk)."""
    return [
        *expand(
            f"{R}/heatmaps/{{model}}/{{explainer}}.zarr",
            model=config["explain"]["models"],
            explainer=list(config["explain"]["explainers"]),
        ),
        *expand(
            f"{R}/figures/heatmaps/{{model}}_{{explainer}}_faces.png",
            model=config["explain"]["models"],
            explainer=list(config["explain"]["explainers"]),
        ),
    ]


scattergather:
    explain=config["explain"]["scatter"],
