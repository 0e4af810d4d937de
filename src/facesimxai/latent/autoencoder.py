"""A convolutional autoencoder on raw signed heatmaps (the thesis used grey PNGs, losing the sign).

The default shape is the thesis's: encoder Conv(1→16, 3, s2) → Conv(16→32, 3, s2) →
Conv(32→64, 3, s2) → Linear(→32) at 128×128, mirrored by the decoder. Maps are normalised
(config ``latent.normalise``; ``abs_sum`` maps are multiplied back by their pixel count so a map's
mean |value| is 1) and resized to ``input_size``. Training streams the store block by block (blocks in random order,
trials shuffled within a block), so memory is bounded by the block, not the store.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch import nn
from tqdm import tqdm

from facesimxai.artifacts.heatmaps import open_heatmaps, read_target_maps
from facesimxai.io import atomic_path, open_zarr, write_json
from facesimxai.latent.maps import normalise, trial_coords
from facesimxai.resume import EpochState, fingerprint, numpy_rng_state, set_numpy_rng_state
from facesimxai.torch_utils import resolve_device, save_checkpoint, seed_everything

log = logging.getLogger(__name__)


class ConvAutoencoder(nn.Module):
    """Three stride-2 convolutions and a linear bottleneck; the decoder mirrors them."""

    def __init__(self, input_size: int = 128, latent_dim: int = 32, channels: tuple[int, ...] = (16, 32, 64)):
        super().__init__()
        if input_size % 8:
            raise ValueError(f"latent.autoencoder.input_size must be a multiple of 8, got {input_size}")
        self.input_size, self.latent_dim, self.channels = input_size, latent_dim, channels
        side = input_size // 8
        chans = (1, *channels)
        enc = []
        for a, b in zip(chans[:-1], chans[1:], strict=True):
            enc += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.ReLU()]
        self.encoder = nn.Sequential(*enc, nn.Flatten(), nn.Linear(channels[-1] * side * side, latent_dim))
        dec: list[nn.Module] = [nn.Linear(latent_dim, channels[-1] * side * side), nn.ReLU(),
                                nn.Unflatten(1, (channels[-1], side, side))]
        rev = chans[::-1]
        for i, (a, b) in enumerate(zip(rev[:-1], rev[1:], strict=True)):
            dec.append(nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=1))
            if i < len(rev) - 2:
                dec.append(nn.ReLU())  # no activation at the output: maps are signed
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def prepare(maps: np.ndarray, how: str, size: int) -> torch.Tensor:
    """Normalised maps (n, H, W) → network input (n, 1, size, size), mean |value| 1 per map."""
    x = normalise(maps, how)
    if how == "abs_sum":  # back to mean |value| 1 per map; sum-normalised values are ~1/(H·W)
        x = x * (x.shape[-1] * x.shape[-2])
    t = torch.from_numpy(np.ascontiguousarray(x))[:, None]
    if t.shape[-1] != size:
        t = nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
    return t


def holdout_mask(n: int, fraction: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros(n, bool)
    mask[rng.permutation(n)[: int(round(fraction * n))]] = True
    return mask


def _blocks(ds: xr.Dataset, block: int, rng: np.random.Generator | None):
    """Contiguous trial blocks (in random order when rng is given): (indices, target maps)."""
    n = ds.sizes["trial"]
    starts = np.arange(0, n, block)
    if rng is not None:
        starts = rng.permutation(starts)
    for s in starts:
        stop = min(s + block, n)
        yield np.arange(s, stop), read_target_maps(ds, slice(s, stop))


def train_autoencoder(store: Path | str, cfg: dict, how: str, device: str, threads: int = 1,
                      resume_at: Path | str | None = None):
    """Train on the non-holdout maps; return the model, the holdout mask and per-epoch losses.

    With ``resume_at`` (the weights output), the state after each epoch is kept beside it and a
    killed run continues from its last finished epoch.
    """
    seed_everything(cfg["seed"], threads)
    dev = resolve_device(device)
    ds = open_heatmaps(store)
    n = ds.sizes["trial"]
    hold = holdout_mask(n, cfg["holdout"], cfg["seed"])
    model = ConvAutoencoder(cfg["input_size"], cfg["latent_dim"]).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    rng = np.random.default_rng(cfg["seed"])
    history, first = [], 0
    # The store is fingerprinted by its identity attributes, not its bytes: it can be far larger
    # than memory, and every heatmap store carries the checksum written at gather time.
    resume = EpochState(resume_at, fingerprint({**cfg, "how": how, "device": str(dev), "n": n,
                                                "store": dict(ds.attrs)})) if resume_at else None
    if resume and (state := resume.load()) is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        set_numpy_rng_state(rng, state["numpy_rng"])
        history, first = state["history"], state["epoch"]
    for epoch in tqdm(range(first, cfg["epochs"]), desc="autoencoder", unit="epoch", initial=first,
                      total=cfg["epochs"]):
        model.train()
        total, count = 0.0, 0
        for idx, maps in _blocks(ds, cfg["block_size"], rng):
            keep = ~hold[idx]
            x = prepare(maps[keep], how, cfg["input_size"])
            x = x[torch.from_numpy(rng.permutation(len(x)))]
            for s in range(0, len(x), cfg["batch_size"]):
                xb = x[s:s + cfg["batch_size"]].to(dev)
                loss = nn.functional.mse_loss(model(xb), xb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
                count += len(xb)
        history.append(total / max(count, 1))
        log.info("epoch %d: train MSE %.4f", epoch + 1, history[-1])
        if resume:
            resume.save(epoch + 1, model=model.state_dict(), optimizer=opt.state_dict(),
                        numpy_rng=numpy_rng_state(rng), history=history)
    return model.eval(), hold, history


@torch.no_grad()
def evaluate(model: ConvAutoencoder, store: Path | str, hold: np.ndarray, cfg: dict, how: str, device: str):
    """Latent codes of every trial and holdout MSE of the model and of the mean-training-map baseline."""
    dev = resolve_device(device)
    ds = open_zarr(store)
    n = ds.sizes["trial"]
    latent = np.zeros((n, model.latent_dim), np.float32)
    mean_sum, mean_n = None, 0
    for idx, maps in _blocks(ds, cfg["block_size"], None):  # pass 1: latents and the training mean map
        x = prepare(maps, how, cfg["input_size"])
        latent[idx] = model.encoder(x.to(dev)).cpu().numpy()
        train = x[torch.from_numpy(~hold[idx])]
        mean_sum = train.sum(0) if mean_sum is None else mean_sum + train.sum(0)
        mean_n += len(train)
    mean_map = mean_sum / max(mean_n, 1)
    se_model = se_base = 0.0
    count = 0
    for idx, maps in _blocks(ds, cfg["block_size"], None):  # pass 2: holdout errors
        x = prepare(maps, how, cfg["input_size"])[torch.from_numpy(hold[idx])]
        if not len(x):
            continue
        se_model += float(((model(x.to(dev)).cpu() - x) ** 2).mean(dim=(1, 2, 3)).sum())
        se_base += float(((mean_map - x) ** 2).mean(dim=(1, 2, 3)).sum())
        count += len(x)
    return latent, {"holdout_mse": se_model / max(count, 1), "baseline_mse": se_base / max(count, 1),
                    "n_holdout": count, "n_train": int((~hold).sum())}


def run_autoencoder(store: Path | str, cfg: dict, how: str, device: str, out: Path | str, weights_out: Path | str,
                    metrics_out: Path | str, threads: int = 1) -> dict:
    """Train, evaluate and write latent codes (``autoencoder.zarr``), weights and holdout metrics."""
    model, hold, history = train_autoencoder(store, cfg, how, device, threads, resume_at=weights_out)
    latent, metrics = evaluate(model, store, hold, cfg, how, device)
    metrics.update(history=history, ratio_to_baseline=metrics["holdout_mse"] / max(metrics["baseline_mse"], 1e-12))
    src = open_zarr(store)
    ds = xr.Dataset({"latent": (("trial", "dim"), latent), "holdout": ("trial", hold)},
                    coords={**trial_coords(src), "dim": np.arange(latent.shape[1])},
                    attrs={"normalise": how, "input_size": cfg["input_size"], "source_store": str(store)})
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    save_checkpoint({"state_dict": model.cpu().state_dict(), "config": dict(cfg)}, weights_out)
    write_json(metrics, metrics_out)
    EpochState(weights_out, "").clear()
    log.info("autoencoder holdout MSE %.4f vs mean-map baseline %.4f (ratio %.3f)", metrics["holdout_mse"],
             metrics["baseline_mse"], metrics["ratio_to_baseline"])
    return metrics
