"""Explain stage: LRP maps of every trial, scattered over disjoint trial ranges and gathered
into one store per model and explainer (rule → script → facesimxai.explain.*)."""


include: "functions/explain.smk"


rule explain_part:
    input:
        backbone=rules.backbone.output.checkpoint,
        head=f"{R}/models/{{model}}/head.pt",
        manifest=FACES.manifest,
        trials=rules.triplets.output.trials,
        maxp_targets=f"{R}/models/maxp_targets.parquet",
        masks=lambda wc: region_masks_if_needed(config["explain"]["explainers"][wc.explainer]),
    output:
        part=directory(f"{R}/heatmaps/{{model}}/{{explainer}}/parts/{{scatteritem}}.zarr"),
        marker=f"{R}/heatmaps/{{model}}/{{explainer}}/parts/{{scatteritem}}.json",
    log:
        f"{R}/logs/explain_part_{{model}}_{{explainer}}_{{scatteritem}}.log",
    wildcard_constraints:
        model=model_wildcard(),
    conda:
        "../../envs/torch.yaml"
    threads: config["explain"]["threads"]
    resources:
        gpu=gpus(),
        mem_mb=8000,
        runtime=120,
    params:
        explainer=lambda wc: config["explain"]["explainers"][wc.explainer],
        explain=explain_settings(),
        maxp_rule=config["models"]["maxp_rule"],
        device=config["device"],
        synthetic=SYNTHETIC_FACES,
    script:
        "../../scripts/explain_part.py"


rule gather_heatmaps:
    input:
        parts=gather.explain(f"{R}/heatmaps/{{{{model}}}}/{{{{explainer}}}}/parts/{{scatteritem}}.zarr"),
        markers=gather.explain(f"{R}/heatmaps/{{{{model}}}}/{{{{explainer}}}}/parts/{{scatteritem}}.json"),
        backbone=rules.backbone.output.checkpoint,
        head=f"{R}/models/{{model}}/head.pt",
        manifest=FACES.manifest,
    output:
        store=directory(f"{R}/heatmaps/{{model}}/{{explainer}}.zarr"),
        faces=directory(f"{R}/heatmaps/{{model}}/{{explainer}}_faces.zarr"),
    log:
        f"{R}/logs/gather_heatmaps_{{model}}_{{explainer}}.log",
    wildcard_constraints:
        model=model_wildcard(),
    conda:
        "../../envs/torch.yaml"
    params:
        explainer=lambda wc: config["explain"]["explainers"][wc.explainer],
        explain=explain_settings(),
        config_hash=lambda wc: explainer_hash(wc.model, wc.explainer),
    script:
        "../../scripts/gather_heatmaps.py"


rule heatmap_figures:
    input:
        faces=f"{R}/heatmaps/{{model}}/{{explainer}}_faces.zarr",
        manifest=FACES.manifest,
    output:
        report(
            f"{R}/figures/heatmaps/{{model}}_{{explainer}}_faces.png",
            caption="../report/heatmaps.rst",
            category="4 Heatmaps",
            subcategory="{model}",
        ),
    log:
        f"{R}/logs/heatmap_figures_{{model}}_{{explainer}}.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/heatmap_figures.py"
