"""Rule triplets → facesimxai.data.triplets.build_triplets."""

from facesimxai.data.triplets import build_triplets
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    build_triplets(
        snakemake.input.cleaned, snakemake.input.manifest, snakemake.params.splits,  # noqa: F821
        trials_out=snakemake.output.trials, triplets_out=snakemake.output.triplets,  # noqa: F821
        summary_out=snakemake.output.summary, keep_faces=snakemake.input.kept,  # noqa: F821
    )
