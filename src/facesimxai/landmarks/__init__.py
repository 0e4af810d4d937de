"""Facial landmarks (MediaPipe face mesh) and the 12 thesis regions as pixel masks.

``mesh`` detects the 478-point mesh, ``regions`` loads and validates the region definitions
(``resources/regions.yaml``), ``masks`` rasterises region hulls with an explicit overlap policy,
``figures`` draws them for the report.
"""
