"""The training report of a run: its metric history read back from MLflow as tables and figures.

data.py reads a run (through radiodiff.tracking), summary.py and resume.py compute its numbers,
figures.py draws it, document.py arranges the report and render.py writes it as Markdown and HTML.
The `report` job (radiodiff.jobs.report) writes the files and logs them into the run.
"""
