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
``robustness(data, study)``  the conclusions of one reconstruction (``--draws K``);
``NOT_CHECKABLE``  what in the publication cannot be checked against the microdata;
``PLAN``         the script of ``surveylib plan``.

Run one exhibit from the study root with ``python -m analyses.table_7_1``.
"""

from __future__ import annotations

#: The exhibits in report order (modules of this folder).
EXHIBITS = ("design_facts", "table_7_1", "diagram_7_2", "diagram_7_3", "diagram_7_1", "reasons_labour",
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
    "labels": (
        ("fam_culture_seed004", "familiarity with culture (seed 004's 4 items)"),
        ("fam_culture", "familiarity with culture (9 items)"),
        ("fam_modern", "familiarity with modern China (5 items)"),
        ("fam_all", "familiarity (all 14 items)"),
        ("att_pos", "positive attitude (very good + good)"),
        ("att_neg", "negative attitude (poor + very poor)"),
        ("att_pi", "positive or indifferent"),
        ("reason_work", "reason: work"), ("reason_trade", "reason: trade"),
        ("reason_property", "reason: buying property"),
        ("reason_citizenship", "reason: citizenship"), ("reason_marriage", "reason: marriage"),
        ("labour_1", "labour market: tough competition"),
        ("labour_2", "labour market: fill niches"),
        ("edu_acq", "acquaintances study in China"), ("edu_self", "would study in China"),
        ("edu_child", "would send a child to study in China"),
        ("sino_self", "would study sinology"), ("sino_child", "child to study sinology"),
        ("unweighted", "as published (unweighted)"),
        ("common", "18+ in both waves"), ("wave", "as published (2007 18+, 2012 15+)"),
    ),
}

#: What the publication prints that cannot be checked against the microdata (the report's
#: "Gaps" section lists them).
NOT_CHECKABLE = (
    "Figures printed only in the publication's images (the bars of Diagrams 7.1-7.3 and 6.1 "
    "without a number in the text) cannot be read and are not audited.",
    "The Southern region: nothing is published; its 2012 mean is whatever the reconstruction "
    "makes of it (any value in about [2.68, 3.40) fits the published figures).",
    "The 2007 regional means and distributions are not published (only two 2007 positive "
    "shares, for Eastern and Central).",
    "The item-level familiarity bars (Diagram 7.1) are drawn from invented item totals: only "
    "the group means are published; the items are an assumption (familiarity_prior).",
    "Associations with age, education, sex and settlement are products of the priors and the "
    "tilt_* knobs, not findings.",
)


def load(study=None):
    """Both waves' respondent files, read once and shared by every exhibit."""
    from . import _common

    return _common.load_data(study)


def robustness(data=None, study=None):
    """Every between-wave test, subgroup claim and regional comparison on one reconstruction
    (``surveylib replicate --draws K`` calls it on the shipped files and on every draw)."""
    from .conclusions import tests

    return tests(data, study=study)


def assumptions(study=None) -> list[str]:
    """The report's assumptions: the reconstruction's provenance, line by line."""
    from surveylib.report.runner import assumptions_from

    from . import _common

    return assumptions_from(_common.provenance(study))
