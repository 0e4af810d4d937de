"""Rule backbone → facesimxai.models.backbone.build_backbone."""

from facesimxai.logs import rule_logging
from facesimxai.models.backbone import build_backbone

with rule_logging(snakemake.log[0]):
    build_backbone(
        snakemake.input.renders, snakemake.params.backbone, snakemake.params.device,
        snakemake.threads, out=snakemake.output.checkpoint, metrics_out=snakemake.output.metrics,
    )
