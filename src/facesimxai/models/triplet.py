"""Triplet odd-one-out models: VGG-Face core → bridge → decision block (FaceSim3D's design).

The three faces of a triplet always pass through core and bridge **as one batch of 3·B**, never
as three calls of the same module: zennit stores one input per hooked module, so a module
called three times in a forward pass explains positions 1 and 2 with the inputs of position 3
(a defect of the thesis's original code). Each module here is called exactly once per forward pass.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


def decision_kernels(width: int) -> tuple[int, int, int, int]:
    """Kernel widths that reduce a bridge of ``width`` units to 3 logits.

    For width 300 they are FaceSim3D's (50, 100, 100, 51); other widths scale the first three
    and choose the last so that exactly 3 columns remain.
    """
    k1, k2, k3 = max(1, round(width / 6)), max(1, round(width / 3)), max(1, round(width / 3))
    k4 = width - k1 - k2 - k3 + 1
    if k4 < 1:
        raise ValueError(f"bridge width {width} is too small for the decision block (need >= 6)")
    return k1, k2, k3, k4


class Bridge(nn.Sequential):
    """Linear → ReLU → Dropout from the core output to the embedding (width K)."""

    def __init__(self, in_features: int, width: int, dropout: float = 0.5):
        super().__init__(OrderedDict([
            ("linear", nn.Linear(in_features, width)),
            ("relu", nn.ReLU(inplace=False)),
            ("dropout", nn.Dropout(dropout)),
        ]))


def stack_pairs(emb: torch.Tensor) -> torch.Tensor:
    """(B, 3, K) embeddings → (B, 1, 6, K): rows e1, e2, e1, e3, e2, e3 (all pairs)."""
    return emb[:, [0, 1, 0, 2, 1, 2], :].unsqueeze(1)


class DecisionBlock(nn.Module):
    """Small convolutions over the stacked pairs → 3 logits (no ReLU after the last layer)."""

    def __init__(self, width: int):
        super().__init__()
        k1, k2, k3, k4 = decision_kernels(width)
        self.width = width
        self.layers = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(1, 2, (2, k1), stride=(2, 1))),
            ("relu1", nn.ReLU(inplace=False)),
            ("conv2", nn.Conv2d(2, 2, (3, k2))),
            ("relu2", nn.ReLU(inplace=False)),
            ("conv3", nn.Conv2d(2, 1, (1, k3))),
            ("relu3", nn.ReLU(inplace=False)),
            ("conv4", nn.Conv2d(1, 1, (1, k4))),
        ]))
        # With PyTorch's default init this 1-2 channel block is often dead at the start (every
        # ReLU unit negative for all inputs): its gradients are then zero and it never learns,
        # and every explanation is zero. A small positive bias starts the ReLU units active.
        for name in ("conv1", "conv2", "conv3"):
            nn.init.constant_(getattr(self.layers, name).bias, 0.1)

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return self.layers(stack_pairs(emb)).flatten(1)


class TripletHead(nn.Module):
    """Bridge + decision block on core outputs; trained alone on cached features (FrozenCore)."""

    def __init__(self, in_features: int, width: int = 300, dropout: float = 0.5):
        super().__init__()
        self.in_features, self.width = in_features, width
        self.bridge = Bridge(in_features, width, dropout)
        self.decision = DecisionBlock(width)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, 3, F) core outputs → (B, 3) logits; the bridge sees all 3·B faces in one call."""
        b = feats.shape[0]
        emb = self.bridge(feats.reshape(3 * b, -1)).reshape(b, 3, -1)
        return self.decision(emb)


class DistanceHead(nn.Module):
    """Bridge + a learned distance: the odd face is the one outside the most similar pair.

    ``logit_i = -exp(s) · ‖e_j − e_k‖²`` for the pair (j, k) left when face i is odd, with one
    learned log-scale ``s``. This is the simulated observers' own decision form (a weighted
    distance, then a softmax over the three pairs), so a bridge that learns their metric
    generalises to faces it never saw; FaceSim3D's decision block can instead fit triplet-specific
    patterns (measured: 0.51 vs 0.58 agreement on unseen faces with the same features). It is an
    additional human-trained model (``hum_distance``), not VGG-Hum.
    """

    def __init__(self, in_features: int, width: int = 300, dropout: float = 0.5):
        super().__init__()
        self.in_features, self.width = in_features, width
        self.bridge = Bridge(in_features, width, dropout)
        self.log_scale = nn.Parameter(torch.zeros(()))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, 3, F) core outputs → (B, 3) logits; the bridge sees all 3·B faces in one call."""
        b = feats.shape[0]
        return self.decide(self.bridge(feats.reshape(3 * b, -1)).reshape(b, 3, -1))

    def decide(self, emb: torch.Tensor) -> torch.Tensor:
        """(B, 3, K) bridge embeddings → (B, 3) logits (the decision a TripletFunction calls)."""
        pairs = ((1, 2), (0, 2), (0, 1))
        d2 = torch.stack([((emb[:, j] - emb[:, k]) ** 2).sum(-1) for j, k in pairs], dim=1)
        return -self.log_scale.exp() * d2


#: Head architectures by checkpoint name: FaceSim3D's decision block, or the learned distance.
HEAD_TYPES: dict[str, type[nn.Module]] = {"decision_block": TripletHead, "distance": DistanceHead}


class TripletModel(nn.Module):
    """Full pixel model: core + head, the model that LRP explains."""

    def __init__(self, core: nn.Sequential, head: TripletHead | DistanceHead):
        super().__init__()
        self.core = core
        self.head = head

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, C, H, W) → (B, 3, F) core outputs, the three faces as one batch."""
        b = x.shape[0]
        return self.core(x.reshape(3 * b, *x.shape[2:])).reshape(b, 3, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))
