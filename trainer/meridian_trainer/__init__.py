"""Meridian trainer: trains the models the Meridian server serves and exports them as ONNX.

The server never imports this package; it runs `python -m meridian_trainer ...` as a
separate process and reads the JSON lines it prints (see report.py) and the artifact
directory it writes (see manifest.py).
"""

__version__ = "0.1.0"
