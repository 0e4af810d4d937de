"""Region stage: relevance per facial region for every heatmap, paired comparisons of models and
explainers per region, and recovery of the known region weights on synthetic data.

rule → script → facesimxai.regions.* (relevance.compute_region_relevance, stats.run_region_stats,
figures.plot_region_stage, ground_truth.ground_truth_recovery).
"""


include: "functions/regions.smk"


rule region_relevance:
    input:
        store=f"{R}/heatmaps/{{model}}/{{explainer}}.zarr",
        faces=f"{R}/heatmaps/{{model}}/{{explainer}}_faces.zarr",
        masks=f"{R}/regions/masks.zarr",
    output:
        trials=f"{R}/regions/{{model}}/{{explainer}}_trials.parquet",
        trials_csv=f"{R}/regions/{{model}}/{{explainer}}_trials.csv",
        faces=f"{R}/regions/{{model}}/{{explainer}}_faces.parquet",
        faces_csv=f"{R}/regions/{{model}}/{{explainer}}_faces.csv",
    log:
        f"{R}/logs/region_relevance_{{model}}_{{explainer}}.log",
    conda:
        "../../envs/analysis.yaml"
    resources:
        mem_mb=4000,
    script:
        "../../scripts/region_relevance.py"


rule region_stats:
    input:
        faces=region_tables("faces"),
        trials=region_tables("trials"),
    output:
        models=f"{R}/regions/stats_models.parquet",
        models_csv=f"{R}/regions/stats_models.csv",
        explainers=f"{R}/regions/stats_explainers.parquet",
        explainers_csv=f"{R}/regions/stats_explainers.csv",
    log:
        f"{R}/logs/region_stats.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        stats=config["regions"]["stats"],
    script:
        "../../scripts/region_stats.py"


rule region_stats_figures:
    input:
        faces=region_tables("faces"),
        models=f"{R}/regions/stats_models.parquet",
        face_stores=heatmap_stores("_faces"),
        manifest=FACES.manifest,
        masks=f"{R}/regions/masks.zarr",
    output:
        bars=report(
            f"{R}/figures/regions/region_scores.png",
            caption="../report/region_scores.rst",
            category="5 Regions",
        ),
        maps=report(
            f"{R}/figures/regions/mean_maps.png",
            caption="../report/mean_maps.rst",
            category="5 Regions",
        ),
    log:
        f"{R}/logs/region_stats_figures.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        labels=heatmap_labels(),
        metric=config["regions"]["stats"]["metric"],
        seed=config["regions"]["stats"]["seed"],
    script:
        "../../scripts/region_stats_figures.py"


rule ground_truth:
    input:
        tables=region_tables("trials"),
        observers=f"{R}/judgments/simulated/observers.json",
        manifest=FACES.manifest,
        trials=rules.triplets.output.trials,
        maxp_targets=f"{R}/models/maxp_targets.parquet",
        probe=f"{R}/models/probe.json",
        generalisation=f"{R}/models/generalisation.json",
        interventional=f"{R}/regions/interventional.json",
        validity=f"{R}/regions/explainer_validity.csv",
    output:
        json=f"{R}/regions/ground_truth.json",
        figure=report(
            f"{R}/figures/regions/ground_truth.png",
            caption="../report/ground_truth.rst",
            category="5 Regions",
        ),
    log:
        f"{R}/logs/ground_truth.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        cfg=config["regions"]["ground_truth"],
        maxp_rule=config["models"]["maxp_rule"],
        explainers=config["explain"]["explainers"],
    script:
        "../../scripts/ground_truth.py"


# Interventional truth over the parameter groups (needs the simulated observers' weights).
if SIMULATED:

    rule interventional:
        input:
            backbone=rules.backbone.output.checkpoint,
            heads=expand(f"{R}/models/{{model}}/head.pt", model=config["models"]["trained"]),
            unseen=f"{R}/unseen/faces.zarr",
        output:
            summary=f"{R}/regions/interventional.json",
            table=f"{R}/regions/interventional.parquet",
        log:
            f"{R}/logs/interventional.log",
        conda:
            "../../envs/torch.yaml"
        threads: config["threads"]
        resources:
            gpu=gpus(),
            mem_mb=8000,
        params:
            interventional=config["interventional"],
            observers=config["judgments"]["simulated"],
            models=settings("models", HEAD_EVALUATION_KEYS),
            image_size=config["interventional"]["render_size"] or config["image_size"],
            device=config["device"],
        script:
            "../../scripts/interventional.py"

    rule explainer_validity:
        input:
            backbone=rules.backbone.output.checkpoint,
            heads=expand(f"{R}/models/{{model}}/head.pt", model=config["models"]["trained"]),
            unseen=f"{R}/unseen/faces.zarr",
            unseen_landmarks=rules.unseen_landmarks.output[0],
            interventional=rules.interventional.output.table,
            regions=regions_file(),
        output:
            validity=f"{R}/regions/explainer_validity.csv",
            sanity=f"{R}/faithfulness/sanity.csv",
            regions=f"{R}/regions/explainer_validity_regions.parquet",
            summary=f"{R}/regions/explainer_validity.json",
        log:
            f"{R}/logs/explainer_validity.log",
        conda:
            "../../envs/torch.yaml"
        threads: config["threads"]
        resources:
            gpu=gpus(),
            mem_mb=8000,
        params:
            validity=config["validity"],
            interventional=config["interventional"],
            observers=config["judgments"]["simulated"],
            regions=settings("regions", ("margin", "priority")),
            device=config["device"],
        script:
            "../../scripts/explainer_validity.py"

    rule explainer_validity_figure:
        input:
            validity=rules.explainer_validity.output.validity,
            sanity=rules.explainer_validity.output.sanity,
        output:
            report(
                f"{R}/figures/regions/explainer_validity.png",
                caption="../report/explainer_validity.rst",
                category="5 Regions",
            ),
        log:
            f"{R}/logs/explainer_validity_figure.log",
        conda:
            "../../envs/analysis.yaml"
        script:
            "../../scripts/explainer_validity_figure.py"
