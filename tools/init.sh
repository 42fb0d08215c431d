#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the lab's initramfs: mount what the tests need, run them (or the
# demo, or a shell) and power off. Lines starting with "LAB:" are read by
# tools/lab.sh on the host.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
mkdir -p /dev/hugepages
mount -t hugetlbfs hugetlbfs /dev/hugepages
mode=$(cat /lab-mode)
only=$(cat /lab-only 2>/dev/null)
leaks=/sys/kernel/debug/kmemleak

# Whatever kmemleak already suspects from boot is not ours to judge.
if [ -w $leaks ]; then
	echo clear >$leaks
elif [ "$mode" = check ]; then
	echo "LAB: FAIL kmemleak is not available"
fi

case $mode in
check)
	for t in /tests/*; do
		case $t in */demo|*/bench*) continue;; esac
		if [ -n "$only" ]; then
			case " $only " in *" ${t##*/} "*) ;; *) continue;; esac
		fi
		echo "LAB: running ${t##*/}"
		"$t"
		rc=$?
		# 4 is kselftest's "skipped"
		[ $rc = 0 ] || [ $rc = 4 ] || echo "LAB: FAIL ${t##*/} exited $rc"
	done
	;;
run)
	/tests/demo || echo "LAB: FAIL demo exited $?"
	;;
bench)
	/tests/bench || echo "LAB: FAIL bench"
	;;
bench-vtd)
	/tests/bench_vfio || echo "LAB: FAIL bench_vfio"
	;;
shell)
	echo "LAB: tests are in /tests; exit the shell to power off"
	setsid cttyhack sh
	;;
esac

# Objects younger than five seconds are never reported: wait, then scan.
if [ -w $leaks ]; then
	sleep 6
	echo scan >$leaks
	if grep -q unreferenced $leaks; then
		cat $leaks
		echo "LAB: FAIL kmemleak"
	fi
fi
echo "LAB: done"
poweroff -f
