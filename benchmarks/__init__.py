"""Benchmarks of counsel-search: each one measures the product and rewrites a page of docs/.

Run them as modules from the repository root, e.g. `.venv/bin/python -m benchmarks.quality`
(every one has `--help`):

- `benchmarks.quality`: retrieval quality on the bench tasks (docs/quality.md), with
  `benchmarks.quality_models` for the second model and `benchmarks.bench_tasks` for the data;
- `benchmarks.crisis`: the crisis check's recall and false alarms (docs/safety.md);
- `benchmarks.all`: `benchmarks.scale` (docs/scale.md, with `benchmarks.scale_product`), then
  `benchmarks.perf` (docs/performance.md, with `benchmarks.perf_page` and
  `benchmarks.perf_report`);
- `benchmarks.incremental`, `benchmarks.load`, `benchmarks.hubness`, `benchmarks.backends`:
  docs/incremental.md, docs/load.md, docs/hubness.md, docs/scaling.md;
- `benchmarks.make_bench_sample`: cuts data/bench_sample from the bench.

Shared helpers: `benchmarks.common` (paths, percentiles, recall, timing, memory, Markdown
tables), `benchmarks.synthetic` (synthetic vectors and timed vector-store searches) and
`benchmarks.browser` (the page on a free port and in Chromium, also used by
tests/test_browser.py).
"""
