"""The tool implementations, one module per toolset: each tool beside its preview, found by its row in
`registry.py`, which says what each one does to the world."""
