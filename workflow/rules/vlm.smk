"""VLM stage: a seeded sample of held-out trials asked of a vision-language model (odd one out
with regions, in several presentation orders; reading each model's heatmap), every request and
answer recorded, then compared with humans and the triplet models.

rule → script → facesimxai.* (vlm.tiny.build_tiny_qwen2vl, vlm.run.run_vlm,
vlm.evaluate.evaluate_vlm, vlm.figures.vlm_figure). vlm.backend: none leaves the stage out.
"""


include: "functions/vlm.smk"


rule tiny_vlm:
    output:
        directory(f"{R}/vlm/tiny_model"),
    log:
        f"{R}/logs/tiny_vlm.log",
    conda:
        "../../envs/vlm.yaml"
    params:
        seed=config["vlm"]["seed"],
    script:
        "../../scripts/tiny_vlm.py"


rule vlm:
    input:
        unpack(vlm_inputs),
    output:
        answers=f"{R}/vlm/answers.parquet",
        csv=f"{R}/vlm/answers.csv",
    log:
        f"{R}/logs/vlm.log",
    conda:
        "../../envs/vlm.yaml"
    threads: config["vlm"]["resources"]["cpus"]
    resources:
        gpu=config["vlm"]["resources"]["gpus"],
        mem_mb=config["vlm"]["resources"]["mem_mb"],
        runtime=config["vlm"]["resources"]["runtime"],
    params:
        cfg=vlm_settings(),
        store_models=config["explain"]["models"] if config["vlm"]["heatmaps"] else [],
        parts=f"{R}/vlm/parts",
    script:
        "../../scripts/vlm.py"


rule vlm_evaluation:
    input:
        answers=f"{R}/vlm/answers.parquet",
        predictions=expand(f"{R}/models/{{model}}/predictions.parquet", model=THESIS_MODELS),
        regions=explanation_region_tables(),
    output:
        summary=f"{R}/vlm/summary.json",
        table=f"{R}/vlm/comparison.parquet",
        csv=f"{R}/vlm/comparison.csv",
    log:
        f"{R}/logs/vlm_evaluation.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        models=config["explain"]["models"],
        top_k=config["vlm"]["top_k"],
        n_permutations=config["vlm"]["n_permutations"],
        seed=config["vlm"]["seed"],
    script:
        "../../scripts/vlm_evaluation.py"


rule vlm_figures:
    input:
        f"{R}/vlm/summary.json",
    output:
        report(f"{R}/figures/vlm/evaluation.png", caption="../report/vlm.rst", category="7 VLM"),
    log:
        f"{R}/logs/vlm_figures.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/vlm_figures.py"
