"""The Kazakhstan study: attitudes of the urban population to migrants from China, 2007 and 2012.

This folder is content, not library: one script per published exhibit, each with
``run(data=None, *, study=None) -> surveylib.report.ExhibitResult``, run by
``surveylib replicate`` (which imports this folder as a package through
:mod:`surveylib.study`; nothing is put on ``sys.path``).  What the runner reads from here:

``EXHIBITS``     the scripts in report order;
``REPORT``       the report's title and banners (keyword arguments of
                 :class:`surveylib.report.ReportInfo`);
``load(study)``  the data every exhibit shares, read once per run;
``assumptions(study)``  the lines of the report's assumptions section;
``PLAN``         the script of ``surveylib plan``.

Run one exhibit from the study root with ``python -m analyses.table_7_1``.
"""

from __future__ import annotations

#: The exhibits in report order (modules of this folder).
EXHIBITS = ("table_7_1", "diagram_7_2", "diagram_7_3", "diagram_7_1", "reasons_labour",
            "diagram_6_1", "sample_error", "subgroup_claims", "wave3_report")

#: The script behind ``surveylib plan`` (its ``run(**options)`` returns a plan).
PLAN = "wave3_plan"

#: Texts of the replication report (surveylib.report.ReportInfo).
REPORT = {
    "title": "Replication: attitudes of Kazakhstan's urban population to migrants from China "
             "(2007, 2012)",
    "short_title": "Replication: attitudes to migrants from China (Kazakhstan 2007, 2012)",
    "banner": "RECONSTRUCTED MICRODATA: these numbers come from respondent files rebuilt from "
              "the published aggregates (surveylib.reconstruct), not from the original survey "
              "files, which are not public. Agreement with the published figures is by "
              "construction; standard errors, tests and weighted estimates describe the "
              "reconstruction.",
    "data_notice": "RECONSTRUCTED microdata, not the original survey files",
    "assumptions_title": "Assumptions (microdata/provenance.json)",
}


def load(study=None):
    """Both waves' respondent files, read once and shared by every exhibit."""
    from . import _common

    return _common.load_data(study)


def assumptions(study=None) -> list[str]:
    """The report's assumptions: the reconstruction's provenance, line by line."""
    from surveylib.report.runner import assumptions_from

    from . import _common

    return assumptions_from(_common.provenance(study))
