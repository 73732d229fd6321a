# R conformance fixtures for the observed and expected tables of svychisq ($observed,
# $expected: svytable(~row+col, design, Ntotal=N), N the rows of the design, and its
# independence expectation) and the statistic under R's spellings.
# Writes tests/conformance/fixtures/tables_parity.json.  Run via:
#     Rscript tests/conformance/make_fixtures.R
#
# Designs: dstrat (apistrat, strata=stype, weights=pw, fpc=fpc), dclus1 (apiclus1, id=dnum,
# weights=pw, fpc=fpc), rclus1 = as.svrepdesign(dclus1, type="JK1"), and the domain
# subset(dstrat, yr.rnd == "No").  Tables are row-major (row levels outer).

GEN <- "tests/conformance/r/tables_parity.R"
num <- function(x) as.list(unname(as.numeric(x)))
apistrat <- fx_read_csv("apistrat.csv")
apiclus1 <- fx_read_csv("apiclus1.csv")
E <- new.env()
E$dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
E$dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
E$rclus1 <- as.svrepdesign(E$dclus1, type = "JK1")
E$dsub <- subset(E$dstrat, yr.rnd == "No")

cases <- list()
add <- function(id, design, row, col) {
  out <- list()
  for (s in c("F", "Chisq", "Wald", "adjWald")) {
    code <- sprintf("svychisq(~%s+%s, %s, statistic=\"%s\")", row, col, design, s)
    v <- eval(parse(text = code), E)
    out[[s]] <- list(r_call = code, statistic = unname(as.numeric(v$statistic)),
                     p_value = unname(as.numeric(v$p.value)))
  }
  v <- eval(parse(text = sprintf("svychisq(~%s+%s, %s)", row, col, design)), E)
  obs <- unclass(v$observed)
  cases[[length(cases) + 1]] <<- list(
    id = id, design = design, row = row, col = col,
    row_levels = as.list(rownames(obs)), col_levels = as.list(colnames(obs)),
    observed = fx_matrix(obs), expected = fx_matrix(v$expected), tests = out)
}
add("strat_stype_schwide", "dstrat", "stype", "sch.wide")
add("clus1_stype_awards", "dclus1", "stype", "awards")
add("rclus1_stype_awards", "rclus1", "stype", "awards")
add("sub_stype_schwide", "dsub", "stype", "sch.wide")
fx_write_json(c(fx_header(GEN), list(cases = cases)), "tables_parity.json")
