"""Vision-language-model stage: batched odd-one-out and heatmap-reading requests to a VLM
(vLLM offline, an OpenAI-compatible server, or a local Hugging Face model), every request and
answer recorded, and the answers compared with humans and the triplet models."""
