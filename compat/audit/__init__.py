"""The pytest plugin that reports every legacy use a test session exercises (``pytest --legacy-audit``).

Registered through the ``pytest11`` entry point, so installing results-compat is enough. It listens to
``compat.deprecations`` directly rather than to captured warnings, so it sees legacy uses at import and collection
time and in code whose warnings ``filterwarnings`` ignores or turns into errors.
"""
