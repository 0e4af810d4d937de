"""Confidence and explanation stage: every trial's decision per model, C-Score-style calibrated
confidence, and a per-trial explanation table with a plain-language sentence.

rule → script → facesimxai.* (models.predict.trial_predictions, confidence.run.run_confidence,
explanations.table.build_explanations).
"""


include: "functions/explanations.smk"


rule predictions:
    input:
        features=f"{R}/models/core_features.zarr",
        trials=rules.triplets.output.trials,
        head=f"{R}/models/{{model}}/head.pt",
    output:
        f"{R}/models/{{model}}/predictions.parquet",
    log:
        f"{R}/logs/predictions_{{model}}.log",
    wildcard_constraints:
        model="|".join(THESIS_MODELS),
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/predictions.py"


rule confidence:
    input:
        expand(f"{R}/models/{{model}}/predictions.parquet", model=THESIS_MODELS),
    output:
        table=f"{R}/confidence/trials.parquet",
        csv=f"{R}/confidence/trials.csv",
        summary=f"{R}/confidence/summary.json",
        figure=report(
            f"{R}/figures/confidence/reliability.png",
            caption="../report/reliability.rst",
            category="3 Models",
        ),
    log:
        f"{R}/logs/confidence.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        cfg=config["confidence"],
    script:
        "../../scripts/confidence.py"


rule explanations:
    input:
        confidence=f"{R}/confidence/trials.parquet",
        regions=explanation_region_tables(),
    output:
        table=f"{R}/explanations/trials.parquet",
        csv=f"{R}/explanations/trials.csv",
    log:
        f"{R}/logs/explanations.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        models=config["explain"]["models"],
        explainer=explanation_explainer(),
        top_k=config["explanations"]["top_k"],
    script:
        "../../scripts/explanations.py"
