# R conformance fixtures for surveylib.weighting (issue 4).
# Writes tests/conformance/fixtures/weighting.json and the synthetic input
# tests/conformance/data/synth_kz.csv.  Run via: Rscript tests/conformance/make_fixtures.R
#
# Designs (R survey 4.x):
#   dclus1   apiclus1, id=~dnum, weights=~pw, fpc=~fpc
#   dstrat   apistrat, strata=~stype, weights=~pw, fpc=~fpc
#   dkz      synthetic survey shaped like the Kazakhstan urban waves: six strata
#            with the 2012 frame's urban adult populations (frames/strata_frame.csv
#            at d2ec1c9, copied below),
#            10 PSUs of 20 respondents per stratum (nest=TRUE), weights N_h/n_h, no
#            fpc; sex (1/2), agegrp (15-17 ... 60+), ethnic (Kazakh/Russian/Other)
#            drawn with stratum-specific shares, an outcome y, a 0/1 outcome z and a
#            response indicator resp (response depends on age group).
#   Population margins for dkz are the 2012 sex x agegrp and ethnic counts of
#   frames/margins.csv (both add up to 7,141,674), copied into this script from
#   the version committed in d2ec1c9 so that frame revisions leave the fixtures alone.
#
# Cases (ids in weighting.json); each lists its weighting steps (R call and the
# equivalent surveylib arguments), the final weights, and estimates with SEs:
#   ps_clus1            postStratify(dclus1, ~stype, pop.types)
#   ps_strat_2way       postStratify(dstrat, ~stype+sch.wide, 6 cells)
#   ps_clus1_shares     the same as ps_clus1 with shares scaled to sum(weights)
#   rake_clus1_default  rake(dclus1, list(~stype, ~sch.wide), ...) with R's default
#                       control (epsilon=1 absolute, maxit=10)
#   rake_clus1_tight    the same with control=list(epsilon=1e-13, maxit=1000)
#   rake_strat_tight    the same on dstrat (element sampling)
#   rake_kz             rake(dkz, list(~sex+agegrp, ~ethnic), ...) tight control
#   cal_linear_clus1    calibrate(dclus1, ~stype+api99, pop.totals)
#   cal_raking_clus1    the same, calfun="raking"
#   cal_logit_clus1     calfun="logit", bounds=c(0.7, 1.7)
#   cal_linbound_clus1  calfun="linear", bounds=c(0.6, 1.6)
#   cal_rakbound_clus1  calfun="raking", bounds=c(0.6, 1.6)
#   cal_kz_raking       calibrate(dkz, ~interaction(sex,agegrp)+ethnic, calfun="raking")
#   cal_kz_linear       the same, linear
#   chain_ps_cal        postStratify(dclus1, ~stype) then calibrate(~api99)
#   trim_strat          trimWeights(dstrat, upper=40, lower=18)
#   trim_strat_strict   the same with strict=TRUE
#   trim_cal_clus1      trimWeights(cal_linear_clus1, upper=40) (variance keeps the
#                       calibration's residualisation, as R)
#   nr_kz               weighting-class nonresponse adjustment within agegrp; R
#                       reference: svycontrast() of class totals on the full design
#                       (sum_c N_c Y_c / R_c and its ratio to sum_c N_c)

GEN <- "tests/conformance/r/weighting.R"
cases <- list()

num_list <- function(x) as.list(as.numeric(x))
chr_list <- function(x) as.list(as.character(x))

# population table -> JSON {variables, levels: [[...] per variable], values}
pop_json <- function(df, vars, valcol = "Freq") {
  list(variables = chr_list(vars),
       levels = lapply(vars, function(v) chr_list(df[[v]])),
       values = num_list(df[[valcol]]))
}

est_rows <- function(est, variables, by = NULL) {
  cf <- coef(est)
  se <- SE(est)
  lapply(seq_along(cf), function(i) list(name = names(cf)[i], estimate = unname(cf[i]),
                                         se = unname(se[i])))
}

estimates_for <- function(d, spec) {
  lapply(spec, function(s) {
    f <- as.formula(paste0("~", paste(s$variables, collapse = "+")))
    if (is.null(s$by)) {
      e <- if (s$estimator == "mean") svymean(f, d) else svytotal(f, d)
      rows <- lapply(seq_along(coef(e)), function(i)
        list(by = setNames(list(), character(0)), variable = s$variables[[i]],
             estimate = unname(coef(e)[i]), se = unname(SE(e)[i])))
    } else {
      fn <- if (s$estimator == "mean") svymean else svytotal
      b <- svyby(f, as.formula(paste0("~", s$by)), d, fn)
      cf <- coef(b); se <- SE(b)
      nd <- nrow(b)
      rows <- list()
      for (j in seq_along(s$variables)) for (k in seq_len(nd)) {
        i <- (j - 1) * nd + k
        rows[[length(rows) + 1]] <- list(by = setNames(list(as.character(b[[s$by]][k])), s$by),
                                         variable = s$variables[[j]],
                                         estimate = unname(cf[i]), se = unname(se[i]))
      }
    }
    list(estimator = s$estimator, variables = chr_list(s$variables),
         by = if (is.null(s$by)) NULL else s$by, rows = rows)
  })
}

# svyquantile (qrule="math", interval.type="mean", R's default df) on the weighted design:
# quartiles of each variable, and the median of the first by domains (svyby), each row
# with its Woodruff interval and SE
quantiles_for <- function(d, spec) {
  rows <- list()
  f <- as.formula(paste0("~", paste(spec$variables, collapse = "+")))
  x <- svyquantile(f, d, quantiles = c(0.25, 0.5, 0.75), ci = TRUE)
  for (v in spec$variables) {
    m <- x[[v]]
    for (i in seq_len(nrow(m)))
      rows[[length(rows) + 1]] <- list(by = setNames(list(), character(0)), variable = v,
                                       p = as.numeric(rownames(m)[i]), estimate = m[i, 1],
                                       ci_low = m[i, 2], ci_high = m[i, 3], se = m[i, 4])
  }
  v <- spec$variables[[1]]
  b <- svyby(as.formula(paste0("~", v)), as.formula(paste0("~", spec$by)), d, svyquantile,
             quantiles = 0.5, ci = TRUE, vartype = c("se", "ci"))
  for (k in seq_len(nrow(b)))
    rows[[length(rows) + 1]] <- list(by = setNames(list(as.character(b[[spec$by]][k])), spec$by),
                                     variable = v, p = 0.5, estimate = unname(coef(b)[k]),
                                     ci_low = b$ci_l[k], ci_high = b$ci_u[k],
                                     se = unname(SE(b)[k]))
  list(variables = chr_list(spec$variables), by = spec$by,
       r_call = sprintf("svyquantile(%s, d, quantiles=c(0.25, 0.5, 0.75), ci=TRUE); svyby(~%s, ~%s, d, svyquantile, quantiles=0.5, ci=TRUE, vartype=c(\"se\",\"ci\"))",
                        deparse(f), v, spec$by),
       rows = rows)
}

add_case <- function(id, design, steps, d, estimates, note = NULL, quantiles = NULL) {
  w <- weights(d)
  case <- list(id = id, design = design, steps = steps, weights = num_list(w),
               estimates = estimates_for(d, estimates), note = note)
  if (!is.null(quantiles)) case$quantiles <- quantiles_for(d, quantiles)
  cases[[length(cases) + 1]] <<- case
}

# ----------------------------------------------------------------- data --
apiclus1 <- fx_read_csv("apiclus1.csv")
apistrat <- fx_read_csv("apistrat.csv")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)

api_q <- list(variables = c("api00", "enroll"), by = "sch.wide")
api_est <- list(list(estimator = "mean", variables = c("api00", "enroll")),
                list(estimator = "total", variables = c("enroll", "api99")),
                list(estimator = "mean", variables = c("api00"), by = "sch.wide"))

designs <- list(
  dclus1 = list(data = "apiclus1.csv", strata = NULL, psu = "dnum", weights = "pw", fpc = "fpc",
                nest = FALSE, r_call = "svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc)"),
  dstrat = list(data = "apistrat.csv", strata = "stype", psu = NULL, weights = "pw", fpc = "fpc",
                nest = FALSE, r_call = "svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)"),
  dkz = list(data = "synth_kz.csv", strata = "stratum", psu = "psu", weights = "w", fpc = NULL,
             nest = TRUE, r_call = "svydesign(id=~psu, strata=~stratum, weights=~w, nest=TRUE, data=kz)")
)

# synthetic Kazakhstan-shaped survey
set.seed(20120401)
# 2012 urban adult (15+) populations of the six strata, copied from
# frames/strata_frame.csv as committed in d2ec1c9 (a snapshot, so that later
# revisions of the frame do not change these fixtures)
frame <- data.frame(
  stratum = c("Northern", "Eastern", "Southern", "Western", "Central", "Almaty city"),
  urban_pop_adult = c(1857869, 549255, 1767760, 983841, 849545, 1133404))
agegrps <- c("15-17", "18-29", "30-39", "40-49", "50-59", "60+")
kz <- do.call(rbind, lapply(seq_len(nrow(frame)), function(h) {
  n_psu <- 10; m <- 20
  n <- n_psu * m
  p_kaz <- c(0.35, 0.45, 0.75, 0.70, 0.40, 0.55)[h]
  p_rus <- c(0.50, 0.45, 0.12, 0.20, 0.45, 0.30)[h]
  data.frame(
    stratum = frame$stratum[h],
    psu = rep(seq_len(n_psu), each = m),
    sex = sample(1:2, n, replace = TRUE, prob = c(0.42, 0.58)),
    agegrp = sample(agegrps, n, replace = TRUE, prob = c(0.04, 0.20, 0.18, 0.18, 0.18, 0.22)),
    ethnic = sample(c("Kazakh", "Russian", "Other"), n, replace = TRUE,
                    prob = c(p_kaz, p_rus, 1 - p_kaz - p_rus)),
    w = frame$urban_pop_adult[h] / n,
    stringsAsFactors = FALSE)
}))
psu_eff <- rnorm(6 * 10, sd = 0.4)
kz$y <- round(3 + 0.3 * (kz$ethnic == "Kazakh") - 0.2 * (kz$sex == 2) +
              0.01 * match(kz$agegrp, agegrps) * 10 +
              psu_eff[(match(kz$stratum, frame$stratum) - 1) * 10 + kz$psu] + rnorm(nrow(kz)), 3)
kz$z <- as.integer(runif(nrow(kz)) < plogis(-0.5 + 0.6 * (kz$ethnic == "Russian") + 0.2 * (kz$sex == 1)))
kz$resp <- as.integer(runif(nrow(kz)) < c(0.55, 0.6, 0.7, 0.75, 0.8, 0.85)[match(kz$agegrp, agegrps)])
kz <- fx_write_csv(kz, "synth_kz.csv")
dkz <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = kz)
kz_q <- list(variables = c("y"), by = "sex")
kz_est <- list(list(estimator = "mean", variables = c("y", "z")),
               list(estimator = "total", variables = c("y", "z")),
               list(estimator = "mean", variables = c("y"), by = "sex"))

# 2012 margins (counts), snapshot of frames/margins.csv as committed in d2ec1c9
pop_sexage <- data.frame(
  sex = rep(1:2, 6),
  agegrp = rep(agegrps, each = 2),
  Freq = c(242037, 254775, 968147, 1019102, 673313, 708750,
           597676, 629133, 522040, 549516, 342649, 634536))
pop_eth <- data.frame(ethnic = c("Kazakh", "Russian", "Other"),
                      Freq = c(4506396, 1692577, 942701))

# ------------------------------------------------------- post-stratify --
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
d <- postStratify(dclus1, ~stype, pop.types)
add_case("ps_clus1", "dclus1",
         list(list(op = "poststratify", by = list("stype"), population = pop_json(pop.types, "stype"),
                   r_call = "postStratify(dclus1, ~stype, data.frame(stype=c('E','H','M'), Freq=c(4421,755,1018)))")),
         d, api_est, quantiles = api_q)

shares <- pop.types; shares$Freq <- shares$Freq / sum(shares$Freq)
scaled <- pop.types; scaled$Freq <- shares$Freq * sum(weights(dclus1))
d <- postStratify(dclus1, ~stype, scaled)
add_case("ps_clus1_shares", "dclus1",
         list(list(op = "poststratify", by = list("stype"), population = pop_json(shares, "stype"),
                   r_call = "postStratify(dclus1, ~stype, shares * sum(weights(dclus1)))")),
         d, api_est, note = "surveylib gets shares (sum 1); R gets shares x sum(weights(dclus1))")

pop2 <- expand.grid(stype = c("E", "H", "M"), sch.wide = c("No", "Yes"), stringsAsFactors = FALSE)
pop2$Freq <- c(600, 200, 250, 3821, 555, 768)
d <- postStratify(dstrat, ~stype + sch.wide, pop2)
add_case("ps_strat_2way", "dstrat",
         list(list(op = "poststratify", by = list("stype", "sch.wide"),
                   population = pop_json(pop2, c("stype", "sch.wide")),
                   r_call = "postStratify(dstrat, ~stype+sch.wide, pop2)")),
         d, api_est, quantiles = api_q)

# --------------------------------------------------------------- rake --
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
rk <- function() list(op = "rake", margins = list(pop_json(pop.types, "stype"),
                                                     pop_json(pop.schwide, "sch.wide")))
d <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
s <- rk(); s$tol <- 1 / sum(weights(dclus1)); s$max_iter <- 10
s$r_call <- "rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))"
add_case("rake_clus1_default", "dclus1", list(s), d, api_est,
         note = "R default control: epsilon=1 (absolute) = tol 1/sum(w), maxit=10")

d <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
          control = list(epsilon = 1e-13, maxit = 1000))
s <- rk(); s$tol <- 1e-13; s$max_iter <- 1000
s$r_call <- "rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control=list(epsilon=1e-13, maxit=1000))"
add_case("rake_clus1_tight", "dclus1", list(s), d, api_est, quantiles = api_q)

# element sampling (id=~1): every row its own PSU, the residuals per row
d <- rake(dstrat, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
          control = list(epsilon = 1e-13, maxit = 1000))
s <- rk(); s$tol <- 1e-13; s$max_iter <- 1000
s$r_call <- "rake(dstrat, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control=list(epsilon=1e-13, maxit=1000))"
add_case("rake_strat_tight", "dstrat", list(s), d, api_est)

d <- rake(dkz, list(~sex + agegrp, ~ethnic), list(pop_sexage, pop_eth),
          control = list(epsilon = 1e-13, maxit = 1000))
add_case("rake_kz", "dkz",
         list(list(op = "rake", margins = list(pop_json(pop_sexage, c("sex", "agegrp")),
                                               pop_json(pop_eth, "ethnic")),
                   tol = 1e-13, max_iter = 1000,
                   r_call = "rake(dkz, list(~sex+agegrp, ~ethnic), list(pop_sexage, pop_eth), control=list(epsilon=1e-13, maxit=1000))")),
         d, kz_est, quantiles = kz_q)

# ---------------------------------------------------------- calibrate --
pop.totals <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
cal_totals <- list(`(Intercept)` = 6194, stype = list(E = 4421, H = 755, M = 1018), api99 = 3914069)
cal_step <- function(calfun, bounds, r_call) {
  s <- list(op = "calibrate", totals = cal_totals, calfun = calfun, r_call = r_call,
            epsilon = 1e-12, maxit = 100)
  if (!is.null(bounds)) s$bounds <- num_list(bounds)
  s
}
d <- calibrate(dclus1, ~stype + api99, pop.totals)
dcal <- d
add_case("cal_linear_clus1", "dclus1",
         list(cal_step("linear", NULL, "calibrate(dclus1, ~stype+api99, pop.totals)")), d, api_est)
d <- calibrate(dclus1, ~stype + api99, pop.totals, calfun = "raking", epsilon = 1e-12, maxit = 100)
add_case("cal_raking_clus1", "dclus1",
         list(cal_step("raking", NULL, "calibrate(dclus1, ~stype+api99, pop.totals, calfun='raking', epsilon=1e-12, maxit=100)")),
         d, api_est)
d <- calibrate(dclus1, ~stype + api99, pop.totals, calfun = "logit", bounds = c(0.7, 1.7),
               epsilon = 1e-12, maxit = 100)
add_case("cal_logit_clus1", "dclus1",
         list(cal_step("logit", c(0.7, 1.7), "calibrate(dclus1, ~stype+api99, pop.totals, calfun='logit', bounds=c(0.7,1.7), epsilon=1e-12, maxit=100)")),
         d, api_est)
d <- calibrate(dclus1, ~stype + api99, pop.totals, calfun = "linear", bounds = c(0.6, 1.6),
               epsilon = 1e-12, maxit = 100)
add_case("cal_linbound_clus1", "dclus1",
         list(cal_step("linear", c(0.6, 1.6), "calibrate(dclus1, ~stype+api99, pop.totals, calfun='linear', bounds=c(0.6,1.6), epsilon=1e-12, maxit=100)")),
         d, api_est)
d <- calibrate(dclus1, ~stype + api99, pop.totals, calfun = "raking", bounds = c(0.6, 1.6),
               epsilon = 1e-12, maxit = 100)
add_case("cal_rakbound_clus1", "dclus1",
         list(cal_step("raking", c(0.6, 1.6), "calibrate(dclus1, ~stype+api99, pop.totals, calfun='raking', bounds=c(0.6,1.6), epsilon=1e-12, maxit=100)")),
         d, api_est)

# kz: cross-classified sex x agegrp plus ethnic; R's model matrix drops the first
# level of each factor, surveylib gets every level's count.
kz$sexage <- interaction(kz$sex, kz$agegrp, sep = ":")
dkz <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = kz)
mm <- model.matrix(~sexage + ethnic, kz)
pop_kz <- c(sum(pop_sexage$Freq))
lev_sa <- levels(kz$sexage)
sa_count <- setNames(pop_sexage$Freq, paste(pop_sexage$sex, pop_sexage$agegrp, sep = ":"))
lev_et <- levels(kz$ethnic)
et_count <- setNames(pop_eth$Freq, pop_eth$ethnic)
pop_kz <- c(pop_kz, sa_count[lev_sa[-1]], et_count[lev_et[-1]])
names(pop_kz) <- colnames(mm)
kz_totals <- list(sexage_pop = pop_json(pop_sexage, c("sex", "agegrp")),
                  ethnic_pop = pop_json(pop_eth, "ethnic"))
for (cf in c("raking", "linear")) {
  d <- calibrate(dkz, ~sexage + ethnic, pop_kz, calfun = cf, epsilon = 1e-12, maxit = 100)
  add_case(paste0("cal_kz_", cf), "dkz",
           list(list(op = "calibrate", totals_tables = list(pop_json(pop_sexage, c("sex", "agegrp")),
                                                            pop_json(pop_eth, "ethnic")),
                     calfun = cf, epsilon = 1e-12, maxit = 100,
                     r_call = paste0("calibrate(dkz, ~interaction(sex,agegrp)+ethnic, pop, calfun='", cf, "', epsilon=1e-12, maxit=100)"))),
           d, kz_est)
}

d <- postStratify(dclus1, ~stype, pop.types)
d <- calibrate(d, ~api99, c(`(Intercept)` = 6194, api99 = 3914069))
add_case("chain_ps_cal", "dclus1",
         list(list(op = "poststratify", by = list("stype"), population = pop_json(pop.types, "stype"),
                   r_call = "postStratify(dclus1, ~stype, pop.types)"),
              list(op = "calibrate", totals = list(`(Intercept)` = 6194, api99 = 3914069),
                   calfun = "linear", r_call = "calibrate(., ~api99, c(`(Intercept)`=6194, api99=3914069))")),
         d, api_est)

# --------------------------------------------------------------- trim --
d <- trimWeights(dstrat, upper = 40, lower = 18)
add_case("trim_strat", "dstrat",
         list(list(op = "trim", upper = 40, lower = 18, strict = FALSE,
                   r_call = "trimWeights(dstrat, upper=40, lower=18)")), d, api_est)
d <- trimWeights(dstrat, upper = 40, lower = 18, strict = TRUE)
add_case("trim_strat_strict", "dstrat",
         list(list(op = "trim", upper = 40, lower = 18, strict = TRUE,
                   r_call = "trimWeights(dstrat, upper=40, lower=18, strict=TRUE)")), d, api_est)
d <- trimWeights(dcal, upper = 40)
add_case("trim_cal_clus1", "dclus1",
         list(cal_step("linear", NULL, "calibrate(dclus1, ~stype+api99, pop.totals)"),
              list(op = "trim", upper = 40, strict = FALSE, r_call = "trimWeights(., upper=40)")),
         d, api_est)

# ------------------------------------------------- nonresponse (kz) --
# Reference: on the full design, theta = sum_c N_c * RY_c / R_c (total) and
# theta / sum_c N_c (mean), with N_c, RY_c, R_c estimated totals; svycontrast
# gives the delta-method (linearisation) SE.
for (j in seq_along(agegrps)) {
  a <- agegrps[j]
  kz[[paste0("e", j)]] <- as.numeric(kz$agegrp == a)
  kz[[paste0("r", j)]] <- as.numeric(kz$agegrp == a & kz$resp == 1)
  kz[[paste0("ry", j)]] <- kz[[paste0("r", j)]] * kz$y
  kz[[paste0("rz", j)]] <- kz[[paste0("r", j)]] * kz$z
}
dkz_full <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = kz)
J <- seq_along(agegrps)
tot <- svytotal(as.formula(paste("~", paste(c(paste0("e", J), paste0("r", J), paste0("ry", J),
                                               paste0("rz", J)), collapse = "+"))), dkz_full)
nr_rows <- list()
for (v in c("y", "z")) {
  num <- paste(sprintf("e%d*r%s%d/r%d", J, v, J, J), collapse = "+")
  den <- paste(sprintf("e%d", J), collapse = "+")
  ct <- svycontrast(tot, list(total = parse(text = num)[[1]],
                              mean = parse(text = paste0("(", num, ")/(", den, ")"))[[1]]))
  nr_rows[[v]] <- list(total = list(estimate = unname(coef(ct)[1]), se = unname(SE(ct)[1])),
                       mean = list(estimate = unname(coef(ct)[2]), se = unname(SE(ct)[2])))
}
fac <- tapply(kz$w, kz$agegrp, sum) / tapply(kz$w * kz$resp, kz$agegrp, sum)
nr_w <- ifelse(kz$resp == 1, kz$w * fac[kz$agegrp], 0)
cases[[length(cases) + 1]] <- list(
  id = "nr_kz", design = "dkz",
  steps = list(list(op = "nonresponse", respondent = "resp", classes = list("agegrp"),
                    r_call = "svycontrast(svytotal(~e1+..+r1+..+ry1+.., dkz), quote(e1*ry1/r1+...))")),
  weights = num_list(nr_w),
  estimates = list(
    list(estimator = "mean", variables = list("y", "z"), by = NULL,
         rows = list(c(list(by = setNames(list(), character(0)), variable = "y"), nr_rows$y$mean),
                     c(list(by = setNames(list(), character(0)), variable = "z"), nr_rows$z$mean))),
    list(estimator = "total", variables = list("y", "z"), by = NULL,
         rows = list(c(list(by = setNames(list(), character(0)), variable = "y"), nr_rows$y$total),
                     c(list(by = setNames(list(), character(0)), variable = "z"), nr_rows$z$total)))),
  note = "weights: w * sum_c(w) / sum_c(w resp) for respondents, 0 otherwise")

# ------------------------------------------------------------- errors --
errors <- list()
r <- tryCatch(calibrate(dclus1, ~stype + api99, pop.totals, calfun = "raking",
                        bounds = c(0.8, 1.4), epsilon = 1e-12, maxit = 100),
              error = function(e) conditionMessage(e), warning = function(w) conditionMessage(w))
errors[[1]] <- list(id = "cal_infeasible_bounds", design = "dclus1",
                    steps = list(cal_step("raking", c(0.8, 1.4), "calibrate(dclus1, ~stype+api99, pop.totals, calfun='raking', bounds=c(0.8,1.4))")),
                    r_message = as.character(r))

fx_write_json(c(fx_header(GEN), list(designs = designs, cases = cases, errors = errors)),
              "weighting.json")
