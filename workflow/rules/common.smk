"""Shared helpers: input and target lists that depend on the configuration."""


def gpus():
    """GPUs a torch job asks the scheduler for: one when the config names a CUDA device.

    `auto` asks for none (it uses a GPU only when the node happens to have one), so the same
    workflow runs unchanged on CPU-only clusters; set `device: cuda` to get GPU nodes.
    """
    return 1 if str(config["device"]).startswith("cuda") else 0


def judgment_files():
    """The trial CSVs the importer reads: simulated, or the configured FaceSim3D files."""
    if SIMULATED:
        return [f"{R}/judgments/simulated/trials.csv"]
    from facesimxai.data.judgments import expand_files

    try:
        return [str(p) for p in expand_files(config["judgments"]["files"])]
    except ValueError as exc:
        raise WorkflowError(str(exc)) from None


def data_targets():
    targets = [
        f"{R}/faces/manifest.parquet",
        f"{R}/judgments/trials.parquet",
        f"{R}/judgments/triplets.parquet",
        f"{R}/figures/data/faces.png",
        f"{R}/figures/data/judgments.png",
    ]
    if SYNTHETIC_FACES:
        targets += [
            f"{R}/figures/data/parameter_effects.png",
            f"{R}/figures/data/pretrain_examples.png",
        ]
    if SIMULATED:
        targets.append(f"{R}/figures/data/observer_recovery.png")
    return targets


def landmark_targets():
    """Outputs of the landmarks and region-mask stage (workflow/rules/landmarks.smk)."""
    return [
        f"{R}/landmarks/landmarks.zarr",
        f"{R}/regions/masks.zarr",
        f"{R}/figures/regions/landmarks.png",
        f"{R}/figures/regions/regions.png",
    ]


def regions_file():
    """Region definitions: config regions.file, or the shipped resources/regions.yaml."""
    return config["regions"]["file"] or str(ROOT / "resources" / "regions.yaml")


def model_targets():
    """Outputs of the backbone and triplet-model stage (workflow/rules/models.smk)."""
    return [
        f"{R}/models/backbone.pt",
        *expand(f"{R}/models/{{model}}/head.pt", model=config["models"]["trained"]),
        f"{R}/figures/models/training.png",
        f"{R}/models/probe.json",
        f"{R}/models/generalisation.json",
        f"{R}/figures/models/validity.png",
        *([f"{R}/regions/interventional.json"] if SIMULATED else []),
    ]


def region_masks_if_needed(explainer):
    """The region masks for explainers that remove regions (region Shapley), else nothing."""
    return [f"{R}/regions/masks.zarr"] if explainer["method"] == "region_shapley" else []


def explain_settings():
    """Store settings shared by all explainers (the explainers themselves are per wildcard)."""
    return {k: v for k, v in config["explain"].items() if k not in ("explainers", "threads")}


def explainer_hash(model, explainer):
    """Hash of everything that determines one heatmap store's content besides its inputs."""
    import hashlib
    import json

    relevant = {"model": model, "explainer": config["explain"]["explainers"][explainer],
                "explain": explain_settings(), "maxp_rule": config["models"]["maxp_rule"]}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def explain_targets():
    """Outputs of the explain stage (workflow/rules/explain.smk)."""
    return [
        *expand(
            f"{R}/heatmaps/{{model}}/{{explainer}}.zarr",
            model=config["explain"]["models"],
            explainer=list(config["explain"]["explainers"]),
        ),
        *expand(
            f"{R}/figures/heatmaps/{{model}}_{{explainer}}_faces.png",
            model=config["explain"]["models"],
            explainer=list(config["explain"]["explainers"]),
        ),
    ]


def model_explainer_pairs():
    """Every (model, explainer) pair the explain stage produces, in a fixed order."""
    return [(m, e) for m in config["explain"]["models"] for e in config["explain"]["explainers"]]


def region_tables(kind):
    """Region-relevance tables ('trials' or 'faces') of every model × explainer."""
    return [f"{R}/regions/{m}/{e}_{kind}.parquet" for m, e in model_explainer_pairs()]


def heatmap_stores(suffix=""):
    """Heatmap stores of every model × explainer ('_faces' for the per-face mean maps)."""
    return [f"{R}/heatmaps/{m}/{e}{suffix}.zarr" for m, e in model_explainer_pairs()]


def heatmap_labels():
    return [f"{m}/{e}" for m, e in model_explainer_pairs()]


def explanation_explainer():
    """The explainer whose region shares the explanation table uses (explanations.explainer)."""
    chosen = config["explanations"]["explainer"] or next(iter(config["explain"]["explainers"]))
    if chosen not in config["explain"]["explainers"]:
        raise WorkflowError(f"config key explanations.explainer: {chosen!r} is not one of explain.explainers "
                            f"({', '.join(config['explain']['explainers'])})")
    return chosen


def explanation_region_tables():
    return [f"{R}/regions/{m}/{explanation_explainer()}_trials.parquet" for m in config["explain"]["models"]]


def explanation_targets():
    """Outputs of the confidence and explanation stage (workflow/rules/explanations.smk)."""
    return [f"{R}/confidence/summary.json", f"{R}/figures/confidence/reliability.png",
            f"{R}/explanations/trials.parquet"]


def region_targets():
    """Outputs of the region stage (workflow/rules/regions.smk)."""
    targets = [
        *region_tables("trials"),
        *region_tables("faces"),
        f"{R}/regions/stats_models.parquet",
        f"{R}/figures/regions/region_scores.png",
        f"{R}/figures/regions/mean_maps.png",
    ]
    if SYNTHETIC_FACES and SIMULATED:
        targets += [f"{R}/regions/ground_truth.json", f"{R}/figures/regions/ground_truth.png"]
    if SIMULATED:
        targets += [f"{R}/regions/explainer_validity.csv", f"{R}/figures/regions/explainer_validity.png"]
    return targets


def latent_targets():
    """Outputs of the latent stage (workflow/rules/latent.smk)."""
    out = []
    for m, e in model_explainer_pairs():
        out += [f"{R}/latent/{m}/{e}/embedding.parquet"]
        out += [f"{R}/figures/latent/{m}_{e}_{kind}.png" for kind in ("pca", "embedding", "clusters")]
    return out


def vlm_enabled():
    return config["vlm"]["backend"] != "none"


def vlm_model_path():
    """Model folder or id for the vlm job; the built tiny model for the builtin name."""
    return f"{R}/vlm/tiny_model" if config["vlm"]["model"] == "builtin:tiny-random-qwen2-vl" else config["vlm"]["model"]


def vlm_settings():
    """vlm config as the backends read it; a builtin model name becomes its built folder."""
    cfg = {k: v for k, v in config["vlm"].items() if k not in ("resources", "top_k", "n_permutations")}
    cfg["model"] = vlm_model_path()
    return cfg


def vlm_inputs(wildcards):
    """Trials, faces, the explanation explainer's stores (heatmap reading) and the built tiny model."""
    inputs = {"trials": f"{R}/judgments/trials.parquet", "manifest": f"{R}/faces/manifest.parquet",
              "images": f"{R}/faces/images"}
    if config["vlm"]["heatmaps"]:
        inputs["stores"] = [f"{R}/heatmaps/{m}/{explanation_explainer()}.zarr" for m in config["explain"]["models"]]
    if config["vlm"]["model"] == "builtin:tiny-random-qwen2-vl":
        inputs["model"] = f"{R}/vlm/tiny_model"
    return inputs


def vlm_targets():
    """Outputs of the VLM stage (workflow/rules/vlm.smk); none when vlm.backend is none."""
    if not vlm_enabled():
        return []
    return [f"{R}/vlm/summary.json", f"{R}/figures/vlm/evaluation.png"]


def faithfulness_settings():
    """faithfulness config as run_faithfulness reads it (the masking block is its own job's)."""
    return {k: v for k, v in config["faithfulness"].items() if k not in ("masking", "enabled", "n_boot")}


def masking_settings():
    """Settings of the cross-model masking job: the sample's and the masking block's."""
    sample = {k: config["faithfulness"][k] for k in ("splits", "n_trials", "seed", "baseline")}
    masking = config["faithfulness"]["masking"]
    return {**sample, "fractions": masking["fractions"]}


def masking_inputs(wildcards):
    """The backbone, both heads and the extra VGG-Hum seeds (faithfulness.masking.head_seeds)."""
    seeds = config["faithfulness"]["masking"]["head_seeds"]
    return {"backbone": f"{R}/models/backbone.pt", "manifest": f"{R}/faces/manifest.parquet",
            "images": f"{R}/faces/images", "trials": f"{R}/judgments/trials.parquet",
            "masks": region_masks_if_needed(config["explain"]["explainers"][explanation_explainer()]),
            "heads": [f"{R}/models/{m}/head.pt" for m in ("hum", "maxp")]
            + [f"{R}/models/hum_seed{s}/head.pt" for s in seeds]}


def faithfulness_targets():
    """Outputs of the faithfulness stage (workflow/rules/faithfulness.smk)."""
    cfg = config["faithfulness"]
    targets = [f"{R}/faithfulness/summary.json", f"{R}/figures/faithfulness/faithfulness.png"] \
        if cfg["enabled"] else []
    if cfg["masking"]["enabled"]:
        targets += [f"{R}/faithfulness/masking.parquet", f"{R}/figures/faithfulness/masking.png"]
    return targets
