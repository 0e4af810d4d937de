"""Models stage: backbone, cached core features, MaxP targets and the triplet heads
(rule → script → facesimxai.models.*)."""


include: "functions/models.smk"


rule backbone:
    input:
        renders=(
            f"{R}/pretrain/renders.zarr"
            if config["backbone"]["source"] == "pretrain"
            else config["backbone"]["weights"] or "backbone.weights-is-not-set"
        ),
    output:
        checkpoint=f"{R}/models/backbone.pt",
        metrics=f"{R}/models/backbone.json",
    log:
        f"{R}/logs/backbone.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        mem_mb=8000,
        runtime=240,
    params:
        backbone=config["backbone"],
        device=config["device"],
    script:
        "../../scripts/backbone.py"


rule core_features:
    input:
        backbone=rules.backbone.output.checkpoint,
        manifest=FACES.manifest,
    output:
        directory(f"{R}/models/core_features.zarr"),
    log:
        f"{R}/logs/core_features.log",
    conda:
        "../../envs/torch.yaml"
    resources:
        gpu=gpus(),
    params:
        last_core_layer=config["models"]["last_core_layer"],
        device=config["device"],
    script:
        "../../scripts/core_features.py"


rule maxp_targets:
    input:
        features=f"{R}/models/core_features.zarr",
        trials=rules.triplets.output.trials,
    output:
        f"{R}/models/maxp_targets.parquet",
    log:
        f"{R}/logs/maxp_targets.log",
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/maxp_targets.py"


rule train_head:
    input:
        features=f"{R}/models/core_features.zarr",
        trials=rules.triplets.output.trials,
        maxp_targets=f"{R}/models/maxp_targets.parquet",
    output:
        head=f"{R}/models/{{model}}/head.pt",
        metrics=f"{R}/models/{{model}}/metrics.json",
    log:
        f"{R}/logs/train_head_{{model}}.log",
    wildcard_constraints:
        model=model_wildcard(),
    conda:
        "../../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        mem_mb=4000,
        runtime=60,
    params:
        models=settings("models", HEAD_TRAINING_KEYS),
        device=config["device"],
    script:
        "../../scripts/train_head.py"


rule model_figures:
    input:
        backbone=f"{R}/models/backbone.json",
        heads=expand(f"{R}/models/{{model}}/metrics.json", model=config["models"]["trained"]),
    output:
        report(
            f"{R}/figures/models/training.png",
            caption="../report/training.rst",
            category="3 Models",
        ),
    log:
        f"{R}/logs/model_figures.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/model_figures.py"


rule probe:
    input:
        backbone=rules.backbone.output.checkpoint,
        unseen=f"{R}/unseen/faces.zarr",
    output:
        f"{R}/models/probe.json",
    log:
        f"{R}/logs/probe.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
    params:
        last_core_layer=config["models"]["last_core_layer"],
        probe=config["probe"],
        device=config["device"],
    script:
        "../../scripts/probe.py"


rule generalisation:
    input:
        backbone=rules.backbone.output.checkpoint,
        heads=expand(f"{R}/models/{{model}}/head.pt", model=config["models"]["trained"]),
        features=f"{R}/models/core_features.zarr",
        trials=rules.triplets.output.trials,
        splits=f"{R}/judgments/splits.json",
        maxp_targets=f"{R}/models/maxp_targets.parquet",
        unseen=f"{R}/unseen/faces.zarr",
    output:
        f"{R}/models/generalisation.json",
    log:
        f"{R}/logs/generalisation.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
    params:
        models=settings("models", HEAD_EVALUATION_KEYS),
        generalisation=config["generalisation"],
        observers=config["judgments"]["simulated"] if SIMULATED else None,
        device=config["device"],
    script:
        "../../scripts/generalisation.py"


rule model_validity_figure:
    input:
        probe=f"{R}/models/probe.json",
        generalisation=f"{R}/models/generalisation.json",
        interventional=f"{R}/regions/interventional.json" if SIMULATED else [],
    output:
        report(
            f"{R}/figures/models/validity.png",
            caption="../report/model_validity.rst",
            category="3 Models",
        ),
    log:
        f"{R}/logs/model_validity_figure.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/model_validity_figure.py"
