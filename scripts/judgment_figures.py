"""Rule judgment_figures → facesimxai.data.figures.plot_judgment_figures."""

from facesimxai.data.figures import plot_judgment_figures
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    plot_judgment_figures(
        snakemake.input.trials, snakemake.input.summary, snakemake.input.manifest,  # noqa: F821
        truth=snakemake.input.truth or None, judgments_png=snakemake.output.judgments,  # noqa: F821
        recovery_png=snakemake.output.recovery or None,  # noqa: F821
    )
