"""VLM requests per second, batched against one at a time, through the pipeline's own backend.

Builds the tiny random Qwen2-VL the demo uses (``vlm.tiny.build_tiny_qwen2vl``), asks the same
odd-one-out requests (three face images each, the demo's prompt and answer grammar) through the
transformers backend (``vlm.run.answer_all``, as the VLM rule does) once in batches of
``--batch`` and once one request at a time, timed in turns (the fastest of ``--repeats`` rounds
kept), and checks that the two give the same answers (greedy decoding). A tiny model measures the
cost of the path around the model (processor, padding, constrained decoding, batching), not the
speed of Qwen2-VL-72B: no full-study projection is made from it.

Prints a JSON object, then ``batched_requests_per_s=<a> one_at_a_time_requests_per_s=<b>
batching_speedup=<a/b>``.
Run from the repository root: ``python benchmarks/vlm_batching.py [--requests 32] [--batch 16]
[--device cuda]`` (about 20 seconds on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from facesimxai.config import load_config
from facesimxai.vlm.backends.hf import TransformersBackend
from facesimxai.vlm.prompts import odd_one_out_request
from facesimxai.vlm.run import answer_all
from facesimxai.vlm.tiny import build_tiny_qwen2vl
from facesimxai.vocabulary import REGIONS

ROOT = Path(__file__).resolve().parents[1]


def requests(n: int, size: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for t in range(n):
        imgs = tuple(Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(3))
        out.append(odd_one_out_request(t, (3 * t, 3 * t + 1, 3 * t + 2), imgs, (0, 1, 2), list(REGIONS)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    cfg = load_config(ROOT / "config" / "config.yaml")["vlm"]
    reqs = requests(args.requests, int(cfg["image_size"]))
    with tempfile.TemporaryDirectory() as tmp:
        backend = TransformersBackend({**cfg, "backend": "transformers", "device": args.device, "temperature": 0.0,
                                       "model": str(build_tiny_qwen2vl(Path(tmp) / "tiny", seed=0))})
        quiet = lambda x, **_: x  # noqa: E731 - no progress bar inside the timed loop
        answer_all(reqs[:2], backend, args.batch, progress=quiet)  # warm-up (grammar compiled once)
        runs: dict[str, list[float]] = {"batched": [], "one_at_a_time": []}
        answers = {}
        for _ in range(args.repeats):
            for name, batch in (("batched", args.batch), ("one_at_a_time", 1)):
                t = time.perf_counter()
                answers[name] = answer_all(reqs, backend, batch, progress=quiet)["raw_text"].tolist()
                runs[name].append(time.perf_counter() - t)
    rate = {k: args.requests / min(v) for k, v in runs.items()}
    report = {"device": args.device, "model": "builtin tiny random Qwen2-VL", "requests": args.requests,
              "batch": args.batch, "structured": bool(cfg["structured"]), "max_tokens": int(cfg["max_tokens"]),
              "batched_requests_per_s": rate["batched"], "one_at_a_time_requests_per_s": rate["one_at_a_time"],
              "batching_speedup": rate["batched"] / rate["one_at_a_time"],
              "same_answers": answers["batched"] == answers["one_at_a_time"], "all_runs_s": runs}
    print(json.dumps(report, indent=1))
    print(f"batched_requests_per_s={rate['batched']:.2f} one_at_a_time_requests_per_s={rate['one_at_a_time']:.2f} "
          f"batching_speedup={report['batching_speedup']:.2f}")


if __name__ == "__main__":
    main()
