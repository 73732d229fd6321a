"""Fixtures shared by the test files: one local Spark session for the whole test session."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (2 cores) for the test session; started on first use."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:  # .ci/run installs it, and fails if it cannot
        pytest.skip("Spark needs a Java runtime: apt-get install openjdk-17-jre-headless")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("surveylib-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.memory", "1g").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session
