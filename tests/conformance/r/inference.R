# R conformance fixtures for surveylib.inference and surveylib.models.
# Writes tests/conformance/fixtures/inference.json and the synthetic wave data
# tests/conformance/data/synth_wave1.csv, synth_wave2.csv.
# Run via: Rscript tests/conformance/make_fixtures.R   (design.R writes the api CSVs first)
#
# Designs:
#   dstrat   apistrat, strata=stype, weights=pw, fpc=fpc
#   dclus1   apiclus1, id=dnum, weights=pw, fpc=fpc
#   dwave1 / dwave2   synthetic waves: 6 strata, PSU ids reused within strata
#            (nest=TRUE), weights; 5-level attitude `att` (wave 1 has no att=5
#            in region R3: a zero cell), numeric `score`, `region`, `sex`
#   dstack   rbind(wave1, wave2) with strata paste(wave, stratum): strata nested
#            in wave, nest=TRUE (what surveylib.stack_waves builds)
#
# Sections (keys of inference.json):
#   chisq     svychisq(~row+col, design, statistic=s) for every s.  Without the
#             CompQuadForm package (not installable here) R's "lincom" falls
#             back to the saddlepoint approximation and says so in a warning;
#             that is recorded in r_warnings and the Python test only checks
#             lincom loosely against it.
#   tables    svymean / svytotal of interaction(row, col): the crosstab cells
#   ttest     svyttest two-group, one-sample (I(y - mu) ~ 0), paired (I(a - b) ~ 0)
#   contrast  svycontrast of svymean / svyby(covmat=TRUE); wald: Wald tests of
#             several contrasts computed from R's coef/vcov (X2 = b' V^-1 b)
#   glm       svyglm gaussian / quasibinomial / quasipoisson (glm.control
#             epsilon=1e-12 so both sides are converged far below 1e-8)
#   compare   wave differences from the stacked design: svyby(~att, ~wave,
#             svymean, covmat=TRUE) + svycontrast, svyby(~score, ~wave+region);
#             per-wave estimates from each wave's own design and its degf

GEN <- "tests/conformance/r/inference.R"
ENV <- new.env(parent = globalenv())
num <- function(x) as.list(unname(as.numeric(x)))

ENV$apistrat <- fx_read_csv("apistrat.csv")
ENV$apiclus1 <- fx_read_csv("apiclus1.csv")

# ----------------------------------------------------------- synthetic waves --
set.seed(20240701)
make_wave <- function(wave, n_psu, probs_att, score_shift) {
  rows <- list()
  for (h in 1:6) for (j in seq_len(n_psu[h])) {
    m <- sample(8:14, 1)
    u <- rnorm(1, 0, 0.4)
    region <- sample(c("R1", "R2", "R3"), m, replace = TRUE)
    att <- sample(1:5, m, replace = TRUE, prob = probs_att)
    score <- round(50 + 3 * h + score_shift + 4 * u + rnorm(m, 0, 10), 2)
    rows[[length(rows) + 1]] <- data.frame(
      wave = wave, stratum = paste0("S", h), psu = j, region = region,
      sex = sample(c("F", "M"), m, replace = TRUE), att = att, score = score,
      weight = round((40 + 15 * h) * exp(rnorm(m, 0, 0.15)), 3))
  }
  do.call(rbind, rows)
}
w1 <- make_wave("w1", c(4, 5, 4, 6, 5, 4), c(0.10, 0.20, 0.30, 0.25, 0.15), 0)
w1$att[w1$region == "R3" & w1$att == 5] <- 4L   # zero cell: R3 x att 5 in wave 1
w2 <- make_wave("w2", c(5, 4, 5, 5, 4, 6), c(0.08, 0.15, 0.27, 0.30, 0.20), 2)
ENV$synth_wave1 <- fx_write_csv(w1, "synth_wave1.csv")
ENV$synth_wave2 <- fx_write_csv(w2, "synth_wave2.csv")
for (nm in c("synth_wave1", "synth_wave2")) ENV[[nm]]$att <- factor(ENV[[nm]]$att)
stack <- rbind(ENV$synth_wave1, ENV$synth_wave2)
stack$wstratum <- paste(stack$wave, stack$stratum, sep = ":")
ENV$stack <- stack

designs <- list(
  dstrat = list(data = "apistrat.csv", strata = "stype", psu = NULL, weights = "pw",
                fpc = "fpc", nest = FALSE,
                r_call = "svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)"),
  dclus1 = list(data = "apiclus1.csv", strata = NULL, psu = "dnum", weights = "pw",
                fpc = "fpc", nest = FALSE,
                r_call = "svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)"),
  dwave1 = list(data = "synth_wave1.csv", strata = "stratum", psu = "psu", weights = "weight",
                fpc = NULL, nest = TRUE,
                r_call = "svydesign(id=~psu, strata=~stratum, weights=~weight, nest=TRUE, data=synth_wave1)"),
  dwave2 = list(data = "synth_wave2.csv", strata = "stratum", psu = "psu", weights = "weight",
                fpc = NULL, nest = TRUE,
                r_call = "svydesign(id=~psu, strata=~stratum, weights=~weight, nest=TRUE, data=synth_wave2)"),
  dstack = list(data = "stack", strata = "wstratum", psu = "psu", weights = "weight",
                fpc = NULL, nest = TRUE,
                r_call = "svydesign(id=~psu, strata=~wstratum, weights=~weight, nest=TRUE, data=stack)")
)
for (id in names(designs)) ENV[[id]] <- eval(parse(text = designs[[id]]$r_call), ENV)

run <- function(code) {
  r <- fx_try_eval(code, ENV)
  if (!is.null(r$error)) stop(code, ": ", r$error)
  r
}

# -------------------------------------------------------------------- chisq --
chisq <- list()
tables <- list()
add_chisq <- function(id, design, row, col) {
  res <- list()
  warns <- list()
  for (s in c("F", "Chisq", "Wald", "adjWald", "lincom", "saddlepoint")) {
    code <- sprintf("svychisq(~%s+%s, %s, statistic=%s)", row, col, design, deparse(s))
    r <- run(code)
    v <- r$value
    res[[s]] <- list(statistic = unname(as.numeric(v$statistic)),
                     ndf = if (is.null(v$parameter)) NA else unname(as.numeric(v$parameter[1])),
                     ddf = if (length(v$parameter) < 2) NA else unname(as.numeric(v$parameter[2])),
                     p_value = unname(as.numeric(v$p.value)),
                     method = v$method, r_call = code)
    warns[[s]] <- as.list(r$warnings)
  }
  chisq[[length(chisq) + 1]] <<- list(id = id, design = design, row = row, col = col,
                                       results = res, r_warnings = warns)
  code <- sprintf("svymean(~interaction(%s, %s), %s)", row, col, design)
  m <- run(code)$value
  code_t <- sprintf("svytotal(~interaction(%s, %s), %s)", row, col, design)
  t <- run(code_t)$value
  lv <- strsplit(sub("^interaction\\([^)]*\\)", "", names(coef(m))), ".", fixed = TRUE)
  tables[[length(tables) + 1]] <<- list(
    id = id, design = design, row = row, col = col, r_call = as.list(c(code, code_t)),
    row_level = lapply(lv, `[`, 1), col_level = lapply(lv, `[`, 2),
    share = num(coef(m)), share_se = num(SE(m)), share_vcov = fx_matrix(vcov(m)),
    count = num(coef(t)), count_se = num(SE(t)))
}
add_chisq("strat_stype_schwide", "dstrat", "stype", "sch.wide")
add_chisq("clus1_stype_awards", "dclus1", "stype", "awards")
add_chisq("wave1_region_att_zero_cell", "dwave1", "region", "att")
add_chisq("stack_wave_att", "dstack", "wave", "att")

# -------------------------------------------------------------------- ttest --
ttest <- list()
add_ttest <- function(id, design, kind, code, args) {
  v <- run(code)$value
  ttest[[length(ttest) + 1]] <<- list(
    id = id, design = design, kind = kind, args = args, r_call = code,
    estimate = unname(as.numeric(v$estimate)), statistic = unname(as.numeric(v$statistic)),
    df = unname(as.numeric(v$parameter)), p_value = unname(as.numeric(v$p.value)),
    ci_low = as.numeric(v$conf.int[1]), ci_high = as.numeric(v$conf.int[2]))
}
add_ttest("strat_two_group", "dstrat", "two", "svyttest(api00~sch.wide, dstrat)",
          list(var = "api00", by = "sch.wide"))
add_ttest("clus1_two_group", "dclus1", "two", "svyttest(api00~comp.imp, dclus1)",
          list(var = "api00", by = "comp.imp"))
add_ttest("strat_one_sample", "dstrat", "one", "svyttest(I(api00-650)~0, dstrat)",
          list(var = "api00", mu = 650))
add_ttest("clus1_paired", "dclus1", "paired", "svyttest(I(api00-api99)~0, dclus1)",
          list(var = list("api00", "api99")))
add_ttest("strat_subset_E_two_group", "dstrat", "two",
          "svyttest(api00~sch.wide, subset(dstrat, stype==\"E\"))",
          list(var = "api00", by = "sch.wide", subset_col = "stype", subset_value = "E"))

# ----------------------------------------------------------------- contrast --
contrast <- list()
add_contrast <- function(id, design, est_call, est_args, coefs) {
  est <- run(est_call)$value
  df <- degf(ENV[[design]])
  code <- sprintf("svycontrast(%s, %s)", est_call, paste(deparse(coefs), collapse = ""))
  cc <- svycontrast(est, coefs)
  ct <- coef(cc) / SE(cc)
  contrast[[length(contrast) + 1]] <<- list(
    id = id, design = design, args = est_args, r_call = code,
    coefficients = lapply(coefs, function(v) as.list(as.numeric(v))),
    names = as.list(names(coefs)),
    estimate = num(coef(cc)), se = num(SE(cc)), vcov = fx_matrix(vcov(cc)), df = df,
    t = num(ct), p_value = num(2 * pt(-abs(ct), df)))
}
add_contrast("strat_api00_minus_api99", "dstrat", "svymean(~api00+api99, dstrat)",
             list(estimator = "mean", variables = list("api00", "api99"), by = NULL),
             list(diff = c(1, -1)))
add_contrast("clus1_by_stype", "dclus1",
             "svyby(~api00, ~stype, dclus1, svymean, covmat=TRUE)",
             list(estimator = "mean", variables = list("api00"), by = "stype"),
             list(EvsH = c(1, -1, 0), EvsM = c(1, 0, -1), avg = c(1, 1, 1) / 3))

wald <- list()
add_wald <- function(id, design, est_call, est_args, cmat) {
  est <- run(est_call)$value
  b <- drop(cmat %*% coef(est))
  V <- cmat %*% vcov(est) %*% t(cmat)
  x2 <- drop(t(b) %*% solve(V, b))
  q <- nrow(cmat)
  df <- degf(ENV[[design]])
  wald[[length(wald) + 1]] <<- list(
    id = id, design = design, args = est_args, r_call = est_call,
    matrix = fx_matrix(cmat), df = df,
    chisq = x2, chisq_p = pchisq(x2, q, lower.tail = FALSE),
    F = x2 / q, F_p = pf(x2 / q, q, df, lower.tail = FALSE))
}
add_wald("clus1_stype_equal_means", "dclus1",
         "svyby(~api00, ~stype, dclus1, svymean, covmat=TRUE)",
         list(estimator = "mean", variables = list("api00"), by = "stype"),
         rbind(c(1, -1, 0), c(1, 0, -1)))
add_wald("strat_stype_shares", "dstrat", "svymean(~awards, dstrat)",
         list(estimator = "proportion", variables = list("awards"), by = NULL),
         rbind(c(1, -1)))

# ---------------------------------------------------------------------- glm --
glms <- list()
add_glm <- function(id, design, formula, family) {
  code <- sprintf("svyglm(%s, %s, family=%s, control=glm.control(epsilon=1e-12, maxit=100))",
                  formula, design, family)
  r <- run(code)
  m <- r$value
  s <- summary(m)$coefficients
  ci <- confint(m)
  glms[[length(glms) + 1]] <<- list(
    id = id, design = design, formula = formula,
    family = sub("quasi", "", sub("\\(\\)", "", family)), r_call = code,
    names = as.list(names(coef(m))), coef = num(coef(m)), se = num(s[, 2]),
    t = num(s[, 3]), p_value = num(s[, 4]), vcov = fx_matrix(vcov(m)),
    df = m$df.residual, ci_low = num(ci[, 1]), ci_high = num(ci[, 2]),
    r_warnings = as.list(r$warnings))
}
add_glm("strat_gaussian", "dstrat", "api00 ~ ell + meals + stype", "gaussian()")
add_glm("clus1_gaussian", "dclus1", "api00 ~ ell + meals + stype", "gaussian()")
add_glm("strat_binomial", "dstrat", "dom_yes ~ ell + meals + stype", "quasibinomial()")
add_glm("clus1_binomial", "dclus1", "dom_yes ~ ell + meals", "quasibinomial()")
add_glm("clus1_poisson", "dclus1", "emer ~ ell + meals", "quasipoisson()")
add_glm("wave1_gaussian_factors", "dwave1", "score ~ region + sex", "gaussian()")

# ------------------------------------------------------------------ compare --
compare <- list()
# proportions of att by wave; difference w2 - w1 per level
b <- svyby(~att, ~wave, ENV$dstack, svymean, covmat = TRUE)
L <- nlevels(ENV$stack$att)
cm <- cbind(-diag(L), diag(L))   # coef order: wave-minor within each level? check below
stopifnot(identical(rownames(b), c("w1", "w2")))
# coef(svyby) is statistic-major, domain-minor: (att1.w1, att1.w2, att2.w1, ...)
cm <- matrix(0, L, 2 * L)
for (k in seq_len(L)) { cm[k, 2 * k - 1] <- -1; cm[k, 2 * k] <- 1 }
cc <- svycontrast(b, lapply(seq_len(L), function(k) cm[k, ]))
pa <- svymean(~att, ENV$dwave1); pb <- svymean(~att, ENV$dwave2)
compare[[1]] <- list(
  id = "att_proportion", stat = "proportion", var = "att", by = NULL,
  r_call = "svycontrast(svyby(~att, ~wave, dstack, svymean, covmat=TRUE), w2 - w1 per level)",
  level = as.list(levels(ENV$stack$att)), by_value = NULL,
  estimate_a = num(coef(pa)), se_a = num(SE(pa)), estimate_b = num(coef(pb)), se_b = num(SE(pb)),
  difference = num(coef(cc)), se = num(SE(cc)),
  df_a = degf(ENV$dwave1), df_b = degf(ENV$dwave2), df_stack = degf(ENV$dstack))
# mean score by region; difference w2 - w1 per region (and the svyglm form overall)
b2 <- svyby(~score, ~wave + region, ENV$dstack, svymean, covmat = TRUE)
stopifnot(identical(as.character(b2$wave), rep(c("w1", "w2"), 3)))
cm2 <- lapply(1:3, function(r) { v <- numeric(6); v[2 * r - 1] <- -1; v[2 * r] <- 1; v })
cc2 <- svycontrast(b2, cm2)
ma <- svyby(~score, ~region, ENV$dwave1, svymean); mb <- svyby(~score, ~region, ENV$dwave2, svymean)
compare[[2]] <- list(
  id = "score_mean_by_region", stat = "mean", var = "score", by = "region",
  r_call = "svycontrast(svyby(~score, ~wave+region, dstack, svymean, covmat=TRUE), w2 - w1 per region)",
  level = NULL, by_value = as.list(as.character(b2$region[c(1, 3, 5)])),
  estimate_a = num(coef(ma)), se_a = num(SE(ma)), estimate_b = num(coef(mb)), se_b = num(SE(mb)),
  difference = num(coef(cc2)), se = num(SE(cc2)),
  df_a = degf(ENV$dwave1), df_b = degf(ENV$dwave2), df_stack = degf(ENV$dstack))
g <- svyglm(score ~ wave, ENV$dstack)
ma0 <- svymean(~score, ENV$dwave1); mb0 <- svymean(~score, ENV$dwave2)
compare[[3]] <- list(
  id = "score_mean_overall_svyglm", stat = "mean", var = "score", by = NULL,
  r_call = "svyglm(score ~ wave, dstack)", level = NULL, by_value = NULL,
  estimate_a = num(coef(ma0)), se_a = num(SE(ma0)), estimate_b = num(coef(mb0)), se_b = num(SE(mb0)),
  difference = num(coef(g)[2]), se = num(SE(g)[2]),
  df_a = degf(ENV$dwave1), df_b = degf(ENV$dwave2), df_stack = degf(ENV$dstack))

fx_write_json(c(fx_header(GEN), list(
  designs = designs, chisq = chisq, tables = tables, ttest = ttest,
  contrast = contrast, wald = wald, glm = glms, compare = compare)), "inference.json")
