"""Landmarks and regions: MediaPipe face mesh → 12 region masks per face.

rule → script → facesimxai.landmarks.* (mesh.compute_landmarks, mesh.compute_unseen_landmarks,
masks.build_region_masks, figures.plot_region_figures).
"""


include: "functions/landmarks.smk"


rule landmarks:
    input:
        manifest=FACES.manifest,
    output:
        landmarks=directory(f"{R}/landmarks/landmarks.zarr"),
        kept=f"{R}/landmarks/faces_kept.json",
    log:
        f"{R}/logs/landmarks.log",
    conda:
        "../../envs/landmarks.yaml"
    params:
        landmarks=config["landmarks"],
        input_size=config["backbone"]["input_size"],
    script:
        "../../scripts/landmarks.py"


rule unseen_landmarks:
    """The face mesh of the unseen faces, for explainer_validity (which runs in the torch env)."""
    input:
        f"{R}/unseen/faces.zarr",
    output:
        directory(f"{R}/unseen/landmarks.zarr"),
    log:
        f"{R}/logs/unseen_landmarks.log",
    conda:
        "../../envs/landmarks.yaml"
    params:
        landmarks=config["landmarks"],
        input_size=config["backbone"]["input_size"],
    script:
        "../../scripts/unseen_landmarks.py"


rule region_masks:
    input:
        landmarks=f"{R}/landmarks/landmarks.zarr",
        regions=regions_file(),
    output:
        directory(f"{R}/regions/masks.zarr"),
    log:
        f"{R}/logs/region_masks.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        priority=config["regions"]["priority"],
        margin=config["regions"]["margin"],
    script:
        "../../scripts/region_masks.py"


rule region_figures:
    input:
        manifest=FACES.manifest,
        landmarks=f"{R}/landmarks/landmarks.zarr",
        masks=f"{R}/regions/masks.zarr",
    output:
        landmarks=report(
            f"{R}/figures/regions/landmarks.png",
            caption="../report/landmarks.rst",
            category="2 Regions",
        ),
        regions=report(
            f"{R}/figures/regions/regions.png",
            caption="../report/regions.rst",
            category="2 Regions",
        ),
    log:
        f"{R}/logs/region_figures.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/region_figures.py"
