"""Rule verification_xmaps → facesimxai.verification.run.xmap_pairs."""

from facesimxai.logs import rule_logging
from facesimxai.verification.run import xmap_pairs

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    xmap_pairs(
        backbone=snakemake.input.backbone, faces=snakemake.input.faces, scores=snakemake.input.scores,  # noqa: F821
        cfg=snakemake.params.xmaps, layer=snakemake.params.layer, device=snakemake.params.device,  # noqa: F821
        out=snakemake.output[0],  # noqa: F821
    )
