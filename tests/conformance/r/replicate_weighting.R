# R conformance fixtures for weighting steps on replicate-weight designs (issue 4:
# "replicate designs re-post-stratify every replicate", "re-calibration per replicate").
# Writes tests/conformance/fixtures/replicate_weighting.json.
# Run via: Rscript tests/conformance/make_fixtures.R
#
# Designs ("designs" in the JSON):
#   jk1_clus1   as.svrepdesign(dclus1) with dclus1 <- svydesign(id=~dnum, weights=~pw,
#               fpc=~fpc, data=apiclus1): JK1 factors per PSU (surveylib: to_replicates("jk1")).
#   boot_strat  svrepdesign(data=rep_cols_apistrat, repweights="bw[0-9]+", weights=~pw,
#               type="bootstrap"): the 50 bootstrap analysis-weight columns exported by
#               r/replicate.R (surveylib: ReplicateDesign(..., rep_weights="bw*")).
#
# Cases ("cases"), each on both designs; "steps" give the R calls and surveylib arguments:
#   ps          postStratify(rep, ~stype, pop.types)       (survey:::postStratify.svyrep.design)
#   rake        rake(rep, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
#               control=list(epsilon=1e-10, maxit=100)) (postStratify per margin on all replicates;
#               surveylib tol=1e-10 is R's epsilon < 1, relative to sum(weights))
#   cal_linear  calibrate(rep, ~stype+api99, pop.totals)    (regcalibrate.svyrep.design)
#   cal_raking  the same, calfun="raking"                    (grake on every replicate column)
#   cal_logit   the same, calfun="logit", bounds=c(0.4, 2.5) (with c(0.5, 2) one JK1 replicate
#               does not converge; R only warns "Failed to converge" for a replicate)
#   ps_trim     postStratify then trimming of the full-sample and every replicate column to
#               [lower, upper] (see "Trimming" below)
#   trim        trimming of the unweighted design (boot_strat only)
#
# Trimming: survey 4.1.1's trimWeights.svyrep.design does not do what its code intends: it
# stores the trimmed sampling weights in design$prob, which a svyrep design never reads (the
# full-sample weights stay untrimmed), and `rwnew[!outside] + t(...)` recycles a vector
# against the n x R matrix, so the replicate weights are not the trimmed ones either (both
# shown in "r_trimweights" below).  The reference for trimming is therefore computed here
# explicitly, column by column, with the rule surveylib implements: clip each column to
# [lower, upper], then share the amount cut equally among that column's rows that were
# inside the bounds and have a nonzero weight (rows with zero replicate weight -- units
# outside the replicate -- stay at zero); the resulting weights define a svrepdesign with the
# original scale/rscales, whose estimates are the reference.
#
# For every case: the full-sample weights, the replicate analysis weights (all of them for
# jk1_clus1; the first 5 columns for boot_strat plus, for all 50, the column sums, sums of
# w * api00 and of w^2), and svymean(~api00+enroll), svytotal(~enroll+api99) and
# svyby(~api00, ~sch.wide, svymean) with SEs.
#
# "convert_adjusted": R's as.svrepdesign() accepts a calibrated (or post-stratified) design
# without complaint, but builds the replicates around the adjusted weights without re-weighting
# them, which overstates the SE of a calibrated mean by a factor of ~6 here; surveylib's
# to_replicates() on an adjusted design re-applies the adjustments to every replicate, which is
# R's calibrate(as.svrepdesign(dclus1), ...).  Both R numbers are recorded.

GEN <- "tests/conformance/r/replicate_weighting.R"
cases <- list()

num_list <- function(x) as.list(as.numeric(x))
chr_list <- function(x) as.list(as.character(x))
pop_json <- function(df, vars, valcol = "Freq") {
  list(variables = chr_list(vars), levels = lapply(vars, function(v) chr_list(df[[v]])),
       values = num_list(df[[valcol]]))
}

apiclus1 <- fx_read_csv("apiclus1.csv")
rep_cols_apistrat <- fx_read_csv("rep_cols_apistrat.csv")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
reps <- list(
  jk1_clus1 = as.svrepdesign(dclus1),
  boot_strat = svrepdesign(data = rep_cols_apistrat, repweights = "bw[0-9]+", weights = ~pw,
                           type = "bootstrap")
)
design_specs <- list(
  jk1_clus1 = list(kind = "convert", data = "apiclus1.csv", psu = "dnum", weights = "pw",
                   fpc = "fpc", method = "jk1",
                   r_call = "as.svrepdesign(svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1))"),
  boot_strat = list(kind = "columns", data = "rep_cols_apistrat.csv", weights = "pw",
                    rep_weights = "bw*", type = "bootstrap",
                    r_call = "svrepdesign(data=rep_cols_apistrat, repweights='bw[0-9]+', weights=~pw, type='bootstrap')")
)
for (id in names(reps)) {
  design_specs[[id]]$scale <- as.numeric(reps[[id]]$scale)
  design_specs[[id]]$rscales <- num_list(reps[[id]]$rscales)
  design_specs[[id]]$n_replicates <- length(reps[[id]]$rscales)
}

pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
pop.totals <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
cal_totals <- list(`(Intercept)` = 6194,
                   stype = list(E = 4421, H = 755, M = 1018), api99 = 3914069)

# the trimming rule described above, on an n x R weight matrix
trim_cols <- function(w, lower, upper) {
  w <- as.matrix(w)
  for (j in seq_len(ncol(w))) {
    x <- w[, j]
    pos <- x != 0
    outside <- pos & (x < lower | x > upper)
    if (any(outside)) {
      new <- ifelse(outside, pmax(lower, pmin(x, upper)), x)
      share <- pos & !outside
      if (!any(share)) stop("no row to take the trimmed weight")
      new[share] <- new[share] + sum(x - new) / sum(share)
      w[, j] <- new
    }
  }
  w
}
trim_rep <- function(rep, lower, upper) {
  pw <- trim_cols(weights(rep, "sampling"), lower, upper)[, 1]
  rw <- trim_cols(weights(rep, "analysis"), lower, upper)
  dat <- rep$variables
  svrepdesign(data = dat, repweights = rw, weights = pw, type = "other",
              scale = rep$scale, rscales = rep$rscales, combined.weights = TRUE, mse = rep$mse)
}

estimates_for <- function(d) {
  out <- list()
  e <- svymean(~api00 + enroll, d)
  out[[1]] <- list(estimator = "mean", variables = chr_list(c("api00", "enroll")), by = NULL,
                   rows = lapply(1:2, function(i) list(by = setNames(list(), character(0)),
                     variable = names(coef(e))[i], estimate = unname(coef(e)[i]),
                     se = unname(SE(e)[i]))))
  e <- svytotal(~enroll + api99, d)
  out[[2]] <- list(estimator = "total", variables = chr_list(c("enroll", "api99")), by = NULL,
                   rows = lapply(1:2, function(i) list(by = setNames(list(), character(0)),
                     variable = names(coef(e))[i], estimate = unname(coef(e)[i]),
                     se = unname(SE(e)[i]))))
  b <- svyby(~api00, ~sch.wide, d, svymean)
  out[[3]] <- list(estimator = "mean", variables = chr_list("api00"), by = "sch.wide",
                   rows = lapply(seq_len(nrow(b)), function(k) list(
                     by = list(sch.wide = as.character(b$sch.wide[k])), variable = "api00",
                     estimate = unname(coef(b)[k]), se = unname(SE(b)[k]))))
  out
}

weights_json <- function(d, id) {
  w <- as.matrix(weights(d, "analysis"))
  pw <- weights(d, "sampling")
  res <- list(weights = num_list(pw), rep_col_sums = num_list(colSums(w)),
              rep_api00_sums = num_list(colSums(w * d$variables$api00)),
              rep_sq_sums = num_list(colSums(w^2)))
  keep <- if (id == "jk1_clus1") seq_len(ncol(w)) else 1:5
  res$rep_weights_columns <- as.list(keep)
  res$rep_weights <- fx_matrix(w[, keep, drop = FALSE])  # n rows of length(keep)
  res
}

add_case <- function(id, design, steps, d) {
  cases[[length(cases) + 1]] <<- c(list(id = id, design = design, steps = steps),
                                    weights_json(d, design),
                                    list(estimates = estimates_for(d)))
}

ps_step <- list(op = "poststratify", by = list("stype"), population = pop_json(pop.types, "stype"),
                r_call = "postStratify(rep, ~stype, pop.types)")
rake_step <- list(op = "rake", margins = list(pop_json(pop.types, "stype"),
                                              pop_json(pop.schwide, "sch.wide")),
                  tol = 1e-10, max_iter = 100L,
                  r_call = "rake(rep, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control=list(epsilon=1e-10, maxit=100))")
cal_step <- function(calfun, bounds = NULL) {
  s <- list(op = "calibrate", totals = cal_totals, calfun = calfun,
            r_call = sprintf("calibrate(rep, ~stype+api99, pop.totals, calfun=%s%s)",
                             deparse(calfun),
                             if (is.null(bounds)) "" else sprintf(", bounds=c(%s, %s)", bounds[1], bounds[2])))
  if (!is.null(bounds)) s$bounds <- as.list(bounds)
  s
}
trim_step <- function(lower, upper) {
  list(op = "trim", lower = lower, upper = upper,
       r_call = sprintf("trim_rep(rep, lower=%s, upper=%s) (explicit rule, see header)", lower, upper))
}
# (jk1_clus1 has equal weights, so only its post-stratified weights are worth trimming)
trim_bounds <- list(jk1_clus1 = list(ps = c(20, 45)),
                    boot_strat = list(ps = c(12, 90), plain = c(12, 100)))

for (id in names(reps)) {
  rep <- reps[[id]]
  add_case("ps", id, list(ps_step), postStratify(rep, ~stype, pop.types))
  add_case("rake", id, list(rake_step),
           rake(rep, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
                control = list(epsilon = 1e-10, maxit = 100)))
  # compress= given explicitly: calibrate.svyrep.design's default compress=NA fails with
  # "missing value where TRUE/FALSE needed" on uncompressed (column) replicate weights
  cmp <- inherits(rep$repweights, "repweights_compressed")
  add_case("cal_linear", id, list(cal_step("linear")),
           calibrate(rep, ~stype + api99, pop.totals, compress = cmp))
  add_case("cal_raking", id, list(cal_step("raking")),
           calibrate(rep, ~stype + api99, pop.totals, calfun = "raking", compress = cmp))
  add_case("cal_logit", id, list(cal_step("logit", c(0.4, 2.5))),
           calibrate(rep, ~stype + api99, pop.totals, calfun = "logit", bounds = c(0.4, 2.5),
                     compress = cmp))
  b <- trim_bounds[[id]]
  add_case("ps_trim", id, list(ps_step, trim_step(b$ps[1], b$ps[2])),
           trim_rep(postStratify(rep, ~stype, pop.types), b$ps[1], b$ps[2]))
  if (!is.null(b$plain)) {
    add_case("trim", id, list(trim_step(b$plain[1], b$plain[2])),
             trim_rep(rep, b$plain[1], b$plain[2]))
  }
}

# what R's own trimWeights() gives on a replicate design (not the reference; see the header)
tw <- suppressWarnings(trimWeights(postStratify(reps$jk1_clus1, ~stype, pop.types), lower = 20,
                                   upper = 45))
ps_only <- postStratify(reps$jk1_clus1, ~stype, pop.types)
r_trimweights <- list(
  r_call = "trimWeights(postStratify(as.svrepdesign(dclus1), ~stype, pop.types), lower=20, upper=45)",
  sampling_weights_unchanged = isTRUE(all.equal(weights(tw, "sampling"), weights(ps_only, "sampling"))),
  max_sampling_weight = max(weights(tw, "sampling")),
  rep_col_sums = num_list(colSums(as.matrix(weights(tw, "analysis")))))

# as.svrepdesign on an adjusted design
cal <- calibrate(dclus1, ~stype + api99, pop.totals)
naive <- svymean(~api00, as.svrepdesign(cal))
proper <- svymean(~api00, calibrate(as.svrepdesign(dclus1), ~stype + api99, pop.totals))
convert_adjusted <- list(
  r_call_naive = "svymean(~api00, as.svrepdesign(calibrate(dclus1, ~stype+api99, pop.totals)))",
  r_call_proper = "svymean(~api00, calibrate(as.svrepdesign(dclus1), ~stype+api99, pop.totals))",
  naive_estimate = unname(coef(naive)), naive_se = unname(SE(naive)),
  proper_estimate = unname(coef(proper)), proper_se = unname(SE(proper)))

fx_write_json(c(fx_header(GEN), list(designs = design_specs, cases = cases,
                                     r_trimweights = r_trimweights,
                                     convert_adjusted = convert_adjusted)),
              "replicate_weighting.json")
