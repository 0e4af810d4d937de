"""VLM stage: parser, prompts and images, the three backends on a tiny random Qwen2-VL built
here (transformers directly, openai through a local HTTP server, vLLM's request building against
a stand-in engine), the recorder, and the evaluation maths on known answers."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from math import comb

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from facesimxai.data.sampling import sample_held_out
from facesimxai.vlm import evaluate
from facesimxai.vlm.answers import heatmap_schema, odd_one_out_schema, parse_answer
from facesimxai.vlm.backends import Generation
from facesimxai.vlm.backends.base import Backend
from facesimxai.vlm.images import face_image, heatmap_overlay
from facesimxai.vlm.prompts import ORDERS, heatmap_request, odd_one_out_request
from facesimxai.vlm.run import answer_all, answer_rows, run_vlm
from facesimxai.vocabulary import REGIONS

SCHEMA = odd_one_out_schema(list(REGIONS))
VISION = "<|vision_start|><|image_pad|><|vision_end|>"


def solid(rgb, size=64) -> Image.Image:
    return Image.fromarray(np.full((size, size, 3), rgb, np.uint8), mode="RGB")


def base_cfg(model: str, **kw) -> dict:
    cfg = {"backend": "transformers", "model": model, "revision": "", "device": "cpu", "temperature": 1.0,
           "max_tokens": 48, "seed": 0, "structured": True, "splits": ["test"], "n_trials": 4, "orders": 3,
           "image_size": 56, "batch_size": 4,
           "openai": {"base_url": "", "api_key_env": "FACESIMXAI_TEST_KEY", "concurrency": 3, "max_retries": 2,
                      "backoff_s": 0.01, "timeout_s": 60},
           "vllm": {"tensor_parallel_size": 4, "max_pixels": 50176, "max_model_len": 4096, "max_num_seqs": 8,
                    "gpu_memory_utilization": 0.85}}
    cfg.update(kw)
    return cfg


# --- parser -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, fields", [
    ('{"odd_one_out": 2, "regions": ["left eye", "nose tip"]}',
     {"odd_one_out": 2, "regions": ["left eye", "nose tip"]}),
    ('```json\n{"odd_one_out": 1, "regions": []}\n```', {"odd_one_out": 1, "regions": []}),
    ('  {"odd_one_out": 3, "regions": ["mouth"]}\n', {"odd_one_out": 3, "regions": ["mouth"]}),
])
def test_parser_accepts_good_answers(text, fields):
    parsed = parse_answer(text, SCHEMA)
    assert parsed.valid and parsed.fields == fields and parsed.reason == ""


@pytest.mark.parametrize("text, reason", [
    (None, "no answer (request failed)"),
    ("   ", "empty answer"),
    ("Face 2 is the odd one out.", "not JSON"),
    ('{"odd_one_out": 2, "regions": ["left eye"]', "not JSON"),
    ('{"odd_one_out": 4, "regions": []}', "schema: odd_one_out: 4 is not one of [1, 2, 3]"),
    ('{"odd_one_out": "B", "regions": []}', "schema: odd_one_out"),
    ('{"odd_one_out": 1, "regions": ["ears"]}', "schema: regions.0: 'ears' is not one of"),
    ('{"odd_one_out": 1, "regions": ["mouth", "chin", "forehead", "nose tip"]}', "is too long"),
    ('{"odd_one_out": 1}', "'regions' is a required property"),
    ('{"odd_one_out": 1, "regions": [], "why": "x"}', "Additional properties are not allowed"),
    ('[1, 2]', "is not of type 'object'"),
])
def test_parser_rejects_bad_answers_with_a_reason(text, reason):
    parsed = parse_answer(text, SCHEMA)
    assert not parsed.valid and reason in parsed.reason


def test_parser_repairs_repeated_regions_and_says_so():
    parsed = parse_answer('{"odd_one_out": 1, "regions": ["mouth", "chin", "mouth"]}', SCHEMA)
    assert parsed.valid and parsed.repaired and parsed.fields["regions"] == ["mouth", "chin"]
    assert not parse_answer('{"regions": []}', heatmap_schema(list(REGIONS))).valid  # at least one region


# --- prompts and images -------------------------------------------------------------------------

def test_odd_one_out_request_shows_faces_in_the_given_order():
    imgs = (solid((255, 0, 0)), solid((0, 255, 0)), solid((0, 0, 255)))
    req = odd_one_out_request(7, (11, 12, 13), imgs, (2, 0, 1), list(REGIONS))
    assert req.images == [imgs[2], imgs[0], imgs[1]] and req.faces == (13, 11, 12)
    text = "".join(p for p in req.parts if isinstance(p, str))
    assert "Face 1:" in text and "Face 3:" in text and "left eye" in text and "person's own left" in text
    same = odd_one_out_request(7, (11, 12, 13), imgs, (2, 0, 1), list(REGIONS))
    other = odd_one_out_request(7, (11, 12, 13), imgs, (0, 1, 2), list(REGIONS))
    assert req.prompt_hash == same.prompt_hash != other.prompt_hash
    assert ORDERS[0] == (0, 1, 2) and {p for o in ORDERS[:3] for p in [o[0]]} == {0, 1, 2}


def test_heatmap_prompt_describes_the_signed_colour_map():
    req = heatmap_request(3, "hum", 1, 12, solid((9, 9, 9)), list(REGIONS))
    text = " ".join(p for p in req.parts if isinstance(p, str))
    assert "red areas are evidence FOR" in text and "blue areas are evidence AGAINST" in text
    assert req.order == (1,) and req.faces == (12,) and req.model == "hum" and len(req.images) == 1


def test_images_stay_rgb_and_at_least_56_px():
    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[..., 0] = 200  # pure red: a BGR mix-up would turn it blue
    img = face_image(rgb, 56)
    assert img.mode == "RGB" and img.size == (56, 56) and img.getpixel((28, 28)) == (200, 0, 0)
    with pytest.raises(ValueError, match="vlm.image_size: 28 px is below 56 px"):
        face_image(rgb, 28)
    with pytest.raises(ValueError, match="RGB"):
        face_image(rgb[..., :2], 56)
    rel = np.zeros((8, 8))
    rel[:4] = 1.0   # top half: evidence for (red)
    rel[4:] = -1.0  # bottom half: evidence against (blue)
    over = np.asarray(heatmap_overlay(face_image(np.full((8, 8, 3), 128, np.uint8), 64), rel))
    top, bottom = over[5, 32].astype(int), over[58, 32].astype(int)
    assert top[0] > top[2] and bottom[2] > bottom[0]


def test_trials_are_sampled_from_held_out_splits_only():
    trials = pd.DataFrame({"trial_id": range(30), "split": ["train", "val", "test"] * 10})
    a = sample_held_out(trials, ["test"], 5, 1, "vlm.splits")
    assert len(a) == 5 and set(a["split"]) == {"test"}
    assert a.equals(sample_held_out(trials, ["test"], 5, 1, "vlm.splits"))
    assert len(sample_held_out(trials, ["val", "test"], 100, 1, "vlm.splits")) == 20
    with pytest.raises(ValueError, match="vlm.splits: \\['train'\\] are not held-out"):
        sample_held_out(trials, ["train", "test"], 5, 1, "vlm.splits")


# --- recorder -----------------------------------------------------------------------------------

class ScriptedBackend(Backend):
    """Answers from a script, in order; counts calls (for the resume test)."""

    name = "scripted"

    def __init__(self, answers):
        super().__init__(base_cfg("scripted"))
        self.answers, self.calls = list(answers), 0

    def generate(self, requests):
        self.calls += 1
        return [self.answers.pop(0) for _ in requests]


def requests_for(n_trials: int, orders: int = 3):
    imgs = tuple(solid((40 * i, 0, 0)) for i in range(3))
    return [odd_one_out_request(t, (1, 2, 3), imgs, o, list(REGIONS)) for t in range(n_trials) for o in ORDERS[:orders]]


def test_every_request_keeps_its_row_with_reason_and_attempts():
    reqs = requests_for(2)
    gens = [Generation('{"odd_one_out": 1, "regions": ["mouth"]}'),
            Generation(None, attempts=3, error="InternalServerError: 503"),
            Generation("no idea"),
            Generation('{"odd_one_out": 3, "regions": []}', attempts=2, error="RateLimitError: 429"),
            Generation('{"odd_one_out": 2, "regions": ["chin", "chin"]}'),
            Generation('{"odd_one_out": 9, "regions": []}')]
    rows = answer_rows(reqs, gens, ScriptedBackend([]))
    assert list(rows["request_id"]) == [r.request_id for r in reqs]
    assert list(rows["valid"]) == [True, False, False, True, True, False]
    assert list(rows["attempts"]) == [1, 3, 1, 2, 1, 1] and rows.loc[1, "error"].startswith("InternalServerError")
    assert rows.loc[1, "invalid_reason"] == "no answer (request failed)" and "not JSON" in rows.loc[2, "invalid_reason"]
    # slot → original position and face through the presentation order: order (1, 2, 0), slot 2 → position 2
    assert rows.loc[0, "odd_pos"] == 0 and rows.loc[0, "odd_face"] == 1
    assert reqs[4].order == (1, 2, 0) and rows.loc[4, "odd_pos"] == 2 and rows.loc[4, "odd_face"] == 3
    assert rows.loc[3, "odd_pos"] == 2 and bool(rows.loc[4, "repaired"])
    assert json.loads(rows.loc[4, "regions"]) == ["chin"] and rows["odd_pos"].isna().sum() == 3
    with pytest.raises(RuntimeError, match="returned 1 answers for 6 requests"):
        answer_rows(reqs, gens[:1], ScriptedBackend([]))


def test_finished_batches_are_reused_after_an_interruption(tmp_path):
    reqs = requests_for(4)  # 12 requests, batches of 5
    good = [Generation('{"odd_one_out": 1, "regions": []}')] * 12

    class Dies(ScriptedBackend):
        def generate(self, requests):
            if self.calls == 2:
                raise KeyboardInterrupt  # killed in the third batch
            return super().generate(requests)

    with pytest.raises(KeyboardInterrupt):
        answer_all(reqs, Dies(good), 5, tmp_path, progress=lambda x, **_: x)
    assert len(list(tmp_path.glob("*.parquet"))) == 2
    again = ScriptedBackend(good)
    table = answer_all(reqs, again, 5, tmp_path, progress=lambda x, **_: x)
    assert again.calls == 1 and len(table) == 12 and list(table["request_id"]) == [r.request_id for r in reqs]


# --- the tiny model and the backends ------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from facesimxai.vlm.tiny import build_tiny_qwen2vl

    return str(build_tiny_qwen2vl(tmp_path_factory.mktemp("vlm") / "tiny", seed=0))


@pytest.fixture(scope="module")
def hf_backend(tiny_model):
    from facesimxai.vlm.backends.hf import TransformersBackend

    return TransformersBackend(base_cfg(tiny_model))


def test_chat_template_puts_one_vision_block_per_image_in_order(hf_backend):
    from facesimxai.vlm.backends.base import hf_messages

    req = odd_one_out_request(1, (1, 2, 3), (solid((1, 1, 1)),) * 3, (0, 1, 2), list(REGIONS))
    messages, images = hf_messages(req)
    prompt = hf_backend.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt.count(VISION) == 3 and len(images) == 3
    assert prompt.index("Face 1:") < prompt.index(VISION) < prompt.index("Face 2:") and prompt.endswith("assistant\n")


def test_transformers_backend_answers_a_batch_in_the_schema(hf_backend):
    reqs = requests_for(3)  # 9 three-image prompts in one batch
    gens = hf_backend.generate(reqs)
    assert len(gens) == 9
    parsed = [parse_answer(g.text, SCHEMA) for g in gens]
    # constrained decoding: every answer is schema JSON even from random weights (uniqueItems aside)
    assert all(p.valid for p in parsed), [g.text for g in gens]
    assert [g.text for g in hf_backend.generate(reqs)] == [g.text for g in gens]  # seeded sampling
    unconstrained = type(hf_backend).__new__(type(hf_backend))
    unconstrained.__dict__.update(hf_backend.__dict__, cfg={**hf_backend.cfg, "structured": False})
    free = unconstrained.generate(reqs[:2])
    assert len(free) == 2 and all(isinstance(g.text, str) for g in free)


def make_study(tmp_path, n_faces=4, n_trials=12):
    """Face PNGs with a manifest (checksums as the pipeline writes them) and a trial table."""
    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    rows = []
    for fid in range(1, n_faces + 1):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8), mode="RGB").save(buf, format="png")
        (tmp_path / "images" / f"face_{fid}.png").write_bytes(buf.getvalue())
        rows.append({"face_id": fid, "file": f"images/face_{fid}.png",
                     "sha256": hashlib.sha256(buf.getvalue()).hexdigest()})
    pd.DataFrame(rows).to_parquet(tmp_path / "manifest.parquet")
    heads = np.array([rng.permutation(np.arange(1, n_faces + 1))[:3] for _ in range(n_trials)])
    trials = pd.DataFrame({"trial_id": np.arange(n_trials), "head1": heads[:, 0], "head2": heads[:, 1],
                           "head3": heads[:, 2], "split": ["train", "test"] * (n_trials // 2),
                           "odd_pos": rng.integers(0, 3, n_trials)})
    trials.to_parquet(tmp_path / "trials.parquet")
    return tmp_path / "trials.parquet", tmp_path / "manifest.parquet"


def test_transformers_backend_end_to_end(tmp_path, tiny_model):
    trials, manifest = make_study(tmp_path)
    table = run_vlm(trials, manifest, base_cfg(tiny_model), tmp_path / "answers.parquet")
    assert len(table) == 4 * 3 and (tmp_path / "answers.csv").exists()
    assert set(table["trial_id"]) <= set(range(1, 12, 2))  # test split only
    assert table["valid"].any() and (table["backend"] == "transformers").all()
    assert (table["vlm_revision"] == "local").all() and json.loads(table["sampling"][0])["temperature"] == 1.0
    assert pd.read_parquet(tmp_path / "answers.parquet").equals(table)


class FakeOpenAIServer:
    """An OpenAI-compatible /v1/chat/completions that answers with the tiny model, failing the first
    `fail_first` calls with 503 (to exercise retries) and remembering what it was sent."""

    def __init__(self, backend, fail_first=2):
        self.backend, self.fail_left, self.bodies, self.lock = backend, fail_first, [], threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append(body)
                    fail = server.fail_left > 0
                    server.fail_left -= fail
                    text = None if fail else server.answer(body)
                status, reply = (503, {"error": {"message": "busy"}}) if fail else (200, {
                    "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}]})
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, body) -> str:
        from facesimxai.vlm.prompts import VLMRequest

        parts = []
        for c in body["messages"][0]["content"]:
            if c["type"] == "text":
                parts.append(c["text"])
            else:
                png = base64.b64decode(c["image_url"]["url"].split(",", 1)[1])
                parts.append(Image.open(io.BytesIO(png)).convert("RGB"))
        schema = body["response_format"]["json_schema"]["schema"]
        return self.backend.generate([VLMRequest("srv", "x", 0, (), (), tuple(parts), schema)])[0].text


def test_openai_backend_end_to_end_against_a_local_server(tmp_path, hf_backend, monkeypatch):
    trials, manifest = make_study(tmp_path)
    server = FakeOpenAIServer(hf_backend, fail_first=2)
    monkeypatch.setenv("FACESIMXAI_TEST_KEY", "secret")
    cfg = base_cfg("tiny-qwen2-vl", backend="openai")
    cfg["openai"]["base_url"] = server.url
    try:
        table = run_vlm(trials, manifest, cfg, tmp_path / "answers.parquet")
    finally:
        server.httpd.shutdown()
    assert len(table) == 12 and table["raw_text"].notna().all() and table["valid"].any()
    assert table["attempts"].sum() == 12 + 2 and table.loc[table["attempts"] > 1, "error"].str.contains("503").all()
    body = server.bodies[-1]
    assert body["response_format"]["type"] == "json_schema" and body["max_tokens"] == 48
    urls = [c["image_url"]["url"] for c in body["messages"][0]["content"] if c["type"] == "image_url"]
    assert len(urls) == 3 and all(u.startswith("data:image/png;base64,") for u in urls)
    sent = Image.open(io.BytesIO(base64.b64decode(urls[0].split(",", 1)[1])))
    assert sent.mode == "RGB" and sent.size == (56, 56) and (table["backend"] == "openai").all()


def test_openai_backend_gives_up_after_bounded_retries_and_records_it(tmp_path, hf_backend):
    from facesimxai.vlm.backends.openai_api import OpenAIBackend

    server = FakeOpenAIServer(hf_backend, fail_first=100)
    cfg = base_cfg("m", backend="openai")
    cfg["openai"]["base_url"] = server.url
    try:
        gens = OpenAIBackend(cfg).generate(requests_for(1, orders=2))
    finally:
        server.httpd.shutdown()
    assert [g.attempts for g in gens] == [3, 3] and all(g.text is None and "503" in g.error for g in gens)
    assert len(server.bodies) == 6


def test_a_run_where_every_request_failed_writes_nothing(tmp_path, hf_backend):
    trials, manifest = make_study(tmp_path)
    server = FakeOpenAIServer(hf_backend, fail_first=1000)
    cfg = base_cfg("m", backend="openai")
    cfg["openai"]["base_url"] = server.url
    try:
        with pytest.raises(RuntimeError, match="every one of 12 requests to the openai backend failed .*503"):
            run_vlm(trials, manifest, cfg, tmp_path / "answers.parquet", parts_dir=tmp_path / "parts")
    finally:
        server.httpd.shutdown()
    assert not (tmp_path / "answers.parquet").exists() and not (tmp_path / "answers.csv").exists()
    assert not list((tmp_path / "parts").glob("*.parquet"))  # failed batches are not kept for resuming


def test_batches_with_failed_requests_are_not_kept_for_resuming(tmp_path):
    reqs = requests_for(2)  # 6 requests, batches of 3: the first batch has a failure
    answers = [Generation('{"odd_one_out": 1, "regions": []}')] * 6
    answers[1] = Generation(None, attempts=3, error="APIConnectionError")
    answer_all(reqs, ScriptedBackend(answers), 3, tmp_path, progress=lambda x, **_: x)
    assert len(list(tmp_path.glob("*.parquet"))) == 1
    again = ScriptedBackend([Generation('{"odd_one_out": 2, "regions": []}')] * 3)
    table = answer_all(reqs, again, 3, tmp_path, progress=lambda x, **_: x)
    assert again.calls == 1 and table["valid"].all() and table.loc[1, "attempts"] == 1


def test_an_unloadable_model_names_the_config_key(tmp_path):
    from facesimxai.vlm.backends.hf import TransformersBackend

    with pytest.raises(ValueError, match="config key vlm.model: cannot load .*nowhere"):
        TransformersBackend(base_cfg(str(tmp_path / "nowhere")))


def test_vllm_request_building(tiny_model, monkeypatch):
    """vLLM is CUDA-only: a stand-in module records what the backend hands the engine."""
    from transformers import AutoTokenizer

    from facesimxai.vlm.backends import vllm_offline

    seen = {}

    class LLM:
        def __init__(self, **kwargs):
            seen["engine"] = kwargs

        def get_tokenizer(self):
            return AutoTokenizer.from_pretrained(tiny_model)

        def generate(self, prompts, sampling_params, use_tqdm):
            seen["prompts"], seen["params"] = prompts, sampling_params
            out = types.SimpleNamespace(text='{"odd_one_out": 2, "regions": ["chin"]}')
            return [types.SimpleNamespace(outputs=[out]) for _ in prompts]

    class SamplingParams(dict):
        def __init__(self, **kwargs):
            super().__init__(kwargs)

    class StructuredOutputsParams(dict):
        def __init__(self, **kwargs):
            super().__init__(kwargs)

    fake = types.ModuleType("vllm")
    fake.LLM, fake.SamplingParams = LLM, SamplingParams
    fake.sampling_params = types.ModuleType("vllm.sampling_params")
    fake.sampling_params.StructuredOutputsParams = StructuredOutputsParams
    monkeypatch.setitem(sys.modules, "vllm", fake)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", fake.sampling_params)

    cfg = base_cfg("Qwen/Qwen2-VL-72B-Instruct", backend="vllm", temperature=0.0, revision="abc123")
    backend = vllm_offline.VLLMBackend(cfg)
    reqs = requests_for(2)
    gens = backend.generate(reqs)
    assert seen["engine"] == {"model": "Qwen/Qwen2-VL-72B-Instruct", "revision": "abc123", "tensor_parallel_size": 4,
                              "limit_mm_per_prompt": {"image": 3, "video": 0},
                              "mm_processor_kwargs": {"max_pixels": 50176}, "max_model_len": 4096,
                              "max_num_seqs": 8, "gpu_memory_utilization": 0.85, "seed": 0}
    assert len(seen["prompts"]) == 6 and all(p["prompt"].count(VISION) == 3 for p in seen["prompts"])
    assert seen["prompts"][1]["multi_modal_data"]["image"] == reqs[1].images
    params = seen["params"][0]
    assert params["temperature"] == 0.0 and params["max_tokens"] == 48  # never vLLM's 16-token default
    assert params["structured_outputs"] == {"json": SCHEMA}
    assert [g.text for g in gens] == ['{"odd_one_out": 2, "regions": ["chin"]}'] * 6


# --- evaluation maths ---------------------------------------------------------------------------

def test_uniform_chance_is_the_hypergeometric_level_the_thesis_left_out():
    out = evaluate.agreement([["mouth", "chin", "nose_tip"]] * 4, [["forehead", "left_eye", "right_eye"]] * 4,
                             n_permutations=50, seed=0)
    assert out["uniform_hit"] == pytest.approx(1 - comb(9, 3) / comb(12, 3)) == pytest.approx(0.618, abs=1e-3)
    assert out["hit"] == 0 and out["share"] == 0 and out["shuffled_hit"] == 0  # identical sets: null = observed


def test_agreement_against_the_shuffled_baseline():
    vlm = [["mouth"], ["chin"], ["left_eye"], ["nose_tip"]] * 5
    truth = [["mouth", "forehead"], ["chin", "forehead"], ["left_eye", "forehead"], ["nose_tip", "forehead"]] * 5
    out = evaluate.agreement(vlm, truth, n_permutations=500, seed=0)
    assert out["hit"] == 1.0 and out["share"] == 1.0 and out["n"] == 20
    assert out["shuffled_hit"] == pytest.approx(0.25, abs=0.05)  # a shuffled answer lands on its own kind 5/20
    assert out["p_hit"] < 0.01
    assert evaluate.agreement([[]], [["mouth"]], 10, 0) == {"n": 0}


def known_answers():
    """Three trials × two orders; the identity-order answers are positions 0, 1, 1."""
    rows = []
    spec = [(0, "012", 1, ["mouth"]), (0, "120", 3, ["mouth"]),   # both pick face at position 0
            (1, "012", 2, ["chin"]), (1, "120", 2, ["chin"]),     # position 1, then position 2: inconsistent
            (2, "012", 2, ["forehead"]), (2, "120", None, [])]    # one valid order only
    for tid, order, slot, regions in spec:
        o = tuple(int(c) for c in order)
        faces = [10 * tid + p for p in o]
        rows.append({"task": "odd_one_out", "trial_id": tid, "order": order, "model": "", "valid": slot is not None,
                     "answer_slot": slot, "odd_pos": o[slot - 1] if slot else None,
                     "odd_face": faces[slot - 1] if slot else None, "regions": json.dumps(regions)})
    rows.append({"task": "heatmap", "trial_id": 0, "order": "0", "model": "hum", "valid": True, "answer_slot": None,
                 "odd_pos": None, "odd_face": None, "regions": json.dumps(["mouth", "chin"])})
    table = pd.DataFrame(rows)
    for c in ("answer_slot", "odd_pos", "odd_face"):
        table[c] = table[c].astype("Int64")
    return table


def test_accuracy_kappa_and_order_consistency_on_known_answers():
    answers = known_answers()
    human = pd.DataFrame({"trial_id": [0, 1, 2], "split": "test", "human_odd": [0, 1, 2]})
    preds = {"hum": human.assign(pred_pos=[0, 1, 2]), "maxp": human.assign(pred_pos=[2, 2, 2])}
    table = evaluate.comparison_table(answers, preds)
    assert list(table["vlm"]) == [0, 1, 1] and list(table["vlm_face"]) == [0, 11, 21]
    acc = evaluate.accuracy(table, ["vlm", "hum", "maxp"])
    assert acc["vlm"]["accuracy"] == pytest.approx(2 / 3) and acc["hum"]["accuracy"] == 1.0
    assert acc["maxp"]["accuracy"] == pytest.approx(1 / 3) and acc["vlm"]["n"] == 3
    k = evaluate.kappas(table, ["human", "vlm", "hum", "maxp"])
    assert k["human|hum"] == pytest.approx(1.0) and k["hum|maxp"] == pytest.approx(0.0)
    order = evaluate.order_consistency(answers)
    assert order["n_trials"] == 2 and order["consistent"] == 0.5 and order["chance"] == pytest.approx(1 / 3)
    assert order["slot_counts"] == {1: 1, 2: 3, 3: 1}
    with pytest.raises(ValueError, match="maxp: no prediction for 1 VLM trials"):
        evaluate.comparison_table(answers, {"maxp": preds["maxp"].iloc[:2]})


def test_region_agreement_uses_the_explained_face_and_its_positive_regions():
    answers = known_answers()
    human = pd.DataFrame({"trial_id": [0, 1, 2], "split": "test", "human_odd": [0, 1, 2], "pred_pos": [0, 1, 2]})
    table = evaluate.comparison_table(answers, {"hum": human})
    regions = pd.DataFrame([
        {"trial_id": t, "position": 0, "target_pos": 0, "face_id": 10 * t, "region": r, "share": s}
        for t in (0, 1, 2) for r, s in (("mouth", 0.5), ("chin", 0.3), ("forehead", -0.6), ("left_eye", 0.1))])
    tops = {"hum": evaluate.lrp_top(regions, 2)}
    assert tops["hum"][0] == (0, ["mouth", "chin"])  # the negative forehead is not "relevant for"
    out = evaluate.region_agreement(answers, table, tops, n_permutations=20, seed=0)
    assert out["odd_one_out|hum"]["n"] == 3 and out["odd_one_out|hum"]["hit"] == pytest.approx(2 / 3)
    assert out["odd_one_out_same_face|hum"]["n"] == 1  # only trial 0: the VLM picked face 0, the explained one
    assert out["heatmap|hum"]["n"] == 1 and out["heatmap|hum"]["share"] == 1.0


# --- free questions about a trial (issue 12) -----------------------------------------------------

def test_free_question_is_answered_from_the_table_and_recorded(tmp_path, tiny_model, capsys):
    from test_explanations import tables

    from facesimxai.cli import main
    from facesimxai.explanations.questions import ask_about_trial
    from facesimxai.explanations.table import explanation_table

    conf, reg = tables()
    (tmp_path / "explanations").mkdir()
    table = explanation_table(conf, {"hum": reg}, "lrp")
    table.to_parquet(tmp_path / "explanations" / "trials.parquet")
    rows = table[table["trial_id"] == 7]
    log = tmp_path / "explanations" / "questions.parquet"
    scripted = ScriptedBackend([Generation('{"answer": "The forehead pushed most towards face 3."}'),
                                Generation("The forehead.")])
    first = ask_about_trial(rows, "Which region mattered most?", {}, log, backend=scripted)
    assert first["valid"] and first["answer"] == "The forehead pushed most towards face 3."
    assert "Question: Which region mattered most?" in first["prompt"] and "chosen_face" in first["prompt"]
    assert rows["sentence"].iloc[0] in first["prompt"]  # grounded: the table, sentence included, is in the prompt
    second = ask_about_trial(rows, "And?", {}, log, backend=scripted)
    assert not second["valid"] and second["answer"] is None and "not JSON" in second["invalid_reason"]
    recorded = pd.read_parquet(log)
    assert list(recorded["question"]) == ["Which region mattered most?", "And?"]
    assert recorded["prompt_hash"].is_unique and (recorded["task"] == "question").all()
    # the CLI through the configured transformers backend (text-only prompt on the tiny model)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"vlm: {{backend: transformers, model: {tiny_model}, device: cpu, max_tokens: 24}}\n")
    main(["explain-trial", "7", "--results", str(tmp_path), "--ask", "Why face 3?", "--config", str(cfg)])
    out = capsys.readouterr().out
    assert "Q: Why face 3?" in out and ("from the table only" in out or "no valid answer (" in out)
    assert len(pd.read_parquet(log)) == 3
    cfg.write_text("vlm: {backend: none}\n")
    with pytest.raises(SystemExit, match="vlm.backend is none"):
        main(["explain-trial", "7", "--results", str(tmp_path), "--ask", "Why?", "--config", str(cfg)])


def test_free_question_about_a_verification_pair_is_answered_from_its_tables(tmp_path, tiny_model, capsys):
    """explain-pair prints the pair's decision, region table and sentence; --ask sends them (and
    nothing else) to the backend and records the answer in verification/questions.parquet."""
    from facesimxai.cli import explain_pair, main
    from facesimxai.explanations.questions import ask_recorded
    from facesimxai.faithfulness import TECHNIQUES
    from facesimxai.verification.questions import pair_question_request
    from facesimxai.verification.regions import pair_sentence

    folder = tmp_path / "verification"
    folder.mkdir()
    scores = pd.DataFrame({"pair_id": [4], "fold": [0], "a": [1], "b": [2], "genuine": [True], "similarity": [0.8],
                           "threshold": [0.6], "accepted": [True], "correct": [True], "c_score": [0.9]})
    regions = pd.DataFrame([{"pair_id": 4, "technique": t, "region": r, "importance": v}
                            for t in TECHNIQUES for r, v in (("mouth", 0.3), ("left_eye", -0.1))])
    sentence = pair_sentence(scores.iloc[0], regions)
    scores.to_parquet(folder / "scores.parquet")
    regions.to_parquet(folder / "regions.parquet")
    pd.DataFrame({"pair_id": [4], "sentence": [sentence], "reason": [None]}).to_parquet(folder / "sentences.parquet")
    printed = explain_pair(4, tmp_path)
    assert printed.startswith("pair 4: genuine, similarity 0.800, threshold 0.600, accepted (correct)")
    assert "mouth" in printed and sentence in printed and "Regions that make the faces alike: mouth (+30%)" in sentence
    with pytest.raises(SystemExit, match="pair 5 has no region table"):
        explain_pair(5, tmp_path)
    request = pair_question_request(scores.iloc[0], regions, "Which region mattered most?")
    assert "mouth" in request.parts[0] and "0.8" in request.parts[0] and not request.images
    log = folder / "questions.parquet"
    record = ask_recorded(request, "Which region mattered most?", {}, log,
                          backend=ScriptedBackend([Generation('{"answer": "The mouth."}')]))
    assert record["valid"] and record["answer"] == "The mouth."
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"vlm: {{backend: transformers, model: {tiny_model}, device: cpu, max_tokens: 24}}\n")
    main(["explain-pair", "4", "--results", str(tmp_path), "--ask", "Same person?", "--config", str(cfg)])
    out = capsys.readouterr().out
    assert "Q: Same person?" in out and ("from the table only" in out or "no valid answer (" in out)
    assert list(pd.read_parquet(log)["question"]) == ["Which region mattered most?", "Same person?"]
