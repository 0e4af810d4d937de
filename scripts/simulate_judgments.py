"""Rule simulate_judgments → facesimxai.data.observers.simulate_judgments."""

from facesimxai.data.observers import simulate_judgments
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    simulate_judgments(
        snakemake.input.manifest, snakemake.params.simulated,  # noqa: F821
        trials_out=snakemake.output.trials, truth_out=snakemake.output.truth,  # noqa: F821
    )
