"""Rule autoencoder → facesimxai.latent.autoencoder.run_autoencoder."""

from facesimxai.latent.autoencoder import run_autoencoder
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    run_autoencoder(snakemake.input.store, snakemake.params.cfg, snakemake.params.normalise, snakemake.params.device,
                    out=snakemake.output.latent, weights_out=snakemake.output.weights,
                    metrics_out=snakemake.output.metrics, threads=snakemake.threads)
