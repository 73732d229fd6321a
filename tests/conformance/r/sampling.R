# Reference values for surveylib.sampling (tests/test_sampling.py).
#
# Run from the repository root:  Rscript tests/conformance/r/sampling.R
# Writes tests/conformance/fixtures/sampling.json.  Needs sampling and jsonlite.  Also
# sourced by tests/conformance/make_fixtures.R.
#
# Blocks:
#   inclusion      sampling::inclusionprobabilities(a, n)
#   systematic     sampling::UPsystematic(pik) after set.seed(seed); the uniform it used is
#                  recorded (set.seed(seed); runif(1)), so Python reproduces the draw
#   brewer         sampling::UPbrewer(pik) after set.seed(seed); UPbrewer calls runif(1) once
#                  per draw and nothing else, so set.seed(seed); runif(n) is its stream
#   systematic_pi2 sampling::UPsystematicpi2(pik)
#   sampford_pi2   sampling::UPsampfordpi2(pik) (exact), to measure the Hartley-Rao approximation
#   strata         sampling::strata(frame, "h", size, method = "srswor" / "systematic", pik = x):
#                  the Prob column (the inclusion probabilities of the selected units)

suppressPackageStartupMessages({
  library(jsonlite)
  library(sampling)
})
# full-precision JSON writer (fx_write_json); make_fixtures.R has already sourced it
if (!exists("fx_write_json")) source(file.path("tests", "conformance", "r", "00_helpers.R"))

num <- function(x) as.list(as.numeric(x))

set.seed(20240501)
size_cases <- list(
  list(a = c(1, 2, 3, 14), n = 2),
  list(a = round(rlnorm(40, 8, 1.2)), n = 7),
  list(a = c(5000, 120, 80, 300, 45, 60, 900, 2500, 33, 410, 75, 130), n = 5),
  list(a = c(10, 10, 10, 10, 10), n = 3),
  list(a = round(rlnorm(25, 6, 2)), n = 9)
)
inclusion <- lapply(size_cases, function(cs) {
  list(a = num(cs$a), n = cs$n, pik = num(inclusionprobabilities(cs$a, cs$n)))
})

systematic <- lapply(seq_along(size_cases), function(i) {
  pik <- inclusionprobabilities(size_cases[[i]]$a, size_cases[[i]]$n)
  seed <- 100 + i
  set.seed(seed); u <- runif(1)
  set.seed(seed); s <- UPsystematic(pik)
  list(pik = num(pik), seed = seed, u = u, s = as.list(as.integer(s)))
})

brewer_cases <- lapply(seq_along(size_cases), function(i) {
  pik <- inclusionprobabilities(size_cases[[i]]$a, size_cases[[i]]$n)
  inner <- pik > 1e-6 & pik < 1 - 1e-6
  n_draws <- round(sum(pik[inner]))
  seed <- 200 + i
  set.seed(seed); u <- runif(n_draws)
  set.seed(seed); s <- UPbrewer(pik)
  list(pik = num(pik), seed = seed, u = num(u), s = as.list(as.integer(s)))
})

pi2_cases <- list(size_cases[[2]], size_cases[[3]], size_cases[[5]])
systematic_pi2 <- lapply(pi2_cases, function(cs) {
  pik <- inclusionprobabilities(cs$a, cs$n)
  m <- UPsystematicpi2(pik)
  list(pik = num(pik), pi2 = lapply(seq_len(nrow(m)), function(i) num(m[i, ])))
})

sampford_pi2 <- lapply(list(size_cases[[2]]), function(cs) {
  pik <- inclusionprobabilities(cs$a, cs$n)
  m <- UPsampfordpi2(pik)
  list(pik = num(pik), pi2 = lapply(seq_len(nrow(m)), function(i) num(m[i, ])))
})

# a stratified frame: 3 strata, sizes x; strata() needs the frame sorted by stratum
set.seed(7)
frame <- data.frame(id = 1:60, h = rep(c("a", "b", "c"), times = c(25, 20, 15)),
                    x = round(rlnorm(60, 5, 1)))
sizes <- c(4, 3, 5)
set.seed(11)
st_srs <- strata(frame, "h", size = sizes, method = "srswor")
set.seed(12)
st_sys <- strata(frame, "h", size = sizes, method = "systematic", pik = frame$x)
strata_block <- list(
  frame = list(id = as.list(frame$id), h = as.list(frame$h), x = num(frame$x)),
  size = as.list(sizes),
  srswor = list(id = as.list(st_srs$ID_unit), prob = num(st_srs$Prob)),
  systematic = list(id = as.list(st_sys$ID_unit), prob = num(st_sys$Prob))
)
strata_block$systematic_pik_by_stratum <- lapply(c("a", "b", "c"), function(h) {
  k <- which(c("a", "b", "c") == h)
  num(inclusionprobabilities(frame$x[frame$h == h], sizes[k]))
})

sampling_fixture <- list(
  generator = "tests/conformance/r/sampling.R",
  r_version = R.version.string,
  sampling_version = as.character(packageVersion("sampling")),
  inclusion = inclusion,
  systematic = systematic,
  brewer = brewer_cases,
  systematic_pi2 = systematic_pi2,
  sampford_pi2 = sampford_pi2,
  strata = strata_block
)
fx_write_json(sampling_fixture, "sampling.json")
