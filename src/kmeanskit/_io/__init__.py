"""Input and output: reading tables (whole or in chunks) and writing them, model files, and the
atomic write every file kmeanskit writes goes through."""
