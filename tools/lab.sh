#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The lab: fetch and unpack the kernel source, lay our subsystem over it,
# build it out of tree with ccache, pack the tests into an initramfs and boot
# the result under QEMU (TCG, q35, emulated VT-d).
#
#   tools/lab.sh kernel        build only
#   tools/lab.sh check         build, boot, run every test, judge the log
#   tools/lab.sh run           build, boot, run the demo
#   tools/lab.sh shell         build, boot to an interactive busybox shell
#   tools/lab.sh bench         build production kernels of ours and of a
#                              pristine upstream, boot both, run tools/bench.c
#                              and compare the two
#
# Environment: IOMMUFD_CACHE (default ~/.cache/iommufd) holds the unpacked
# source, the build directory and the ccache; KERNEL_SRC points at a kernel
# tree of your own instead; KBUILD_DIR overrides the build directory;
# LAB_TIMEOUT bounds one boot in seconds; LAB_ONLY names the test programs
# to run (all of them when empty). For working on performance, BENCH_KERNELS
# ("ours upstream") and BENCH_BOOTS ("mock vtd") narrow make bench; the
# table then compares with the last full run's logs of what was left out.
set -eu -o pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IOMMUFD_CACHE:-$HOME/.cache/iommufd}
KSRC=${KERNEL_SRC:-$CACHE/linux-source-6.12}
KBUILD=${KBUILD_DIR:-$CACHE/build}
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
JOBS=${JOBS:-$(($(nproc) + 1))}
TIMEOUT=${LAB_TIMEOUT:-1500}
LAB_KSRC=$KSRC LAB_KBUILD=$KBUILD
# Outputs of this checkout (several worktrees may share one cache).
OUT=$CACHE/out-$(echo "$REPO" | md5sum | cut -c1-8)
KMAKE=(make -C "$KSRC" O="$KBUILD" ARCH=x86_64 -j"$JOBS")

say() { printf 'lab: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Everything the lab needs from Debian, installed only when missing.
need_packages() {
	local want=(qemu-system-x86 busybox-static flex bison bc libelf-dev
		    libssl-dev cpio ccache sparse rsync gcc make)
	# The benchmark compares against Debian's pristine source, always.
	if [ -z "${KERNEL_SRC:-}" ] || [ "${NEED_UPSTREAM:-}" ]; then
		want+=(linux-source-6.12)
	fi
	# The benchmark draws its picture with gnuplot.
	[ -z "${NEED_UPSTREAM:-}" ] || want+=(gnuplot-nox)
	local missing=() p
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q "${missing[@]}" >/dev/null
}

unpack_source() {
	[ -f "$KSRC/Makefile" ] && return 0
	[ -n "${KERNEL_SRC:-}" ] && die "KERNEL_SRC=$KSRC is not a kernel tree"
	say "unpacking linux-source-6.12 into $CACHE"
	mkdir -p "$CACHE"
	tar -C "$CACHE" -xJf /usr/src/linux-source-6.12.tar.xz
}

# Copy a file only when its content differs, so kbuild sees no change
# (and rebuilds nothing) for files we did not touch.
put() {
	mkdir -p "$(dirname "$2")"
	cmp -s "$1" "$2" || cp "$1" "$2"
}

# Lay our files over the tree: the subsystem directory wholesale (anything
# of upstream's that we do not ship is deleted), the two headers and the doc.
overlay() {
	local dst=$KSRC/drivers/iommu/iommufd
	rsync -rc --delete --exclude=.git --exclude=.ci --exclude=tools \
		--exclude=include --exclude=Documentation --exclude='*.md' \
		"$REPO/" "$dst/"
	put "$REPO/include/linux/iommufd.h" "$KSRC/include/linux/iommufd.h"
	put "$REPO/include/uapi/linux/iommufd.h" "$KSRC/include/uapi/linux/iommufd.h"
	put "$REPO/Documentation/userspace-api/iommufd.rst" \
		"$KSRC/Documentation/userspace-api/iommufd.rst"
	# Objects left from a build of someone else's iommufd must not linger.
	if [ -d "$KBUILD/drivers/iommu/iommufd" ]; then
		find "$KBUILD/drivers/iommu/iommufd" -name '*.o' | while read -r o; do
			local rel=${o#"$KBUILD/drivers/iommu/iommufd/"}
			case $rel in iommufd.o|built-in.a) continue;; esac
			[ -f "$REPO/${rel%.o}.c" ] || rm -f "$o" "$(dirname "$o")/.$(basename "$o").cmd"
		done
	fi
}

# $KFRAG (default tools/kernel.config) is merged onto tinyconfig.
configure() {
	local cfg=$KBUILD/.config frag=${KFRAG:-$REPO/tools/kernel.config}
	mkdir -p "$KBUILD"
	if [ -f "$cfg" ] && [ "$cfg" -nt "$frag" ] && [ -f "$KBUILD/.lab-config" ]; then
		return 0
	fi
	say "configuring $KBUILD (tinyconfig + tools/${frag##*/})"
	"${KMAKE[@]}" tinyconfig >/dev/null
	"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KBUILD" "$cfg" "$frag" >/dev/null
	"${KMAKE[@]}" olddefconfig >/dev/null
	# Every option the fragment asks for must have survived olddefconfig.
	local line opt bad=0
	while read -r line; do
		case $line in CONFIG_*=n) opt=${line%=n}
			grep -q "^$opt=" "$cfg" && { say "$opt still set"; bad=1; };;
		CONFIG_*) grep -qx "$line" "$cfg" || { say "$line did not stick"; bad=1; };;
		esac
	done <"$frag"
	[ $bad -eq 0 ] || die "kernel config incomplete"
	touch "$KBUILD/.lab-config"
}

# Nothing of upstream's iommufd may be compiled in: every object under the
# subsystem's build directory must come from a source file of this repo.
check_objects() {
	local o rel bad=0
	while read -r o; do
		rel=${o#"$KBUILD/drivers/iommu/iommufd/"}
		case $rel in iommufd.o|built-in.a) continue;; esac
		if [ ! -f "$REPO/${rel%.o}.c" ] ||
		   ! cmp -s "$REPO/${rel%.o}.c" "$KSRC/drivers/iommu/iommufd/${rel%.o}.c"; then
			say "object $rel has no source in this repo"; bad=1
		fi
	done < <(find "$KBUILD/drivers/iommu/iommufd" -name '*.o')
	[ $bad -eq 0 ] || die "foreign objects in drivers/iommu/iommufd"
}

build_kernel() {
	need_packages
	# One source tree and build directory serve every checkout: take turns.
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
	unpack_source
	overlay
	configure
	say "building the kernel in $KBUILD"
	local log=$CACHE/kbuild.log
	if ! "${KMAKE[@]}" CC="ccache gcc" bzImage >"$log" 2>&1; then
		grep -E 'error|Error' "$log" | head -40 >&2
		die "kernel build failed (full log: $log)"
	fi
	grep -E 'drivers/iommu/iommufd/.*(warning|error)' "$log" >&2 && \
		die "warnings in our subsystem (full log: $log)"
	check_objects
	mkdir -p "$OUT"
	cp "$KBUILD/arch/x86/boot/bzImage" "$OUT/bzImage"
	flock -u 9
	say "kernel: $OUT/bzImage"
}

# Userspace programs: static, against our uapi header and the kernel's
# kselftest harness.
build_user() {
	mkdir -p "$OUT/bin"
	make -s -C "$REPO" user USER_OUT="$OUT/bin" KSRC="$KSRC"
}

# $1: what /init does (check, run, shell)
build_initramfs() {
	local root=$OUT/root
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,mnt,tests}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	cp "$OUT"/bin/* "$root/tests/"
	cp "$REPO/tools/init.sh" "$root/init"
	chmod +x "$root/init"
	echo "$1" >"$root/lab-mode"
	# LAB_ONLY="t_ioas t_vfio" runs just those test programs.
	echo "${LAB_ONLY:-}" >"$root/lab-only"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initramfs.gz"
}

# What boot() runs: the kernel image and the QEMU arguments that differ
# between the tests (emulated VT-d) and the benchmark.
BZIMAGE=$OUT/bzImage
# VT-d translates the DMA of the edu devices, which the VFIO tests drive:
# one alone on the root bus, and two behind a conventional PCI-to-PCI
# bridge, which share the bridge's requester ID and so one IOMMU group.
QEMU_EXTRA=(-device intel-iommu,intremap=on,caching-mode=on -device edu
	-device pci-bridge,id=br1,chassis_nr=1
	-device edu,bus=br1,addr=1.0 -device edu,bus=br1,addr=2.0)

# $1: mode, $2: console log file ("" for interactive). The guest has 160
# huge pages of 2 MiB and one of 1 GiB, which the hugetlbfs tests use; the
# 1 GiB one needs a free, aligned gigabyte at boot, hence -m 4G.
# LAB_HUGEPAGES replaces that part of the command line (the benchmark's
# 1 GiB cases want 2 MiB pages only).
boot() {
	local args=(qemu-system-x86_64 -accel tcg -machine q35,kernel-irqchip=split
		"${QEMU_EXTRA[@]}"
		-cpu max -smp 2 -m 4G -nographic -no-reboot
		-kernel "$BZIMAGE" -initrd "$OUT/initramfs.gz"
		-append "console=ttyS0 panic=-1 oops=panic loglevel=6 ${LAB_HUGEPAGES:-hugepages=160 hugepagesz=1G hugepages=1} ${LAB_CMDLINE:-}")
	if [ -z "$2" ]; then
		exec "${args[@]}"
	fi
	timeout --foreground -k 5 "$TIMEOUT" "${args[@]}" </dev/null 2>&1 |
		tr -d '\r' | tee "$2" || true
}

# Judge a console log: count the KTAP results and look for any splat.
judge() {
	local log=$1 pass fail bad=0
	pass=$(grep -cE '^ok [0-9]+ ' "$log" || true)
	fail=$(grep -cE '^not ok [0-9]+ ' "$log" || true)
	if ! grep -q '^LAB: done' "$log"; then
		say "the VM did not finish (timeout or crash)"; bad=1
	fi
	if grep -nE 'WARNING:|BUG:|Oops|kernel BUG|KASAN:|UBSAN:|general protection|possible circular|possible recursive|inconsistent lock|suspicious RCU|unreferenced object|Kernel panic|INFO: task|hung_task|Call Trace:' "$log" >&2; then
		say "the kernel log has a splat"; bad=1
	fi
	if grep -q '^LAB: FAIL' "$log"; then
		grep '^LAB: FAIL' "$log" >&2; bad=1
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && [ "$bad" -eq 0 ]
}

# ---- make bench -----------------------------------------------------------
#
# Two production kernels (tinyconfig + tools/bench.config: no KASAN, lockdep,
# kmemleak or failslab), one with our subsystem and one pristine upstream
# 6.12, booted in turn under the same QEMU with -icount shift=0 (guest time
# counts instructions, so the numbers are deterministic) and without VT-d
# (upstream's mock IOMMU cannot make mock domains while VT-d is up). Both run
# tools/bench.c; then each kernel boots again with VT-d and the edu device
# and runs tools/bench_vfio.c. The table compares their BENCH lines.
UPSTREAM_SRC=$CACHE/linux-upstream
# Where the table and the picture of the last run go (the README shows them)
BENCH_RESULTS=${BENCH_RESULTS:-$REPO/tools/bench-results}

# Point the kbuild helpers (configure, overlay, check_objects) at a tree.
use_tree() {
	KSRC=$1 KBUILD=$2
	KMAKE=(make -C "$KSRC" O="$KBUILD" ARCH=x86_64 -j"$JOBS")
}

# A second, never overlaid unpack of Debian's source.
unpack_upstream() {
	[ -f "$UPSTREAM_SRC/Makefile" ] && return 0
	say "unpacking pristine linux-source-6.12 into $UPSTREAM_SRC"
	local tmp=$CACHE/.upstream-unpack
	rm -rf "$tmp"
	mkdir -p "$tmp"
	tar -C "$tmp" -xJf /usr/src/linux-source-6.12.tar.xz
	mv "$tmp/linux-source-6.12" "$UPSTREAM_SRC"
	rmdir "$tmp"
}

# $1: ours or upstream. Leaves $OUT/bench-$1.bzImage.
build_bench_kernel() {
	local which=$1 log=$CACHE/bench-$1.log
	if [ "$which" = ours ]; then
		exec 9>"$CACHE/.lock"		# the lab's tree: take turns
		flock 9
		use_tree "$LAB_KSRC" "$CACHE/bench-ours"
		unpack_source
		overlay
	else
		exec 9>"$CACHE/.lock-upstream"
		flock 9
		use_tree "$UPSTREAM_SRC" "$CACHE/bench-upstream"
		unpack_upstream
	fi
	KFRAG=$REPO/tools/bench.config configure
	say "building the $which kernel in $KBUILD"
	if ! "${KMAKE[@]}" CC="ccache gcc" bzImage >"$log" 2>&1; then
		grep -E 'error|Error' "$log" | head -40 >&2
		die "$which kernel build failed (full log: $log)"
	fi
	if [ "$which" = ours ]; then
		grep -E 'drivers/iommu/iommufd/.*(warning|error)' "$log" >&2 && \
			die "warnings in our subsystem (full log: $log)"
		check_objects
	fi
	mkdir -p "$OUT"
	cp "$KBUILD/arch/x86/boot/bzImage" "$OUT/bench-$which.bzImage"
	flock -u 9
	use_tree "$LAB_KSRC" "$LAB_KBUILD"
}

# The BENCH lines of two console logs side by side: ns per page, their
# ratio, the larger spread of each kernel's map and unmap figures, and the
# kernel memory per GiB mapped of each.
bench_table() {
	awk '
	function ratio(a, b) {
		if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0)
			return sprintf("%.2f", a / b)
		return "-"
	}
	function get(arr, key) { return key in arr ? arr[key] : "-" }
	function kib(b) { return b ~ /^-?[0-9]+$/ ? sprintf("%.0f", b / 1024) : "-" }
	FNR == 1 { k++ }
	/^BENCH / {
		if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
		map[k, $2] = $3; unmap[k, $2] = $4
		if (NF >= 7) {
			spread[k, $2] = sprintf("%.0f", $5 > $6 ? $5 : $6)
			kmem[k, $2] = $7
		}
	}
	END {
		fmt = "%-16s %8s %8s %5s  %8s %8s %5s  %3s %3s  %7s %7s\n"
		printf fmt, "case", "ours map", "upst map", "ratio",
			"ours unm", "upst unm", "ratio", "±o%", "±u%",
			"KiB/GiB", "upst"
		for (i = 1; i <= n; i++) {
			c = order[i]
			om = get(map, 1 SUBSEP c); um = get(map, 2 SUBSEP c)
			ou = get(unmap, 1 SUBSEP c); uu = get(unmap, 2 SUBSEP c)
			printf fmt, c, om, um, ratio(om, um), ou, uu,
				ratio(ou, uu), get(spread, 1 SUBSEP c),
				get(spread, 2 SUBSEP c),
				kib(get(kmem, 1 SUBSEP c)), kib(get(kmem, 2 SUBSEP c))
		}
	}' "$1" "$2"
}

# The STALL line of each kernel, in words.
bench_stall() {
	local which line
	for which in ours upstream; do
		line=$(grep -E '^STALL ' "$OUT/bench-$which.all" | tail -1) || true
		set -- $line
		if [ "$#" -eq 7 ]; then
			printf '%s: a 1 GiB map took %s ns; meanwhile, in per mille of it: 4 KiB map %s, IOVA_RANGES %s, access pin %s, unpin %s, 4 KiB unmap %s\n' \
				"$which" "$2" "$3" "$4" "$5" "$6" "$7"
		else
			echo "$which: stall case failed"
		fi
	done
}

# The picture of a table from bench_table: ns per page (map + unmap) of the
# 256 MiB cases, ours beside upstream, and of the scaling cases against the
# size mapped. $1: table, $2: PNG to write.
bench_plot() {
	local table=$1 png=$2 dir
	dir=$(mktemp -d)
	awk 'NR > 1 && $2 ~ /^[0-9.]+$/ && $5 ~ /^[0-9.]+$/ && $1 !~ /@/ &&
	     $1 !~ /^nodomain/ {
		up = ($3 ~ /^[0-9.]+$/ && $6 ~ /^[0-9.]+$/) ? $3 + $6 : "NaN"
		print $1, $2 + $5, up }' "$table" >"$dir/cases"
	awk 'NR > 1 && $2 ~ /^[0-9.]+$/ && $5 ~ /^[0-9.]+$/ {
		c = $1; mib = 256
		if (c ~ /@64m$/) mib = 64
		if (c ~ /@1g$/) mib = 1024
		sub(/@.*/, "", c)
		if (c !~ /^(vtd|access|mock1|floor)_(4k|2m|thp|frag)$/) next
		up = ($3 ~ /^[0-9.]+$/ && $6 ~ /^[0-9.]+$/) ? $3 + $6 : "NaN"
		print c, mib, $2 + $5, up }' "$table" | sort -k1,1 -k2n >"$dir/sizes"
	awk '{ print > (d "/size-" $1) }' d="$dir" "$dir/sizes"
	{
		echo "set terminal pngcairo size 1400,1000 font ',10'"
		echo "set output '$png'"
		echo "set termoption noenhanced"
		echo "set multiplot layout 2,1"
		echo "set title 'make bench: guest ns per 4 KiB page, map + unmap, 256 MiB (log scale)'"
		echo "set style data histograms; set style histogram clustered gap 1"
		echo "set style fill solid 0.8 border -1; set logscale y; set grid ytics"
		echo "set xtics rotate by -45 scale 0; set key top left"
		echo "plot '$dir/cases' using 2:xtic(1) title 'ours', '' using 3 title 'upstream 6.12'"
		echo "unset logscale y; set style data linespoints; set logscale x 2; set logscale y"
		echo "set xtics (64, 256, 1024) rotate by 0; set xlabel 'MiB mapped'; set key outside right"
		echo "set title 'Scaling: ns per 4 KiB page, map + unmap, against the size (solid: ours, dashed: upstream)'"
		printf "plot "
		local n=0 f c
		for f in "$dir"/size-*; do
			c=${f##*/size-}
			n=$((n + 1))
			[ $n -eq 1 ] || printf ", "
			printf "'%s' using 2:3 title '%s' lw 2 lc %d" "$f" "$c" "$n"
			# The floor has no upstream figures.
			[ "${c#floor}" != "$c" ] ||
				printf ", '' using 2:4 title '%s upstream' dt 2 lc %d" \
					"$c" "$n"
		done
		echo
		echo "unset multiplot"
	} >"$dir/plot.gp"
	gnuplot "$dir/plot.gp" && say "picture: $png"
	rm -rf "$dir"
}

bench() {
	local start=$SECONDS which ok=0 log
	NEED_UPSTREAM=1 need_packages
	mkdir -p "$CACHE"
	local kernels=${BENCH_KERNELS:-ours upstream}
	local boots=${BENCH_BOOTS:-mock vtd}
	for which in $kernels; do
		build_bench_kernel "$which"
	done
	build_user
	for which in $kernels; do
		BZIMAGE=$OUT/bench-$which.bzImage
		if [[ " $boots " == *" mock "* ]]; then
			say "booting the $which kernel"
			build_initramfs bench
			QEMU_EXTRA=(-icount shift=0,sleep=off)
			LAB_HUGEPAGES=hugepages=640 \
				boot bench "$OUT/console-bench-$which.log"
		fi
		# The same kernel again, with VT-d translating the edu's DMA.
		if [[ " $boots " == *" vtd "* ]]; then
			say "booting the $which kernel with VT-d and the edu device"
			build_initramfs bench-vtd
			QEMU_EXTRA=(-device intel-iommu,intremap=on,caching-mode=on
				-device edu -device edu -icount shift=0,sleep=off)
			LAB_HUGEPAGES=hugepages=640 \
				boot bench-vtd "$OUT/console-bench-vtd-$which.log"
		fi
	done
	for which in ours upstream; do
		cat "$OUT/console-bench-$which.log" \
		    "$OUT/console-bench-vtd-$which.log" >"$OUT/bench-$which.all"
	done
	mkdir -p "$BENCH_RESULTS"
	{
		echo "Guest ns per 4 KiB page (-icount shift=0: 1 ns = 1 instruction)," \
		     "256 MiB per case unless @size, median of 3; ratio = ours / upstream;"
		echo "±: spread of the 3 (max - min over median, %); KiB/GiB: kernel memory" \
		     "held per GiB mapped (slab + vmalloc + IOMMU page tables)."
		bench_table "$OUT/bench-ours.all" "$OUT/bench-upstream.all"
		echo
		bench_stall
	} | tee "$BENCH_RESULTS/table.txt"
	bench_plot "$BENCH_RESULTS/table.txt" "$BENCH_RESULTS/bench.png" ||
		say "no picture (gnuplot failed)"
	for which in ours upstream; do
		for log in "$OUT/console-bench-$which.log" \
			   "$OUT/console-bench-vtd-$which.log"; do
			grep -E '^# (nodomain|access|mock|copy|vtd|thp|stall|floor|mem)' "$log" |
				sed "s/^/$which: /" || true
			grep -E '^LAB: FAIL' "$log" | sed "s/^/$which: /" || true
			if grep -q '^LAB: done' "$log"; then
				ok=$((ok + 1))
			else
				say "a $which boot did not finish (log: $log)"
			fi
		done
	done
	cat <<-'EOF'

	Cases: nodomain = IOAS_MAP/UNMAP with nothing attached (nothing pinned);
	access = ACCESS_PAGES/DESTROY_ACCESS_PAGES of the whole range in 16 MiB
	pieces through a test access; mock1/mock2 = IOAS_MAP/UNMAP with one or two
	mock domains attached; copy = IOAS_COPY from an IOAS with a mock domain
	into a second one with a mock domain, and IOAS_UNMAP of the copy. _4k:
	anonymous memory in 4 KiB folios, _2m: 2 MiB hugetlbfs pages, _thp:
	anonymous memory with MADV_HUGEPAGE (the share THP backs is logged).
	floor = pinning alone (ours only): long-term GUP and unpin of the range
	in a domain fill's chunks, by IOMMU_TEST_OP_LAB_GUP_FLOOR.
	_frag: 4 KiB folios faulted in out of order, so that no two neighbours
	are physically adjacent (one IOMMU run per page); _4k memory of a fresh
	guest is a few long physical runs, how few depends on the boot (the
	"physical runs" lines of each kernel say).
	vtd_copy = IOAS_COPY from the first edu's IOAS (VT-d domain) into a
	second edu's (a second VT-d domain), and IOAS_UNMAP of the copy.
	@64m, @1g: the same case at that size, for the scaling.
	vtd = the edu device behind emulated VT-d through vfio-pci: a real
	intel-iommu domain (IOAS_MAP/UNMAP at IOVA 1 GiB, a boot of its own).
	memfd4k/memfd2m = a shmem (4 KiB pages) or hugetlbfs (2 MiB) memfd,
	touched through its MAP_SHARED view, mapped by mock1 and vtd two ways:
	_va = IOAS_MAP of the view, through GUP, in both kernels; _file = ours:
	IOAS_MAP_FILE of the memfd, pinned by folio from its page cache;
	upstream (no MAP_FILE): IOAS_MAP of the same view, as in _va.
	Note: the mock domain keeps one xarray entry per 2 KiB IO page (ours and
	upstream's alike), and that bookkeeping can dominate the mock cases,
	the memfd ones too: the vtd rows show more of the pinning itself.
	EOF
	say "bench took $((SECONDS - start)) s"
	[ "$ok" -eq 4 ]
}

main() {
	local cmd=${1:-check}
	case $cmd in
	deps) need_packages ;;
	kernel) build_kernel ;;
	bench) bench ;;
	check|run)
		build_kernel
		build_user
		build_initramfs "$cmd"
		mkdir -p "$OUT"
		boot "$cmd" "$OUT/console-$cmd.log"
		[ "$cmd" = check ] && judge "$OUT/console-$cmd.log"
		[ "$cmd" = check ] || grep -q '^LAB: done' "$OUT/console-$cmd.log"
		;;
	shell)
		build_kernel
		build_user
		build_initramfs shell
		boot shell ""
		;;
	*) die "unknown command $cmd" ;;
	esac
}

main "$@"
