"""Rule clean_judgments → facesimxai.data.judgments.import_judgments."""

from facesimxai.data.judgments import import_judgments
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    import_judgments(
        snakemake.input.files, snakemake.input.manifest, snakemake.params.source,  # noqa: F821
        out=snakemake.output.cleaned, summary_out=snakemake.output.summary,  # noqa: F821
        allow_extra=snakemake.params.allow_extra,  # noqa: F821
    )
