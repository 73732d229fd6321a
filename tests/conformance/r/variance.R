# R conformance fixtures for surveylib's design-based variance of a variable (R svyvar).
# Writes tests/conformance/fixtures/variance.json.  Run via:
#     Rscript tests/conformance/make_fixtures.R
#
# Designs: dstrat (apistrat, strata=stype, weights=pw, fpc=fpc), dclus1 (apiclus1,
# id=dnum, weights=pw, fpc=fpc), dclus2 (apiclus2, id=~dnum+snum, fpc=~fpc1+fpc2),
# rstrat = as.svrepdesign(dstrat, type="JKn"), rclus1 = as.svrepdesign(dclus1, type="JK1").
# Cases: svyvar(~api00) and svyvar(~enroll) on each design; svyby(~api00, ~stype, d, svyvar)
# on dstrat, dclus1, rstrat, rclus1; svyvar on subset(d, sch.wide == "Yes") on dstrat and
# rstrat.  Each row: estimate and SE as R prints them (SE() of the result).

GEN <- "tests/conformance/r/variance.R"
apistrat <- fx_read_csv("apistrat.csv")
apiclus1 <- fx_read_csv("apiclus1.csv")
apiclus2 <- fx_read_csv("apiclus2.csv")
designs <- list(
  dstrat = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
  dclus1 = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1),
  dclus2 = svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
)
designs$rstrat <- as.svrepdesign(designs$dstrat, type = "JKn")
designs$rclus1 <- as.svrepdesign(designs$dclus1, type = "JK1")

one <- function(id, design, variable, call, v, subset = NULL) {
  list(id = id, design = design, variable = variable, by = NULL, subset = subset,
       r_call = call,
       rows = list(list(domain = NULL, estimate = unname(as.numeric(coef(v))[1]),
                        se = unname(as.numeric(SE(v))[1]))))
}
cases <- list()
for (d in names(designs)) {
  for (y in c("api00", "enroll")) {
    if (d == "dclus2" && y == "enroll") next  # enroll has NA there (see the docs on na_rm)
    call <- sprintf("svyvar(~%s, %s)", y, d)
    cases[[length(cases) + 1]] <- one(paste(d, y, sep = "__"), d, y, call,
                                      svyvar(as.formula(paste0("~", y)), designs[[d]]))
  }
}
for (d in c("dstrat", "dclus1", "rstrat", "rclus1")) {
  b <- svyby(~api00, ~stype, designs[[d]], svyvar)
  call <- sprintf("svyby(~api00, ~stype, %s, svyvar)", d)
  rows <- lapply(seq_len(nrow(b)), function(i)
    list(domain = as.character(b$stype[i]), estimate = unname(coef(b)[i]),
         se = unname(SE(b)[i])))
  cases[[length(cases) + 1]] <- list(id = paste(d, "api00_by_stype", sep = "__"), design = d,
                                     variable = "api00", by = "stype", subset = NULL,
                                     r_call = call, rows = rows)
}
for (d in c("dstrat", "rstrat")) {
  call <- sprintf("svyvar(~api00, subset(%s, sch.wide == \"Yes\"))", d)
  cases[[length(cases) + 1]] <- one(paste(d, "api00_subset", sep = "__"), d, "api00", call,
                                    svyvar(~api00, subset(designs[[d]], sch.wide == "Yes")),
                                    subset = "sch.wide == 'Yes'")
}
fx_write_json(c(fx_header(GEN), list(cases = cases)), "variance.json")
