"""Data stage: faces, judgments, triplets and splits (rule → script → facesimxai.data.*)."""


include: "functions/data.smk"


if SYNTHETIC_FACES:

    rule render_faces:
        output:
            manifest=f"{R}/faces/manifest.parquet",
            images=directory(f"{R}/faces/images"),
            parameter_regions=f"{R}/faces/parameter_regions.csv",
        log:
            f"{R}/logs/render_faces.log",
        conda:
            "../../envs/analysis.yaml"
        threads: config["threads"]
        params:
            synthetic=config["faces"]["synthetic"],
            image_size=config["image_size"],
        script:
            "../../scripts/render_faces.py"

else:

    rule import_faces:
        input:
            folder=config["faces"]["folder"] or "faces.folder-is-not-set",
        output:
            manifest=f"{R}/faces/manifest.parquet",
            images=directory(f"{R}/faces/images"),
        log:
            f"{R}/logs/import_faces.log",
        conda:
            "../../envs/analysis.yaml"
        params:
            image_size=config["image_size"],
            resize=config["faces"]["resize"],
        script:
            "../../scripts/import_faces.py"


# Synthetic pretraining identities: the demo backbone's training set, whatever the analysis faces.


# The face set every later stage reads, whichever rule made it: rules refer to FACES.manifest and
# FACES.images instead of re-typing the paths.
FACES = rules.render_faces.output if SYNTHETIC_FACES else rules.import_faces.output


rule render_pretrain:
    output:
        directory(f"{R}/pretrain/renders.zarr"),
    log:
        f"{R}/logs/render_pretrain.log",
    conda:
        "../../envs/analysis.yaml"
    threads: config["threads"]
    params:
        pretrain=config["pretrain"],
        image_size=config["image_size"],
    script:
        "../../scripts/render_pretrain.py"


# Fresh faces no model saw: the probe, generalisation and interventional stages (rendered for any data).
rule render_unseen:
    output:
        directory(f"{R}/unseen/faces.zarr"),
    log:
        f"{R}/logs/render_unseen.log",
    conda:
        "../../envs/analysis.yaml"
    threads: config["threads"]
    params:
        unseen=config["unseen"],
        image_size=config["image_size"],
    script:
        "../../scripts/render_unseen.py"


if SIMULATED:

    rule simulate_judgments:
        input:
            manifest=FACES.manifest,
        output:
            trials=f"{R}/judgments/simulated/trials.csv",
            truth=f"{R}/judgments/simulated/observers.json",
        log:
            f"{R}/logs/simulate_judgments.log",
        conda:
            "../../envs/analysis.yaml"
        params:
            simulated=config["judgments"]["simulated"],
        script:
            "../../scripts/simulate_judgments.py"


rule clean_judgments:
    input:
        files=judgment_files(),
        manifest=FACES.manifest,
    output:
        cleaned=f"{R}/judgments/cleaned.parquet",
        summary=f"{R}/judgments/cleaning_summary.csv",
    log:
        f"{R}/logs/clean_judgments.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        source=config["judgments"]["source"],
        allow_extra=config["judgments"]["allow_extra_columns"],
    script:
        "../../scripts/clean_judgments.py"


rule triplets:
    input:
        cleaned=f"{R}/judgments/cleaned.parquet",
        manifest=FACES.manifest,
        kept=f"{R}/landmarks/faces_kept.json",
    output:
        trials=f"{R}/judgments/trials.parquet",
        triplets=f"{R}/judgments/triplets.parquet",
        summary=f"{R}/judgments/splits.json",
    log:
        f"{R}/logs/triplets.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        splits=config["splits"],
    script:
        "../../scripts/triplets.py"


rule face_figures:
    input:
        manifest=FACES.manifest,
        pretrain=f"{R}/pretrain/renders.zarr" if SYNTHETIC_FACES else [],
    output:
        faces=report(
            f"{R}/figures/data/faces.png",
            caption="../report/faces.rst",
            category="1 Data",
            subcategory="Faces",
        ),
        effects=(
            report(
                f"{R}/figures/data/parameter_effects.png",
                caption="../report/parameter_effects.rst",
                category="1 Data",
                subcategory="Faces",
            )
            if SYNTHETIC_FACES
            else []
        ),
        pretrain=(
            report(
                f"{R}/figures/data/pretrain_examples.png",
                caption="../report/pretrain_examples.rst",
                category="1 Data",
                subcategory="Faces",
            )
            if SYNTHETIC_FACES
            else []
        ),
    log:
        f"{R}/logs/face_figures.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        image_size=config["image_size"],
    script:
        "../../scripts/face_figures.py"


rule judgment_figures:
    input:
        trials=rules.triplets.output.trials,
        summary=f"{R}/judgments/cleaning_summary.csv",
        manifest=FACES.manifest,
        truth=f"{R}/judgments/simulated/observers.json" if SIMULATED else [],
    output:
        judgments=report(
            f"{R}/figures/data/judgments.png",
            caption="../report/judgments.rst",
            category="1 Data",
            subcategory="Judgments",
        ),
        recovery=(
            report(
                f"{R}/figures/data/observer_recovery.png",
                caption="../report/observer_recovery.rst",
                category="1 Data",
                subcategory="Judgments",
            )
            if SIMULATED
            else []
        ),
    log:
        f"{R}/logs/judgment_figures.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/judgment_figures.py"
