"""Any OpenAI-compatible chat server (`vllm serve`, hosted APIs): concurrent requests with a
bound, bounded retries with exponential back-off on transient failures, JSON-schema answers.

The client's own retries are switched off (max_retries=0) so that every attempt is counted and
recorded with the answer.
"""

from __future__ import annotations

import logging
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

from facesimxai.vlm.backends.base import Backend, Generation, openai_messages
from facesimxai.vlm.prompts import VLMRequest

log = logging.getLogger(__name__)
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        import openai

        oc = cfg["openai"]
        self.opts = oc
        self.client = openai.OpenAI(base_url=oc["base_url"], api_key=os.environ.get(oc["api_key_env"]) or "EMPTY",
                                    max_retries=0, timeout=float(oc["timeout_s"]))
        self._jitter = random.Random(int(cfg["seed"]))

    def payload(self, request: VLMRequest) -> dict:
        body = {"model": self.cfg["model"], "messages": openai_messages(request),
                "temperature": float(self.cfg["temperature"]), "max_tokens": int(self.cfg["max_tokens"]),
                "seed": int(self.cfg["seed"])}
        if self.cfg["structured"]:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": request.task, "schema": request.schema, "strict": True}}
        return body

    def _retryable(self, exc: Exception) -> bool:
        import openai

        if isinstance(exc, openai.APIConnectionError):  # includes timeouts
            return True
        return isinstance(exc, openai.APIStatusError) and exc.status_code in RETRY_STATUS

    def _one(self, request: VLMRequest) -> Generation:
        import openai

        body, tries = self.payload(request), int(self.opts["max_retries"]) + 1
        start, error = time.perf_counter(), ""
        for attempt in range(1, tries + 1):
            try:
                resp = self.client.chat.completions.create(**body)
                return Generation(resp.choices[0].message.content, attempt, error, time.perf_counter() - start)
            except openai.OpenAIError as exc:
                error = f"{type(exc).__name__}: {str(exc)[:300]}"
                if not self._retryable(exc) or attempt == tries:
                    break
                delay = float(self.opts["backoff_s"]) * 2 ** (attempt - 1) * (1 + 0.25 * self._jitter.random())
                log.warning("%s attempt %d failed (%s); retrying in %.1f s", request.request_id, attempt, error, delay)
                time.sleep(delay)
        return Generation(None, attempt, error, time.perf_counter() - start)

    def generate(self, requests: list[VLMRequest]) -> list[Generation]:
        with ThreadPoolExecutor(max_workers=int(self.opts["concurrency"])) as pool:
            return list(pool.map(self._one, requests))  # map keeps input order
