"""Rendering without HTTP: the Jinja environment (filters that format money, time and masks,
translations), charts and labels. The web pages (core/web) and the PDFs (core/pdf) both use it."""
