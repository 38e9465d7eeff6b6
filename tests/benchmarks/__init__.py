"""Benchmarks, run as scripts (`python -m tests.benchmarks.bench_ack`); not collected by pytest."""
