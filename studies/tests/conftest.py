"""The package's shared fixtures, for the studies' tests too."""

from tests.conftest import shared_data  # noqa: F401 - a fixture, found by its name
