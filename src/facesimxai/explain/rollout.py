"""Attention rollout (Abnar & Zuidema, ACL 2020): how much each input token reaches the class token.

Each layer's attention (heads averaged) is mixed with the identity for the residual connection,
Â = ½·A + ½·I, rows renormalised, and the layers are multiplied from the input up; the class
token's row over the patch tokens, reshaped to the patch grid and upsampled, is the map. It is
the attention-map baseline of seed 002 beside AttnLRP (LXT). Neither Captum nor zennit ships it,
and it is a product of a few matrices, so it is written here.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def rollout(attentions: list[torch.Tensor], head_fusion: str = "mean") -> torch.Tensor:
    """(B, T, T) token-to-token rollout from per-layer attentions (B, heads, T, T), first layer first."""
    if not attentions:
        raise ValueError("rollout needs at least one layer's attention")
    result = None
    for a in attentions:
        fused = a.mean(1) if head_fusion == "mean" else a.amax(1) if head_fusion == "max" else None
        if fused is None:
            raise ValueError(f"unknown head_fusion {head_fusion!r} (mean, max)")
        eye = torch.eye(fused.shape[-1], dtype=fused.dtype, device=fused.device)
        mixed = 0.5 * fused + 0.5 * eye
        mixed = mixed / mixed.sum(-1, keepdim=True)
        result = mixed if result is None else mixed @ result
    return result


def rollout_map(attentions: list[torch.Tensor], grid: int, image_size: int, cls_index: int = 0,
                head_fusion: str = "mean") -> torch.Tensor:
    """(B, H, W) map: the class token's rollout over the ``grid`` × ``grid`` patch tokens (which
    follow the class token), bilinearly upsampled to ``image_size``."""
    r = rollout(attentions, head_fusion)[:, cls_index]
    patches = torch.cat([r[:, :cls_index], r[:, cls_index + 1:]], 1)
    if patches.shape[1] != grid * grid:
        raise ValueError(f"{patches.shape[1]} patch tokens do not fill a {grid} x {grid} grid")
    maps = patches.reshape(-1, 1, grid, grid)
    return F.interpolate(maps, size=(image_size, image_size), mode="bilinear", align_corners=False)[:, 0]
