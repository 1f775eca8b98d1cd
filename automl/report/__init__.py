"""The run report: one self-contained report.html (figures inline, nothing fetched).

collect (what a run left: node outputs and files) -> run_sections / model_sections (one
section each: overview, data, search, ensemble, compact model, feature importance) with
plots and importance -> page (the HTML) -> write (report.html, atomically). `stage` is
the graph's `report` node; a fit without one writes the report at its end.
"""
