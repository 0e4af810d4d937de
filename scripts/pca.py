"""Rule pca → facesimxai.latent.pca.run_pca."""

from facesimxai.latent.pca import run_pca
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    run_pca(snakemake.input.store, {**snakemake.params.pca, "normalise": snakemake.params.normalise},
            out=snakemake.output[0])
