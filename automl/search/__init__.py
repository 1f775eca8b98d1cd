"""Search: the ONE package that imports ray.tune (space translation, trainable, searchers)."""
