"""Rule render_pretrain → facesimxai.data.faces.render_pretrain_set."""

from facesimxai.data.faces import render_pretrain_set
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    render_pretrain_set(
        snakemake.params.pretrain, snakemake.params.image_size, snakemake.output[0],  # noqa: F821
        workers=snakemake.threads,  # noqa: F821
    )
