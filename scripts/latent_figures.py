"""Rule latent_figures → facesimxai.latent.figures.plot_latent_figures."""

from facesimxai.latent.figures import plot_latent_figures
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    plot_latent_figures(
        snakemake.input.pca, snakemake.input.metrics, snakemake.input.table, snakemake.input.means,
        snakemake.input.clusters, f"{snakemake.wildcards.model}/{snakemake.wildcards.explainer}",
        pca_out=snakemake.output.pca, embedding_out=snakemake.output.embedding, clusters_out=snakemake.output.clusters,
    )
