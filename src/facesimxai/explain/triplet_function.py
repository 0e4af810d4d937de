"""A triplet decision seen from outside: embed each face alone, then decide from three embeddings.

Every model here has this shape: VGG-Hum and VGG-MaxP embed a face with core + bridge and decide
with their decision block; the backbone-similarity model embeds with the backbone's max-pool
features and decides by FaceSim3D's relative-similarity rule. Model-agnostic explainers
(occlusion, region removal) and faithfulness metrics only call ``embed`` and ``decide``, which is
what lets them embed a perturbed face once and reuse it in every triplet that shows it (a frozen
core).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from facesimxai.models.triplet import TripletModel
from facesimxai.models.vgg import VGGFace


@dataclass
class TripletFunction:
    """``embed``: faces (N, C, H, W) → (N, K); ``decide``: embeddings (T, 3, K) → logits (T, 3)."""

    embed_module: nn.Module
    decide: Callable[[torch.Tensor], torch.Tensor]
    name: str = "model"
    device: torch.device = torch.device("cpu")
    batch_size: int = 64

    @torch.no_grad()
    def embed(self, faces: torch.Tensor) -> torch.Tensor:
        """Embeddings of many faces, in batches (the only costly call)."""
        out = [self.embed_module(faces[s:s + self.batch_size].to(self.device)).flatten(1)
               for s in range(0, len(faces), self.batch_size)]
        return torch.cat(out) if out else torch.zeros(0, 0, device=self.device)

    def logits(self, emb: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.decide(emb.to(self.device))

    def forward_pixels(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable (B, 3, C, H, W) → (B, 3) logits, for gradient explanations."""
        b = x.shape[0]
        emb = self.embed_module(x.reshape(3 * b, *x.shape[2:]).to(self.device)).flatten(1)
        return self.decide(emb.reshape(b, 3, -1))


def from_triplet_model(model: TripletModel, device: torch.device | str = "cpu", batch_size: int = 64,
                       name: str = "model") -> TripletFunction:
    """VGG-Hum / VGG-MaxP: core + bridge per face, the decision block per triplet."""
    model = model.eval().to(device)
    embed = nn.Sequential(model.core, nn.Flatten(1), model.head.bridge).eval()
    decide = model.head.decision if hasattr(model.head, "decision") else model.head.decide  # DistanceHead
    return TripletFunction(embed, decide, name, torch.device(device), batch_size)


def relative_similarity_logits(emb: torch.Tensor) -> torch.Tensor:
    """FaceSim3D's ``relative`` MaxP rule as logits: odd = argmax of s_jk − (s_ij + s_ik)/2."""
    e = nn.functional.normalize(emb, dim=-1)
    s = torch.einsum("tik,tjk->tij", e, e)
    score = torch.stack([(s[:, 0, 1] + s[:, 0, 2]) / 2 - s[:, 1, 2],
                         (s[:, 1, 0] + s[:, 1, 2]) / 2 - s[:, 0, 2],
                         (s[:, 2, 0] + s[:, 2, 1]) / 2 - s[:, 0, 1]], dim=1)
    return -score


class _MaxPool53(nn.Module):
    def __init__(self, vgg: VGGFace):
        super().__init__()
        self.vgg = vgg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vgg(x, until="maxp_5_3").flatten(1)


def backbone_similarity(vgg: VGGFace, device: torch.device | str = "cpu", batch_size: int = 64) -> TripletFunction:
    """The backbone itself as a triplet model: max-pool 5_3 features, relative-similarity rule."""
    return TripletFunction(_MaxPool53(vgg.eval()).to(device), relative_similarity_logits, "backbone",
                           torch.device(device), batch_size)
