"""VLM backends behind one interface (base.Backend), chosen by config key vlm.backend."""

from __future__ import annotations

from facesimxai.vlm.backends.base import Backend, Generation


def make_backend(cfg: dict) -> Backend:
    """The backend named by cfg["backend"]; its heavy imports happen only here."""
    name = cfg["backend"]
    if name == "transformers":
        from facesimxai.vlm.backends.hf import TransformersBackend

        return TransformersBackend(cfg)
    if name == "openai":
        from facesimxai.vlm.backends.openai_api import OpenAIBackend

        return OpenAIBackend(cfg)
    if name == "vllm":
        from facesimxai.vlm.backends.vllm_offline import VLLMBackend

        return VLLMBackend(cfg)
    raise ValueError(f"config key vlm.backend: {name!r} is not one of transformers, openai, vllm (or none)")


__all__ = ["Backend", "Generation", "make_backend"]
