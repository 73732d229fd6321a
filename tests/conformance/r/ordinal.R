# R conformance fixtures for surveylib.ordinal (svyolr, proportional odds).
# Writes tests/conformance/fixtures/ordinal.json.
# Run via: Rscript tests/conformance/make_fixtures.R   (design.R writes the api CSVs first)
#
# Designs (as in inference.R):
#   dclus1   apiclus1, id=dnum, weights=pw, fpc=fpc
#   dstrat   apistrat, strata=stype, weights=pw, fpc=fpc
# Outcome: mealcat = cut(meals, c(0,25,50,75,100)) (4 ordered levels; meals == 0 gives NA
# and is dropped by na.omit), as in R's ?svyolr example.
#
# Each case is fitted twice:
#   tight    svyolr(..., control=list(reltol=1e-15, maxit=1000)): BFGS run to the maximum
#            (the reference the Python tests compare with at 1e-6 relative);
#   default  svyolr(...) with optim's default reltol (~1.5e-8), which stops up to ~1e-4
#            (relative) short of the maximum; recorded to document that gap.
# Both use optim's hessian=TRUE (central differences, ndeps=1e-3), which surveylib copies.

GEN <- "tests/conformance/r/ordinal.R"
ENV <- new.env(parent = globalenv())
num <- function(x) as.list(unname(as.numeric(x)))

ENV$apiclus1 <- fx_read_csv("apiclus1.csv")
ENV$apistrat <- fx_read_csv("apistrat.csv")
ENV$apiclus1$mealcat <- cut(ENV$apiclus1$meals, c(0, 25, 50, 75, 100))
ENV$apistrat$mealcat <- cut(ENV$apistrat$meals, c(0, 25, 50, 75, 100))

designs <- list(
  dstrat = list(data = "apistrat.csv", strata = "stype", psu = NULL, weights = "pw",
                fpc = "fpc", nest = FALSE,
                r_call = "svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)"),
  dclus1 = list(data = "apiclus1.csv", strata = NULL, psu = "dnum", weights = "pw",
                fpc = "fpc", nest = FALSE,
                r_call = "svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)")
)
for (id in names(designs)) ENV[[id]] <- eval(parse(text = designs[[id]]$r_call), ENV)

one_fit <- function(code) {
  r <- fx_try_eval(code, ENV)
  if (!is.null(r$error)) stop(code, ": ", r$error)
  m <- r$value
  if (m$convergence != 0) stop(code, ": optim did not converge")
  list(r_call = code, coef = num(coef(m)), se = num(SE(m)), vcov = fx_matrix(vcov(m)),
       deviance = m$deviance, r_warnings = as.list(r$warnings))
}

cases <- list()
add_case <- function(id, design, formula, method = "logistic", subset = NULL) {
  dcall <- if (is.null(subset)) design else sprintf("subset(%s, %s)", design, subset)
  base <- sprintf("svyolr(%s, %s, method=%s", formula, dcall, deparse(method))
  tight <- one_fit(paste0(base, ", control=list(reltol=1e-15, maxit=1000))"))
  default <- one_fit(paste0(base, ")"))
  m <- fx_eval(paste0(base, ")"), ENV)
  cases[[length(cases) + 1]] <<- list(
    id = id, design = design, formula = formula, method = method, subset = subset,
    names = as.list(names(coef(m))), n_coef = length(m$coefficients),
    levels = as.list(m$lev), df = m$df.residual, n = nrow(m$fitted.values),
    tight = tight, default = default)
}
add_case("clus1_help_example", "dclus1", "mealcat~avg.ed+mobility+stype")
add_case("clus1_avg_ed_mobility", "dclus1", "mealcat~avg.ed+mobility")
add_case("strat_factor", "dstrat", "mealcat~avg.ed+stype")
add_case("strat_probit", "dstrat", "mealcat~avg.ed+ell", method = "probit")
add_case("clus1_subset_E", "dclus1", "mealcat~avg.ed+mobility", subset = "stype == \"E\"")

fx_write_json(c(fx_header(GEN), list(designs = designs, cases = cases)), "ordinal.json")
