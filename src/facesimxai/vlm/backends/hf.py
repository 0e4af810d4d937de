"""Local Hugging Face model (e.g. Qwen2-VL from a downloaded folder), batched generation.

JSON-schema constrained decoding uses xgrammar (the grammar engine vLLM uses) as a logits
processor, so a small or untrained model still answers in the schema; `structured: false`
generates freely and leaves validation to the parser.
"""

from __future__ import annotations

import json
import logging
import time

import torch

from facesimxai.torch_utils import resolve_device
from facesimxai.vlm.backends.base import Backend, Generation, hf_messages
from facesimxai.vlm.prompts import VLMRequest

log = logging.getLogger(__name__)


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        from transformers import AutoModelForImageTextToText, AutoProcessor

        revision = cfg.get("revision") or None
        self.device = resolve_device(cfg["device"])
        try:
            self.processor = AutoProcessor.from_pretrained(cfg["model"], revision=revision)
            self.model = AutoModelForImageTextToText.from_pretrained(cfg["model"], revision=revision, dtype="auto")
        except (OSError, ValueError) as exc:
            raise ValueError(f"config key vlm.model: cannot load {cfg['model']!r} (revision {revision or 'default'}) "
                             f"with transformers: {str(exc).splitlines()[0]}") from exc
        self.processor.tokenizer.padding_side = "left"  # decoder-only batching pads on the left
        self.model.to(self.device).eval()
        self._revision = revision or getattr(self.model.config, "_commit_hash", None) or "local"
        self._grammars: dict[str, object] = {}
        log.info("transformers backend: %s (revision %s) on %s", cfg["model"], self._revision, self.device)

    @property
    def revision(self) -> str:
        return str(self._revision)

    def _constraint(self, schema: dict):
        import xgrammar as xgr

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            info = xgr.TokenizerInfo.from_huggingface(self.processor.tokenizer,
                                                      vocab_size=self.model.config.get_text_config().vocab_size)
            # any_whitespace=False: compact JSON, so a weak model cannot pad the answer with spaces
            self._grammars[key] = xgr.GrammarCompiler(info).compile_json_schema(key, any_whitespace=False)
        return xgr.contrib.hf.LogitsProcessor(self._grammars[key])

    def generate(self, requests: list[VLMRequest]) -> list[Generation]:
        if not requests:
            return []
        schemas = {json.dumps(r.schema, sort_keys=True) for r in requests}
        if len(schemas) > 1:
            raise ValueError("one transformers batch must share one answer schema (batch by task)")
        texts, images = [], []
        for req in requests:
            messages, imgs = hf_messages(req)
            texts.append(self.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
            images += imgs
        start = time.perf_counter()
        inputs = self.processor(text=texts, images=images or None, return_tensors="pt", padding=True)
        inputs = inputs.to(self.device)
        temperature = float(self.cfg["temperature"])
        kwargs = {"max_new_tokens": int(self.cfg["max_tokens"]), "do_sample": temperature > 0}
        if temperature > 0:
            kwargs["temperature"] = temperature
        if self.cfg["structured"]:
            kwargs["logits_processor"] = [self._constraint(requests[0].schema)]
        torch.manual_seed(int(self.cfg["seed"]))
        with torch.inference_mode():
            out = self.model.generate(**inputs, **kwargs, pad_token_id=self.processor.tokenizer.pad_token_id)
        new = out[:, inputs["input_ids"].shape[1]:]
        answers = self.processor.batch_decode(new, skip_special_tokens=True)
        per = (time.perf_counter() - start) / len(requests)
        return [Generation(text, attempts=1, seconds=per) for text in answers]
