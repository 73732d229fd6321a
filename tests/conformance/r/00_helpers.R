# Shared helpers for the R conformance fixture generators.
#
# Sourced by tests/conformance/make_fixtures.R before every other
# tests/conformance/r/*.R script.  Provides:
#   * fx_reset_options(), fx_with_options(): R survey options set explicitly
#     around each call (R's defaults are restored between scripts);
#   * fx_write_csv(): write an input data set to tests/conformance/data/ and
#     read it back, so the fixtures are computed from exactly the numbers the
#     Python tests read;
#   * fx_write_json(): write a fixture file with full double precision;
#   * fx_rows_*(): turn svystat / svyby / svyratio / svyciprop / svyquantile
#     results into the fixture row format (see r/design.R for the schema).
#
# Full precision: jsonlite 1.8.x caps numbers at 15 significant digits even
# with digits=NA, which does not round-trip doubles.  fx_json_prepare()
# therefore pre-formats every double with the shortest of %.15g/%.16g/%.17g
# that round-trips in R and hands it to jsonlite verbatim (json_verbatim=TRUE).
# NaN and +-Inf are refused (fx_json_prepare stops, naming the path); NA is
# written as null and must only be used for fields R does not provide.

FX_ROOT <- if (exists("FX_ROOT")) FX_ROOT else file.path("tests", "conformance")
FX_DATA_DIR <- file.path(FX_ROOT, "data")
FX_FIXTURE_DIR <- file.path(FX_ROOT, "fixtures")

# ---------------------------------------------------------------- options --

FX_DEFAULT_OPTIONS <- list(
  survey.lonely.psu = "fail",
  survey.adjust.domain.lonely = FALSE,
  survey.ultimate.cluster = FALSE,
  survey.drop.replicates = TRUE
)

fx_reset_options <- function() {
  do.call(options, FX_DEFAULT_OPTIONS)
  invisible(NULL)
}

# Evaluate `code` (a character string of R code) in `env` with the given
# survey options set, restoring the previous options afterwards.
fx_eval <- function(code, env, opts = list()) {
  old <- do.call(options, opts)
  on.exit(options(old), add = TRUE)
  eval(parse(text = code, keep.source = FALSE), envir = env)
}

# Like fx_eval but returns list(value=, error=, warnings=) instead of failing.
fx_try_eval <- function(code, env, opts = list()) {
  warns <- character(0)
  res <- tryCatch(
    withCallingHandlers(
      list(value = fx_eval(code, env, opts), error = NULL),
      warning = function(w) {
        warns <<- c(warns, conditionMessage(w))
        invokeRestart("muffleWarning")
      }),
    error = function(e) list(value = NULL, error = conditionMessage(e)))
  res$warnings <- unique(warns)
  res
}

# ------------------------------------------------------------------- data --

# Write a data frame as CSV (R column names kept, factors as labels, NA as
# empty, no row names) and return it read back from disk, with character
# columns as factors (levels sorted as R sorts them, which for the api data
# reproduces the original factor levels).
fx_write_csv <- function(df, name, factors = NULL) {
  path <- file.path(FX_DATA_DIR, name)
  for (v in names(df)) {
    if (is.numeric(df[[v]])) df[[v]] <- as.vector(df[[v]])  # drop 1-d dimnames
  }
  utils::write.csv(df, path, row.names = FALSE, na = "", fileEncoding = "UTF-8")
  fx_read_csv(name)
}

fx_read_csv <- function(name) {
  utils::read.csv(file.path(FX_DATA_DIR, name), stringsAsFactors = TRUE,
                  check.names = FALSE, na.strings = "", fileEncoding = "UTF-8")
}

# ------------------------------------------------------------------- json --

fx_num_literal <- function(x, where) {
  if (is.nan(x) || is.infinite(x)) stop("non-finite number at ", where, ": ", x)
  for (p in 15:17) {
    s <- sprintf("%.*g", p, x)
    if (as.numeric(s) == x) break
  }
  structure(s, class = "json")
}

# Recursively convert an R object into something jsonlite writes exactly:
# doubles become verbatim literals, length-1 atomics stay scalars, NA -> null.
# Use lists (not atomic vectors) wherever the JSON must be an array.
fx_json_prepare <- function(x, where = "$") {
  if (is.null(x)) return(NULL)
  if (inherits(x, "json")) return(x)
  if (is.list(x)) {
    nms <- names(x)
    out <- lapply(seq_along(x), function(i) {
      key <- if (is.null(nms)) sprintf("[%d]", i) else paste0(".", nms[i])
      v <- fx_json_prepare(x[[i]], paste0(where, key))
      if (is.null(v)) NA else v
    })
    names(out) <- nms
    if (!is.null(nms) && length(out) == 0) out <- setNames(list(), character(0))
    return(out)
  }
  if (is.factor(x)) x <- as.character(x)
  if (length(x) != 1) {
    stop("non-scalar atomic at ", where, "; wrap arrays in as.list()")
  }
  if (is.na(x) && !is.nan(x)) return(NA)
  if (is.double(x)) return(fx_num_literal(x, where))
  unname(x)
}

fx_write_json <- function(x, name) {
  path <- file.path(FX_FIXTURE_DIR, name)
  txt <- jsonlite::toJSON(fx_json_prepare(x), auto_unbox = TRUE,
                          json_verbatim = TRUE, null = "null", na = "null",
                          pretty = TRUE)
  writeLines(txt, path, useBytes = TRUE)
  message("wrote ", path)
  invisible(path)
}

fx_header <- function(generator) {
  list(generator = generator,
       r_version = R.version.string,
       survey_version = as.character(utils::packageVersion("survey")))
}

# Matrix -> list of rows (each a list of numbers); NULL stays NULL.
fx_matrix <- function(m) {
  if (is.null(m)) return(NULL)
  m <- unname(as.matrix(m))
  lapply(seq_len(nrow(m)), function(i) as.list(as.numeric(m[i, ])))
}

# -------------------------------------------------------------------- rows --

fx_flat <- function(x) {
  if (is.null(x)) return(NULL)
  unname(as.numeric(as.vector(as.matrix(x))))
}

fx_by_list <- function(by) {
  if (is.null(by) || length(by) == 0) return(setNames(list(), character(0)))
  out <- lapply(by, function(v) as.character(v))
  names(out) <- names(by)
  out
}

# One fixture row.  `extra` is a named list appended after the fixed fields.
fx_row <- function(by = list(), variable, level = NA, estimate, se = NA,
                   deff = NA, deff_replace = NA, ci_normal = c(NA, NA),
                   ci_t = c(NA, NA), extra = list()) {
  c(list(by = fx_by_list(by),
         variable = variable,
         level = if (is.na(level)) NA else as.character(level),
         estimate = as.numeric(estimate),
         se = as.numeric(se),
         deff = as.numeric(deff),
         deff_replace = as.numeric(deff_replace),
         ci_low_normal = as.numeric(ci_normal[1]),
         ci_high_normal = as.numeric(ci_normal[2]),
         ci_low_t = as.numeric(ci_t[1]),
         ci_high_t = as.numeric(ci_t[2])),
    extra)
}

# Map R coefficient names (e.g. "api00", "stypeE", "factor(stype)E") to
# (variable, level) using the design's variables.
fx_label_map <- function(nms, variables, data) {
  tab <- data.frame(name = character(0), variable = character(0),
                    level = character(0), stringsAsFactors = FALSE)
  for (v in variables) {
    x <- data[[v]]
    if (is.null(x)) stop("variable not in data: ", v)
    if (is.factor(x) || is.character(x) || is.logical(x)) {
      levs <- levels(as.factor(x))
      tab <- rbind(tab,
                   data.frame(name = c(paste0(v, levs), paste0("factor(", v, ")", levs)),
                              variable = v, level = c(levs, levs),
                              stringsAsFactors = FALSE))
    } else {
      tab <- rbind(tab, data.frame(name = v, variable = v, level = NA_character_,
                                   stringsAsFactors = FALSE))
    }
  }
  i <- match(nms, tab$name)
  if (anyNA(i)) stop("cannot map coefficient names: ", paste(nms[is.na(i)], collapse = ", "))
  tab[i, c("variable", "level")]
}

fx_deff_vec <- function(x) {
  d <- attr(x, "deff")
  if (is.null(d)) return(rep(NA_real_, length(coef(x))))
  if (is.matrix(d)) diag(d) else as.numeric(d)
}

# svymean / svytotal results (class svystat).  `est` was computed with
# deff=TRUE, `est_replace` with deff="replace".
fx_rows_svystat <- function(est, est_replace, df, level, variables, data) {
  lab <- fx_label_map(names(coef(est)), variables, data)
  cn <- confint(est, level = level)
  ct <- confint(est, level = level, df = df)
  d <- fx_deff_vec(est)
  dr <- if (is.null(est_replace)) rep(NA_real_, length(d)) else fx_deff_vec(est_replace)
  lapply(seq_along(coef(est)), function(i) {
    fx_row(variable = lab$variable[i], level = lab$level[i],
           estimate = coef(est)[i], se = SE(est)[i], deff = d[i],
           deff_replace = dr[i], ci_normal = cn[i, ], ci_t = ct[i, ])
  })
}

# svyby results.  Rows are in coef(svyby) order: statistic-major, domain-minor
# (all domains for the first statistic, then all for the second, ...), which
# is also the order of vcov(svyby).  `variables` maps statistic column names
# to (variable, level); `stat_variable` overrides the variable name (ratios).
fx_svyby_layout <- function(b, variables, data, stat_variable = NULL) {
  aa <- attr(b, "svyby")
  byvars <- names(b)[seq_len(max(aa$margins))]
  statcols <- names(b)[max(aa$margins) + seq_len(aa$nstats)]
  if (is.null(stat_variable)) {
    lab <- fx_label_map(statcols, variables, data)
  } else {
    lab <- data.frame(variable = rep(stat_variable, length(statcols)),
                      level = NA_character_, stringsAsFactors = FALSE)
  }
  nd <- nrow(b)
  idx <- expand.grid(dom = seq_len(nd), stat = seq_along(statcols))
  list(byvars = byvars, lab = lab, idx = idx,
       by = lapply(seq_len(nrow(idx)), function(k) {
         r <- idx$dom[k]
         setNames(lapply(byvars, function(v) as.character(b[[v]][r])), byvars)
       }))
}

fx_rows_svyby <- function(b, b_replace, df, level, variables, data,
                          stat_variable = NULL) {
  L <- fx_svyby_layout(b, variables, data, stat_variable)
  est <- fx_flat(coef(b))
  se <- fx_flat(SE(b))
  has_deff <- function(o) !is.null(o) && !identical(attr(o, "svyby")$deffs, FALSE)
  # deff.svyby() refuses objects made with deff="replace" ("invalid argument
  # type" from !aa$deffs), so take the DEff columns by position as it does.
  deff_cols <- function(o) {
    aa <- attr(o, "svyby")
    o[, max(aa$margins) + aa$nstats * (1 + aa$vars) + seq_len(aa$nstats), drop = FALSE]
  }
  d <- if (has_deff(b)) fx_flat(deff_cols(b)) else rep(NA_real_, length(est))
  dr <- if (has_deff(b_replace)) fx_flat(deff_cols(b_replace)) else rep(NA_real_, length(est))
  if (has_deff(b)) stopifnot(isTRUE(all.equal(d, fx_flat(deff(b)))))
  for (o in list(b, b_replace)) if (has_deff(o)) stopifnot(all(grepl("^DEff", names(deff_cols(o)))))
  cn <- confint(b, level = level)
  ct <- confint(b, level = level, df = df)
  stopifnot(length(est) == nrow(L$idx), length(se) == length(est),
            length(d) == length(est), nrow(cn) == length(est))
  # coef(svyby) and the layout must agree on estimates
  stopifnot(isTRUE(all.equal(est, fx_flat(as.matrix(b[, max(attr(b, "svyby")$margins) + seq_len(attr(b, "svyby")$nstats)])))))
  lapply(seq_along(est), function(k) {
    s <- L$idx$stat[k]
    fx_row(by = L$by[[k]], variable = L$lab$variable[s], level = L$lab$level[s],
           estimate = est[k], se = se[k], deff = d[k], deff_replace = dr[k],
           ci_normal = cn[k, ], ci_t = ct[k, ])
  })
}

# svyby(..., svyquantile, ci=TRUE, vartype=c("se","ci")) results: the
# per-domain Woodruff intervals are the ci_l/ci_u columns.
fx_rows_svyby_quantile <- function(b, variables, data, p, row_df = NULL) {
  L <- fx_svyby_layout(b, variables, data)
  est <- fx_flat(coef(b))
  se <- fx_flat(SE(b))
  lo <- fx_flat(b[, grep("^ci_l", names(b)), drop = FALSE])
  hi <- fx_flat(b[, grep("^ci_u", names(b)), drop = FALSE])
  stopifnot(length(lo) == length(est), length(hi) == length(est))
  lapply(seq_along(est), function(k) {
    s <- L$idx$stat[k]
    extra <- list(quantile = p)
    if (!is.null(row_df)) extra$df <- row_df[[k]]
    fx_row(by = L$by[[k]], variable = L$lab$variable[s], level = NA,
           estimate = est[k], se = se[k], ci_t = c(lo[k], hi[k]),
           extra = extra)
  })
}

# svyratio results (one numerator, one denominator per call).
fx_rows_svyratio <- function(r, r_replace, df, level, numerator) {
  cn <- confint(r, level = level)
  ct <- confint(r, level = level, df = df)
  est <- fx_flat(coef(r))
  se <- fx_flat(SE(r))
  d <- if (is.null(attr(r, "deff"))) rep(NA_real_, length(est)) else fx_flat(attr(r, "deff"))
  dr <- if (is.null(r_replace) || is.null(attr(r_replace, "deff"))) rep(NA_real_, length(est)) else fx_flat(attr(r_replace, "deff"))
  lapply(seq_along(est), function(i) {
    fx_row(variable = numerator, level = NA, estimate = est[i], se = se[i],
           deff = d[i], deff_replace = dr[i], ci_normal = cn[i, ], ci_t = ct[i, ])
  })
}

# svyciprop results: interval goes in ci_low_t/ci_high_t.
fx_rows_svyciprop <- function(ci, variable, level_label) {
  list(fx_row(variable = variable, level = level_label,
              estimate = unname(coef(ci)), se = unname(SE(ci)),
              ci_t = as.numeric(confint(ci))))
}

# svyquantile (survey >= 4.0, class newsvyquantile) results.
fx_rows_svyquantile <- function(q) {
  rows <- list()
  for (v in names(q)) {
    m <- q[[v]]
    for (i in seq_len(nrow(m))) {
      rows[[length(rows) + 1]] <- fx_row(
        variable = v, level = NA, estimate = m[i, 1], se = m[i, 4],
        ci_t = m[i, 2:3], extra = list(quantile = as.numeric(rownames(m)[i])))
    }
  }
  rows
}
