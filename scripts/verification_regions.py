"""Rule verification_regions → facesimxai.verification.run.explain_pairs."""

from facesimxai.logs import rule_logging
from facesimxai.verification.run import explain_pairs

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    explain_pairs(
        backbone=snakemake.input.backbone, faces=snakemake.input.faces,  # noqa: F821
        landmarks=snakemake.input.landmarks, scores=snakemake.input.scores,  # noqa: F821
        regions_file=snakemake.input.regions, regions_cfg=snakemake.params.regions,  # noqa: F821
        baseline=snakemake.params.baseline, n_pairs=snakemake.params.n_pairs,  # noqa: F821
        layer=snakemake.params.layer, device=snakemake.params.device,  # noqa: F821
        table_out=snakemake.output.table, sentences_out=snakemake.output.sentences,  # noqa: F821
        threads=snakemake.threads,  # noqa: F821
    )
