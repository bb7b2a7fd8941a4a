"""Input and output: reading tables, model files."""
