# R conformance fixture for compare(..., df="normal"): wave differences referred to the normal
# distribution, as R's confint.default of a svycontrast (coef -/+ qnorm * SE) and the z test
# 2 * pnorm(-|estimate / SE|).
# Writes tests/conformance/fixtures/waves_normal.json.  Run via:
#     Rscript tests/conformance/make_fixtures.R   (inference.R, run before this script, writes the synthetic waves)
#
# dstack = svydesign(id=~psu, strata=~wstratum, weights=~weight, nest=TRUE, data=stack), stack
# = rbind(synth_wave1, synth_wave2) with wstratum = wave:stratum (what stack_waves builds).

GEN <- "tests/conformance/r/waves_normal.R"
num <- function(x) as.list(unname(as.numeric(x)))
w1 <- fx_read_csv("synth_wave1.csv")
w2 <- fx_read_csv("synth_wave2.csv")
w1$att <- factor(w1$att)
w2$att <- factor(w2$att)
stack <- rbind(w1, w2)
stack$wstratum <- paste(stack$wave, stack$stratum, sep = ":")
dstack <- svydesign(id = ~psu, strata = ~wstratum, weights = ~weight, nest = TRUE, data = stack)

row <- function(id, var, by, stat, call, cc) {
  z <- coef(cc) / SE(cc)
  # confint.default's normal interval (confint() of this svrepstat-less contrast returns no rows)
  q <- qnorm(0.95)
  ci <- cbind(coef(cc) - q * SE(cc), coef(cc) + q * SE(cc))
  list(id = id, var = var, by = by, stat = stat, r_call = call, level = 0.9,
       difference = num(coef(cc)), se = num(SE(cc)), p_value = num(2 * pnorm(-abs(z))),
       ci_low = num(ci[, 1]), ci_high = num(ci[, 2]))
}
b <- svyby(~att, ~wave, dstack, svymean, covmat = TRUE)
L <- nlevels(stack$att)
cc <- svycontrast(b, lapply(seq_len(L), function(k) { v <- numeric(2 * L); v[2 * k - 1] <- -1; v[2 * k] <- 1; v }))
b2 <- svyby(~score, ~wave + region, dstack, svymean, covmat = TRUE)
cc2 <- svycontrast(b2, lapply(1:3, function(r) { v <- numeric(6); v[2 * r - 1] <- -1; v[2 * r] <- 1; v }))
cases <- list(
  row("att_proportion", "att", NULL, "proportion",
      "svycontrast(svyby(~att, ~wave, dstack, svymean, covmat=TRUE), w2 - w1); coef -/+ qnorm(0.95) SE", cc),
  row("score_mean_by_region", "score", "region", "mean",
      "svycontrast(svyby(~score, ~wave+region, dstack, svymean, covmat=TRUE), w2 - w1); coef -/+ qnorm(0.95) SE", cc2))
fx_write_json(c(fx_header(GEN), list(cases = cases)), "waves_normal.json")
