"""Rule verification_xmaps → facesimxai.verification.run.xmap_pairs."""

from facesimxai.logs import rule_logging
from facesimxai.verification.run import xmap_pairs

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    xmap_pairs(
        backbone=snakemake.input.backbone, faces=snakemake.input.faces, scores=snakemake.input.scores,  # noqa: F821
        cfg=snakemake.params.xmaps, baseline=snakemake.params.baseline, layer=snakemake.params.layer,  # noqa: F821
        device=snakemake.params.device, out=snakemake.output.xmaps,  # noqa: F821
        faithfulness_out=snakemake.output.faithfulness,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
    )
