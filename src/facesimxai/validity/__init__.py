"""Explainer validity: every explainer checked against known answers on unseen synthetic faces."""
