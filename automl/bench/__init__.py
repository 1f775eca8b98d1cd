"""The benchmark harness: a fixed protocol, peers side by side."""
