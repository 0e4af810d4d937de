"""Rule gather_heatmaps → facesimxai.explain.store.gather_heatmaps."""

from facesimxai.explain.store import gather_heatmaps
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    gather_heatmaps(
        list(snakemake.input.parts), list(snakemake.input.markers), snakemake.input.backbone,
        snakemake.input.head, snakemake.input.manifest, snakemake.params.explainer,
        snakemake.params.explain, snakemake.params.config_hash, out=snakemake.output.store,
        faces_out=snakemake.output.faces,
    )
