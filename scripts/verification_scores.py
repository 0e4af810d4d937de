"""Rule verification_scores → facesimxai.verification.run.score_pairs."""

from facesimxai.logs import rule_logging
from facesimxai.verification.run import score_pairs

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    score_pairs(
        backbone=snakemake.input.backbone, faces=snakemake.input.faces, pairs=snakemake.input.pairs,  # noqa: F821
        cfg=snakemake.params.verification, layer=snakemake.params.layer,  # noqa: F821
        device=snakemake.params.device, scores_out=snakemake.output.scores,  # noqa: F821
        metrics_out=snakemake.output.metrics,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
    )
