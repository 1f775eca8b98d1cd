"""One-off studies that chose the package's defaults: not part of the wheel. See README.md."""
