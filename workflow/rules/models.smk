"""Models stage: backbone, cached core features, MaxP targets and the triplet heads
(rule → script → facesimxai.models.*)."""


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
    params:
        backbone=config["backbone"],
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpus(),
        mem_mb=8000,
        runtime=240,
    log:
        f"{R}/logs/backbone.log",
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/backbone.py"


rule core_features:
    input:
        backbone=f"{R}/models/backbone.pt",
        manifest=f"{R}/faces/manifest.parquet",
    output:
        directory(f"{R}/models/core_features.zarr"),
    params:
        last_core_layer=config["models"]["last_core_layer"],
        device=config["device"],
    resources:
        gpu=gpus(),
    log:
        f"{R}/logs/core_features.log",
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/core_features.py"


rule maxp_targets:
    input:
        features=f"{R}/models/core_features.zarr",
        trials=f"{R}/judgments/trials.parquet",
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
        trials=f"{R}/judgments/trials.parquet",
        maxp_targets=f"{R}/models/maxp_targets.parquet",
    output:
        head=f"{R}/models/{{model}}/head.pt",
        metrics=f"{R}/models/{{model}}/metrics.json",
    wildcard_constraints:
        model="hum|maxp",
    params:
        models=config["models"],
        device=config["device"],
    threads: config["threads"]
    resources:
        gpu=gpus(),
        mem_mb=4000,
        runtime=60,
    log:
        f"{R}/logs/train_head_{{model}}.log",
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/train_head.py"


rule model_figures:
    input:
        backbone=f"{R}/models/backbone.json",
        heads=expand(f"{R}/models/{{model}}/metrics.json", model=["hum", "maxp"]),
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
