#!/usr/bin/env Rscript
# Regenerate the R conformance fixtures for surveylib.
#
# Run from the repository root:
#     Rscript tests/conformance/make_fixtures.R
#
# Sources tests/conformance/r/00_helpers.R, then every other
# tests/conformance/r/*.R in sorted (C-locale) order.  Each of those scripts
# writes its own tests/conformance/fixtures/<name>.json (and any input CSVs it
# needs into tests/conformance/data/).  Everything is deterministic: synthetic
# data use set.seed(), and the JSON contains no timestamps, so regenerating
# gives byte-identical files for the same R / survey versions.

if (!file.exists(file.path("tests", "conformance", "make_fixtures.R"))) {
  stop("run from the repository root: Rscript tests/conformance/make_fixtures.R")
}

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

FX_ROOT <- file.path("tests", "conformance")
FX_R_DIR <- file.path(FX_ROOT, "r")
FX_DATA_DIR <- file.path(FX_ROOT, "data")
FX_FIXTURE_DIR <- file.path(FX_ROOT, "fixtures")
dir.create(FX_DATA_DIR, showWarnings = FALSE, recursive = TRUE)
dir.create(FX_FIXTURE_DIR, showWarnings = FALSE, recursive = TRUE)

source(file.path(FX_R_DIR, "00_helpers.R"))

scripts <- sort(list.files(FX_R_DIR, pattern = "\\.R$", full.names = FALSE),
                method = "radix")
scripts <- setdiff(scripts, "00_helpers.R")
for (s in scripts) {
  message("== ", s)
  # Each script runs in its own environment (child of the global one, so the
  # helpers are visible) and with R's default survey options restored.
  fx_reset_options()
  sys.source(file.path(FX_R_DIR, s), envir = new.env(parent = globalenv()))
}
fx_reset_options()
message("done")
