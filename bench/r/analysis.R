# The R side of bench/bench_analysis.py: the same core analyses as `blend analyze`
# on the same contract dataset (lm, AER::ivreg, survival::coxph/survdiff/survfit,
# mice m = 20 + pool, the MMRM as nlme::gls with corSymm + varIdent, Fine–Gray by
# cmprsk::crr, a 5000-replicate paired bootstrap of the complete-case costs and QALYs).
# Usage: Rscript bench/r/analysis.R DATASET_DIR OUT_CSV [IMPUTATIONS] [BOOTSTRAP]
suppressMessages({library(survival); library(AER); library(mice); library(nlme);
                  library(cmprsk)})
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; out <- args[2]
m_imp <- if (length(args) >= 3) as.integer(args[3]) else 20L
n_boot <- if (length(args) >= 4) as.integer(args[4]) else 5000L
horizon <- 182

p <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE, na.strings = "")
a <- read.csv(file.path(dir, "assessments.csv"), stringsAsFactors = FALSE,
              colClasses = c("character", "character", "Date", "character", "character", "numeric"))
costs <- read.csv(file.path(dir, "costs.csv"), stringsAsFactors = FALSE)
for (col in c("randomized_on", "treatment_start", "death_date", "last_contact",
              "withdrawn_on", "systemic_restart_date"))
  p[[col]] <- as.Date(p[[col]])
p$z <- as.integer(p$arm == "intervention")
p$d <- as.integer(p$received_intervention == "true")

wide_value <- function(scale, tp) {
  s <- a[a$scale == scale & a$timepoint == tp, ]
  s$value[match(p$study_id, s$study_id)]
}
p$pf_baseline <- wide_value("PF", "baseline"); p$pf_w2 <- wide_value("PF", "w2")
p$pf_w4 <- wide_value("PF", "w4"); p$pf_w12 <- wide_value("PF", "w12")
p$ql_baseline <- wide_value("QL", "baseline")

# ITT and CACE, complete case
cc <- p[!is.na(p$pf_w4) & !is.na(p$pf_baseline), ]
itt <- summary(lm(pf_w4 ~ z + pf_baseline + factor(stratum), data = cc))$coefficients["z", ]
cace <- summary(ivreg(pf_w4 ~ d + pf_baseline + factor(stratum) |
                        z + pf_baseline + factor(stratum), data = cc))$coefficients["d", ]

# Overall survival
p$os_days <- as.numeric(p$last_contact - p$randomized_on)
p$dead <- as.integer(!is.na(p$death_date))
km <- summary(survfit(Surv(os_days, dead) ~ z, data = p))$table[, "median"]
cox <- coxph(Surv(os_days, dead) ~ z, data = p)
lr <- survdiff(Surv(os_days, dead) ~ z, data = p)

# MI-ITT among those alive at treatment_start (else randomized_on) + 28 days
anchor <- p$treatment_start; anchor[is.na(anchor)] <- p$randomized_on[is.na(anchor)]
alive <- p[is.na(p$death_date) | p$death_date > anchor + 28, ]
alive$stratum <- factor(alive$stratum)
vars <- c("pf_baseline", "pf_w2", "pf_w4", "pf_w12", "ql_baseline", "z", "age",
          "performance_status", "stratum")
imp <- mice(alive[, vars], m = m_imp, method = "pmm", maxit = 5, seed = 20260701,
            printFlag = FALSE)
mi <- summary(pool(with(imp, lm(pf_w4 ~ z + pf_baseline + stratum))))
mi <- mi[mi$term == "z", ]

# MMRM of post-baseline PF: visit x arm, baseline x visit, strata; unstructured
# covariance (corSymm + varIdent), REML
visits <- c("w1", "w2", "w4", "w6", "w8", "w12", "m6", "m12")
l <- a[a$instrument == "qlq-c15-pal" & a$scale == "PF" & a$timepoint %in% visits,
       c("study_id", "timepoint", "value")]
l <- merge(l, p[!is.na(p$pf_baseline), c("study_id", "z", "pf_baseline", "stratum")])
l$tp <- factor(l$timepoint, levels = visits); l$vi <- as.integer(l$tp)
l <- l[order(l$study_id, l$vi), ]
mm <- gls(value ~ 0 + tp + tp:z + tp:pf_baseline + factor(stratum), data = l,
          correlation = corSymm(form = ~ vi | study_id), weights = varIdent(form = ~ 1 | tp),
          method = "REML")
mm_w4 <- summary(mm)$tTable["tpw4:z", 1:2]

# Fine-Gray: time from treatment start to systemic restart, death without it competing
tr <- p[!is.na(p$treatment_start), ]
restart <- !is.na(tr$systemic_restart_date); died <- !is.na(tr$death_date)
end <- tr$last_contact; end[died] <- tr$death_date[died]
end[restart] <- tr$systemic_restart_date[restart]
status <- ifelse(restart, 1, ifelse(died, 2, 0))
fg <- crr(as.numeric(end - tr$treatment_start), status, cov1 = cbind(z = tr$z))

# QALYs (EQ-5D-5L index AUC to the horizon; linear to 0 at death) and costs,
# complete case: a baseline EQ-5D-5L and death by or follow-up to the horizon; cost rows
eq <- a[a$instrument == "eq5d5l-nl" & a$scale == "index", ]
idx <- match(eq$study_id, p$study_id)
eq$day <- as.numeric(eq$assessed_on - p$randomized_on[idx])
eq$day[eq$timepoint == "baseline"] <- 0
base_ids <- eq$study_id[eq$timepoint == "baseline"]
eq <- eq[eq$day >= 0 & eq$day <= horizon, c("study_id", "day", "value")]
eq <- eq[order(eq$study_id, eq$day), ]
last <- eq[!duplicated(eq$study_id, fromLast = TRUE), ]
li <- match(last$study_id, p$study_id)
death_day <- as.numeric(p$death_date[li] - p$randomized_on[li])
contact_day <- as.numeric(p$last_contact[li] - p$randomized_on[li])
died <- !is.na(death_day) & death_day <= horizon
end_day <- ifelse(died, death_day, pmin(horizon, contact_day))
ends <- data.frame(study_id = last$study_id, day = pmax(end_day, last$day),
                   value = ifelse(died, 0, last$value))
pts <- rbind(eq, ends)
pts <- pts[order(pts$study_id, pts$day), ]
same <- c(FALSE, pts$study_id[-1] == pts$study_id[-nrow(pts)])
area <- ifelse(same, c(0, diff(pts$day)) * (pts$value + c(0, pts$value[-nrow(pts)])) / 2, 0)
qaly <- tapply(area, pts$study_id, sum) / 365.25
p$qaly <- as.numeric(qaly[p$study_id])
h <- p$randomized_on + horizon
p_died <- !is.na(p$death_date) & p$death_date <= h
followed <- p$last_contact >= h & (is.na(p$withdrawn_on) | p$withdrawn_on >= h)
p$qaly[!(p$study_id %in% base_ids) | !(p_died | followed)] <- NA
p$cost <- as.numeric(tapply(costs$amount_eur, costs$study_id, sum)[p$study_id])
ce <- p[!is.na(p$qaly) & !is.na(p$cost), ]
c1 <- ce$cost[ce$z == 1]; e1 <- ce$qaly[ce$z == 1]
c0 <- ce$cost[ce$z == 0]; e0 <- ce$qaly[ce$z == 0]
set.seed(20260701)
boot <- t(replicate(n_boot, {
  i1 <- sample.int(length(c1), replace = TRUE); i0 <- sample.int(length(c0), replace = TRUE)
  c(mean(e1[i1]) - mean(e0[i0]), mean(c1[i1]) - mean(c0[i0]))
}))
ceac <- sapply(seq(0, 100000, 1000), function(l) mean(l * boot[, 1] - boot[, 2] > 0))

res <- data.frame(
  key = c("itt_estimate", "itt_se", "cace_estimate", "cace_se", "os_hr", "logrank_p",
          "median_control", "median_intervention", "mi_estimate", "mi_df",
          "mmrm_w4_estimate", "mmrm_w4_se", "fine_gray_shr", "fine_gray_se",
          "delta_qaly", "delta_cost", "ceac_50000"),
  value = c(itt[1], itt[2], cace[1], cace[2], exp(coef(cox)),
            pchisq(lr$chisq, 1, lower.tail = FALSE), km[1], km[2], mi$estimate, mi$df,
            mm_w4[1], mm_w4[2], exp(fg$coef), sqrt(diag(fg$var)),
            mean(e1) - mean(e0), mean(c1) - mean(c0), ceac[51]))
write.csv(res, out, row.names = FALSE)
