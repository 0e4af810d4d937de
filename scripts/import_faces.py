"""Rule import_faces → facesimxai.data.faces.import_face_folder."""

from facesimxai.data.faces import import_face_folder
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    import_face_folder(
        snakemake.input.folder, snakemake.params.image_size,  # noqa: F821
        images_dir=snakemake.output.images, manifest=snakemake.output.manifest,  # noqa: F821
        resize=snakemake.params.resize,  # noqa: F821
    )
