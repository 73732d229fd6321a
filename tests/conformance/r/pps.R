# PPS designs without replacement (issue 17): svydesign(pps = "brewer" / "overton" / HR() /
# HR(psum) / ppsmat(joint)) with variance = "HT" or "YG".
#
# Data: survey's election_pps (40 counties drawn with probability proportional to votes, p =
# inclusion probability, one row per county) and election_jointprob (their joint inclusion
# probabilities), written to data/election_pps.csv and data/election_jointprob.csv; a
# two-stratum version (strata = row parity, an artificial split to exercise strata); and a
# two-stage Brewer design on apiclus2 with first-stage probabilities drawn below (seeded) and
# second-stage fractions = sampled / population schools in the district.
#
# Each case: svymean and svytotal of Bush and Kerry (estimates, vcov), the mean of Bush on
# the subset big == 1 and svyby(~Bush, ~big, svymean) SEs, and degf.
# Writes fixtures/pps.json.

suppressPackageStartupMessages(library(survey))
data(election)
data(api)

el <- election_pps
el$big <- as.integer(el$votes > median(el$votes))
el$stratum <- ifelse(seq_len(nrow(el)) %% 2 == 0, 2L, 1L)  # numeric: overton/HR need it
el <- fx_write_csv(el[, c("County", "Bush", "Kerry", "votes", "p", "big", "stratum")],
                   "election_pps.csv")
jp <- unname(as.matrix(election_jointprob))
fx_write_csv(as.data.frame(jp), "election_jointprob.csv")
jp <- as.matrix(fx_read_csv("election_jointprob.csv"))
dimnames(jp) <- NULL

set.seed(20261129)
cl2 <- apiclus2[, c("dnum", "snum", "api00", "api99", "stype", "fpc2")]
dists <- unique(cl2$dnum)
p1 <- setNames(round(runif(length(dists), 0.02, 0.2), 4), dists)
cl2$p1 <- unname(p1[as.character(cl2$dnum)])
cl2$p2 <- as.vector(ave(cl2$snum, cl2$dnum, FUN = length)) / as.vector(cl2$fpc2)
cl2$big <- as.integer(cl2$stype == "E")
cl2 <- fx_write_csv(cl2[, c("dnum", "snum", "api00", "api99", "p1", "p2", "big")],
                    "apiclus2_pps.csv")

psum <- sum(election$p^2) / 40

designs <- list(
  brewer = list(call = "svydesign(id=~1, fpc=~p, data=el, pps='brewer')",
                pps = "brewer", variance = "HT", strata = NULL, data = "election_pps.csv"),
  brewer_strat = list(call = "svydesign(id=~1, strata=~stratum, fpc=~p, data=el, pps='brewer')",
                      pps = "brewer", variance = "HT", strata = "stratum",
                      data = "election_pps.csv"),
  overton = list(call = "svydesign(id=~1, fpc=~p, data=el, pps='overton')",
                 pps = "overton", variance = "HT", strata = NULL, data = "election_pps.csv"),
  overton_strat = list(call = "svydesign(id=~1, strata=~stratum, fpc=~p, data=el, pps='overton')",
                       pps = "overton", variance = "HT", strata = "stratum",
                       data = "election_pps.csv"),
  hr1 = list(call = "svydesign(id=~1, fpc=~p, data=el, pps=HR())",
             pps = "hartley-rao", variance = "HT", strata = NULL, data = "election_pps.csv"),
  hr_psum = list(call = "svydesign(id=~1, fpc=~p, data=el, pps=HR(psum))",
                 pps = "hartley-rao", psum = psum, variance = "HT", strata = NULL,
                 data = "election_pps.csv"),
  hr_strat = list(call = "svydesign(id=~1, strata=~stratum, fpc=~p, data=el, pps=HR())",
                  pps = "hartley-rao", variance = "HT", strata = "stratum",
                  data = "election_pps.csv"),
  ppsmat_ht = list(call = "svydesign(id=~1, fpc=~p, data=el, pps=ppsmat(jp))",
                   pps = "joint", variance = "HT", strata = NULL, data = "election_pps.csv"),
  ppsmat_yg = list(call = "svydesign(id=~1, fpc=~p, data=el, pps=ppsmat(jp), variance='YG')",
                   pps = "joint", variance = "YG", strata = NULL, data = "election_pps.csv"),
  brewer_2stage = list(call = "svydesign(id=~dnum+snum, fpc=~p1+p2, data=cl2, pps='brewer')",
                       pps = "brewer", variance = "HT", strata = NULL,
                       data = "apiclus2_pps.csv")
)

vars_of <- function(name) if (grepl("2stage", name)) c("api00", "api99") else c("Bush", "Kerry")

cases <- lapply(names(designs), function(name) {
  spec <- designs[[name]]
  d <- eval(parse(text = spec$call))
  v <- vars_of(name)
  f <- as.formula(paste("~", paste(v, collapse = "+")))
  m <- svymean(f, d)
  t <- svytotal(f, d)
  sub <- subset(d, big == 1)
  ms <- svymean(as.formula(paste("~", v[1])), sub)
  by <- svyby(as.formula(paste("~", v[1])), ~big, d, svymean)
  spec$call <- NULL
  vec <- function(x) as.list(as.numeric(x))
  mat <- function(x) { x <- unname(as.matrix(x)); lapply(seq_len(nrow(x)), function(i) vec(x[i, ])) }
  c(spec, list(
    name = name, variables = as.list(v),
    mean = vec(coef(m)), mean_vcov = mat(vcov(m)),
    total = vec(coef(t)), total_vcov = mat(vcov(t)),
    subset_mean = as.numeric(coef(ms)), subset_se = as.numeric(SE(ms)),
    by_levels = vec(by$big), by_mean = vec(coef(by)),
    by_se = vec(SE(by)), degf = degf(d)))
})
names(cases) <- names(designs)

fx_write_json(list(generator = "tests/conformance/r/pps.R", r_version = R.version.string,
                   survey_version = as.character(packageVersion("survey")),
                   psum = psum, cases = cases), "pps.json")
