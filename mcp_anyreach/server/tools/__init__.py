"""The tool implementations, one module per toolset; `registry.py` says what each one does to the world."""
