"""The backend interface, and the two message formats requests are turned into: Hugging Face
chat messages (transformers, vLLM) and OpenAI chat messages with data-URL images (servers)."""

from __future__ import annotations

import base64
import io
from abc import ABC, abstractmethod
from dataclasses import dataclass

from PIL import Image

from facesimxai.vlm.prompts import VLMRequest


@dataclass(frozen=True)
class Generation:
    """A backend's outcome for one request: the raw text (None when every attempt failed), how
    many attempts it took, the last error, and wall time."""

    text: str | None
    attempts: int = 1
    error: str = ""
    seconds: float = 0.0


class Backend(ABC):
    """Answers requests in input order, one Generation per request, never dropping one."""

    name: str = ""

    def __init__(self, cfg: dict):
        self.cfg = cfg

    @abstractmethod
    def generate(self, requests: list[VLMRequest]) -> list[Generation]: ...

    @property
    def model_id(self) -> str:
        return str(self.cfg["model"])

    @property
    def revision(self) -> str:
        return str(self.cfg.get("revision") or "")

    def sampling(self) -> dict:
        """Settings that shape the answers, recorded with every row."""
        return {"temperature": float(self.cfg["temperature"]), "max_tokens": int(self.cfg["max_tokens"]),
                "seed": int(self.cfg["seed"]), "structured": bool(self.cfg["structured"])}


def hf_messages(request: VLMRequest) -> tuple[list[dict], list[Image.Image]]:
    """One user turn with `{"type": "image"}` placeholders, and the images in the same order."""
    content = [{"type": "image"} if isinstance(p, Image.Image) else {"type": "text", "text": p} for p in request.parts]
    return [{"role": "user", "content": content}], request.images


def data_url(image: Image.Image) -> str:
    """PNG data URL of an RGB image (lossless, so the server sees the pixels we hashed)."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def openai_messages(request: VLMRequest) -> list[dict]:
    content = [{"type": "image_url", "image_url": {"url": data_url(p)}} if isinstance(p, Image.Image)
               else {"type": "text", "text": p} for p in request.parts]
    return [{"role": "user", "content": content}]
