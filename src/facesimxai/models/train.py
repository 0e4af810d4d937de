"""Training triplet heads on cached core features (FaceSim3D's FrozenCore), and assembling the
full pixel model (core + trained head) that the explainers use.

VGG-Hum learns the recorded odd-one-out choices (human or simulated); VGG-MaxP learns the odd
face by backbone ``maxp_5_3`` similarity. Both use the same trials and splits, so their test
accuracies are directly comparable.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from facesimxai.io import open_zarr, write_json
from facesimxai.models.backbone import load_backbone
from facesimxai.models.triplet import HEAD_TYPES, TripletModel
from facesimxai.resume import EpochState, fingerprint
from facesimxai.torch_utils import resolve_device, save_checkpoint, seed_everything

log = logging.getLogger(__name__)

#: Triplet models: what each is trained on and its head architecture. ``hum_distance`` is the
#: additional human-trained model with a learned-distance decision (``triplet.DistanceHead``).
MODEL_SPECS: dict[str, dict[str, str]] = {
    "hum": {"target": "choice", "head": "decision_block"},
    "maxp": {"target": "maxp", "head": "decision_block"},
    "hum_distance": {"target": "choice", "head": "distance"},
}
MODELS = tuple(MODEL_SPECS)


def targets_for(model_name: str, trials: pd.DataFrame, maxp_targets: pd.DataFrame | None,
                maxp_rule: str) -> np.ndarray:
    """Odd position the head is trained on: the recorded choice (hum, hum_distance) or the MaxP rule (maxp)."""
    if model_name not in MODEL_SPECS:
        raise ValueError(f"unknown model {model_name!r}; models are {', '.join(MODELS)}")
    if MODEL_SPECS[model_name]["target"] == "choice":
        return trials["odd_pos"].to_numpy(np.int64)
    if MODEL_SPECS[model_name]["target"] == "maxp":
        merged = trials[["trial_id"]].merge(maxp_targets, on="trial_id", how="left", validate="1:1")
        return merged[f"maxp_{maxp_rule}_pos"].to_numpy(np.int64)
    raise ValueError(f"unknown model {model_name!r}; models are {', '.join(MODELS)}")


def face_features(features: Path | str) -> tuple[np.ndarray, str]:
    """Core features indexed by face_id − 1, and the layer they were taken at."""
    ds = open_zarr(features)
    order = np.argsort(ds["face_id"].to_numpy())
    return ds["core"].to_numpy()[order], ds.attrs["last_core_layer"]


@torch.no_grad()
def predict(head: nn.Module, x: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    head.eval()
    return torch.cat([head(x[s:s + batch]) for s in range(0, len(x), batch)])


def train_head(features: Path | str, trials: Path | str, maxp_targets: Path | str | None,
               model_name: str, models_cfg: dict, device: str, threads: int,
               out: Path | str, metrics_out: Path | str) -> dict:
    """Train one triplet head; keep the epoch with the best validation accuracy."""
    cfg = models_cfg["train"]
    dev = resolve_device(device)
    seed_everything(cfg["seed"], threads)
    feats, layer = face_features(features)
    tr = pd.read_parquet(trials)
    tr = tr[tr["split"].isin(["train", "val", "test"])].reset_index(drop=True)
    mt = pd.read_parquet(maxp_targets) if maxp_targets else None
    y_all = torch.from_numpy(targets_for(model_name, tr, mt, models_cfg["maxp_rule"]))
    x_all = torch.from_numpy(feats[tr[["head1", "head2", "head3"]].to_numpy() - 1]).float()
    split = tr["split"].to_numpy()
    idx = {s: torch.from_numpy(np.flatnonzero(split == s)) for s in ("train", "val", "test")}
    if len(idx["train"]) == 0 or len(idx["val"]) == 0:
        raise ValueError("training a head needs train and val trials; check config key splits")
    head_type = MODEL_SPECS[model_name]["head"]
    dropout = models_cfg["distance_dropout"] if head_type == "distance" else models_cfg["dropout"]
    head = HEAD_TYPES[head_type](feats.shape[1], models_cfg["bridge_width"], dropout).to(dev)
    opt = torch.optim.Adam(head.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(cfg["seed"])
    perms = torch.tensor([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])
    history, best, best_epoch, best_state, first = [], -1.0, 0, None, 1
    resume = EpochState(out, fingerprint({**models_cfg, "model": model_name, "device": str(dev)}, x_all, y_all,
                                         tr["split"].to_numpy().astype(str)))
    if (state := resume.load()) is not None:
        head.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        history, best, best_epoch = state["history"], state["best"], state["best_epoch"]
        best_state, first = state["best_state"], state["epoch"] + 1
    t0 = time.perf_counter()

    def acc(s: str) -> float:
        if len(idx[s]) == 0:
            return float("nan")
        pred = predict(head, x_all[idx[s]].to(dev)).argmax(1).cpu()
        return (pred == y_all[idx[s]]).float().mean().item()

    for epoch in range(first, cfg["epochs"] + 1):
        head.train()
        order = idx["train"][torch.randperm(len(idx["train"]), generator=gen)]
        total = 0.0
        for s in range(0, len(order), cfg["batch_size"]):
            b = order[s:s + cfg["batch_size"]]
            xb, yb = x_all[b], y_all[b]
            if cfg["permute_positions"]:
                # The odd face is the same whatever the display order: show each triplet in a
                # random order (label follows its face) so the head cannot learn position biases.
                p = perms[torch.randint(0, 6, (len(b),), generator=gen)]
                xb = torch.gather(xb, 1, p[..., None].expand_as(xb))
                yb = (p == yb[:, None]).float().argmax(1)
            loss = loss_fn(head(xb.to(dev)), yb.to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        row = {"epoch": epoch, "loss": total / len(order), "train_accuracy": acc("train"),
               "val_accuracy": acc("val")}
        history.append(row)
        if row["val_accuracy"] > best:
            best, best_epoch = row["val_accuracy"], epoch
            best_state = {k: v.detach().cpu().clone() for k, v in head.state_dict().items()}
        resume.save(epoch, model=head.state_dict(), optimizer=opt.state_dict(), generator=gen.get_state(),
                    history=history, best=best, best_epoch=best_epoch, best_state=best_state)
    head.load_state_dict(best_state)
    head = head.cpu()
    dev = torch.device("cpu")
    save_head(head, out, model_name, layer, dropout, head_type)
    resume.clear()
    pred_test = predict(head, x_all[idx["test"]]).argmax(1) if len(idx["test"]) else torch.empty(0)
    human = torch.from_numpy(tr["odd_pos"].to_numpy(np.int64))[idx["test"]]
    metrics = {
        "model": model_name,
        "target": ("recorded choice" if MODEL_SPECS[model_name]["target"] == "choice"
                   else f"maxp_5_3 {models_cfg['maxp_rule']}"),
        "head": head_type,
        "train_accuracy": acc("train"), "val_accuracy": acc("val"), "test_accuracy": acc("test"),
        "test_accuracy_vs_recorded_choice": (pred_test == human).float().mean().item()
        if len(human) else float("nan"),
        "chance": 1 / 3, "n": {s: len(v) for s, v in idx.items()},
        "best_epoch": best_epoch, "epochs": cfg["epochs"], "resumed_after_epoch": first - 1,
        "seconds": time.perf_counter() - t0,
        "seed": cfg["seed"], "last_core_layer": layer, "bridge_width": models_cfg["bridge_width"],
        "history": history,
    }
    val_logits = predict(head, x_all[idx["val"]])
    classes = val_logits.argmax(1).unique()
    metrics["val_predicted_classes"] = len(classes)
    if float(val_logits.std(0).max()) == 0.0:
        log.warning("%s head: its logits do not depend on the faces (a dead decision block); every "
                    "explanation of it would be zero", model_name)
    elif len(classes) == 1:
        log.warning("%s head predicts position %d for every validation trial: it has not learned to "
                    "tell the faces apart (too few epochs or trials?)", model_name, int(classes[0]))
    write_json(metrics, metrics_out)
    log.info("%s head: train %.3f, val %.3f, test %.3f (chance 0.333), best epoch %d",
             model_name, metrics["train_accuracy"], metrics["val_accuracy"],
             metrics["test_accuracy"], best_epoch)
    return metrics


def save_head(head: nn.Module, path: Path | str, model_name: str, layer: str, dropout: float,
              head_type: str = "decision_block") -> None:
    payload = {"state_dict": head.state_dict(), "in_features": head.in_features, "width": head.width,
               "dropout": dropout, "last_core_layer": layer, "model": model_name,
               "head_type": head_type}
    save_checkpoint(payload, path)


def load_head(path: Path | str) -> tuple[nn.Module, dict]:
    """A trained head in eval mode and its checkpoint (heads saved before ``head_type`` existed
    are decision blocks)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    head = HEAD_TYPES[ckpt.get("head_type", "decision_block")](ckpt["in_features"], ckpt["width"], ckpt["dropout"])
    head.load_state_dict(ckpt["state_dict"])
    return head.eval(), ckpt


def load_triplet_model(backbone: Path | str, head: Path | str) -> tuple[TripletModel, str]:
    """The full pixel model (core cut at the head's layer + head), in eval mode, and its preprocessing."""
    vgg, mode = load_backbone(backbone)
    head_model, ckpt = load_head(head)
    return TripletModel(vgg.core(ckpt["last_core_layer"]), head_model).eval(), mode
