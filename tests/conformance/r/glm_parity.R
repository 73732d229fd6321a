# R conformance fixtures for the svyglm parity items of surveylib.models / inference.modeltests:
# rescaled weights (mean over all rows of the design before rows with missing values are
# dropped), the deviance, summary.svyglm's dispersion, regTermTest(method="LRT"),
# anova(m0, m1), AIC.svyglm and BIC.svyglm.
# Writes tests/conformance/fixtures/glm_parity.json.  Run via:
#     Rscript tests/conformance/make_fixtures.R
#
# Designs: dstrat (apistrat, strata=stype, weights=pw, fpc=fpc), dclus1 (apiclus1, id=dnum,
# weights=pw, fpc=fpc), and the domain subset(dstrat, awards == "Yes").  Every model is fitted
# with control=glm.control(epsilon=1e-12, maxit=100).  Models are fitted in the global
# environment because regTermTest(method="LRT") refits them with update().  The tested terms
# have no missing values, so R's refit (on every row complete for the smaller model) and
# surveylib's (on the rows of the full model) use the same rows.

GEN <- "tests/conformance/r/glm_parity.R"
num <- function(x) as.list(unname(as.numeric(x)))
apistrat <- fx_read_csv("apistrat.csv")
apiclus1 <- fx_read_csv("apiclus1.csv")
G <- globalenv()
G$dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
G$dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
G$dsub <- subset(G$dstrat, awards == "Yes")
CTRL <- "control=glm.control(epsilon=1e-12, maxit=100)"

fit <- function(formula, design, family) {
  code <- sprintf("svyglm(%s, %s, family=%s, %s)", formula, design, family, CTRL)
  list(code = code, m = eval(parse(text = code), G))
}

# id, design, full formula, family, tested term, smaller formula (nested, for anova and BIC)
specs <- list(
  list("strat_gaussian", "dstrat", "api00 ~ ell + meals + stype", "gaussian()", "stype",
       "api00 ~ ell + meals"),
  list("strat_binomial_na", "dstrat", "dom_yes ~ ell + acs.46 + meals", "quasibinomial()",
       "ell", "dom_yes ~ acs.46 + meals"),
  list("clus1_binomial_na", "dclus1", "dom_yes ~ meals + avg.ed + stype", "quasibinomial()",
       "stype", "dom_yes ~ meals + avg.ed"),
  list("clus1_poisson_na", "dclus1", "emer ~ ell + avg.ed", "quasipoisson()", "ell",
       "emer ~ avg.ed"),
  list("sub_gaussian", "dsub", "api00 ~ ell + meals + mobility", "gaussian()", "mobility",
       "api00 ~ ell")
)
cases <- list()
for (s in specs) {
  names(s) <- c("id", "design", "formula", "family", "term", "small")
  big <- fit(s$formula, s$design, s$family)
  m <- big$m
  G$.m <- m
  small <- fit(s$small, s$design, s$family)
  G$.m0 <- small$m
  disp <- summary(m)$dispersion
  lrt <- regTermTest(m, as.formula(paste("~", s$term)), method = "LRT")
  lrt_inf <- regTermTest(m, as.formula(paste("~", s$term)), method = "LRT", df = Inf)
  an <- anova(small$m, m)
  an_chisq <- anova(small$m, m, test = "Chisq")
  aic <- AIC(m)
  bic <- BIC(small$m, maximal = m)
  bic_full <- BIC(m, maximal = m)
  cases[[length(cases) + 1]] <- list(
    id = s$id, design = s$design, formula = s$formula, family = s$family,
    small_formula = s$small, term = s$term, r_call = big$code, r_call_small = small$code,
    names = as.list(names(coef(m))), coef = num(coef(m)), se = num(SE(m)),
    df_residual = m$df.residual, n = length(m$y),
    deviance = deviance(m), null_deviance = m$null.deviance,
    naive_cov = fx_matrix(m$naive.cov),
    dispersion = as.numeric(disp), dispersion_se = as.numeric(SE(disp)),
    lrt = list(r_call = sprintf("regTermTest(m, ~%s, method=\"LRT\")", s$term),
               chisq = as.numeric(lrt$chisq), df = lrt$df, ddf = lrt$ddf, p = as.numeric(lrt$p),
               p_inf = as.numeric(lrt_inf$p), lambda = num(lrt$lambda)),
    anova = list(r_call = "anova(m_small, m)", chisq = as.numeric(an$chisq), df = an$df,
                 ddf = an$ddf, p = as.numeric(an$p), p_chisq = as.numeric(an_chisq$p)),
    aic = list(r_call = "AIC(m)", eff_p = unname(aic["eff.p"]), AIC = unname(aic["AIC"]),
               deltabar = unname(aic["deltabar"])),
    bic = list(r_call = "BIC(m_small, maximal=m)", p = unname(bic["p"]),
               BIC = unname(bic["BIC"]), neff = unname(bic["neff"])),
    bic_self = list(r_call = "BIC(m, maximal=m)", p = unname(bic_full["p"]),
                    BIC = unname(bic_full["BIC"]))
  )
}
rm(dstrat, dclus1, dsub, .m, .m0, envir = G)
fx_write_json(c(fx_header(GEN), list(cases = cases)), "glm_parity.json")
