"""Rule embed → facesimxai.latent.embed.run_embed."""

from facesimxai.latent.embed import run_embed
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    run_embed(snakemake.input.pca, snakemake.input.latent, snakemake.input.store, snakemake.params.cfg,
              snakemake.params.normalise, table_out=snakemake.output.table, clusters_out=snakemake.output.clusters,
              means_out=snakemake.output.means)
