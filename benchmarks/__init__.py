"""Benchmarks: flux_sdk against a raw httpx floor, gradio_client and the gpt4free request logic.

Run them with ``nox -s bench`` (see docs/performance.md).
"""
