// SPDX-License-Identifier: GPL-2.0-only
/*
 * The real-device half of the lab's benchmark (make bench): QEMU's edu
 * device (PCI 1234:11e8) behind emulated VT-d, bound to vfio-pci, its VFIO
 * cdev bound to an iommufd context and attached to an IOAS, so that a real
 * intel-iommu domain mirrors the IOAS. Times IOMMU_IOAS_MAP and
 * IOMMU_IOAS_UNMAP of 256 MiB at IOVA 1 GiB over 4 KiB and 2 MiB (hugetlbfs)
 * pages; then, as tools/bench.c does with a mock domain, of a memfd of each
 * page size (shmem, hugetlbfs) mapped both ways: IOMMU_IOAS_MAP of its
 * MAP_SHARED view (vtd_memfd<size>_va), and IOMMU_IOAS_MAP_FILE of the memfd
 * (vtd_memfd<size>_file), or IOMMU_IOAS_MAP of the view again where the
 * kernel has no MAP_FILE (upstream 6.12: ENOTTY).
 *
 * Output, read by tools/lab.sh, in the format of tools/bench.c:
 *   BENCH <case> <map ns per 4 KiB page> <unmap ns per 4 KiB page>
 * or "BENCH <case> fail fail" after a "#" comment that says what failed.
 * Each number is the median of REPS map/unmap pairs on one IOAS with the
 * device attached.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "lab_vfio.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26)
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

#define SZ_4K		4096UL
#define SZ_1M		(1UL << 20)
#define LEN		(256 * SZ_1M)	/* bytes mapped per case */
#define NPAGES		(LEN / SZ_4K)
#define IOVA		(1024 * SZ_1M)
#define REPS		3
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/* The first line of the output */
#define HEADER \
	"# bench_vfio: IOAS_MAP/UNMAP of %lu MiB at IOVA %#lx, edu attached through vfio-pci, median of %d; guest ns per 4 KiB page\n"

/* Why the current case failed: the step and the errno */
static const char *fail_step;
static int fail_errno;

static char bdf[NAME_MAX + 1], cdev[PATH_MAX];

/* Whether the kernel has IOMMU_IOAS_MAP_FILE */
static int have_map_file;

static int fail(const char *step, int err)
{
	fail_step = step;
	fail_errno = err;
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- the benchmark --------------------------------------------------------- */

/* A fresh iommufd and IOAS with the device attached: *fd, *devfd, *ioas. */
static int setup(int *fd, int *devfd, uint32_t *ioas)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	uint32_t pt_id;
	int rc;

	*devfd = -1;
	*fd = open("/dev/iommu", O_RDWR);
	if (*fd < 0)
		return fail("open /dev/iommu", errno);
	if (ioctl(*fd, IOMMU_IOAS_ALLOC, &alloc))
		return fail("IOAS_ALLOC", errno);
	*ioas = alloc.out_ioas_id;
	*devfd = open(cdev, O_RDWR);
	if (*devfd < 0)
		return fail("open the VFIO cdev", errno);
	rc = vfio_bind(*devfd, *fd, NULL);
	if (rc)
		return fail("VFIO_DEVICE_BIND_IOMMUFD", rc);
	pt_id = *ioas;
	rc = vfio_attach(*devfd, &pt_id);
	if (rc)
		return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT", rc);
	return 0;
}

/* @mfd >= 0: map that memfd (@buf is its view) with MAP_FILE, if any. */
static int map_unmap(int fd, uint32_t ioas, void *buf, int mfd,
		     uint64_t *map_ns, uint64_t *unmap_ns)
{
	struct iommu_ioas_map_file file = {
		.size = sizeof(file),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.ioas_id = ioas,
		.fd = mfd,
		.start = 0,
		.length = LEN,
		.iova = IOVA,
	};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = LEN,
		.iova = IOVA,
	};
	struct iommu_ioas_unmap unmap = {
		.iova = IOVA,
		.length = LEN,
		.ioas_id = ioas,
		.size = sizeof(unmap),
	};
	uint64_t t0;
	int rc;

	t0 = now_ns();
	if (mfd >= 0 && have_map_file)
		rc = ioctl(fd, IOMMU_IOAS_MAP_FILE, &file);
	else
		rc = ioctl(fd, IOMMU_IOAS_MAP, &map);
	*map_ns = now_ns() - t0;
	if (rc)
		return fail(mfd >= 0 && have_map_file ? "IOAS_MAP_FILE" :
			    "IOAS_MAP", errno);
	t0 = now_ns();
	rc = ioctl(fd, IOMMU_IOAS_UNMAP, &unmap);
	*unmap_ns = now_ns() - t0;
	if (rc)
		return fail("IOAS_UNMAP", errno);
	if (unmap.length != LEN)
		return fail("IOAS_UNMAP (short)", 0);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report_fail(const char *name)
{
	printf("# %s: %s failed: errno %d (%s)\n", name, fail_step, fail_errno,
	       strerror(fail_errno));
	printf("BENCH %s fail fail\n", name);
	fflush(stdout);
}

/* 256 MiB, every page touched so IOAS_MAP never faults one in. */
static void *get_memory(int huge)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	unsigned long off;
	char *buf;

	if (huge)
		flags |= MAP_HUGETLB | MAP_HUGE_2MB;
	buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (buf == MAP_FAILED) {
		fail("mmap", errno);
		return NULL;
	}
	/* 4 KiB folios only: keep THP away from this range. */
	if (!huge && madvise(buf, LEN, MADV_NOHUGEPAGE)) {
		fail("madvise(MADV_NOHUGEPAGE)", errno);
		munmap(buf, LEN);
		return NULL;
	}
	for (off = 0; off < LEN; off += SZ_4K)
		buf[off] = 1;
	return buf;
}

/*
 * A memfd of LEN bytes in *@mfd, on shmem in 4 KiB pages or on hugetlbfs in
 * 2 MiB ones, and its MAP_SHARED view, every page touched through the view:
 * neither way of mapping it then allocates a page.
 */
static void *get_memfd(int huge, int *mfd)
{
	unsigned long off;
	char *buf;

	*mfd = memfd_create("bench", huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0);
	if (*mfd < 0) {
		fail("memfd_create", errno);
		return NULL;
	}
	buf = MAP_FAILED;
	if (ftruncate(*mfd, LEN)) {
		fail("ftruncate", errno);
		goto fail;
	}
	buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, *mfd, 0);
	if (buf == MAP_FAILED) {
		fail("mmap of the memfd", errno);
		goto fail;
	}
	/* 4 KiB folios only: no shmem THP behind this view either. */
	if (!huge && madvise(buf, LEN, MADV_NOHUGEPAGE)) {
		fail("madvise(MADV_NOHUGEPAGE)", errno);
		goto fail;
	}
	for (off = 0; off < LEN; off += SZ_4K)
		buf[off] = 1;
	return buf;
fail:
	if (buf != MAP_FAILED)
		munmap(buf, LEN);
	close(*mfd);
	*mfd = -1;
	return NULL;
}

/* Upstream 6.12 has no IOMMU_IOAS_MAP_FILE: its ioctl answers ENOTTY. */
static int probe_map_file(void)
{
	struct iommu_ioas_map_file cmd = { .size = sizeof(cmd), .fd = -1 };
	int fd, rc;

	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0)
		return 0;
	rc = ioctl(fd, IOMMU_IOAS_MAP_FILE, &cmd) == 0 || errno != ENOTTY;
	close(fd);
	return rc;
}

/*
 * REPS map/unmap pairs of @buf (NULL: report the failure that left none)
 * on one IOAS; @mfd >= 0 maps that memfd, @buf's file, with MAP_FILE.
 */
static void run_case(const char *name, void *buf, int mfd)
{
	uint64_t map_ns[REPS], unmap_ns[REPS];
	int fd = -1, devfd = -1, rep, rc = -1;
	uint32_t ioas;

	if (!buf) {
		report_fail(name);
		return;
	}
	if (mfd >= 0 && !have_map_file)
		printf("# %s: no IOAS_MAP_FILE here (ENOTTY): IOAS_MAP of the memfd's view instead\n",
		       name);
	if (setup(&fd, &devfd, &ioas))
		goto out;
	for (rep = 0; rep < REPS; rep++)
		if (map_unmap(fd, ioas, buf, mfd, &map_ns[rep],
			      &unmap_ns[rep]))
			goto out;
	rc = 0;
out:
	if (devfd >= 0)
		close(devfd);
	if (fd >= 0)
		close(fd);
	if (rc) {
		report_fail(name);
		return;
	}
	qsort(map_ns, REPS, sizeof(map_ns[0]), cmp_u64);
	qsort(unmap_ns, REPS, sizeof(unmap_ns[0]), cmp_u64);
	printf("BENCH %s %.2f %.2f\n", name,
	       (double)map_ns[REPS / 2] / NPAGES,
	       (double)unmap_ns[REPS / 2] / NPAGES);
	fflush(stdout);
}

/*
 * vtd_<size> on anonymous memory, then vtd_memfd<size>_va and _file on one
 * memfd: one 256 MiB buffer at a time, which the guest's hugepages hold.
 */
static void run_size(const char *size, int huge, int ready)
{
	char name[64];
	void *buf;
	int mfd = -1;

	buf = ready ? get_memory(huge) : NULL;
	snprintf(name, sizeof(name), "vtd_%s", size);
	run_case(name, buf, -1);
	if (buf)
		munmap(buf, LEN);

	buf = ready ? get_memfd(huge, &mfd) : NULL;
	snprintf(name, sizeof(name), "vtd_memfd%s_va", size);
	run_case(name, buf, -1);
	snprintf(name, sizeof(name), "vtd_memfd%s_file", size);
	run_case(name, buf, mfd);
	if (buf) {
		munmap(buf, LEN);
		close(mfd);
	}
}

int main(void)
{
	int rc, ready = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf(HEADER, LEN / SZ_1M, IOVA, REPS);
	rc = edu_find(bdf, sizeof(bdf));
	if (rc) {
		fail("find the edu device (PCI 1234:11e8)", rc);
		goto run;
	}
	rc = bind_vfio_pci(bdf);
	if (rc) {
		fail("bind the edu device to vfio-pci", rc);
		goto run;
	}
	rc = cdev_path(bdf, cdev, sizeof(cdev));
	if (rc) {
		fail("find the VFIO cdev in vfio-dev/", rc);
		goto run;
	}
	printf("# vtd: edu at %s, %s\n", bdf, cdev);
	have_map_file = probe_map_file();
	ready = 1;
run:
	run_size("4k", 0, ready);
	run_size("2m", 1, ready);
	return 0;
}
