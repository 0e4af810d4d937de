"""Rule predictions → facesimxai.models.predict.trial_predictions."""

from facesimxai.logs import rule_logging
from facesimxai.models.predict import trial_predictions

with rule_logging(snakemake.log[0]):
    trial_predictions(snakemake.input.features, snakemake.input.trials, snakemake.input.head,
                      snakemake.wildcards.model, out=snakemake.output[0])
