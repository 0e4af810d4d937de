"""Free questions about one trial, answered by the configured VLM/LLM backend from that trial's
explanation table alone (the prompt holds the table); every question, prompt and answer is
appended to `explanations/questions.parquet`."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from facesimxai.io import write_parquet
from facesimxai.vlm.answers import parse_answer
from facesimxai.vlm.backends import Backend, make_backend
from facesimxai.vlm.prompts import VLMRequest
from facesimxai.vlm.run import answer_rows

log = logging.getLogger(__name__)
TABLE_COLUMNS = ["model", "trial_id", "pred_pos", "human_odd", "confidence", "softmax_conf", "towards", "against",
                 "sentence"]
ANSWER_SCHEMA = {"type": "object", "properties": {"answer": {"type": "string", "minLength": 1, "maxLength": 800}},
                 "required": ["answer"], "additionalProperties": False}


def question_request(rows: pd.DataFrame, question: str) -> VLMRequest:
    """A text-only request: instructions, the trial's table as CSV (positions counted from 1), the question."""
    if not question.strip():
        raise ValueError("the question is empty")
    shown = rows[TABLE_COLUMNS].copy()
    shown[["pred_pos", "human_odd"]] += 1
    shown = shown.rename(columns={"pred_pos": "chosen_face", "human_odd": "human_choice"})
    text = ("You answer questions about one decision of face-similarity models (which of three faces is the odd "
            "one out). Use only the table below: 'towards' and 'against' list facial regions with their signed "
            "share of the relevance on the chosen face. If the table does not hold the answer, say so.\n\n"
            f"Table (CSV):\n{shown.to_csv(index=False)}\nQuestion: {question.strip()}\n"
            'Answer with JSON only: {"answer": "<your answer>"}')
    tid = int(rows["trial_id"].iloc[0])
    return VLMRequest(f"question/{tid}", "question", tid, (), (), (text,), ANSWER_SCHEMA)


def ask_about_trial(rows: pd.DataFrame, question: str, vlm_cfg: dict, log_file: Path | str,
                    backend: Backend | None = None) -> dict:
    """Ask, record (appending to `log_file`) and return the record: answer, validity, prompt."""
    return ask_recorded(question_request(rows, question), question, vlm_cfg, log_file, backend)


def ask_recorded(request: VLMRequest, question: str, vlm_cfg: dict, log_file: Path | str,
                 backend: Backend | None = None) -> dict:
    """Send one text-only request with ``ANSWER_SCHEMA``, append question, prompt and answer to
    ``log_file`` and return the record (shared by trial and verification-pair questions)."""
    backend = backend or make_backend(vlm_cfg)
    record = answer_rows([request], backend.generate([request]), backend)
    record.insert(0, "question", question.strip())
    record["prompt"] = request.parts[0]
    parsed = parse_answer(record.loc[0, "raw_text"], ANSWER_SCHEMA)
    record["answer"] = parsed.fields["answer"] if parsed.valid else None
    log_file = Path(log_file)
    earlier = pd.read_parquet(log_file) if log_file.exists() else None
    write_parquet(pd.concat([earlier, record], ignore_index=True) if earlier is not None else record, log_file)
    log.info("question on %s recorded in %s", request.request_id, log_file)
    return record.iloc[0].to_dict()
