# Reference values for surveylib.planning (tests/test_planning.py).
#
# Run from the repository root:  Rscript tests/conformance/r/planning.R
# Writes tests/conformance/fixtures/planning.json.  Needs base R (stats), pwr,
# survey (for the apiclus1 design effects) and jsonlite.  Also sourced by
# tests/conformance/make_fixtures.R.
#
# Sources of each block:
#   power_prop_test   stats::power.prop.test (R 4.2.2), default strict = FALSE
#   pwr_2p2n, pwr_2p  pwr::pwr.2p2n.test / pwr::pwr.2p.test with h = pwr::ES.h(p1, p2)
#   power_t_test      stats::power.t.test, type = "two.sample", strict = FALSE
#   cochran           Cochran (1977, ch. 4) closed forms written out below
#   allocation        Neyman / cost-optimal / power / Bankier closed forms written out
#                     below; bounded cases by the iterative re-allocation of
#                     Cochran (1977, sect. 5.8), written independently of surveylib
#   stratified        Cochran (1977, sect. 5.10) variance of a stratified proportion
#   two_sample_normal unpooled normal approximation, both rejection tails
#   deff_apiclus1     survey::svymean(~api00 + api99, dclus1, deff = TRUE), the planning
#                     input that deff_from_result() summarises
#
# Solved-for quantities use uniroot(tol = 1e-12) so that they are accurate to far
# better than the 1e-6 relative tolerance of the tests (R's defaults stop at
# .Machine$double.eps^0.25, about 1e-4 in absolute terms).

suppressPackageStartupMessages({
  library(jsonlite)
  library(pwr)
  library(survey)
})

planning_fixture_path <- file.path("tests", "conformance", "fixtures", "planning.json")

# ---- power.prop.test ------------------------------------------------------
ppt_power_cases <- list(
  list(p1 = 0.50, p2 = 0.75, n = 50, sig.level = 0.05, alternative = "two.sided"),
  list(p1 = 0.30, p2 = 0.35, n = 1000, sig.level = 0.05, alternative = "two.sided"),
  list(p1 = 0.12, p2 = 0.08, n = 800, sig.level = 0.01, alternative = "two.sided"),
  list(p1 = 0.40, p2 = 0.45, n = 1500, sig.level = 0.05, alternative = "one.sided"),
  list(p1 = 0.60, p2 = 0.52, n = 300, sig.level = 0.10, alternative = "one.sided")
)
power_prop_test <- lapply(ppt_power_cases, function(a) {
  r <- do.call(power.prop.test, a)
  list(p1 = a$p1, p2 = a$p2, n = a$n, sig_level = a$sig.level,
       alternative = a$alternative, power = r$power)
})
ppt_n_cases <- list(
  list(p1 = 0.50, p2 = 0.75, power = 0.90, sig.level = 0.05, alternative = "two.sided"),
  list(p1 = 0.30, p2 = 0.35, power = 0.80, sig.level = 0.05, alternative = "two.sided"),
  list(p1 = 0.20, p2 = 0.15, power = 0.80, sig.level = 0.01, alternative = "two.sided"),
  list(p1 = 0.40, p2 = 0.45, power = 0.85, sig.level = 0.05, alternative = "one.sided")
)
power_prop_test_n <- lapply(ppt_n_cases, function(a) {
  r <- do.call(power.prop.test, c(a, list(tol = 1e-12)))
  list(p1 = a$p1, p2 = a$p2, power = a$power, sig_level = a$sig.level,
       alternative = a$alternative, n = r$n)
})

# ---- pwr (arcsine, Cohen's h) ---------------------------------------------
pwr_cases <- list(
  list(p1 = 0.30, p2 = 0.35, n1 = 1000, n2 = 1200, sig.level = 0.05, alternative = "two.sided"),
  list(p1 = 0.50, p2 = 0.40, n1 = 400, n2 = 250, sig.level = 0.05, alternative = "two.sided"),
  list(p1 = 0.50, p2 = 0.40, n1 = 400, n2 = 250, sig.level = 0.05, alternative = "greater"),
  list(p1 = 0.10, p2 = 0.14, n1 = 2000, n2 = 1500, sig.level = 0.01, alternative = "less"),
  list(p1 = 0.70, p2 = 0.75, n1 = 600, n2 = 600, sig.level = 0.10, alternative = "greater")
)
pwr_2p2n <- lapply(pwr_cases, function(a) {
  h <- ES.h(a$p1, a$p2)
  r <- pwr.2p2n.test(h = h, n1 = a$n1, n2 = a$n2, sig.level = a$sig.level,
                     alternative = a$alternative)
  list(p1 = a$p1, p2 = a$p2, n1 = a$n1, n2 = a$n2, sig_level = a$sig.level,
       alternative = a$alternative, h = h, power = r$power)
})
pwr_2p_power <- lapply(list(c(0.3, 0.4, 200), c(0.55, 0.5, 1000)), function(v) {
  h <- ES.h(v[1], v[2])
  r <- pwr.2p.test(h = h, n = v[3], sig.level = 0.05)
  list(p1 = v[1], p2 = v[2], n = v[3], sig_level = 0.05, alternative = "two.sided",
       power = r$power)
})
# pwr's own uniroot has no tol argument; solve pwr's power function tightly.
pwr_2p_n <- lapply(list(c(0.30, 0.40, 0.80), c(0.55, 0.50, 0.90), c(0.05, 0.08, 0.80)),
  function(v) {
    h <- ES.h(v[1], v[2])
    f <- function(n) pwr.2p.test(h = h, n = n, sig.level = 0.05)$power - v[3]
    n <- uniroot(f, c(2 + 1e-10, 1e9), tol = 1e-12)$root
    list(p1 = v[1], p2 = v[2], power = v[3], sig_level = 0.05, alternative = "two.sided",
         n = n)
  })

# pwr.2p2n.test(h = NULL): the h detected with the target power.  pwr's own uniroot stops at
# the default tolerance (~1e-4), so its answer is kept as h_pwr and h is re-solved tightly
# on pwr's power function over the interval pwr searches.
pwr_h_cases <- list(
  list(n1 = 544, n2 = 600, power = 0.80, sig.level = 0.05, alternative = "two.sided"),
  list(n1 = 400, n2 = 250, power = 0.90, sig.level = 0.05, alternative = "greater"),
  list(n1 = 2000, n2 = 1500, power = 0.80, sig.level = 0.01, alternative = "less"),
  list(n1 = 120, n2 = 80, power = 0.50, sig.level = 0.10, alternative = "two.sided")
)
pwr_2p2n_h <- lapply(pwr_h_cases, function(a) {
  interval <- switch(a$alternative, two.sided = c(1e-10, 10), less = c(-10, 5),
                     greater = c(-5, 10))
  f <- function(h) pwr.2p2n.test(h = h, n1 = a$n1, n2 = a$n2, sig.level = a$sig.level,
                                 alternative = a$alternative)$power - a$power
  h <- uniroot(f, interval, tol = 1e-14)$root
  h_pwr <- pwr.2p2n.test(n1 = a$n1, n2 = a$n2, sig.level = a$sig.level, power = a$power,
                         alternative = a$alternative)$h
  list(n1 = a$n1, n2 = a$n2, power = a$power, sig_level = a$sig.level,
       alternative = a$alternative, h = h, h_pwr = h_pwr)
})

# ---- power.t.test ------------------------------------------------------------
ptt_power_cases <- list(
  list(n = 20, delta = 1, sd = 1, sig.level = 0.05, alternative = "two.sided"),
  list(n = 100, delta = 0.3, sd = 1.2, sig.level = 0.05, alternative = "two.sided"),
  list(n = 50, delta = 2.5, sd = 6, sig.level = 0.01, alternative = "one.sided"),
  list(n = 8, delta = 1.5, sd = 1, sig.level = 0.10, alternative = "two.sided")
)
power_t_test <- lapply(ptt_power_cases, function(a) {
  r <- do.call(power.t.test, a)
  list(n = a$n, delta = a$delta, sd = a$sd, sig_level = a$sig.level,
       alternative = a$alternative, power = r$power)
})
ptt_n_cases <- list(
  list(delta = 1, sd = 1, power = 0.90, sig.level = 0.05, alternative = "two.sided"),
  list(delta = 0.25, sd = 1, power = 0.80, sig.level = 0.05, alternative = "two.sided"),
  list(delta = 3, sd = 10, power = 0.80, sig.level = 0.05, alternative = "one.sided")
)
power_t_test_n <- lapply(ptt_n_cases, function(a) {
  r <- do.call(power.t.test, c(a, list(tol = 1e-12)))
  list(delta = a$delta, sd = a$sd, power = a$power, sig_level = a$sig.level,
       alternative = a$alternative, n = r$n)
})

# ---- unpooled normal approximation (both tails), written out -------------------
normal_cases <- list(
  c(0.30, 0.35, 1000, 1200, 1.0, 1.0, 0.05),
  c(0.50, 0.40, 400, 250, 1.5, 2.0, 0.05),
  c(0.10, 0.14, 2000, 1500, 1.2, 1.2, 0.01)
)
two_sample_normal <- lapply(normal_cases, function(v) {
  p1 <- v[1]; p2 <- v[2]; n1 <- v[3] / v[5]; n2 <- v[4] / v[6]
  z <- qnorm(1 - v[7] / 2)
  se <- sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
  power <- pnorm(abs(p1 - p2) / se - z) + pnorm(-abs(p1 - p2) / se - z)
  list(p1 = p1, p2 = p2, n1 = v[3], n2 = v[4], deff1 = v[5], deff2 = v[6],
       sig_level = v[7], power = power)
})

# ---- Cochran sample sizes, written out ---------------------------------------
cochran_cases <- list(
  c(0.5, 0.05, 0.95, 1.0, NA), c(0.5, 0.03, 0.95, 1.5, 20000), c(0.2, 0.04, 0.90, 2.0, 3000),
  c(0.1, 0.02, 0.99, 1.0, 5000)
)
cochran_prop <- lapply(cochran_cases, function(v) {
  z <- qnorm(1 - (1 - v[3]) / 2)
  n0 <- z^2 * v[1] * (1 - v[1]) / v[2]^2 * v[4]
  n <- if (is.na(v[5])) n0 else n0 / (1 + (n0 - 1) / v[5])
  out <- list(p = v[1], moe = v[2], level = v[3], deff = v[4], n0 = n0, n_exact = n)
  if (!is.na(v[5])) out$N <- v[5]  # no N: infinite population, key left out
  out
})
cochran_mean <- lapply(list(c(12, 1.5, 0.95, 1.0, NA), c(12, 1.5, 0.95, 1.8, 900)), function(v) {
  z <- qnorm(1 - (1 - v[3]) / 2)
  n0 <- z^2 * v[1]^2 / v[2]^2 * v[4]
  n <- if (is.na(v[5])) n0 else n0 / (1 + n0 / v[5])
  out <- list(sd = v[1], moe = v[2], level = v[3], deff = v[4], n0 = n0, n_exact = n)
  if (!is.na(v[5])) out$N <- v[5]
  out
})

# ---- allocation closed forms -------------------------------------------------
# Inputs of the first case are those of the PracTools vignette "Singlestage-samsize"
# (Valliant, Dever and Kreuter 2013, smho98 strata); the expected allocation is the
# closed form n * N_h S_h / sum(N_h S_h).
share <- function(n, a) n * a / sum(a)
alloc_cases <- list()
Nh <- c(215, 65, 252, 50, 149, 144)
Sh <- c(26787207, 10645109, 6909676, 11085034, 9817762, 44553355)
ch <- c(1400, 200, 300, 600, 450, 1000)
alloc_cases[[1]] <- list(method = "neyman", n = 100, N = Nh, sd = Sh,
                         expected = share(100, Nh * Sh))
alloc_cases[[2]] <- list(method = "optimal", n = 100, N = Nh, sd = Sh, cost = ch,
                         expected = share(100, Nh * Sh / sqrt(ch)))
Nh2 <- c(5000, 12000, 800, 30000)
ph <- c(0.2, 0.35, 0.5, 0.1)
alloc_cases[[3]] <- list(method = "neyman", n = 1200, N = Nh2, p = ph,
                         expected = share(1200, Nh2 * sqrt(ph * (1 - ph))))
alloc_cases[[4]] <- list(method = "power", n = 1200, N = Nh2, power = 0.5,
                         expected = share(1200, Nh2^0.5))
alloc_cases[[5]] <- list(method = "bankier", n = 1200, N = Nh2, p = ph, power = 0.3,
                         expected = share(1200, Nh2^0.3 * sqrt(ph * (1 - ph)) / ph))
alloc_cases[[6]] <- list(method = "proportional", n = 1200, N = Nh2,
                         expected = share(1200, Nh2))

# Bounded allocations by iterative re-allocation: strata whose share falls outside
# [L_h, U_h] are fixed at the bound and the remainder is shared among the others.
bounded <- function(n, a, L, U) {
  fixed <- rep(FALSE, length(a)); x <- rep(NA_real_, length(a))
  repeat {
    x[!fixed] <- (n - sum(x[fixed])) * a[!fixed] / sum(a[!fixed])
    hi <- !fixed & x > U; lo <- !fixed & x < L
    if (!any(hi) && !any(lo)) break
    x[hi] <- U[hi]; x[lo] <- L[lo]; fixed <- fixed | hi | lo
  }
  x
}
# Neyman where one stratum's share exceeds its population size (take-all stratum).
Nh3 <- c(40, 900, 1500, 300)
Sh3 <- c(600, 20, 15, 30)
alloc_cases[[7]] <- list(method = "neyman", n = 200, N = Nh3, sd = Sh3,
                         expected = bounded(200, Nh3 * Sh3, rep(0, 4), Nh3))
# Proportional with a minimum of 30 interviews per stratum.
Nh4 <- c(100, 5000, 250, 8000, 1200)
alloc_cases[[8]] <- list(method = "proportional", n = 600, N = Nh4, min_n = 30,
                         expected = bounded(600, Nh4, rep(30, 5), Nh4))
# Equal allocation with maximum of 150 per stratum and a small stratum.
Nh5 <- c(60, 5000, 4000, 3000)
alloc_cases[[9]] <- list(method = "equal", n = 500, N = Nh5, max_n = 150,
                         expected = bounded(500, rep(1, 4), rep(0, 4), pmin(150, Nh5)))

# ---- variance of a stratified proportion (Cochran 1977, sect. 5.10) ----------
strat_cases <- list(list(n = c(100, 250, 60, 400), N = Nh2, p = ph, level = 0.95, deff = 1.0),
                    list(n = c(50, 50, 50), N = c(200, 1000, 5000), p = c(0.5, 0.3, 0.6),
                         level = 0.90, deff = 1.7))
stratified <- lapply(strat_cases, function(a) {
  W <- a$N / sum(a$N)
  vh <- a$deff * (a$N - a$n) / (a$N - 1) * a$p * (1 - a$p) / a$n
  z <- qnorm(1 - (1 - a$level) / 2)
  c(a, list(stratum_moe = z * sqrt(vh), variance = sum(W^2 * vh),
            moe = z * sqrt(sum(W^2 * vh))))
})

# ---- design effects of a past survey (input to deff_from_result) -------------
data(api, package = "survey")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
m <- svymean(~api00 + api99, dclus1, deff = TRUE)
deff_apiclus1 <- list(variables = c("api00", "api99"), deff = unname(as.numeric(deff(m))),
                      mean = mean(deff(m)), max = max(deff(m)))

# SRS variance (the denominator of deff): vcov / deff from svymean / svytotal with
# deff = TRUE and "replace", next to svyvar, the number of rows and the sum of weights.
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
srs_case <- function(design, name) {
  s2 <- as.numeric(coef(svyvar(~api00, design)))
  out <- list(design = name, s2 = s2, n = nrow(design), N = sum(weights(design)))
  for (stat in c("mean", "total")) {
    for (dk in c("wor", "replace")) {
      fun <- if (stat == "mean") svymean else svytotal
      r <- fun(~api00, design, deff = if (dk == "wor") TRUE else "replace")
      out[[paste0(stat, "_", dk)]] <- as.numeric(vcov(r)) / as.numeric(deff(r))
    }
  }
  out
}
srs_variance <- list(srs_case(dstrat, "apistrat"), srs_case(dclus1, "apiclus1"))

planning_fixture <- list(
  generator = "tests/conformance/r/planning.R",
  r_version = R.version.string,
  pwr_version = as.character(packageVersion("pwr")),
  power_prop_test = power_prop_test,
  power_prop_test_n = power_prop_test_n,
  pwr_2p2n = pwr_2p2n,
  pwr_2p_power = pwr_2p_power,
  pwr_2p_n = pwr_2p_n,
  power_t_test = power_t_test,
  power_t_test_n = power_t_test_n,
  two_sample_normal = two_sample_normal,
  cochran_prop = cochran_prop,
  cochran_mean = cochran_mean,
  allocation = alloc_cases,
  stratified = stratified,
  deff_apiclus1 = deff_apiclus1,
  pwr_2p2n_h = pwr_2p2n_h,
  srs_variance = srs_variance
)
dir.create(dirname(planning_fixture_path), showWarnings = FALSE, recursive = TRUE)
write_json(planning_fixture, planning_fixture_path, digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
