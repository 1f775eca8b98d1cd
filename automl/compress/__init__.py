"""Compression: distill the ensemble into one compact model, export to ONNX (to come)."""
