"""Targets and settings of the vlm stage (its rules: workflow/rules/vlm.smk)."""


def vlm_model_path():
    """Model folder or id for the vlm job; the built tiny model for the builtin name."""
    return f"{R}/vlm/tiny_model" if config["vlm"]["model"] == "builtin:tiny-random-qwen2-vl" else config["vlm"]["model"]


def vlm_settings():
    """vlm config as the backends read it; a builtin model name becomes its built folder."""
    keys = (
        "backend",
        "model",
        "revision",
        "device",
        "batch_size",
        "max_tokens",
        "temperature",
        "structured",
        "image_size",
        "heatmaps",
        "orders",
        "n_trials",
        "splits",
        "seed",
        "openai",
        "vllm",
    )
    cfg = {k: config["vlm"][k] for k in sorted(keys)}
    cfg["model"] = vlm_model_path()
    return cfg


def vlm_inputs(wildcards):
    """Trials, faces, the explanation explainer's stores (heatmap reading) and the built tiny model."""
    inputs = {
        "trials": f"{R}/judgments/trials.parquet",
        "manifest": f"{R}/faces/manifest.parquet",
        "images": f"{R}/faces/images",
    }
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
