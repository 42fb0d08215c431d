#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The quality bar of every change: checkpatch --strict, kernel-doc and
# sparse over our kernel sources. Needs a configured tree (make kernel).
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IOMMUFD_CACHE:-$HOME/.cache/iommufd}
KSRC=${KERNEL_SRC:-$CACHE/linux-source-6.12}
KBUILD=${KBUILD_DIR:-$CACHE/build}
cd "$REPO"
files=$(git ls-files '*.c' '*.h' | grep -v '^tools/')
kfiles=$(echo "$files" | grep -v '^selftest/t_\|^selftest/uapi_layout\|^selftest/lab_')
bad=0

for f in $files; do
	"$KSRC/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--ignore FILE_PATH_CHANGES,NEW_TYPEDEFS$(case $f in selftest/t_*|selftest/lab_*.h|selftest/uapi_layout.c|tools/*) echo ,PREFER_KERNEL_TYPES,BIT_MACRO,CAMELCASE,MACRO_ARG_REUSE,MACRO_ARG_PRECEDENCE,ARRAY_SIZE;; selftest/iommufd_test.h) echo ,BIT_MACRO;; iommufd_test.h) echo ,EMBEDDED_FILENAME;; esac) \
		-f "$f" || bad=1
done

out=$("$KSRC/scripts/kernel-doc" -none -Wall $kfiles 2>&1)
[ -z "$out" ] || { echo "$out"; bad=1; }

# C=2 runs sparse on every file of the directory, rebuilt or not.
out=$(make -s -C "$KSRC" O="$KBUILD" ARCH=x86_64 C=2 \
	drivers/iommu/iommufd/ 2>&1 | grep -v '^make\|^  ')
[ -z "$out" ] || { echo "$out"; bad=1; }

[ $bad -eq 0 ] && echo "lint: clean"
exit $bad
