# R conformance fixtures for surveylib.mi (R mitools MIcombine over survey designs).
# Writes tests/conformance/data/mi_apistrat.csv, mi_apiclus1.csv (five imputations stacked,
# column imp) and tests/conformance/fixtures/mi.json.  Run via:
#     Rscript tests/conformance/make_fixtures.R
#
# Imputation (only to make data; any imputation would do): each missing acs.46 (apistrat) /
# avg.ed (apiclus1) is drawn at random from the observed values of the same stype
# (set.seed(17)).  Designs per imputation: svydesign(id=~1, strata=~stype, weights=~pw,
# fpc=~fpc) on apistrat, svydesign(id=~dnum, weights=~pw, fpc=~fpc) on apiclus1, and
# as.svrepdesign(that, type="JK1") of the clustered one.  Each case:
# MIcombine(with(designs, stat)) -> coef, vcov, df, missinfo (df.complete = Inf, R's default).
# svyby with covmat=TRUE: surveylib's domain estimates carry their covariances.

suppressPackageStartupMessages(library(mitools))
GEN <- "tests/conformance/r/mi.R"
num <- function(x) as.list(unname(as.numeric(x)))
set.seed(17)
impute <- function(df, v, M = 5) {
  out <- lapply(seq_len(M), function(m) {
    d <- df
    for (s in unique(d$stype)) {
      miss <- is.na(d[[v]]) & d$stype == s
      pool <- d[[v]][!is.na(d[[v]]) & d$stype == s]
      d[[v]][miss] <- pool[sample.int(length(pool), sum(miss), replace = TRUE)]
    }
    d$imp <- m
    d
  })
  do.call(rbind, out)
}
apistrat <- fx_read_csv("apistrat.csv")
apiclus1 <- fx_read_csv("apiclus1.csv")
keep_s <- c("stype", "pw", "fpc", "ell", "meals", "awards", "acs.46")
keep_c <- c("dnum", "stype", "pw", "fpc", "ell", "meals", "awards", "avg.ed")
ms <- fx_write_csv(impute(apistrat[, keep_s], "acs.46"), "mi_apistrat.csv")
mc <- fx_write_csv(impute(apiclus1[, keep_c], "avg.ed"), "mi_apiclus1.csv")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc,
                    data = imputationList(split(ms, ms$imp)))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc,
                    data = imputationList(split(mc, mc$imp)))
rclus1 <- lapply(dclus1$designs, as.svrepdesign, type = "JK1")

cases <- list()
add <- function(id, design, stat, r_call, results) {
  r <- MIcombine(results)
  cases[[length(cases) + 1]] <<- list(
    id = id, design = design, stat = stat, r_call = r_call, names = as.list(names(coef(r))),
    coef = num(coef(r)), vcov = fx_matrix(vcov(r)), df = num(r$df), missinfo = num(r$missinfo))
}
add("strat_mean", "dstrat", "mean acs.46", "MIcombine(with(dstrat, svymean(~acs.46)))",
    with(dstrat, svymean(~acs.46)))
add("strat_by_awards", "dstrat", "mean acs.46 by awards",
    "MIcombine(with(dstrat, svyby(~acs.46, ~awards, svymean, covmat=TRUE)))",
    with(dstrat, svyby(~acs.46, ~awards, svymean, covmat = TRUE)))
add("strat_glm", "dstrat", "glm acs.46 ~ ell + meals",
    "MIcombine(with(dstrat, svyglm(acs.46 ~ ell + meals)))",
    with(dstrat, svyglm(acs.46 ~ ell + meals)))
add("clus1_mean", "dclus1", "mean avg.ed", "MIcombine(with(dclus1, svymean(~avg.ed)))",
    with(dclus1, svymean(~avg.ed)))
add("rclus1_mean", "rclus1", "mean avg.ed",
    "MIcombine(lapply(rclus1, function(d) svymean(~avg.ed, d)))",
    lapply(rclus1, function(d) svymean(~avg.ed, d)))
fx_write_json(c(fx_header(GEN), list(cases = cases)), "mi.json")
