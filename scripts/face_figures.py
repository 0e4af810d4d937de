"""Rule face_figures → facesimxai.data.figures.plot_face_figures."""

from facesimxai.data.figures import plot_face_figures
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    out = snakemake.output  # noqa: F821
    plot_face_figures(
        snakemake.input.manifest, faces_png=out.faces,  # noqa: F821
        effects_png=out.effects or None, pretrain_png=out.pretrain or None,
        pretrain_store=snakemake.input.pretrain or None,  # noqa: F821
        image_size=snakemake.params.image_size,  # noqa: F821
    )
