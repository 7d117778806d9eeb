"""Shared pytest configuration: the fixtures that start real servers live in tests/fixtures/."""

pytest_plugins = ["tests.fixtures.s3_server"]
