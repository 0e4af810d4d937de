"""Explorer stage: a static HTML app of trials, predictions, heatmap overlays and region shares.

rule → script → facesimxai.explorer.site.build_explorer. Overlays are rendered from the stores
only for the trials the explorer links (explorer.max_trials), never for every trial.
"""


rule explorer:
    input:
        **({"vlm": f"{R}/vlm/comparison.parquet"} if vlm_enabled() else {}),
        **(verification_explorer_inputs() if config["verification"]["enabled"] else {}),
        stores=heatmap_stores(),
        face_stores=heatmap_stores("_faces"),
        regions=region_tables("trials"),
        confidence=f"{R}/confidence/trials.parquet",
        explanations=f"{R}/explanations/trials.parquet",
        manifest=FACES.manifest,
        images=FACES.images,
    output:
        # Not in the report: a directory can only go into a zip report, and the explorer opens
        # from disk anyway (workflow/report/workflow.rst points to it).
        directory(f"{R}/explorer"),
    log:
        f"{R}/logs/explorer.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        pairs=[list(p) for p in model_explainer_pairs()],
        max_trials=config["explorer"]["max_trials"],
        chunk_rows=config["explorer"]["chunk_rows"],
    script:
        "../../scripts/explorer.py"
