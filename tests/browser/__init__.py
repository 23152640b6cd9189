"""Browser tests: JupyterLab and Voila in Chromium, driven by Playwright (see conftest.py)."""
