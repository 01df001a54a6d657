"""The command line: serve, doctor, demo, and export/plan/apply for change sets (entry point: main.py)."""
