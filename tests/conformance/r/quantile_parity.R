# R conformance fixtures for svyquantile's quantile rules (qrule = math, school, hf1 ... hf9)
# and interval types (interval.type = mean, beta, xlogit, asin; score on the Taylor designs).
# Writes tests/conformance/fixtures/quantile_parity.json.  Run via:
#     Rscript tests/conformance/make_fixtures.R
#
# Designs: dstrat (apistrat, strata=stype, weights=pw, fpc=fpc), dclus1 (apiclus1, id=dnum,
# weights=pw, fpc=fpc), rclus1 = as.svrepdesign(dclus1, type="JK1") (Woodruff intervals on a
# replicate design: the CDF share's SE from the replicates).  Domains:
# svyby(~api00, ~awards, dstrat, svyquantile, ...) and svyby(~api00, ~sch.wide, rclus1, ...).
# Each row: quantile, interval (ci_low, ci_high) and SE as R reports them.

GEN <- "tests/conformance/r/quantile_parity.R"
apistrat <- fx_read_csv("apistrat.csv")
apiclus1 <- fx_read_csv("apiclus1.csv")
E <- new.env()
E$dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
E$dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
E$rclus1 <- as.svrepdesign(E$dclus1, type = "JK1")
P <- c(0.1, 0.5, 0.9)
nan_null <- function(x) if (is.nan(x) || is.na(x)) NA else x

cases <- list()
add <- function(design, var, qrule, itype) {
  code <- sprintf("svyquantile(~%s, %s, quantiles=c(0.1, 0.5, 0.9), qrule=\"%s\", interval.type=\"%s\", ci=TRUE)",
                  var, design, qrule, itype)
  q <- eval(parse(text = code), E)[[var]]
  rows <- lapply(seq_along(P), function(i) list(
    domain = NA, p = P[i], estimate = q[i, 1], ci_low = nan_null(q[i, 2]),
    ci_high = nan_null(q[i, 3]), se = nan_null(q[i, 4])))
  cases[[length(cases) + 1]] <<- list(id = paste(design, var, qrule, itype, sep = "__"),
                                      design = design, variable = var, by = NA, qrule = qrule,
                                      interval_type = itype, r_call = code, rows = rows)
}
add_by <- function(design, var, by, qrule, itype) {
  code <- sprintf("svyby(~%s, ~%s, %s, svyquantile, quantiles=0.5, qrule=\"%s\", interval.type=\"%s\", ci=TRUE, vartype=c(\"se\",\"ci\"))",
                  var, by, design, qrule, itype)
  b <- eval(parse(text = code), E)
  rows <- lapply(seq_len(nrow(b)), function(i) list(
    domain = as.character(b[[by]][i]), p = 0.5, estimate = unname(coef(b)[i]),
    ci_low = nan_null(b$ci_l[i]), ci_high = nan_null(b$ci_u[i]), se = nan_null(unname(SE(b)[i]))))
  cases[[length(cases) + 1]] <<- list(id = paste(design, var, by, qrule, itype, sep = "__"),
                                      design = design, variable = var, by = by, qrule = qrule,
                                      interval_type = itype, r_call = code, rows = rows)
}
rules <- c("math", "school", paste0("hf", 1:9))
for (d in c("dstrat", "dclus1", "rclus1")) {
  for (r in rules) add(d, "api00", r, "mean")
  for (it in c("beta", "xlogit", "asin")) add(d, "api00", "math", it)
  add(d, "enroll", "hf7", "xlogit")
  if (d != "rclus1") for (r in c("math", "school", "hf6")) add(d, "api00", r, "score")
}
add_by("dstrat", "api00", "awards", "math", "score")
for (r in c("math", "hf4", "hf8")) for (it in c("mean", "beta", "asin")) {
  add_by("dstrat", "api00", "awards", r, it)
  add_by("rclus1", "api00", "sch.wide", r, it)
}
fx_write_json(c(fx_header(GEN), list(cases = cases)), "quantile_parity.json")
