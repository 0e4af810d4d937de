"""Rule verification_truth → facesimxai.verification.run.truth_check."""

from facesimxai.logs import rule_logging
from facesimxai.verification.run import truth_check

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    truth_check(
        backbone=snakemake.input.backbone, cfg=snakemake.params.truth, xmaps_cfg=snakemake.params.xmaps,  # noqa: F821
        image_size=snakemake.params.image_size, layer=snakemake.params.layer,  # noqa: F821
        device=snakemake.params.device, table_out=snakemake.output.table,  # noqa: F821
        summary_out=snakemake.output.summary, workers=snakemake.threads,  # noqa: F821
    )
