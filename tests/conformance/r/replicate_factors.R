# Replicate designs given as factors (combined.weights = FALSE) without scale/rscales: R
# guesses JK1's scale as 1 / max(first replicate column) and JKn's rscales as 1 / each
# column's max, from the factors as given (not multiplied by the sampling weights).
# Data: 12 PSUs in 2 strata, delete-one-PSU jackknife factors f1..f12 (seeded), written to
# data/jk_factors.csv.  Writes fixtures/replicate_factors.json.

suppressPackageStartupMessages(library(survey))
set.seed(20261129)
n <- 12
df <- data.frame(y = round(rnorm(n, 10, 2), 3), x = round(runif(n, 1, 2), 3),
                 w = round(runif(n, 1, 3), 3), h = rep(1:2, each = 6), psu = 1:12)
f <- sapply(1:n, function(j) ifelse(df$psu == j, 0, ifelse(df$h == df$h[j], 6 / 5, 1)))
colnames(f) <- paste0("f", 1:n)
df <- fx_write_csv(cbind(df, f), "jk_factors.csv")

cases <- lapply(c("JKn", "JK1"), function(type) {
  d <- suppressWarnings(svrepdesign(data = df, repweights = "f[0-9]+", weights = ~w,
                                    type = type, combined.weights = FALSE))
  m <- svymean(~y + x, d)
  t <- svytotal(~y, d)
  r <- svyratio(~y, ~x, d)
  list(type = type, scale = d$scale, rscales = as.list(as.numeric(d$rscales)),
       mean = as.list(as.numeric(coef(m))), mean_se = as.list(as.numeric(SE(m))),
       total_se = as.numeric(SE(t)), ratio_se = as.numeric(SE(r)))
})
fx_write_json(list(generator = "tests/conformance/r/replicate_factors.R",
                   r_version = R.version.string,
                   survey_version = as.character(packageVersion("survey")),
                   cases = cases), "replicate_factors.json")
