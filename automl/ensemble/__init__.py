"""Ensembles over the search's trials, and the predictor every run ships."""
