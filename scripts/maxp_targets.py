"""Rule maxp_targets → facesimxai.models.features.compute_maxp_targets."""

from facesimxai.logs import rule_logging
from facesimxai.models.features import compute_maxp_targets

with rule_logging(snakemake.log[0]):
    compute_maxp_targets(snakemake.input.features, snakemake.input.trials, out=snakemake.output[0])
