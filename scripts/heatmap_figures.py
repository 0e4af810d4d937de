"""Rule heatmap_figures → facesimxai.explain.figures.plot_face_maps."""

from facesimxai.explain.figures import plot_face_maps
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    wc = snakemake.wildcards
    plot_face_maps(snakemake.input.faces, snakemake.input.manifest,
                   title=f"VGG-{wc.model.capitalize()}, explainer '{wc.explainer}'",
                   out=snakemake.output[0])
