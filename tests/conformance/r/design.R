# R conformance fixtures for surveylib's design object and Taylor estimators.
# Writes tests/conformance/fixtures/design.json and the input CSVs in
# tests/conformance/data/.  Run via: Rscript tests/conformance/make_fixtures.R
#
# Designs (R survey 4.x, Taylor linearisation):
#   dstrat        apistrat, strata=stype, weights=pw, fpc=fpc (population sizes)
#   dstrat_frac   same, fpc given as sampling fractions (fpc_frac = n_h/N_h)
#   dstrat_prob   same, probs=prob (= 1/pw) instead of weights
#   dstrat_nofpc  same, no fpc (with replacement)
#   dclus1        apiclus1, id=dnum, weights=pw, fpc=fpc;  dclus1_nofpc: no fpc
#   dclus2        apiclus2, id=~dnum+snum, fpc=~fpc1+fpc2 (weights from fpc)
#   dlonely_[fpc_|2st_]<opt>  synthetic stratified cluster sample, stratum
#                 D has a single PSU; opt in remove/adjust/average/certainty/fail
#                 (options(survey.lonely.psu=opt)); "fpc_" adds PSU-level fpc,
#                 "2st_" is two-stage with fpc=~fpc+fpc2 (weights from fpc)
#   dnest         PSU ids 1..4 reused in each stratum, nest=TRUE
#   dnest_nonest  the same without nest=TRUE (svydesign errors)
#   ddomlonely_adjust  every stratum has 3 PSUs; domain dom==1 falls in
#                 one PSU of stratum B and none of stratum C; lonely.psu="adjust"
#                 with survey.adjust.domain.lonely=FALSE (R default)
#   ddomlonely_adjust_adl / ddomlonely_average_adl   the same with
#                 survey.adjust.domain.lonely=TRUE (lonely.psu adjust / average)
#   dna           stratified cluster sample, y_na has ~10% NA
#
# Cases (ids in design.json):
#   1  dstrat*: mean and total of api00+enroll (2x2 vcov), every fpc/probs
#      variant; dstrat mean at level=0.90
#   2  dclus1, dclus1_nofpc: mean and total of api00+enroll
#   3  dclus2: mean/total of api00 (all rows) and of api00+enroll with
#      na.rm=TRUE (enroll has 6 NA in apiclus2)
#   4  domains: svyby mean of api00 by stype (dclus1); by stype+sch.wide
#      (dstrat, two variables); subset dom_yes==1 means (dstrat, dclus1);
#      svyby totals of enroll by stype (dstrat, dclus1)
#   5  proportions: svymean/svytotal(~stype) on dclus1; svyby(~sch.wide, ~stype)
#      on dstrat; svyciprop with methods logit, likelihood, asin, beta, mean,
#      xlogit for stype=="H" on dclus1 and sch.wide=="Yes" on dstrat
#   6  ratios: svyratio(~api.stu, ~enroll) on dstrat and dclus1, and by stype
#   7  quantiles: api00 at 0.25/0.5/0.75 (qrule math) on dstrat and dclus1,
#      qrule school on dclus1; svyby median by stype on dclus1 with
#      df=degf(dclus1) and with R's default (each domain's own degf)
#   8  lonely PSU: mean+total of y+x for each option, with/without fpc and
#      two-stage; "fail" recorded as expect_error; domain-lonely designs:
#      subset mean/total and svyby mean by dom
#   9  dnest: mean and total of y; dnest_nonest: expect_error
#   10 dna: mean/total with na.rm=TRUE, svyby mean by grp with na.rm=TRUE
#
# Row/column conventions are in 00_helpers.R (fx_row, fx_rows_*).  Extra keys
# beyond the shared schema: rows of quantile cases carry "quantile" (the
# probability) and, for the default-df svyby median, "df" (the domain degf
# R used); each design carries "adjust_domain_lonely"; each case carries
# "r_warnings" (R warning messages, de-duplicated), some a "note", and quantile cases an
# "interval_type" arg.

GEN <- "tests/conformance/r/design.R"
ENV <- new.env(parent = globalenv())   # data frames and design objects
designs <- list()
cases <- list()

rlit <- function(x) deparse(x)          # R literal for r_call strings
form <- function(vars) paste0("~", paste(vars, collapse = "+"))

# ----------------------------------------------------------------- data --

api <- new.env()
utils::data(api, package = "survey", envir = api)

apistrat <- api$apistrat
apistrat$dom_yes <- as.integer(apistrat$sch.wide == "Yes")
n_h <- table(apistrat$stype)
apistrat$fpc_frac <- as.numeric(n_h[as.character(apistrat$stype)]) / apistrat$fpc
apistrat$prob <- 1 / apistrat$pw
ENV$apistrat <- fx_write_csv(apistrat, "apistrat.csv")

apiclus1 <- api$apiclus1
apiclus1$dom_yes <- as.integer(apiclus1$sch.wide == "Yes")
apiclus1$prob <- 1 / apiclus1$pw
ENV$apiclus1 <- fx_write_csv(apiclus1, "apiclus1.csv")

apiclus2 <- api$apiclus2
apiclus2$dom_yes <- as.integer(apiclus2$sch.wide == "Yes")
apiclus2$prob <- 1 / apiclus2$pw
ENV$apiclus2 <- fx_write_csv(apiclus2, "apiclus2.csv")

# (a) stratified cluster sample, stratum D has exactly one PSU.
#     fpc = number of PSUs in the stratum population; within each PSU a 1-in-4
#     sample of units, so fpc2 = 4 * (units sampled in the PSU) and
#     w = (fpc / n_h) * 4.
set.seed(20240611)
make_lonely <- function() {
  spec <- data.frame(stratum = c("A", "B", "C", "D"), n_psu = c(3, 4, 3, 1),
                     N_psu = c(12, 12, 9, 5), shift = c(0, 5, -3, 8))
  rows <- list(); psu_id <- 0
  for (s in seq_len(nrow(spec))) {
    for (j in seq_len(spec$n_psu[s])) {
      psu_id <- psu_id + 1
      m <- sample(15:25, 1)
      u <- rnorm(1, 0, 4)
      rows[[length(rows) + 1]] <- data.frame(
        stratum = spec$stratum[s], psu = psu_id,
        y = round(50 + spec$shift[s] + u + rnorm(m, 0, 10), 2),
        x = round(runif(m, 10, 30) + 0.2 * u, 2),
        w = spec$N_psu[s] / spec$n_psu[s] * 4,
        fpc = spec$N_psu[s], fpc2 = 4 * m)
    }
  }
  d <- do.call(rbind, rows)
  d$uid <- seq_len(nrow(d))
  d
}
ENV$synth_lonely <- fx_write_csv(make_lonely(), "synth_lonely.csv")

# (b) PSU ids 1..4 reused in each of three strata (needs nest=TRUE).
set.seed(20240612)
make_nest <- function() {
  rows <- list()
  for (s in c("S1", "S2", "S3")) for (j in 1:4) {
    m <- sample(10:20, 1)
    rows[[length(rows) + 1]] <- data.frame(
      stratum = s, psu = j,
      y = round(20 + rnorm(1, 0, 3) + rnorm(m, 0, 6), 2),
      w = switch(s, S1 = 12.5, S2 = 20, S3 = 7.25))
  }
  do.call(rbind, rows)
}
ENV$synth_nest <- fx_write_csv(make_nest(), "synth_nest.csv")

# (c) every stratum has 3 PSUs; domain dom==1: stratum A in all PSUs,
#     B only in its first PSU, C nowhere, D in two PSUs.
set.seed(20240613)
make_domlonely <- function() {
  rows <- list(); psu_id <- 0
  for (s in c("A", "B", "C", "D")) for (j in 1:3) {
    psu_id <- psu_id + 1
    m <- sample(15:25, 1)
    p_dom <- switch(s, A = 0.5, B = if (j == 1) 0.6 else 0, C = 0,
                    D = if (j <= 2) 0.5 else 0)
    dom <- as.integer(runif(m) < p_dom)
    if (p_dom > 0 && sum(dom) < 2) dom[1:2] <- 1L
    rows[[length(rows) + 1]] <- data.frame(
      stratum = s, psu = psu_id, dom = dom,
      y = round(100 + rnorm(1, 0, 8) + 5 * dom + rnorm(m, 0, 15), 2),
      w = switch(s, A = 30, B = 22.5, C = 40, D = 15))
  }
  do.call(rbind, rows)
}
ENV$synth_domlonely <- fx_write_csv(make_domlonely(), "synth_domlonely.csv")

# (d) stratified cluster sample with NA in y_na (~10%) and a grouping grp.
set.seed(20240614)
make_na <- function() {
  rows <- list(); psu_id <- 0
  for (s in c("N1", "N2", "N3")) for (j in 1:4) {
    psu_id <- psu_id + 1
    m <- sample(15:25, 1)
    rows[[length(rows) + 1]] <- data.frame(
      stratum = s, psu = psu_id,
      grp = sample(c("a", "b", "c"), m, replace = TRUE),
      y_na = round(10 + rnorm(1, 0, 2) + rnorm(m, 0, 4), 2),
      w = switch(s, N1 = 10, N2 = 25, N3 = 17.5))
  }
  d <- do.call(rbind, rows)
  d$y_na[runif(nrow(d)) < 0.1] <- NA
  d
}
ENV$synth_na <- fx_write_csv(make_na(), "synth_na.csv")

# -------------------------------------------------------------- designs --

design_opts <- function(id) {
  d <- designs[[id]]
  list(survey.lonely.psu = d$lonely_psu,
       survey.adjust.domain.lonely = d$adjust_domain_lonely)
}

# R code that sets the design's non-default options, prefixed to r_call.
opts_prefix <- function(id) {
  d <- designs[[id]]
  p <- character(0)
  if (d$lonely_psu != "fail") p <- c(p, sprintf("survey.lonely.psu=%s", rlit(d$lonely_psu)))
  if (isTRUE(d$adjust_domain_lonely)) p <- c(p, "survey.adjust.domain.lonely=TRUE")
  if (length(p)) paste0("options(", paste(p, collapse = ", "), "); ") else ""
}

add_design <- function(id, data, strata = NULL, psu = NULL, weights = NULL,
                       probs = NULL, fpc = NULL, nest = FALSE,
                       lonely_psu = "fail", adjust_domain_lonely = FALSE,
                       expect_error = FALSE) {
  arg <- function(v) if (is.null(v)) NULL else form(v)
  parts <- c(sprintf("id=%s", if (is.null(psu)) "~1" else form(psu)),
             if (!is.null(strata)) sprintf("strata=%s", form(strata)),
             if (!is.null(weights)) sprintf("weights=%s", form(weights)),
             if (!is.null(probs)) sprintf("probs=%s", form(probs)),
             if (!is.null(fpc)) sprintf("fpc=%s", form(fpc)),
             if (nest) "nest=TRUE",
             sprintf("data=%s", data))
  r_call <- sprintf("svydesign(%s)", paste(parts, collapse = ", "))
  aslist <- function(v) if (is.null(v)) NULL else if (length(v) == 1) v else as.list(v)
  designs[[id]] <<- list(
    data = paste0(data, ".csv"), strata = aslist(strata), psu = aslist(psu),
    weights = aslist(weights), probs = aslist(probs), fpc = aslist(fpc),
    nest = nest, lonely_psu = lonely_psu,
    adjust_domain_lonely = adjust_domain_lonely, r_call = r_call)
  res <- fx_try_eval(r_call, ENV)
  if (expect_error) {
    if (is.null(res$error)) stop("design ", id, " was expected to fail")
    attr(designs[[id]], "error") <<- res$error
  } else {
    if (!is.null(res$error)) stop("design ", id, ": ", res$error)
    if (length(res$warnings)) stop("design ", id, " warned: ", paste(res$warnings, collapse = "; "))
    assign(id, res$value, envir = ENV)
  }
  invisible(id)
}

add_design("dstrat", "apistrat", strata = "stype", weights = "pw", fpc = "fpc")
add_design("dstrat_frac", "apistrat", strata = "stype", weights = "pw", fpc = "fpc_frac")
add_design("dstrat_prob", "apistrat", strata = "stype", probs = "prob", fpc = "fpc")
add_design("dstrat_nofpc", "apistrat", strata = "stype", weights = "pw")
add_design("dclus1", "apiclus1", psu = "dnum", weights = "pw", fpc = "fpc")
add_design("dclus1_nofpc", "apiclus1", psu = "dnum", weights = "pw")
add_design("dclus2", "apiclus2", psu = c("dnum", "snum"), fpc = c("fpc1", "fpc2"))

LONELY <- c("remove", "adjust", "average", "certainty", "fail")
for (opt in LONELY) {
  add_design(paste0("dlonely_", opt), "synth_lonely", strata = "stratum",
             psu = "psu", weights = "w", lonely_psu = opt)
  add_design(paste0("dlonely_fpc_", opt), "synth_lonely", strata = "stratum",
             psu = "psu", weights = "w", fpc = "fpc", lonely_psu = opt)
  add_design(paste0("dlonely_2st_", opt), "synth_lonely", strata = "stratum",
             psu = c("psu", "uid"), fpc = c("fpc", "fpc2"), lonely_psu = opt)
}
add_design("dnest", "synth_nest", strata = "stratum", psu = "psu",
           weights = "w", nest = TRUE)
add_design("dnest_nonest", "synth_nest", strata = "stratum", psu = "psu",
           weights = "w", expect_error = TRUE)
add_design("ddomlonely_adjust", "synth_domlonely", strata = "stratum",
           psu = "psu", weights = "w", lonely_psu = "adjust")
add_design("ddomlonely_adjust_adl", "synth_domlonely", strata = "stratum",
           psu = "psu", weights = "w", lonely_psu = "adjust",
           adjust_domain_lonely = TRUE)
add_design("ddomlonely_average_adl", "synth_domlonely", strata = "stratum",
           psu = "psu", weights = "w", lonely_psu = "average",
           adjust_domain_lonely = TRUE)
add_design("dna", "synth_na", strata = "stratum", psu = "psu", weights = "w")

# ---------------------------------------------------------------- cases --

des_expr <- function(design, subset) {
  if (is.null(subset)) design else sprintf("subset(%s, %s == 1)", design, subset)
}

new_case <- function(id, design, subset, estimator, args, r_call, df, rows,
                     vcov, warnings = character(0), note = NULL) {
  if (any(vapply(cases, function(cc) cc$id == id, logical(1)))) stop("duplicate case id ", id)
  cases[[length(cases) + 1]] <<- list(
    id = id, design = design, subset = subset, estimator = estimator,
    args = args, r_call = r_call, df = df, rows = rows, vcov = vcov,
    r_warnings = as.list(warnings))
  if (!is.null(note)) cases[[length(cases)]]$note <<- note
}

base_args <- function(variables, by = NULL, na_rm = FALSE, level = 0.95) {
  list(variables = as.list(variables),
       by = if (is.null(by)) NULL else as.list(by),
       na_rm = na_rm, level = level)
}

# Evaluate the case's R code; returns the value, collecting warnings.
run <- function(code, design, warn_acc) {
  res <- fx_try_eval(code, ENV, design_opts(design))
  if (!is.null(res$error)) stop("R error in `", code, "`: ", res$error)
  warn_acc$w <- unique(c(warn_acc$w, res$warnings))
  res$value
}

# mean / total / proportion (svymean or svytotal), optionally with svyby.
case_stat <- function(id, design, estimator, variables, by = NULL,
                      subset = NULL, na_rm = FALSE, level = 0.95,
                      covmat = TRUE, note = NULL) {
  fun <- switch(estimator, mean = "svymean", proportion = "svymean",
                total = "svytotal")
  des <- des_expr(design, subset)
  na <- if (na_rm) ", na.rm=TRUE" else ""
  lv <- if (level != 0.95) sprintf(", level=%s", rlit(level)) else ""
  mk <- function(deff) {
    if (is.null(by)) sprintf("%s(%s, %s%s, deff=%s)", fun, form(variables), des, na, deff)
    else sprintf("svyby(%s, %s, %s, %s%s, deff=%s%s)",
                 form(variables), form(by), des, fun, na, deff,
                 if (covmat) ", covmat=TRUE" else "")
  }
  w <- new.env(); w$w <- character(0)
  x <- run(mk("TRUE"), design, w)
  xr <- run(mk('"replace"'), design, w)
  df <- run(sprintf("degf(%s)", des), design, w)
  data <- ENV[[sub("\\.csv$", "", designs[[design]]$data)]]
  rows <- if (is.null(by)) {
    fx_rows_svystat(x, xr, df, level, variables, data)
  } else {
    fx_rows_svyby(x, xr, df, level, variables, data)
  }
  r_call <- sprintf('%sx <- %s; x_replace <- %s; confint(x%s); confint(x%s, df=degf(%s))',
                    opts_prefix(design), mk("TRUE"), mk('"replace"'), lv, lv, des)
  new_case(id, design, subset, estimator,
           base_args(variables, by, na_rm, level), r_call, df, rows,
           if (is.null(by) || covmat) fx_matrix(vcov(x)) else NULL, w$w, note)
}

case_ratio <- function(id, design, numerator, denominator, by = NULL,
                       subset = NULL, level = 0.95) {
  des <- des_expr(design, subset)
  mk <- function(deff) {
    if (is.null(by)) sprintf("svyratio(%s, %s, %s, deff=%s)", form(numerator),
                             form(denominator), des, deff)
    else sprintf("svyby(%s, %s, %s, svyratio, denominator=%s, deff=%s, covmat=TRUE)",
                 form(numerator), form(by), des, form(denominator), deff)
  }
  w <- new.env(); w$w <- character(0)
  x <- run(mk("TRUE"), design, w)
  xr <- run(mk('"replace"'), design, w)
  df <- run(sprintf("degf(%s)", des), design, w)
  rows <- if (is.null(by)) {
    fx_rows_svyratio(x, xr, df, level, numerator)
  } else {
    fx_rows_svyby(x, xr, df, level, NULL, NULL, stat_variable = numerator)
  }
  args <- base_args(numerator, by, FALSE, level)
  args$denominator <- as.list(denominator)
  r_call <- sprintf('%sx <- %s; x_replace <- %s; confint(x); confint(x, df=degf(%s))',
                    opts_prefix(design), mk("TRUE"), mk('"replace"'), des)
  new_case(id, design, subset, "ratio", args, r_call, df, rows,
           fx_matrix(vcov(x)), w$w)
}

case_ciprop <- function(id, design, variable, level_label, method, level = 0.95) {
  des <- design
  code <- sprintf('svyciprop(~I(%s==%s), %s, method=%s, level=%s, df=degf(%s))',
                  variable, rlit(level_label), des, rlit(method), rlit(level), des)
  w <- new.env(); w$w <- character(0)
  x <- run(code, design, w)
  df <- run(sprintf("degf(%s)", des), design, w)
  args <- base_args(variable, NULL, FALSE, level)
  args$ci_method <- method
  r_call <- sprintf("%sx <- %s; coef(x); SE(x); confint(x); vcov(x)",
                    opts_prefix(design), code)
  new_case(id, design, NULL, "proportion", args, r_call, df,
           fx_rows_svyciprop(x, variable, level_label),
           fx_matrix(vcov(x)), w$w)
}

case_quantile <- function(id, design, variables, probs, qrule = "math",
                          by = NULL, by_df = c("design", "domain")) {
  by_df <- match.arg(by_df)
  des <- design
  w <- new.env(); w$w <- character(0)
  df <- run(sprintf("degf(%s)", des), design, w)
  qs <- paste0("c(", paste(vapply(probs, rlit, ""), collapse = ", "), ")")
  if (length(probs) == 1) qs <- rlit(probs)
  args <- base_args(variables, by, FALSE, 0.95)
  args$probs <- as.list(probs)
  args$qrule <- qrule
  args$interval_type <- "mean"
  if (is.null(by)) {
    code <- sprintf('svyquantile(%s, %s, quantiles=%s, ci=TRUE, qrule=%s)',
                    form(variables), des, qs, rlit(qrule))
    x <- run(code, design, w)
    rows <- fx_rows_svyquantile(x)
    r_call <- sprintf("%sx <- %s; coef(x); SE(x); confint(x)", opts_prefix(design), code)
  } else {
    stopifnot(length(probs) == 1, length(variables) == 1)
    dfarg <- if (by_df == "design") sprintf(", df=degf(%s)", des) else ""
    code <- sprintf('svyby(%s, %s, %s, svyquantile, quantiles=%s, ci=TRUE, qrule=%s, vartype=c("se","ci")%s)',
                    form(variables), form(by), des, qs, rlit(qrule), dfarg)
    x <- run(code, design, w)
    row_df <- NULL
    if (by_df == "domain") {
      # R's default: svyquantile on each domain's subset design uses
      # degf(subset design); record it per row.
      L <- fx_svyby_layout(x, variables, ENV[[sub("\\.csv$", "", designs[[design]]$data)]])
      row_df <- lapply(L$by, function(b) {
        cond <- paste(sprintf("%s == %s", names(b), vapply(b, rlit, "")), collapse = " & ")
        run(sprintf("degf(subset(%s, %s))", des, cond), design, w)
      })
    }
    rows <- fx_rows_svyby_quantile(x, variables, ENV[[sub("\\.csv$", "", designs[[design]]$data)]],
                                   probs, row_df)
    r_call <- sprintf("%sx <- %s; coef(x); SE(x); x$ci_l; x$ci_u", opts_prefix(design), code)
  }
  new_case(id, design, NULL, "quantile", args, r_call, df, rows, NULL, w$w)
}

# A case whose R call errors: rows empty, vcov null, R's message recorded.
case_error <- function(id, design, estimator, variables, code, design_error = FALSE) {
  if (design_error) {
    msg <- attr(designs[[design]], "error")
    r_call <- designs[[design]]$r_call
  } else {
    res <- fx_try_eval(code, ENV, design_opts(design))
    if (is.null(res$error)) stop("case ", id, " was expected to fail")
    msg <- res$error
    r_call <- paste0(opts_prefix(design), code)
  }
  df <- if (design_error) NA else fx_eval(sprintf("degf(%s)", design), ENV)
  cases[[length(cases) + 1]] <<- list(
    id = id, design = design, subset = NULL, estimator = estimator,
    args = base_args(variables), r_call = r_call, df = df, rows = list(),
    vcov = NULL, expect_error = TRUE, r_error = msg, r_warnings = list())
}

# 1. apistrat: fpc as counts, as fractions, probs instead of weights, no fpc
for (d in c("dstrat", "dstrat_frac", "dstrat_prob", "dstrat_nofpc")) {
  case_stat(paste0(d, "__mean__api00_enroll"), d, "mean", c("api00", "enroll"))
  case_stat(paste0(d, "__total__api00_enroll"), d, "total", c("api00", "enroll"))
}
case_stat("dstrat__mean__api00_enroll__level90", "dstrat", "mean",
          c("api00", "enroll"), level = 0.90)

# 2. apiclus1
for (d in c("dclus1", "dclus1_nofpc")) {
  case_stat(paste0(d, "__mean__api00_enroll"), d, "mean", c("api00", "enroll"))
  case_stat(paste0(d, "__total__api00_enroll"), d, "total", c("api00", "enroll"))
}

# 3. apiclus2 two-stage; enroll has NA
case_stat("dclus2__mean__api00", "dclus2", "mean", "api00")
case_stat("dclus2__total__api00", "dclus2", "total", "api00")
case_stat("dclus2__mean__api00_enroll__narm", "dclus2", "mean", c("api00", "enroll"), na_rm = TRUE)
case_stat("dclus2__total__api00_enroll__narm", "dclus2", "total", c("api00", "enroll"), na_rm = TRUE)

# 4. domains
case_stat("dclus1__mean__api00__by_stype", "dclus1", "mean", "api00", by = "stype")
case_stat("dstrat__mean__api00_enroll__by_stype_schwide", "dstrat", "mean",
          c("api00", "enroll"), by = c("stype", "sch.wide"))
case_stat("dstrat__mean__api00__subset_dom_yes", "dstrat", "mean", "api00", subset = "dom_yes")
case_stat("dclus1__mean__api00__subset_dom_yes", "dclus1", "mean", "api00", subset = "dom_yes")
case_stat("dstrat__total__enroll__subset_dom_yes", "dstrat", "total", "enroll", subset = "dom_yes")
case_stat("dstrat__total__enroll__by_stype", "dstrat", "total", "enroll", by = "stype")
case_stat("dclus1__total__enroll__by_stype", "dclus1", "total", "enroll", by = "stype")

# 5. proportions
case_stat("dclus1__proportion__stype", "dclus1", "proportion", "stype")
case_stat("dclus1__total__stype", "dclus1", "total", "stype")
case_stat("dstrat__proportion__schwide__by_stype", "dstrat", "proportion",
          "sch.wide", by = "stype")
for (m in c("logit", "likelihood", "asin", "beta", "mean", "xlogit")) {
  case_ciprop(paste0("dclus1__ciprop__stype_H__", m), "dclus1", "stype", "H", m)
  case_ciprop(paste0("dstrat__ciprop__schwide_Yes__", m), "dstrat", "sch.wide", "Yes", m)
}

# 6. ratios
case_ratio("dstrat__ratio__apistu_enroll", "dstrat", "api.stu", "enroll")
case_ratio("dclus1__ratio__apistu_enroll", "dclus1", "api.stu", "enroll")
case_ratio("dclus1__ratio__apistu_enroll__by_stype", "dclus1", "api.stu", "enroll", by = "stype")
case_ratio("dstrat__ratio__apistu_enroll__by_schwide", "dstrat", "api.stu", "enroll", by = "sch.wide")

# 7. quantiles
case_quantile("dstrat__quantile__api00", "dstrat", "api00", c(0.25, 0.5, 0.75))
case_quantile("dclus1__quantile__api00", "dclus1", "api00", c(0.25, 0.5, 0.75))
case_quantile("dclus1__quantile__api00__school", "dclus1", "api00", c(0.25, 0.5, 0.75),
              qrule = "school")
case_quantile("dclus1__quantile__api00__by_stype", "dclus1", "api00", 0.5, by = "stype")
case_quantile("dclus1__quantile__api00__by_stype__domain_df", "dclus1", "api00", 0.5,
              by = "stype", by_df = "domain")

# 8. lonely PSUs
for (opt in LONELY) for (v in c("", "fpc_", "2st_")) {
  d <- paste0("dlonely_", v, opt)
  if (opt == "fail") {
    case_error(paste0(d, "__mean__y_x"), d, "mean", c("y", "x"),
               sprintf("svymean(~y+x, %s)", d))
  } else {
    nt <- switch(opt,
      adjust = paste("survey 4.1.1 (onestrat) does not centre a lonely PSU's",
                     "linearised-score total under adjust: the stratum adds",
                     "f * (PSU score total)^2, f = 1 or (N_h-1)/N_h; for a total",
                     "the score is w*y, so this is large"),
      certainty = paste("Taylor certainty == remove in survey 4.1.1, also for",
                        "the two-stage design (later stages are added for every",
                        "PSU under both options)"),
      average = paste("lonely stratum dropped and the summed stratum variances",
                      "scaled by n_strata / n_strata_with_2+_PSUs"),
      NULL)
    case_stat(paste0(d, "__mean__y_x"), d, "mean", c("y", "x"), note = nt)
    case_stat(paste0(d, "__total__y_x"), d, "total", c("y", "x"), note = nt)
  }
}
for (d in c("ddomlonely_adjust", "ddomlonely_adjust_adl",
            "ddomlonely_average_adl")) {
  case_stat(paste0(d, "__mean__y__subset_dom"), d, "mean", "y", subset = "dom")
  case_stat(paste0(d, "__total__y__subset_dom"), d, "total", "y", subset = "dom")
  case_stat(paste0(d, "__mean__y__by_dom"), d, "mean", "y", by = "dom",
            note = if (grepl("_adl$", d)) paste(
              "R inconsistency: the per-domain SE (rows) applies",
              "survey.adjust.domain.lonely=TRUE but the covmat=TRUE vcov does",
              "not, so vcov[2][2] != se^2 for dom == 1"))
}
# two variables on the subset: R applies the option to the whole covariance
for (d in c("ddomlonely_adjust_adl", "ddomlonely_average_adl")) {
  case_stat(paste0(d, "__mean__y_w__subset_dom"), d, "mean", c("y", "w"), subset = "dom")
  case_stat(paste0(d, "__total__y_w__subset_dom"), d, "total", c("y", "w"), subset = "dom")
}

# 9. nest=TRUE
case_stat("dnest__mean__y", "dnest", "mean", "y")
case_stat("dnest__total__y", "dnest", "total", "y")
case_error("dnest_nonest__mean__y", "dnest_nonest", "mean", "y",
           design_error = TRUE)

# 10. na.rm=TRUE
case_stat("dna__mean__y_na__narm", "dna", "mean", "y_na", na_rm = TRUE)
case_stat("dna__total__y_na__narm", "dna", "total", "y_na", na_rm = TRUE)
# svyby(..., na.rm=TRUE, covmat=TRUE) errors in survey 4.1.1 ("number of
# items to replace is not a multiple of replacement length"), so this case
# has no covmat and vcov is null.
case_stat("dna__mean__y_na__narm__by_grp", "dna", "mean", "y_na",
          by = "grp", na_rm = TRUE, covmat = FALSE,
          note = "svyby(..., na.rm=TRUE, covmat=TRUE) errors in survey 4.1.1; no vcov")

# ---------------------------------------------------------------- write --

for (id in names(designs)) attr(designs[[id]], "error") <- NULL
out <- c(fx_header(GEN), list(designs = designs, cases = cases))
fx_write_json(out, "design.json")
