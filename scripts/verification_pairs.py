"""Rule verification_pairs → facesimxai.verification.pairs.build_pairs."""

from facesimxai.logs import rule_logging
from facesimxai.verification.pairs import build_pairs

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    build_pairs(
        cfg=snakemake.params.verification, augment=snakemake.params.augment,  # noqa: F821
        image_size=snakemake.params.image_size, resize=snakemake.params.resize,  # noqa: F821
        faces_out=snakemake.output.faces, pairs_out=snakemake.output.pairs, workers=snakemake.threads,  # noqa: F821
    )
