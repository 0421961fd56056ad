"""``shutdown survey``: every documented record made a case and measured by the pipeline
``report`` runs, one row per record (``run.survey``), written as tables, figures and a page
(``output.write``). No detection or verdict logic of its own: a driver of the pipeline.

    from shutdown import documented, survey
    docs = documented.read("keepiton-stop-2016-2022.xlsx", start=..., end=...)
    rows = survey.run.survey(docs, survey.run.Options(out=Path("out/survey"), sources=["ioda"]))
"""
from shutdown.survey import output, run  # noqa: F401
