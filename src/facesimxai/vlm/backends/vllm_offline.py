"""vLLM's offline engine: whole batches of multi-image prompts scheduled by vLLM itself.

The request building (engine arguments, prompts with one vision block per image, sampling with
structured JSON output) is plain functions, unit-tested without vLLM installed.
"""

from __future__ import annotations

import logging
import time

from facesimxai.vlm.backends.base import Backend, Generation, hf_messages
from facesimxai.vlm.prompts import VLMRequest

log = logging.getLogger(__name__)
IMAGES_PER_PROMPT = 3


def engine_args(cfg: dict) -> dict:
    """Keyword arguments of `vllm.LLM`. Start-up OOM on big models is usually max_pixels × images."""
    vc = cfg["vllm"]
    args = {"model": cfg["model"], "tensor_parallel_size": int(vc["tensor_parallel_size"]),
            "limit_mm_per_prompt": {"image": IMAGES_PER_PROMPT, "video": 0},
            "mm_processor_kwargs": {"max_pixels": int(vc["max_pixels"])},
            "max_model_len": int(vc["max_model_len"]), "max_num_seqs": int(vc["max_num_seqs"]),
            "gpu_memory_utilization": float(vc["gpu_memory_utilization"]), "seed": int(cfg["seed"])}
    if cfg.get("revision"):
        args["revision"] = cfg["revision"]
    return args


def sampling_args(cfg: dict, schema: dict, structured_params: type | None = None) -> dict:
    """Keyword arguments of `vllm.SamplingParams`. Its defaults (max_tokens=16, temperature=1)
    would truncate and randomise the answers, so both are always set."""
    args = {"temperature": float(cfg["temperature"]), "max_tokens": int(cfg["max_tokens"]), "seed": int(cfg["seed"])}
    if cfg["structured"]:
        # `guided_json` was removed from vLLM and is silently ignored; structured_outputs replaces it
        args["structured_outputs"] = structured_params(json=schema) if structured_params else {"json": schema}
    return args


def vllm_prompt(tokenizer, request: VLMRequest) -> dict:
    """A `LLM.generate` input: the chat-templated prompt (one vision block per image, in order)
    and the images themselves."""
    messages, images = hf_messages(request)
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return {"prompt": prompt, "multi_modal_data": {"image": images}} if images else {"prompt": prompt}


class VLLMBackend(Backend):
    name = "vllm"

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        from vllm import LLM

        self.llm = LLM(**engine_args(cfg))
        self.tokenizer = self.llm.get_tokenizer()
        log.info("vLLM engine: %s", engine_args(cfg))

    def generate(self, requests: list[VLMRequest]) -> list[Generation]:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        prompts = [vllm_prompt(self.tokenizer, r) for r in requests]
        params = [SamplingParams(**sampling_args(self.cfg, r.schema, StructuredOutputsParams)) for r in requests]
        start = time.perf_counter()
        outputs = self.llm.generate(prompts, sampling_params=params, use_tqdm=False)
        if len(outputs) != len(requests):
            raise RuntimeError(f"vLLM returned {len(outputs)} outputs for {len(requests)} prompts")
        per = (time.perf_counter() - start) / max(len(requests), 1)
        return [Generation(o.outputs[0].text if o.outputs else None, 1, "" if o.outputs else "no output", per)
                for o in outputs]
