# svyglm on replicate-weight designs (issue 17): R refits the model with each replicate's
# weights (glm.fit from the full-sample coefficients) and takes svrVar of the coefficients.
#
# Designs: the JK1 analysis weights of apiclus1 (data/rep_cols_apiclus1.csv, columns repw*)
# and the bootstrap weights of apistrat (data/rep_cols_apistrat.csv, columns bw*), both
# written by replicate.R; also the same JK1 design with mse = TRUE.  Models: gaussian,
# quasibinomial and quasipoisson, with glm.control(epsilon = 1e-13, maxit = 100) so that
# both the full fit and every replicate refit are converged far below the test tolerance
# (R's default epsilon = 1e-8 stops earlier; its control is used for the refits too).
# The Python side names the response sch_wide_yes = (sch.wide == "Yes") * 1 and the factor
# C(stype); "terms" are R's coefficient names.  Writes fixtures/glm_replicate.json.

suppressPackageStartupMessages(library(survey))

clus <- fx_read_csv("rep_cols_apiclus1.csv")
strat <- fx_read_csv("rep_cols_apistrat.csv")
designs <- list(
  jk1 = list(data = "rep_cols_apiclus1.csv", rep_weights = "repw*", type = "JK1",
             scale = 14 / 15, mse = FALSE,
             design = svrepdesign(data = clus, repweights = "repw[0-9]+", weights = ~pw,
                                  type = "JK1", scale = 14 / 15)),
  jk1_mse = list(data = "rep_cols_apiclus1.csv", rep_weights = "repw*", type = "JK1",
                 scale = 14 / 15, mse = TRUE,
                 design = svrepdesign(data = clus, repweights = "repw[0-9]+", weights = ~pw,
                                      type = "JK1", scale = 14 / 15, mse = TRUE)),
  boot = list(data = "rep_cols_apistrat.csv", rep_weights = "bw*", type = "bootstrap",
              scale = NULL, mse = FALSE,
              design = svrepdesign(data = strat, repweights = "bw[0-9]+", weights = ~pw,
                                   type = "bootstrap"))
)
models <- list(
  gaussian = list(formula = "api00 ~ ell + meals + C(stype)",
                  r = api00 ~ ell + meals + stype, family = gaussian()),
  binomial = list(formula = "sch_wide_yes ~ ell + meals",
                  r = I(sch.wide == "Yes") ~ ell + meals, family = quasibinomial()),
  poisson = list(formula = "enroll ~ ell + meals", r = enroll ~ ell + meals,
                 family = quasipoisson())
)
ctl <- glm.control(epsilon = 1e-13, maxit = 100)

cases <- list()
for (dn in names(designs)) for (mn in names(models)) {
  d <- designs[[dn]]
  m <- models[[mn]]
  des <- d$design
  fit <- eval(bquote(svyglm(.(m$r), design = des, family = .(m$family), control = .(ctl))))
  v <- unname(as.matrix(vcov(fit)))
  cases[[length(cases) + 1]] <- list(
    id = paste(dn, mn, sep = "__"), data = d$data, rep_weights = d$rep_weights,
    type = d$type, scale = d$scale, mse = d$mse, formula = m$formula, family = mn,
    terms = as.list(names(coef(fit))), coef = as.list(unname(coef(fit))),
    vcov = lapply(seq_len(nrow(v)), function(i) as.list(v[i, ])),
    r_call = paste0("svyglm(", deparse(m$r), ", ", dn, ", family=", m$family$family,
                    "(), control=glm.control(epsilon=1e-13, maxit=100))"))
}
fx_write_json(list(generator = "tests/conformance/r/glm_replicate.R",
                   r_version = R.version.string,
                   survey_version = as.character(packageVersion("survey")),
                   cases = cases), "glm_replicate.json")
