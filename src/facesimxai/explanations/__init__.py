"""Per-trial explanation tables and plain-language sentences built from them."""
