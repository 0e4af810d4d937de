"""Rule core_features → facesimxai.models.features.compute_core_features."""

from facesimxai.logs import rule_logging
from facesimxai.models.features import compute_core_features

with rule_logging(snakemake.log[0]):
    compute_core_features(
        snakemake.input.backbone, snakemake.input.manifest, snakemake.params.last_core_layer,
        snakemake.params.device, out=snakemake.output[0],
    )
