"""Rule verification_figures → facesimxai.verification.figures (ROC/DET, C-Score reliability, X-Maps)."""

from facesimxai.logs import rule_logging
from facesimxai.verification.figures import plot_verification

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    plot_verification(
        faces=snakemake.input.faces, scores=snakemake.input.scores, metrics=snakemake.input.metrics,  # noqa: F821
        xmaps=snakemake.input.xmaps, truth=snakemake.input.truth, curves_out=snakemake.output.curves,  # noqa: F821
        reliability_out=snakemake.output.reliability, xmaps_out=snakemake.output.xmaps,  # noqa: F821
        truth_out=snakemake.output.truth,  # noqa: F821
    )
