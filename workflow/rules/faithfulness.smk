"""Faithfulness stage: which explanation can we trust? (rule → script → facesimxai.faithfulness.*:
run.run_faithfulness, summary.summarise_faithfulness, figures.faithfulness_figure, run.run_masking,
figures.masking_figure; models.train.train_head for the extra VGG-Hum seeds)."""


include: "functions/faithfulness.smk"


rule faithfulness:
    input:
        backbone=rules.backbone.output.checkpoint,
        head=f"{R}/models/{{model}}/head.pt",
        manifest=FACES.manifest,
        images=FACES.images,
        trials=rules.triplets.output.trials,
        masks=f"{R}/regions/masks.zarr",
    output:
        scores=f"{FAITH}/{{model}}/scores.parquet",
        scores_csv=f"{FAITH}/{{model}}/scores.csv",
        curves=f"{FAITH}/{{model}}/curves.parquet",
        regions=f"{FAITH}/{{model}}/regions.parquet",
    log:
        f"{R}/logs/faithfulness_{{model}}.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        mem_mb=8000,
        runtime=120,
    params:
        cfg=faithfulness_settings(),
        explainers=config["explain"]["explainers"],
        device=config["device"],
        synthetic=SYNTHETIC_FACES,
    script:
        "../../scripts/faithfulness.py"


rule faithfulness_summary:
    input:
        scores=expand(f"{FAITH}/{{model}}/scores.parquet", model=config["explain"]["models"]),
        curves=expand(f"{FAITH}/{{model}}/curves.parquet", model=config["explain"]["models"]),
        regions=expand(f"{FAITH}/{{model}}/regions.parquet", model=config["explain"]["models"]),
    output:
        table=f"{FAITH}/metrics.parquet",
        table_csv=f"{FAITH}/metrics.csv",
        agreement=f"{FAITH}/region_agreement.parquet",
        agreement_csv=f"{FAITH}/region_agreement.csv",
        summary=f"{FAITH}/summary.json",
    log:
        f"{R}/logs/faithfulness_summary.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        n_boot=config["faithfulness"]["n_boot"],
        seed=config["faithfulness"]["seed"],
    script:
        "../../scripts/faithfulness_summary.py"


rule faithfulness_figures:
    input:
        curves=expand(f"{FAITH}/{{model}}/curves.parquet", model=config["explain"]["models"]),
        table=f"{FAITH}/metrics.parquet",
        agreement=f"{FAITH}/region_agreement.parquet",
    output:
        report(
            f"{R}/figures/faithfulness/faithfulness.png",
            caption="../report/faithfulness.rst",
            category="8 Faithfulness",
        ),
    log:
        f"{R}/logs/faithfulness_figures.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/faithfulness_figures.py"


rule seed_head:
    input:
        features=f"{R}/models/core_features.zarr",
        trials=rules.triplets.output.trials,
    output:
        head=f"{R}/models/hum_seed{{seed}}/head.pt",
        metrics=f"{R}/models/hum_seed{{seed}}/metrics.json",
    log:
        f"{R}/logs/seed_head_{{seed}}.log",
    wildcard_constraints:
        seed=r"\d+",
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
        "../../scripts/seed_head.py"


rule cross_masking:
    input:
        unpack(masking_inputs),
    output:
        table=f"{FAITH}/masking.parquet",
        csv=f"{FAITH}/masking.csv",
    log:
        f"{R}/logs/cross_masking.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        mem_mb=8000,
        runtime=120,
    params:
        cfg=masking_settings(),
        explainer=lambda wc: config["explain"]["explainers"][explanation_explainer()],
        device=config["device"],
        synthetic=SYNTHETIC_FACES,
    script:
        "../../scripts/cross_masking.py"


rule masking_figure:
    input:
        f"{FAITH}/masking.parquet",
    output:
        report(f"{R}/figures/faithfulness/masking.png", caption="../report/masking.rst", category="8 Faithfulness"),
    log:
        f"{R}/logs/masking_figure.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        fraction=config["faithfulness"]["masking"]["figure_fraction"],
    script:
        "../../scripts/masking_figure.py"
