"""Resuming a killed training job at its last finished epoch.

Snakemake re-runs a killed job from the start: it deletes the job's declared outputs and knows
nothing in between. On a cluster (pre-emption, time limits, a node lost) that can cost hours, so
every training loop keeps its state beside its output in ``<output>.resume``, a file Snakemake
does not touch, and continues from there. The state holds the weights, the optimiser and every
random generator the loop draws from, so a resumed run ends with the same weights as an
uninterrupted one, bit for bit on CPU (tested in ``tests/faults``). A fingerprint of the settings
and the training data guards against resuming from a run with other inputs.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import torch

from facesimxai.torch_utils import save_checkpoint

log = logging.getLogger(__name__)


def fingerprint(settings: dict, *data: np.ndarray | torch.Tensor) -> str:
    """SHA-256 over the settings (as sorted JSON) and the bytes of the training data."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for array in data:
        arr = array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
        h.update(str((arr.dtype, arr.shape)).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


class EpochState:
    """The training state after the last finished epoch, saved atomically beside ``output``."""

    def __init__(self, output: Path | str, fingerprint: str):
        self.path = Path(f"{output}.resume")
        self.fingerprint = fingerprint

    def load(self) -> dict | None:
        """The saved state (and the global torch RNG restored), or None to start from epoch 1."""
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable state means "start again"
            log.warning("ignoring unreadable resume state %s (%s); training from epoch 1", self.path, err)
            self.clear()
            return None
        if state.get("fingerprint") != self.fingerprint:
            log.warning("ignoring resume state %s: it was saved for other settings or data; training "
                        "from epoch 1", self.path)
            self.clear()
            return None
        torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        log.info("resuming after epoch %d from %s", state["epoch"], self.path)
        return state

    def save(self, epoch: int, **state) -> None:
        """Save after ``epoch`` finished; ``state`` holds state dicts, generator states and history."""
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
        save_checkpoint({**state, "epoch": epoch, "fingerprint": self.fingerprint,
                         "torch_rng": torch.get_rng_state(), "cuda_rng": cuda}, self.path)

    def clear(self) -> None:
        """Remove the state once the final output is written (or when it cannot be used)."""
        self.path.unlink(missing_ok=True)


def numpy_rng_state(rng: np.random.Generator) -> str:
    """A NumPy generator's state as JSON (``torch.load(weights_only=True)`` reads plain strings)."""
    return json.dumps(rng.bit_generator.state)


def set_numpy_rng_state(rng: np.random.Generator, state: str) -> None:
    rng.bit_generator.state = json.loads(state)
