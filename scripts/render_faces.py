"""Rule render_faces → facesimxai.data.faces.render_synthetic_faces."""

from facesimxai.data.faces import render_synthetic_faces
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    cfg = snakemake.params.synthetic  # noqa: F821
    render_synthetic_faces(
        n_faces=cfg["n_faces"], seed=cfg["seed"], image_size=snakemake.params.image_size,  # noqa: F821
        images_dir=snakemake.output.images, manifest=snakemake.output.manifest,  # noqa: F821
        parameter_regions=snakemake.output.parameter_regions,  # noqa: F821
        workers=snakemake.threads,  # noqa: F821
    )
