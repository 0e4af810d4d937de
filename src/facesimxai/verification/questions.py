"""Free questions about one verification pair, answered by the configured VLM/LLM backend from the
pair's decision and region table alone (seed 004's question answering over the explainability
table); recorded in ``verification/questions.parquet`` like the trial questions."""

from __future__ import annotations

import pandas as pd

from facesimxai.explanations.questions import ANSWER_SCHEMA
from facesimxai.vlm.prompts import VLMRequest


def pair_question_request(pair: pd.Series, regions: pd.DataFrame, question: str) -> VLMRequest:
    """A text-only request: instructions, the pair's decision and its region table as CSV, the question."""
    if not question.strip():
        raise ValueError("the question is empty")
    decision = pd.DataFrame([pair[["pair_id", "similarity", "threshold", "accepted", "c_score"]]])
    table = regions.pivot(index="region", columns="technique", values="importance").reset_index()
    text = ("You answer questions about one decision of a face verification model (are two face images the same "
            "person?). 'similarity' is the cosine similarity of the two images' embeddings; the pair is accepted as "
            "the same person when it is at least 'threshold'; 'c_score' is the calibrated probability that the "
            "decision is correct. The region table gives, per facial region and technique, how much the region "
            "raises the similarity (negative: it sets the faces apart); 'average' is each region's signed share. "
            "Use only these tables. If they do not hold the answer, say so.\n\n"
            f"Decision (CSV):\n{decision.to_csv(index=False)}\nRegions (CSV):\n{table.to_csv(index=False)}\n"
            f"Question: {question.strip()}\n"
            'Answer with JSON only: {"answer": "<your answer>"}')
    pid = int(pair["pair_id"])
    return VLMRequest(f"pair_question/{pid}", "question", pid, (), (), (text,), ANSWER_SCHEMA)
