# Satterthwaite df of the MMRM arm effects, computed from scratch in R: the REML criterion
# in plain matrix algebra on the Cholesky parameters of gls's Σ̂, numDeriv::hessian of it
# (Cov(θ̂) = 2H⁻¹) and numDeriv::jacobian of diag((X′V⁻¹X)⁻¹). The reference values of
# tests/core/stats/test_stats_mmrm_against_r.py. Needs r-cran-nlme and r-cran-numderiv.
# Usage: Rscript bench/r/mmrm_satterthwaite.R tests/core/stats/data/mmrm.csv
suppressMessages({library(nlme); library(numDeriv)}); options(digits = 15)
l <- read.csv(commandArgs(trailingOnly = TRUE)[1])
l$tp <- factor(l$tp, levels = c("w1", "w4", "w12", "m6", "m12")); l$vi <- as.integer(l$tp)
f <- gls(pf ~ 0 + tp + tp:z + tp:pf_baseline + factor(stratum), data = l,
         correlation = corSymm(form = ~ vi | study_id), weights = varIdent(form = ~ 1 | tp),
         method = "REML", control = glsControl(tolerance = 1e-12, msTol = 1e-12, msMaxIter = 1000, maxIter = 1000))
full <- names(which(table(l$study_id) == 5))[1]
S <- getVarCov(f, individual = full); S <- matrix(as.numeric(S), 5, 5)
X <- model.matrix(~ 0 + tp + tp:z + tp:pf_baseline + factor(stratum), l); y <- l$pf
ids <- split(seq_len(nrow(l)), l$study_id)
sig <- function(th) { L <- matrix(0, 5, 5); L[lower.tri(L, diag = TRUE)] <- th
  diag(L) <- exp(diag(L)); L %*% t(L) }
parts <- function(th) { S <- sig(th); XVX <- 0; XVy <- 0; yVy <- 0; ld <- 0
  for (r in ids) { v <- l$vi[r]; Si <- solve(S[v, v, drop = FALSE]); Xi <- X[r, , drop = FALSE]
    XVX <- XVX + t(Xi) %*% Si %*% Xi; XVy <- XVy + t(Xi) %*% Si %*% y[r]
    yVy <- yVy + sum(y[r] * (Si %*% y[r])); ld <- ld + determinant(S[v, v, drop = FALSE])$modulus }
  list(XVX = XVX, XVy = XVy, yVy = yVy, ld = ld) }
crit <- function(th) { p <- parts(th); b <- solve(p$XVX, p$XVy)
  as.numeric(p$ld + determinant(p$XVX)$modulus + p$yVy - sum(b * p$XVy)) }
L <- t(chol(S)); th <- L[lower.tri(L, diag = TRUE)]; dg <- which(lower.tri(L, diag=TRUE)[lower.tri(L, diag=TRUE)] & (row(L) == col(L))[lower.tri(L, diag=TRUE)])
th[dg] <- log(th[dg])
H <- hessian(crit, th)
idx <- grep(":z$", colnames(X))
J <- jacobian(function(t) diag(solve(parts(t)$XVX))[idx], th)
v <- diag(solve(parts(th)$XVX))[idx]
print(sqrt(v))
print(2 * v^2 / diag(J %*% (2 * solve(H)) %*% t(J)), digits = 12)
