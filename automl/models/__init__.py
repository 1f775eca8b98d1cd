"""Model families: one module each, one registry (`automl.models.registry`)."""
