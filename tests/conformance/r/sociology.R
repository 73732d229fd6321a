# R conformance fixtures for rank tests (svyranktest), Cronbach's alpha (svycralpha) and direct
# standardisation (svystandardize).  Writes tests/conformance/fixtures/sociology.json.
# Run via:  Rscript tests/conformance/make_fixtures.R
#
# Designs: dstrat (apistrat, strata=stype, weights=pw, fpc=fpc), dclus1 (apiclus1, id=dnum,
# weights=pw, fpc=fpc), rstrat = as.svrepdesign(dstrat, type="JKn"), rclus1 =
# as.svrepdesign(dclus1, type="JK1"), and the domains dsub = subset(dstrat, yr.rnd == "No"),
# csub = subset(dclus1, yr.rnd == "No").
#
# ranktest      svyranktest(y ~ g, design, test=): two groups (t, df, estimate, p) and three
#               (R's parameter = X^2, statistic = ndf, ddf, p).
# cralpha       svycralpha(~ell+meals+mobility, design); its SE: Taylor designs the delta
#               method, svycontrast(svymean of the items, their squares, the sum and its
#               square, alpha as an expression); replicate designs withReplicates() of alpha
#               computed with each replicate's weights.
# standardize   svyby(~api00, ~over, svystandardize(design, by=~by, over=~over,
#               population=), svymean).

GEN <- "tests/conformance/r/sociology.R"
num <- function(x) as.list(unname(as.numeric(x)))
apistrat <- fx_read_csv("apistrat.csv")
apiclus1 <- fx_read_csv("apiclus1.csv")
E <- new.env()
E$dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
E$dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
E$rstrat <- as.svrepdesign(E$dstrat, type = "JKn")
E$rclus1 <- as.svrepdesign(E$dclus1, type = "JK1")
E$dsub <- subset(E$dstrat, yr.rnd == "No")
E$csub <- subset(E$dclus1, yr.rnd == "No")
ev <- function(code) eval(parse(text = code), E)

ranktest <- list()
for (d in c("dstrat", "dclus1", "rstrat", "rclus1", "dsub")) {
  for (f in c("api00 ~ comp.imp", "ell ~ stype")) {
    for (t in c("wilcoxon", "vanderWaerden", "median", "KruskalWallis")) {
      code <- sprintf("svyranktest(%s, %s, test=\"%s\")", f, d, t)
      r <- tryCatch(ev(code), error = function(e) NULL)
      if (is.null(r)) next  # R's multi-group test does not run on replicate designs
      two <- !is.null(r$estimate)
      ranktest[[length(ranktest) + 1]] <- list(
        id = paste(d, gsub("[^a-z0-9]+", "_", f), t, sep = "__"), design = d, formula = f,
        test = t, r_call = code, groups = if (two) 2 else 3,
        statistic = if (two) unname(r$statistic) else unname(as.numeric(r$parameter)),
        df = if (two) unname(r$parameter) else unname(as.numeric(r$statistic)),
        ddf = if (two) NA else unname(r$ddf),
        estimate = if (two) unname(r$estimate) else NA, p_value = unname(r$p.value))
    }
  }
}

alpha_expr <- quote(3 / 2 * (1 - ((`I(ell^2)` - ell^2) + (`I(meals^2)` - meals^2) +
  (`I(mobility^2)` - mobility^2)) / (`I((ell + meals + mobility)^2)` -
  `I(ell + meals + mobility)`^2)))
alpha_w <- function(w, data) {
  x <- as.matrix(data[, c("ell", "meals", "mobility")])
  v <- function(y) { m <- sum(w * y) / sum(w); sum(w * (y - m)^2) / sum(w) }
  3 / 2 * (1 - sum(apply(x, 2, v)) / v(rowSums(x)))
}
cralpha <- list()
for (d in c("dstrat", "dclus1", "rstrat", "rclus1", "dsub", "csub")) {
  a <- ev(sprintf("svycralpha(~ell+meals+mobility, %s)", d))
  if (d %in% c("rstrat", "rclus1")) {
    s <- withReplicates(E[[d]], alpha_w)
    se_call <- sprintf("withReplicates(%s, alpha computed with weights w)", d)
  } else {
    m <- ev(sprintf("svymean(~ell+meals+mobility+I(ell+meals+mobility)+I(ell^2)+I(meals^2)+I(mobility^2)+I((ell+meals+mobility)^2), %s)", d))
    s <- svycontrast(m, alpha_expr)
    se_call <- "svycontrast(svymean(~items + I(sum) + I(items^2) + I(sum^2)), alpha)"
  }
  stopifnot(isTRUE(all.equal(unname(as.numeric(coef(s))), unname(as.numeric(a)))))
  cralpha[[length(cralpha) + 1]] <- list(
    id = d, design = d, items = list("ell", "meals", "mobility"),
    r_call = sprintf("svycralpha(~ell+meals+mobility, %s)", d), se_call = se_call,
    estimate = unname(as.numeric(a)), se = unname(as.numeric(SE(s))))
}

standardize <- list()
add_std <- function(d, by, over, pop) {
  code <- sprintf("svyby(~api00, ~%s, svystandardize(%s, by=~%s, over=~%s, population=%s), svymean)",
                  over, d, by, over, paste(deparse(pop), collapse = ""))
  b <- ev(code)
  standardize[[length(standardize) + 1]] <<- list(
    id = paste(d, by, over, sep = "__"), design = d, by = by, over = over,
    population = num(pop), r_call = code, domains = as.list(as.character(b[[over]])),
    estimate = num(coef(b)), se = num(SE(b)))
}
for (d in c("dclus1", "rclus1")) add_std(d, "stype", "sch.wide", c(0.7, 0.1, 0.2))
for (d in c("dstrat", "rstrat")) add_std(d, "awards", "comp.imp", c(40, 60))
add_std("csub", "stype", "sch.wide", c(0.7, 0.1, 0.2))

fx_write_json(c(fx_header(GEN), list(ranktest = ranktest, cralpha = cralpha,
                                     standardize = standardize)), "sociology.json")
