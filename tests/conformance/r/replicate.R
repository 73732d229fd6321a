# R conformance fixtures for surveylib's replicate-weight designs.
# Writes tests/conformance/fixtures/replicate.json and the input CSVs
#   tests/conformance/data/synth_brr.csv        2 PSUs in each of 6 strata
#   tests/conformance/data/rep_boot_apistrat.csv  bootstrap factors (50 reps)
#   tests/conformance/data/rep_subboot_apiclus1.csv subbootstrap factors (40)
#   tests/conformance/data/rep_cols_apiclus1.csv  apiclus1 + JK1 analysis weights
#   tests/conformance/data/rep_cols_brr.csv       synth_brr + Fay/BRR/JKn weights
#   tests/conformance/data/rep_cols_apistrat.csv  apistrat + bootstrap weights
# Run via: Rscript tests/conformance/make_fixtures.R
#
# Designs ("designs" in the JSON):
#   kind "convert":  as.svrepdesign(<base>, type=<type>, fay.rho=<rho>, mse=<mse>)
#                    for the deterministic types; "factors" lists the replicate
#                    factors per PSU (PSUs in order of first appearance, R's
#                    compressed repweights) for small designs, and for the
#                    others per-replicate sums of the analysis weights and of
#                    w * api00; "scale"/"rscales" are R's.
#   kind "factors":  as.svrepdesign(<base>, type="bootstrap"/"subbootstrap")
#                    after set.seed(); the replicate factor of every row is
#                    in <factors_csv> (columns f1..fR) so that Python can
#                    rebuild the same replicates and check the variance
#                    formula (scale, rscales, mse) of surveylib's generator.
#   kind "columns":  svrepdesign(data=<data>, repweights=<pattern>, weights=~<w>,
#                    type=<type>, scale=, rscales=, rho=, mse=) with combined
#                    (analysis) replicate weights in columns of the data.
# Cases ("cases"): svymean/svytotal of numeric variables (with vcov and deff),
# svymean(~factor) proportions, svyratio, svyby means by a factor
# (covmat=TRUE), subset means, and svyquantile (Woodruff, R's default
# interval.type="mean" for replicate designs; rows carry "quantile").  Every case
# records "df" = degf(design) used for the t intervals (ci_*_t), and its
# R call.  "hadamard" holds R's hadamard(n) (rows as 0/1 strings) for n=1..80.
# "errors" records R's messages for invalid input that surveylib rejects too.

GEN <- "tests/conformance/r/replicate.R"
ENV <- new.env(parent = globalenv())
designs <- list()
cases <- list()
errors <- list()

api <- new.env()
utils::data(api, package = "survey", envir = api)
ENV$apistrat <- fx_read_csv("apistrat.csv")
ENV$apiclus1 <- fx_read_csv("apiclus1.csv")

# ------------------------------------------------------------ BRR data --
set.seed(20240701)
make_brr <- function() {
  rows <- list(); id <- 0
  for (s in c("s4", "s1", "s6", "s2", "s5", "s3")) for (j in 1:2) {
    id <- id + 1
    m <- sample(5:9, 1)
    u <- rnorm(1, 0, 3)
    rows[[length(rows) + 1]] <- data.frame(
      stratum = s, psu = 100 + id * 7 %% 13 + id,
      y = round(30 + u + rnorm(m, 0, 6), 2),
      x = round(runif(m, 5, 15), 2),
      grp = sample(c("a", "b", "c"), m, replace = TRUE),
      w = round(runif(1, 10, 40), 1))
  }
  d <- do.call(rbind, rows)
  d[sample(nrow(d)), ]           # PSUs not in sorted order of appearance
}
ENV$synth_brr <- fx_write_csv(make_brr(), "synth_brr.csv")

base_designs <- list(
  dstrat = list(call = "svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)",
                data = "apistrat.csv", strata = "stype", psu = NULL, weights = "pw", fpc = "fpc"),
  dstrat_nofpc = list(call = "svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat)",
                      data = "apistrat.csv", strata = "stype", psu = NULL, weights = "pw", fpc = NULL),
  dclus1 = list(call = "svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)",
                data = "apiclus1.csv", strata = NULL, psu = "dnum", weights = "pw", fpc = "fpc"),
  dclus1_nofpc = list(call = "svydesign(id=~dnum, weights=~pw, data=apiclus1)",
                      data = "apiclus1.csv", strata = NULL, psu = "dnum", weights = "pw", fpc = NULL),
  dbrr = list(call = "svydesign(id=~psu, strata=~stratum, weights=~w, data=synth_brr)",
              data = "synth_brr.csv", strata = "stratum", psu = "psu", weights = "w", fpc = NULL)
)
for (b in names(base_designs)) ENV[[b]] <- eval(parse(text = base_designs[[b]]$call), envir = ENV)

# per-row replicate factors (analysis weight / sampling weight)
row_factors <- function(rep) {
  as.matrix(weights(rep, "analysis")) / rep$pweights
}
psu_factors <- function(rep) {
  rw <- rep$repweights
  if (inherits(rw, "repweights_compressed")) rw$weights else stop("not compressed")
}

base_spec <- function(b) {
  s <- base_designs[[b]]
  list(base = b, data = s$data, strata = s$strata, psu = s$psu, weights = s$weights,
       fpc = s$fpc)
}

add_convert <- function(id, b, type, rho = 0, mse = FALSE, store_factors = TRUE) {
  call <- sprintf("as.svrepdesign(%s, type=%s%s%s)", b, deparse(type),
                  if (rho != 0) sprintf(", fay.rho=%s", rho) else "",
                  if (mse) ", mse=TRUE" else "")
  rep <- eval(parse(text = call), envir = ENV)
  ENV[[id]] <- rep
  f <- psu_factors(rep)
  spec <- c(list(kind = "convert", method = tolower(type), rho = rho, mse = mse,
                 r_call = paste0(b, " <- ", base_designs[[b]]$call, "; ", call)),
            base_spec(b),
            list(scale = as.numeric(rep$scale), rscales = as.list(as.numeric(rep$rscales)),
                 n_replicates = ncol(f), degf = degf(rep)))
  if (store_factors) {
    spec$factors <- fx_matrix(f)
  } else {
    wa <- as.matrix(weights(rep, "analysis"))
    spec$rep_weight_sums <- as.list(as.numeric(colSums(wa)))
    spec$rep_api00_totals <- as.list(as.numeric(colSums(wa * rep$variables$api00)))
  }
  designs[[id]] <<- spec
}

add_factors <- function(id, b, type, replicates, seed, csv, mse = FALSE) {
  call <- sprintf("set.seed(%d); as.svrepdesign(%s, type=%s, replicates=%d%s)", seed, b,
                  deparse(type), replicates, if (mse) ", mse=TRUE" else "")
  rep <- eval(parse(text = call), envir = ENV)
  fr <- row_factors(rep)
  colnames(fr) <- paste0("f", seq_len(ncol(fr)))
  if (!file.exists(file.path(FX_DATA_DIR, csv)) || TRUE) {
    back <- fx_write_csv(as.data.frame(fr), csv)
  }
  # rebuild from the CSV values so R and Python use the same numbers
  back <- as.matrix(fx_read_csv(csv))
  rep$repweights <- back
  rep$combined.weights <- FALSE
  ENV[[id]] <- rep
  designs[[id]] <<- c(list(kind = "factors", method = type, mse = mse, factors_csv = csv,
                           r_call = paste0(b, " <- ", base_designs[[b]]$call, "; ", call)),
                      base_spec(b),
                      list(scale = as.numeric(rep$scale),
                           rscales = as.list(as.numeric(rep$rscales)),
                           n_replicates = replicates, degf = degf(rep)))
}

add_columns <- function(id, data, pattern, type, weights, scale = NULL, rscales = NULL,
                        rho = NULL, mse = FALSE) {
  parts <- c(sprintf("data=%s", sub("\\.csv$", "", data)), sprintf("repweights=%s", deparse(pattern)),
             sprintf("weights=~%s", weights), sprintf("type=%s", deparse(type)),
             if (!is.null(scale)) sprintf("scale=%s", deparse(scale)),
             if (!is.null(rscales)) "rscales=RSCALES",
             if (!is.null(rho)) sprintf("rho=%s", rho),
             sprintf("mse=%s", mse))
  call <- sprintf("svrepdesign(%s)", paste(parts, collapse = ", "))
  ENV$RSCALES <- rscales
  res <- fx_try_eval(call, ENV)
  if (!is.null(res$error)) stop(res$error)
  ENV[[id]] <- res$value
  designs[[id]] <<- list(kind = "columns", data = data, pattern = pattern,
                         rep_prefix = sub("\\[.*$", "", pattern), type = type,
                         weights = weights, scale = scale,
                         rscales = if (is.null(rscales)) NULL else as.list(as.numeric(rscales)),
                         rho = rho, mse = mse, r_warnings = as.list(res$warnings),
                         r_call = call, degf = degf(res$value),
                         r_scale = as.numeric(res$value$scale),
                         r_rscales = as.list(as.numeric(res$value$rscales)))
}

# ---------------------------------------------------- deterministic types --
add_convert("jk1_clus1", "dclus1", "JK1")
add_convert("jk1_clus1_nofpc", "dclus1_nofpc", "JK1")
add_convert("jk1_clus1_mse", "dclus1", "JK1", mse = TRUE)
add_convert("jkn_strat", "dstrat", "JKn", store_factors = FALSE)
add_convert("jkn_strat_nofpc", "dstrat_nofpc", "JKn", store_factors = FALSE)
add_convert("jkn_brr", "dbrr", "JKn")
add_convert("brr_brr", "dbrr", "BRR")
add_convert("fay_brr", "dbrr", "Fay", rho = 0.3)
add_convert("fay_brr_mse", "dbrr", "Fay", rho = 0.5, mse = TRUE)

# ----------------------------------------------------------- random types --
add_factors("boot_strat", "dstrat_nofpc", "bootstrap", 50, 101, "rep_boot_apistrat.csv")
add_factors("boot_strat_mse", "dstrat_nofpc", "bootstrap", 50, 101, "rep_boot_apistrat.csv",
            mse = TRUE)
add_factors("boot_clus1", "dclus1_nofpc", "bootstrap", 40, 102, "rep_boot_apiclus1.csv")
add_factors("subboot_clus1", "dclus1_nofpc", "subbootstrap", 40, 103, "rep_subboot_apiclus1.csv")
add_factors("subboot_brr", "dbrr", "subbootstrap", 30, 104, "rep_subboot_brr.csv")

# --------------------------------------------------- user replicate columns --
mk_cols <- function(dname, repname, prefix, csv) {
  d <- ENV[[dname]]
  wa <- as.matrix(weights(ENV[[repname]], "analysis"))
  colnames(wa) <- paste0(prefix, seq_len(ncol(wa)))
  fx_write_csv(cbind(d, as.data.frame(wa)), csv)
}
ENV$rep_cols_apiclus1 <- mk_cols("apiclus1", "jk1_clus1", "repw", "rep_cols_apiclus1.csv")
ENV$rep_cols_apistrat <- mk_cols("apistrat", "boot_strat", "bw", "rep_cols_apistrat.csv")
d <- mk_cols("synth_brr", "fay_brr", "fay", "rep_cols_brr.tmp.csv")
wb <- as.matrix(weights(ENV$brr_brr, "analysis")); colnames(wb) <- paste0("brr", seq_len(ncol(wb)))
wj <- as.matrix(weights(ENV$jkn_brr, "analysis")); colnames(wj) <- paste0("jkn", seq_len(ncol(wj)))
ENV$rep_cols_brr <- fx_write_csv(cbind(d, as.data.frame(wb), as.data.frame(wj)), "rep_cols_brr.csv")
file.remove(file.path(FX_DATA_DIR, "rep_cols_brr.tmp.csv"))

add_columns("cols_jk1", "rep_cols_apiclus1.csv", "repw[0-9]+", "JK1", "pw", scale = 14 / 15)
add_columns("cols_jk1_mse", "rep_cols_apiclus1.csv", "repw[0-9]+", "JK1", "pw", scale = 14 / 15,
            mse = TRUE)
add_columns("cols_jk1_guess", "rep_cols_apiclus1.csv", "repw[0-9]+", "JK1", "pw")
add_columns("cols_other", "rep_cols_apiclus1.csv", "repw[0-9]+", "other", "pw", scale = 0.5,
            rscales = seq(0.5, 1.9, by = 0.1))
add_columns("cols_boot", "rep_cols_apistrat.csv", "bw[0-9]+", "bootstrap", "pw")
add_columns("cols_boot_mse", "rep_cols_apistrat.csv", "bw[0-9]+", "bootstrap", "pw", mse = TRUE)
add_columns("cols_fay", "rep_cols_brr.csv", "fay[0-9]+", "Fay", "w", rho = 0.3)
add_columns("cols_brr", "rep_cols_brr.csv", "brr[0-9]+", "BRR", "w")
add_columns("cols_brr_mse", "rep_cols_brr.csv", "brr[0-9]+", "BRR", "w", mse = TRUE)
add_columns("cols_acs", "rep_cols_brr.csv", "brr[0-9]+", "successive-difference", "w")
add_columns("cols_jkn", "rep_cols_brr.csv", "jkn[0-9]+", "JKn", "w",
            rscales = ENV$jkn_brr$rscales)

# ------------------------------------------------------------------ cases --
# R gives NaN where a Woodruff interval runs past the data; JSON has no NaN, so
# such fields are written as null and listed in the row's "r_nan".
nan_to_null <- function(row) {
  nan <- names(row)[vapply(row, function(v) is.numeric(v) && length(v) == 1 && is.nan(v), TRUE)]
  for (k in nan) row[[k]] <- NA
  row$r_nan <- as.list(nan)
  row
}

add_case <- function(design_id, estimator, args, rows, r_call, vcov = NULL, df, extra = list()) {
  rows <- lapply(rows, nan_to_null)
  cases[[length(cases) + 1]] <<- c(list(
    id = sprintf("%s-%s-%d", design_id, estimator, length(cases) + 1),
    design = design_id, estimator = estimator, args = args, r_call = r_call,
    df = df, rows = rows, vcov = fx_matrix(vcov)), extra)
}

vars_of <- function(id) {
  dat <- designs[[id]]$data
  if (dat %in% c("apistrat.csv", "apiclus1.csv", "rep_cols_apiclus1.csv", "rep_cols_apistrat.csv")) {
    list(num = c("api00", "enroll"), fac = "stype", ratio = c("api.stu", "enroll"),
         by = "stype", sub = "dom_yes", q = "api00")
  } else {
    list(num = c("y", "x"), fac = "grp", ratio = c("y", "x"), by = "grp", sub = NULL, q = "y")
  }
}

run_cases <- function(id) {
  rep <- ENV[[id]]
  v <- vars_of(id)
  dat <- rep$variables
  df <- degf(rep)
  call <- function(s) sprintf(s, id)
  for (est in c("mean", "total")) {
    f <- as.formula(paste0("~", paste(v$num, collapse = "+")))
    fn <- if (est == "mean") svymean else svytotal
    r <- fn(f, rep, deff = TRUE)
    rr <- fn(f, rep, deff = "replace")
    add_case(id, est, list(variables = as.list(v$num), by = NULL, level = 0.95),
             fx_rows_svystat(r, rr, df, 0.95, v$num, dat),
             sprintf("svy%s(%s, %s, deff=TRUE)", est, paste(deparse(f), collapse = ""), id),
             vcov = vcov(r), df = df)
  }
  f <- as.formula(paste0("~", v$fac))
  r <- svymean(f, rep)
  add_case(id, "proportion", list(variables = list(v$fac), by = NULL, level = 0.95),
           fx_rows_svystat(r, NULL, df, 0.95, v$fac, dat),
           sprintf("svymean(~%s, %s)", v$fac, id), vcov = vcov(r), df = df)
  r <- svytotal(f, rep)
  add_case(id, "total", list(variables = list(v$fac), by = NULL, level = 0.95),
           fx_rows_svystat(r, NULL, df, 0.95, v$fac, dat),
           sprintf("svytotal(~%s, %s)", v$fac, id), vcov = vcov(r), df = df)
  fr <- svyratio(as.formula(paste0("~", v$ratio[1])), as.formula(paste0("~", v$ratio[2])), rep)
  add_case(id, "ratio", list(variables = list(v$ratio[1]), denominator = list(v$ratio[2]),
                             by = NULL, level = 0.95),
           fx_rows_svyratio(fr, NULL, df, 0.95, v$ratio[1]),
           sprintf("svyratio(~%s, ~%s, %s)", v$ratio[1], v$ratio[2], id), df = df)
  b <- svyby(as.formula(paste0("~", v$num[1])), as.formula(paste0("~", v$by)), rep, svymean,
             covmat = TRUE)
  add_case(id, "mean", list(variables = list(v$num[1]), by = list(v$by), level = 0.95),
           fx_rows_svyby(b, NULL, df, 0.95, v$num[1], dat),
           sprintf("svyby(~%s, ~%s, %s, svymean, covmat=TRUE)", v$num[1], v$by, id),
           vcov = vcov(b), df = df)
  if (!is.null(v$sub)) {
    s <- subset(rep, dom_yes == 1)
    r <- svymean(as.formula(paste0("~", v$num[1])), s)
    add_case(id, "mean", list(variables = list(v$num[1]), by = NULL, level = 0.95),
             fx_rows_svystat(r, NULL, degf(s), 0.95, v$num[1], dat),
             sprintf("svymean(~%s, subset(%s, dom_yes == 1))", v$num[1], id), df = degf(s),
             extra = list(subset = "dom_yes"))
  }
  q <- svyquantile(as.formula(paste0("~", v$q)), rep, c(0.25, 0.5, 0.75))
  add_case(id, "quantile", list(variables = list(v$q), by = NULL, level = 0.95,
                                probs = list(0.25, 0.5, 0.75)),
           fx_rows_svyquantile(q),
           sprintf("svyquantile(~%s, %s, c(0.25, 0.5, 0.75))", v$q, id), df = df)
}

for (id in c("jk1_clus1", "jk1_clus1_mse", "jkn_strat", "jkn_brr", "brr_brr", "fay_brr",
             "fay_brr_mse", "boot_strat", "boot_strat_mse", "boot_clus1", "subboot_clus1",
             "subboot_brr", "cols_jk1", "cols_jk1_mse", "cols_other", "cols_boot",
             "cols_boot_mse", "cols_fay", "cols_brr", "cols_brr_mse", "cols_acs", "cols_jkn")) {
  run_cases(id)
}

# per-domain quantiles: each domain uses its own degf (svyby subsets the design)
for (id in c("jkn_strat", "boot_clus1")) {
  rep <- ENV[[id]]
  b <- svyby(~api00, ~stype, rep, svyquantile, quantiles = 0.5, ci = TRUE, vartype = c("se", "ci"))
  row_df <- lapply(levels(rep$variables$stype)[levels(rep$variables$stype) %in% b$stype],
                   function(l) degf(subset(rep, stype == l)))
  add_case(id, "quantile", list(variables = list("api00"), by = list("stype"), level = 0.95,
                                probs = list(0.5)),
           fx_rows_svyby_quantile(b, "api00", rep$variables, 0.5, row_df = row_df),
           sprintf("svyby(~api00, ~stype, %s, svyquantile, quantiles=0.5, ci=TRUE)", id),
           df = degf(rep))
}

# interval.type="quantile": replicate quantiles (R repCI)
for (id in c("boot_strat", "fay_brr")) {
  rep <- ENV[[id]]
  v <- vars_of(id)
  q <- svyquantile(as.formula(paste0("~", v$q)), rep, c(0.25, 0.5), interval.type = "quantile")
  add_case(id, "quantile", list(variables = list(v$q), by = NULL, level = 0.95,
                                probs = list(0.25, 0.5), interval_type = "quantile"),
           fx_rows_svyquantile(q),
           sprintf("svyquantile(~%s, %s, c(0.25, 0.5), interval.type='quantile')", v$q, id),
           df = degf(rep))
}

# ------------------------------------------------------------- hadamard --
hadamard_list <- lapply(1:80, function(n) {
  H <- hadamard(n)
  list(n = n, rows = as.list(apply(H, 1, paste, collapse = "")))
})

# ---------------------------------------------------------------- errors --
err <- function(id, code) {
  res <- fx_try_eval(code, ENV)
  errors[[id]] <<- list(r_call = code, r_error = res$error)
}
err("brr_strat", "as.svrepdesign(dstrat, type='BRR')")
err("jk1_strat", "as.svrepdesign(dstrat, type='JK1')")
err("jkn_unstrat", "as.svrepdesign(dclus1, type='JKn')")
err("na_repweights", "{d <- rep_cols_apiclus1; d$repw3[2] <- NA; svrepdesign(data=d, repweights='repw[0-9]+', weights=~pw, type='JK1', scale=14/15)}")
err("rscales_length", "svrepdesign(data=rep_cols_apiclus1, repweights='repw[0-9]+', weights=~pw, type='other', scale=1, rscales=c(1, 2))")
err("fay_no_rho", "svrepdesign(data=rep_cols_brr, repweights='fay[0-9]+', weights=~w, type='Fay')")
err("bad_type", "svrepdesign(data=rep_cols_brr, repweights='fay[0-9]+', weights=~w, type='JK3')")

fx_write_json(c(fx_header(GEN), list(designs = designs, cases = cases, hadamard = hadamard_list,
                                     errors = errors)),
              "replicate.json")
