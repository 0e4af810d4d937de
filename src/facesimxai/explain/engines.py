"""Explanation engines for triplet models: naive, direct and the exact factorisation.

Every LRP rule is linear in the relevance arriving from above once the forward activations are
fixed, and a face's activations in core and bridge do not depend on the other two faces. So the
input relevance of face f is ``R_f = L_f · s``, where ``s`` (K values) is the relevance at the
face's bridge output and ``L_f`` (H·W × K) depends on the face alone. ``factorized`` computes
``L_f`` once per face with K batched backward passes and ``s`` for every triplet with a cheap
LRP pass through the decision block; ``direct`` runs the whole triplet model per batch of
triplets; ``naive`` explains one triplet at a time, as the thesis scripts do (without their
defects), and exists as a reference for tests and benchmarks.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from facesimxai.explain.region_shapley import FEATHER
from facesimxai.explain.rules import GRADIENT_METHODS, METHODS, input_bounds, make_composite
from facesimxai.models.triplet import TripletModel

ENGINES = ("auto", "direct", "factorized", "naive")
OCCLUSION = "occlusion"  # model-agnostic: explain.occlusion, not an LRP composite
REGION_SHAPLEY = "region_shapley"  # explain.region_shapley: regions removed in all three faces
INTEGRATED_GRADIENTS = "integrated_gradients"  # explain.integrated: zennit's attributor on the triplet
#: Methods with an engine of their own (``choose_engine`` returns the method).
OWN_ENGINE = (OCCLUSION, REGION_SHAPLEY, INTEGRATED_GRADIENTS)


@dataclass(frozen=True)
class ExplainSettings:
    """What to explain. ``target``: the model's prediction, the recorded (human) choice or the
    MaxP target; ``output``: relevance put on the target logit as a one-hot, as the target
    logit × one-hot (the thesis), or ``contrastive``: +1 on the target logit and −½ on each
    other logit, which explains "why this face rather than the other two" (logit_t minus the
    mean of the others; evidence shared by all three logits cancels, cf. contrastive LRP,
    Gu et al. 2018); ``positions``: keep the target face's map only (the thesis)
    or all three."""

    method: str = "epsilon_alpha2_beta1_flat"
    target: str = "prediction"
    output: str = "logit"
    positions: str = "target"
    epsilon: float = 1e-6
    gamma: float = 0.25
    decision_rule: str = "epsilon"
    # occlusion only (explain.occlusion): patch sizes and stride as fractions of the input size
    patches: tuple[float, ...] | None = None
    stride: float | None = None
    blur: bool | None = None
    # region Shapley and integrated gradients: reference/baseline face (explain.references),
    # sampled permutations and feathered region edges (region Shapley), integration steps
    # (integrated gradients)
    baseline: str = "mean"
    n_permutations: int = 64
    feather: float = FEATHER
    n_steps: int = 32

    def __post_init__(self):
        if self.method in (REGION_SHAPLEY, INTEGRATED_GRADIENTS) and self.output != "contrastive":
            raise ValueError(f"explainer method {self.method} explains the contrastive decision: "
                             "set output: contrastive")
        checks = {"method": (*METHODS, *OWN_ENGINE), "baseline": ("mean", "blur", "black"),
                  "target": ("prediction", "human", "maxp"),
                  "output": ("onehot", "logit", "contrastive"), "positions": ("target", "all"),
                  "decision_rule": ("epsilon", "conv")}
        for key, allowed in checks.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"explainer {key} {getattr(self, key)!r} is not one of {', '.join(allowed)}")

    def as_dict(self) -> dict:
        return asdict(self)


class _Encoder(nn.Module):
    """Core + bridge of a TripletModel, keeping the qualified names the rules are assigned by.

    The core output is flattened as ``TripletModel.embed`` does: a core cut inside the conv
    blocks (e.g. ``maxp_5_3``) returns (N, C, H, W), which the bridge's Linear cannot take.
    """

    def __init__(self, model: TripletModel):
        super().__init__()
        self.core = model.core
        self.head = nn.Module()
        self.head.bridge = model.head.bridge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.bridge(self.core(x).flatten(1))


class _Decision(nn.Module):
    """The decision block of a TripletModel under its qualified name ``head.decision``."""

    def __init__(self, model: TripletModel):
        super().__init__()
        self.head = nn.Module()
        self.head.decision = model.head.decision

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return self.head.decision(emb)


class TripletExplainer:
    """Relevance maps of triplet decisions; all engines give the same maps up to float error.

    The ε rule divides by pre-activations, so float32 rounding in the engines' different summation
    orders can grow where those are tiny (up to 2e-3 relative on a random VGG); in float64 the
    engines agree to ~1e-11 at every core cut (tests/test_explain.py).
    """

    def __init__(self, model: TripletModel, settings: ExplainSettings, preprocessing: str,
                 device: torch.device | str = "cpu", batch_size: int = 16, basis_batch: int = 32):
        self.model = model.eval().to(device)
        self.settings = settings
        self.device = torch.device(device)
        self.batch_size, self.basis_batch = batch_size, basis_batch
        low, high = input_bounds(preprocessing)
        self._rule_kwargs = {"low": low.to(self.device), "high": high.to(self.device),
                             "epsilon": settings.epsilon, "gamma": settings.gamma,
                             "decision_rule": settings.decision_rule}
        self.encoder = _Encoder(self.model)
        # factorized needs FaceSim3D's decision block (a DistanceHead has none; direct explains it)
        self.decision = _Decision(self.model) if hasattr(model.head, "decision") else None
        self.width = model.head.width

    # --- shared pieces -------------------------------------------------------------------
    def _context(self, module: nn.Module, require_first: bool = True):
        if self.settings.method in GRADIENT_METHODS:
            return nullcontext()
        composite = make_composite(module, self.settings.method, require_first=require_first,
                                   **self._rule_kwargs)
        return composite.context(module)

    def _output_relevance(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        onehot = torch.nn.functional.one_hot(target, 3).to(logits.dtype)
        if self.settings.output == "logit":
            return onehot * logits.detach()
        if self.settings.output == "contrastive":
            return 1.5 * onehot - 0.5
        return onehot

    def _input_map(self, grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Relevance per pixel: colour channels summed (× input for gradient × input)."""
        if self.settings.method == "gradient_x_input":
            grad = grad * x
        return grad.sum(dim=-3)

    @staticmethod
    def _targets(logits: torch.Tensor, target_pos) -> torch.Tensor:
        if target_pos is None:
            return logits.argmax(1)
        return torch.as_tensor(np.asarray(target_pos), dtype=torch.long, device=logits.device)

    # --- direct ----------------------------------------------------------------------------
    def direct(self, x: torch.Tensor, target_pos=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One LRP pass through the triplet model per batch: (maps (B,3,H,W), logits, target).

        The composite is built and its hooks registered once for all batches (as a zennit
        attributor's ``with`` block does), not per batch."""
        maps, logits, targets = [], [], []
        with self._context(self.model):
            for s in range(0, len(x), self.batch_size):
                xb = x[s:s + self.batch_size].to(self.device).requires_grad_(True)
                tp = None if target_pos is None else np.asarray(target_pos)[s:s + self.batch_size]
                out = self.model(xb)
                tgt = self._targets(out, tp)
                (grad,) = torch.autograd.grad(out, xb, self._output_relevance(out, tgt))
                maps.append(self._input_map(grad, xb).detach().cpu())
                logits.append(out.detach().cpu())
                targets.append(tgt.cpu())
        return torch.cat(maps), torch.cat(logits), torch.cat(targets)

    def naive(self, x: torch.Tensor, target_pos=None):
        """The thesis's loop: one triplet per forward/backward pass (reference only)."""
        saved, self.batch_size = self.batch_size, 1
        try:
            return self.direct(x, target_pos)
        finally:
            self.batch_size = saved

    # --- factorized ------------------------------------------------------------------------
    @torch.no_grad()
    def embeddings(self, faces: torch.Tensor) -> torch.Tensor:
        """Bridge outputs (F, K) of every face, computed once."""
        return torch.cat([self.encoder(faces[s:s + self.batch_size].to(self.device))
                          for s in range(0, len(faces), self.batch_size)])

    def decision_relevance(self, emb: torch.Tensor, target_pos=None):
        """LRP through the decision block only: relevance s (T, 3, K) at the bridge outputs."""
        emb = emb.detach().requires_grad_(True)
        with self._context(self.decision, require_first=False):
            out = self.decision(emb)
            tgt = self._targets(out, target_pos)
            (s,) = torch.autograd.grad(out, emb, self._output_relevance(out, tgt))
        return s.detach(), out.detach(), tgt

    def basis(self, face: torch.Tensor, units: int | None = None) -> torch.Tensor:
        """L_f as (K, H, W): the input map of one face for each unit of its bridge output
        (the first ``units`` units only, if given)."""
        cols = []
        eye = torch.eye(self.width, device=self.device, dtype=face.dtype)
        n_units = self.width if units is None else units
        for k0 in range(0, n_units, self.basis_batch):
            kk = min(self.basis_batch, n_units - k0)
            xr = face.to(self.device).unsqueeze(0).repeat(kk, 1, 1, 1).requires_grad_(True)
            with self._context(self.encoder):
                emb = self.encoder(xr)
                (grad,) = torch.autograd.grad(emb, xr, eye[k0:k0 + kk])
            cols.append(self._input_map(grad, xr).detach())
        return torch.cat(cols)

    def factorized(self, faces: torch.Tensor, heads: np.ndarray, target_pos=None,
                   positions: str | None = None):
        """Maps for triplets given as indices into ``faces`` (T, 3).

        Returns (maps, logits, target): maps are (T, H, W) for the target position only, or
        (T, 3, H, W) for all positions.
        """
        positions = positions or self.settings.positions
        heads = np.asarray(heads)
        emb = self.embeddings(faces)
        s, logits, tgt = self.decision_relevance(emb[torch.from_numpy(heads).to(self.device)],
                                                 target_pos)
        tgt_np = tgt.cpu().numpy()
        h, w = faces.shape[-2:]
        shape = (len(heads), h, w) if positions == "target" else (len(heads), 3, h, w)
        maps = torch.zeros(shape, dtype=s.dtype)
        for f in np.unique(heads):
            basis = self.basis(faces[f]).reshape(self.width, -1)
            for p in range(3):
                rows = heads[:, p] == f
                if positions == "target":
                    rows &= tgt_np == p
                rows = np.flatnonzero(rows)
                if len(rows) == 0:
                    continue
                m = (s[rows, p] @ basis).reshape(-1, h, w).cpu()
                if positions == "target":
                    maps[rows] = m
                else:
                    maps[rows, p] = m
        return maps, logits.cpu(), tgt.cpu()


def choose_engine(engine: str, n_trials: int, n_faces: int, width: int, method: str | None = None) -> str:
    """``auto``: factorized when its face passes (n_faces · K) undercut direct's (3 per trial).

    Both count single-face backward passes through core and bridge, batched alike; the
    decision-block pass and the L·s products are small next to them (see the benchmark).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (config key explain.engine); engines: {', '.join(ENGINES)}")
    if method in OWN_ENGINE:
        return method
    if engine != "auto":
        return engine
    return "factorized" if n_faces * width < 3 * n_trials else "direct"


def select_positions(maps: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(T, 3, H, W) → (T, H, W): the map of each triplet's target position."""
    return maps[torch.arange(len(maps)), target]
