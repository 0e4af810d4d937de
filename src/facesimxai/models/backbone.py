"""The backbone rule: load real VGG-Face weights, or pretrain the demo VGG on synthetic identities.

Either way the result is one checkpoint (``results/models/backbone.pt``) holding the state dict
and the architecture settings, so every later stage rebuilds the same network from it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from facesimxai.io import file_sha256, open_zarr, write_json
from facesimxai.models.vgg import VGGFACE_CLASSES, VGGFace, preprocess
from facesimxai.models.weights import load_backbone_weights
from facesimxai.resume import EpochState, fingerprint
from facesimxai.torch_utils import resolve_device, save_checkpoint, seed_everything

log = logging.getLogger(__name__)


def save_backbone(model: VGGFace, path: Path | str, preprocessing: str, source: str) -> None:
    payload = {"state_dict": model.state_dict(), "width": model.width,
               "input_size": model.input_size, "n_classes": model.n_classes,
               "preprocessing": preprocessing, "source": source}
    save_checkpoint(payload, path)


def load_backbone(path: Path | str) -> tuple[VGGFace, str]:
    """Rebuild the backbone from its checkpoint: (model in eval mode, preprocessing mode)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = VGGFace(ckpt["width"], ckpt["input_size"], ckpt["n_classes"])
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), ckpt["preprocessing"]


class BatchNormTrainer(nn.Module):
    """VGG-Face plus a BatchNorm after every convolution and after fc6/fc7, for pretraining only.

    A 13-convolution VGG without normalisation does not train from scratch here (the loss stays
    at ln(n_classes)); with batch norm it does. After training ``fold()`` merges each BatchNorm
    into the layer before it, so the saved backbone has VGG-Face's exact layout and computes the
    same function in eval mode (tested).
    """

    def __init__(self, vgg: VGGFace):
        super().__init__()
        self.vgg = vgg
        self.norms = nn.ModuleDict({name: nn.BatchNorm2d(m.out_channels)
                                    for name, m in vgg.features.items() if isinstance(m, nn.Conv2d)})
        self.fc_norms = nn.ModuleDict({name: nn.BatchNorm1d(vgg.fc[name].out_features)
                                       for name in ("fc6", "fc7")})

    def forward(self, x: torch.Tensor, with_features: bool = False):
        """Identity logits, and with ``with_features`` also the fc7-relu output (for the attribute loss)."""
        for name, m in self.vgg.features.items():
            x = m(x)
            if name in self.norms:
                x = self.norms[name](x)
        x = torch.flatten(x, 1)
        feats = None
        for name, m in self.vgg.fc.items():
            x = m(x)
            if name in self.fc_norms:
                x = self.fc_norms[name](x)
            if name == "fc7-relu":
                feats = x
        return (x, feats) if with_features else x

    @torch.no_grad()
    def fold(self) -> VGGFace:
        layers = {**self.vgg.features, **self.vgg.fc}
        for name, bn in {**self.norms, **self.fc_norms}.items():
            layer = layers[name]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            layer.weight.mul_(scale.view(-1, *([1] * (layer.weight.dim() - 1))))
            layer.bias.copy_((layer.bias - bn.running_mean) * scale + bn.bias)
        return self.vgg


def _split_renders(identity: np.ndarray, val_renders: int) -> tuple[np.ndarray, np.ndarray]:
    """Hold out the last ``val_renders`` renders of every identity for validation."""
    val = np.zeros(len(identity), bool)
    for i in np.unique(identity):
        idx = np.flatnonzero(identity == i)
        if len(idx) <= val_renders:
            raise ValueError(f"identity {i} has {len(idx)} renders; pretrain.renders_per_identity "
                             f"must exceed backbone.pretrain.val_renders ({val_renders})")
        val[idx[-val_renders:]] = True
    return np.flatnonzero(~val), np.flatnonzero(val)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device, batch: int = 256) -> float:
    model.eval()
    correct = 0
    for s in range(0, len(x), batch):
        correct += (model(x[s:s + batch].to(device)).argmax(1).cpu() == y[s:s + batch]).sum().item()
    return correct / max(1, len(x))


def attribute_parameter_weights(weights: dict[str, float], names: list[str]) -> torch.Tensor:
    """Relative weights of each parameter's squared error in the attribute loss (1 for parameters
    not named), scaled to mean 1 so that ``attribute_weight`` keeps setting the loss's total weight.

    With equal weights the demo backbone never encoded lip thickness (fc7 probe R² -0.16 on unseen
    faces) although the pixels carry it (0.57): its squared error stays a small share of the loss,
    and the auxiliary head can fit it on the training identities through the identity code."""
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"config key backbone.pretrain.attribute_parameter_weights: {', '.join(unknown)} "
                         f"not among the face parameters ({', '.join(names)})")
    w = torch.tensor([float(weights.get(n, 1.0)) for n in names], dtype=torch.float32)
    if not w.sum() > 0:
        raise ValueError("config key backbone.pretrain.attribute_parameter_weights: at least one weight must be > 0")
    return w / w.mean()


def pretrain_backbone(renders: Path | str, backbone_cfg: dict, device: str, threads: int,
                      out: Path | str, metrics_out: Path | str) -> dict:
    """Identity classification on the augmented synthetic renders (the demo's stand-in for VGG-Face)."""
    cfg = backbone_cfg["pretrain"]
    dev = resolve_device(device)
    seed_everything(cfg["seed"], threads)
    ds = open_zarr(renders)
    identity = ds["identity"].to_numpy()
    train_idx, val_idx = _split_renders(identity, cfg["val_renders"])
    x = preprocess(ds["image"].to_numpy(), backbone_cfg["input_size"], backbone_cfg["preprocessing"])
    y = torch.from_numpy(identity.astype(np.int64))
    n_classes = int(identity.max()) + 1
    model = BatchNormTrainer(VGGFace(backbone_cfg["width"], backbone_cfg["input_size"], n_classes)).to(dev)
    # Auxiliary attribute regression (fc7 → the render's face parameters), discarded after training:
    # identity classification alone lets the network identify synthetic people by skin tone and hair
    # colour and drop the facial parts (probe: eyes, mouth R² <= 0), which no head can then recover.
    attr_w = cfg["attribute_weight"]
    attrs = torch.from_numpy(ds["render_parameters"].to_numpy().astype(np.float32)) if attr_w > 0 else None
    per_param = attribute_parameter_weights(cfg.get("attribute_parameter_weights") or {},
                                            [str(p) for p in ds["parameter"].to_numpy()]).to(dev)
    aux = nn.Linear(model.vgg.fc["fc7"].out_features, attrs.shape[1]).to(dev) if attr_w > 0 else nn.Identity()
    opt = torch.optim.Adam([*model.parameters(), *aux.parameters()], lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(cfg["seed"])
    history, best, best_state, first = [], -1.0, None, 1
    resume = EpochState(out, fingerprint({**backbone_cfg, "device": str(dev)}, x, y))
    if (state := resume.load()) is not None:
        model.load_state_dict(state["model"])
        aux.load_state_dict(state["aux"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        history, best, best_state, first = state["history"], state["best"], state["best_state"], state["epoch"] + 1
    t0 = time.perf_counter()
    for epoch in range(first, cfg["epochs"] + 1):
        model.train()
        order = torch.from_numpy(train_idx)[torch.randperm(len(train_idx), generator=gen)]
        total, correct = 0.0, 0
        for s in tqdm(range(0, len(order), cfg["batch_size"]), desc=f"pretrain epoch {epoch}",
                      leave=False):
            b = order[s:s + cfg["batch_size"]]
            yb = y[b].to(dev)
            logits, feats = model(x[b].to(dev), with_features=True)
            loss = loss_fn(logits, yb)
            if attr_w > 0:
                loss = loss + attr_w * (per_param * (aux(feats) - attrs[b].to(dev)) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
            correct += int((logits.argmax(1) == yb).sum())
        # Running accuracy over the epoch's training batches (train mode, weights still moving): a
        # second full pass over the training renders in eval mode cost 10.8 s per demo epoch against
        # 12.9 s for the training pass itself, and nothing is selected by it (validation decides).
        tr_acc = correct / len(train_idx)
        va_acc = accuracy(model, x[val_idx], y[val_idx], dev)
        history.append({"epoch": epoch, "loss": total / len(train_idx), "train_accuracy": tr_acc,
                        "val_accuracy": va_acc})
        log.info("epoch %d: loss %.3f, train acc %.3f, val acc %.3f", epoch, total / len(train_idx),
                 tr_acc, va_acc)
        if va_acc > best:
            best = va_acc
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        resume.save(epoch, model=model.state_dict(), aux=aux.state_dict(), optimizer=opt.state_dict(),
                    generator=gen.get_state(),
                    history=history, best=best, best_state=best_state)
    model.load_state_dict(best_state)
    model = model.cpu().eval().fold()
    save_backbone(model, out, backbone_cfg["preprocessing"], "pretrain")
    resume.clear()
    metrics = {"source": "pretrain", "n_identities": n_classes, "n_train_renders": len(train_idx),
               "n_val_renders": len(val_idx), "chance": 1 / n_classes, "best_val_accuracy": best,
               "epochs": cfg["epochs"], "resumed_after_epoch": first - 1, "seed": cfg["seed"], "device": str(dev),
               "seconds": time.perf_counter() - t0, "history": history}
    write_json(metrics, metrics_out)
    log.info("pretrained backbone: best val accuracy %.3f over %d identities (chance %.4f)",
             best, n_classes, 1 / n_classes)
    return metrics


def load_real_backbone(backbone_cfg: dict, out: Path | str, metrics_out: Path | str) -> dict:
    """Read VGG-Face weights (``.pth`` in FaceSim3D's layout or Oxford's ``.t7``) into a checkpoint."""
    weights = backbone_cfg["weights"]
    if not weights:
        raise ValueError("backbone.source is 'load' but backbone.weights is not set")
    n_classes = backbone_cfg["n_classes"] or VGGFACE_CLASSES
    model = VGGFace(backbone_cfg["width"], backbone_cfg["input_size"], n_classes)
    load_backbone_weights(model, weights)
    save_backbone(model, out, backbone_cfg["preprocessing"], "load")
    metrics = {"source": "load", "weights": str(weights), "sha256": file_sha256(weights),
               "n_classes": n_classes}
    write_json(metrics, metrics_out)
    log.info("loaded VGG-Face weights from %s", weights)
    return metrics


def build_backbone(renders: Path | str | None, backbone_cfg: dict, device: str, threads: int,
                   out: Path | str, metrics_out: Path | str) -> dict:
    """The backbone rule: ``load`` real weights or ``pretrain`` on the synthetic renders."""
    if backbone_cfg["source"] == "load":
        return load_real_backbone(backbone_cfg, out, metrics_out)
    return pretrain_backbone(renders, backbone_cfg, device, threads, out, metrics_out)
