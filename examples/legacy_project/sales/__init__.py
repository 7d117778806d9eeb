"""A daily sales report, written against the legacy (0.10-style) ResultHandler API."""
