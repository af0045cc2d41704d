"""Scenario files: typed models by section, YAML loading with file:line errors, schema, docs."""
