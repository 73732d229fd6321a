# R conformance fixtures for Wald tests of model terms: surveylib.inference.wald on a
# GLMResult / OLRResult against R regTermTest(model, terms, method="Wald").
# Writes tests/conformance/fixtures/models.json.
# Run via: Rscript tests/conformance/make_fixtures.R   (design.R writes the api CSVs first)
#
# Designs (as in inference.R and ordinal.R):
#   dstrat   apistrat, strata=stype, weights=pw, fpc=fpc
#   dclus1   apiclus1, id=dnum, weights=pw, fpc=fpc
#
# Section regtermtest: one case per (model, terms, null).  Each model is fitted as in
# inference.R (svyglm with glm.control(epsilon=1e-12)) or ordinal.R (svyolr with
# control=list(reltol=1e-15), the fit surveylib reaches).  Recorded:
#   F form      regTermTest(m, terms, null=, method="Wald"): Ftest, df, ddf, p
#                 (ddf = the model's df.residual, R's default);
#   chisq form  regTermTest(m, terms, null=, df=Inf, method="Wald"): chisq, p;
#   coef_names  the R names of the coefficients tested, in R's order.

GEN <- "tests/conformance/r/models.R"
ENV <- new.env(parent = globalenv())
num <- function(x) as.list(unname(as.numeric(x)))

ENV$apistrat <- fx_read_csv("apistrat.csv")
ENV$apiclus1 <- fx_read_csv("apiclus1.csv")
ENV$apiclus1$mealcat <- cut(ENV$apiclus1$meals, c(0, 25, 50, 75, 100))

designs <- list(
  dstrat = list(data = "apistrat.csv", strata = "stype", psu = NULL, weights = "pw",
                fpc = "fpc", nest = FALSE,
                r_call = "svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)"),
  dclus1 = list(data = "apiclus1.csv", strata = NULL, psu = "dnum", weights = "pw",
                fpc = "fpc", nest = FALSE,
                r_call = "svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)")
)
for (id in names(designs)) ENV[[id]] <- eval(parse(text = designs[[id]]$r_call), ENV)

run <- function(code) {
  r <- fx_try_eval(code, ENV)
  if (!is.null(r$error)) stop(code, ": ", r$error)
  r$value
}

models <- list(
  strat_gaussian = list(
    design = "dstrat", kind = "glm", formula = "api00 ~ ell + meals + stype",
    family = "gaussian",
    r_call = "svyglm(api00 ~ ell + meals + stype, dstrat, family=gaussian(), control=glm.control(epsilon=1e-12, maxit=100))"),
  clus1_binomial = list(
    design = "dclus1", kind = "glm", formula = "dom_yes ~ ell + meals + stype",
    family = "binomial",
    r_call = "svyglm(dom_yes ~ ell + meals + stype, dclus1, family=quasibinomial(), control=glm.control(epsilon=1e-12, maxit=100))"),
  clus1_poisson = list(
    design = "dclus1", kind = "glm", formula = "emer ~ ell + meals",
    family = "poisson",
    r_call = "svyglm(emer ~ ell + meals, dclus1, family=quasipoisson(), control=glm.control(epsilon=1e-12, maxit=100))"),
  clus1_olr = list(
    design = "dclus1", kind = "olr", formula = "mealcat ~ avg.ed + mobility + stype",
    family = NULL,
    r_call = "svyolr(mealcat ~ avg.ed + mobility + stype, dclus1, method=\"logistic\", control=list(reltol=1e-15, maxit=1000))")
)
for (id in names(models)) ENV[[id]] <- run(models[[id]]$r_call)

cases <- list()
add_case <- function(id, model, terms, null = NULL) {
  tt <- paste(deparse(terms), collapse = "")
  nl <- if (is.null(null)) "" else sprintf(", null=%s", paste(deparse(null), collapse = ""))
  code_f <- sprintf("regTermTest(%s, %s%s, method=\"Wald\")", model, tt, nl)
  code_c <- sprintf("regTermTest(%s, %s%s, df=Inf, method=\"Wald\")", model, tt, nl)
  m <- ENV[[model]]
  if (inherits(m, "svyolr")) {
    # regTermTest on a svyolr rebuilds its model matrix with eval(call$design), which looks
    # the design up from the global environment: put it there for this call only.
    dn <- models[[model]]$design
    assign(dn, ENV[[dn]], envir = globalenv())
    on.exit(rm(list = dn, envir = globalenv()), add = TRUE)
  }
  f <- run(code_f)
  c2 <- run(code_c)
  labels <- if (inherits(terms, "formula")) attr(stats::terms(terms), "term.labels") else terms
  aa <- attr(model.matrix(m), "assign")
  if (inherits(m, "svyolr")) aa <- aa[-1]
  tested <- names(coef(m))[which(aa %in% match(labels, attr(stats::terms(m), "term.labels")))]
  cases[[length(cases) + 1]] <<- list(
    id = id, model = model, terms = as.list(labels),
    null = if (is.null(null)) NULL else num(null), r_call = as.list(c(code_f, code_c)),
    coef_names = as.list(tested),
    Ftest = as.numeric(f$Ftest), df = f$df, ddf = as.numeric(f$ddf), p = as.numeric(f$p),
    chisq = as.numeric(c2$chisq), chisq_p = as.numeric(c2$p))
}
add_case("strat_gaussian_stype", "strat_gaussian", ~stype)
add_case("strat_gaussian_ell_meals", "strat_gaussian", ~ell + meals)
add_case("strat_gaussian_ell", "strat_gaussian", ~ell)
add_case("strat_gaussian_stype_null", "strat_gaussian", ~stype, null = c(-100, 20))
add_case("clus1_binomial_stype", "clus1_binomial", ~stype)
add_case("clus1_binomial_ell_meals", "clus1_binomial", c("ell", "meals"))
add_case("clus1_poisson_ell_meals", "clus1_poisson", ~ell + meals)
add_case("clus1_olr_stype", "clus1_olr", ~stype)
add_case("clus1_olr_avg_ed_mobility", "clus1_olr", ~avg.ed + mobility)

fx_write_json(c(fx_header(GEN), list(designs = designs, models = models,
                                     regtermtest = cases)), "models.json")
