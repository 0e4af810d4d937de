"""Helpers several stages share (each stage's own targets and settings live in its .smk file)."""


def settings(block, keys):
    """The listed keys of one config block: what a rule's params name is what re-runs it.

    Passing a whole block would make every key in it (a model added to `models.trained`, a new
    option) a re-run trigger for rules that never read it.
    """
    return {k: config[block][k] for k in sorted(keys)}


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


def regions_file():
    """Region definitions: config regions.file, or the shipped resources/regions.yaml."""
    return config["regions"]["file"] or str(ROOT / "resources" / "regions.yaml")


def region_masks_if_needed(explainer):
    """The region masks for explainers that remove regions (region Shapley), else nothing."""
    return [f"{R}/regions/masks.zarr"] if explainer["method"] == "region_shapley" else []


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
        raise WorkflowError(
            f"config key explanations.explainer: {chosen!r} is not one of explain.explainers "
            f"({', '.join(config['explain']['explainers'])})"
        )
    return chosen


def explanation_region_tables():
    return [f"{R}/regions/{m}/{explanation_explainer()}_trials.parquet" for m in config["explain"]["models"]]


def vlm_enabled():
    return config["vlm"]["backend"] != "none"
