#!/usr/bin/env bash
# Writes the ICAR ability data (16 items, 1,525 people; psychTools::ability, public-domain items) as a wide CSV answer
# file to $1: a first column `id`, then one 0/1/NA column per item. Needs R with the psychTools package, which Debian
# and Ubuntu ship as r-cran-psychtools. Exit 3 when R or the package is missing.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: eng/icar-ability.sh OUT.csv" >&2
  exit 2
fi
if ! command -v Rscript >/dev/null 2>&1; then
  echo "icar-ability: Rscript not found: install R and psychTools with 'apt-get install r-cran-psychtools'" >&2
  exit 3
fi

Rscript --vanilla - "$1" <<'R'
out <- commandArgs(trailingOnly = TRUE)[1]
if (!requireNamespace("psychTools", quietly = TRUE)) {
  message("icar-ability: the R package psychTools is not installed: apt-get install r-cran-psychtools")
  quit(status = 3)
}
d <- psychTools::ability
write.csv(data.frame(id = rownames(d), d, check.names = FALSE), out, row.names = FALSE, na = "NA")
R
