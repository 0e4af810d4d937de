"""Targets and settings of the latent stage (its rules: workflow/rules/latent.smk)."""


def latent_targets():
    """Outputs of the latent stage (workflow/rules/latent.smk)."""
    out = []
    for m, e in model_explainer_pairs():
        out += [f"{R}/latent/{m}/{e}/embedding.parquet"]
        out += [f"{R}/figures/latent/{m}_{e}_{kind}.png" for kind in ("pca", "embedding", "clusters")]
    return out


LATENT = f"{R}/latent/{{model}}/{{explainer}}"
