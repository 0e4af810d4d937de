"""Calibrated confidence of triplet decisions (a C-Score for three-way odd-one-out choices)."""
