// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lab's benchmark (make bench): how long IOMMU_IOAS_MAP and
 * IOMMU_IOAS_UNMAP of 256 MiB take with nothing, an in-kernel access, one or
 * two mock domains behind the IOAS, and how long IOMMU_IOAS_COPY of such a
 * range into a second IOAS takes, over 4 KiB and 2 MiB (hugetlbfs) pages.
 * Then, with one mock domain, a memfd of either page size (shmem or
 * hugetlbfs) mapped both ways: IOMMU_IOAS_MAP of its MAP_SHARED view (_va),
 * and IOMMU_IOAS_MAP_FILE of the memfd itself (_file). A kernel without
 * IOMMU_IOAS_MAP_FILE (upstream 6.12: ENOTTY) gets IOMMU_IOAS_MAP of the
 * view in the _file case too, so that row compares our file path against
 * its VA path on the same memory.
 *
 * The guest runs under QEMU with -icount shift=0, so CLOCK_MONOTONIC counts
 * guest instructions: one "ns" is one instruction, and two runs of the same
 * kernel give (almost) the same numbers.
 *
 * Output, one line per case, read by tools/lab.sh:
 *   BENCH <case> <map ns per 4 KiB page> <unmap ns per 4 KiB page>
 * or "BENCH <case> fail fail" after a "#" comment that says what failed.
 * Each number is the median of REPS repetitions, each on a fresh iommufd.
 */
#include <errno.h>
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

#include "iommufd_test.h"

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
#define PIN_CHUNK	(16 * SZ_1M)	/* ACCESS_PAGES cap of both kernels */
#define IOVA		(64 * SZ_1M)	/* inside the mock aperture */
#define REPS		3
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

enum kind { NODOMAIN, ACCESS, MOCK1, MOCK2, COPY };

static const char *const kind_name[] = {
	[NODOMAIN] = "nodomain", [ACCESS] = "access", [MOCK1] = "mock1",
	[MOCK2] = "mock2", [COPY] = "copy",
};

/* Why the current case failed: the step and the errno */
static const char *fail_step;
static int fail_errno;

/* How mock2 got its second domain, reported once */
static const char *mock2_how;

/* Whether the kernel has IOMMU_IOAS_MAP_FILE */
static int have_map_file;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Run an ioctl; on failure remember @step and errno and return -1. */
static int do_ioctl(int fd, unsigned long nr, void *arg, const char *step)
{
	if (ioctl(fd, nr, arg) == 0)
		return 0;
	fail_step = step;
	fail_errno = errno;
	return -1;
}

/* The same, and add the time it took to *@ns. */
static int timed_ioctl(int fd, unsigned long nr, void *arg, const char *step,
		       uint64_t *ns)
{
	uint64_t t0 = now_ns();
	int rc = do_ioctl(fd, nr, arg, step);

	*ns += now_ns() - t0;
	return rc;
}

static int new_ioas(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (do_ioctl(fd, IOMMU_IOAS_ALLOC, &cmd, "IOAS_ALLOC"))
		return -1;
	*id = cmd.out_ioas_id;
	return 0;
}

/*
 * Map LEN bytes at IOVA: IOAS_MAP of @buf, or with @mfd >= 0 IOAS_MAP_FILE
 * of that memfd (@buf being its view), where the kernel has it.
 */
static int map(int fd, uint32_t ioas, void *buf, int mfd, uint64_t *ns)
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
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = LEN,
		.iova = IOVA,
	};
	uint64_t spare = 0;

	if (mfd >= 0 && have_map_file)
		return timed_ioctl(fd, IOMMU_IOAS_MAP_FILE, &file,
				   "IOAS_MAP_FILE", ns ? ns : &spare);
	return timed_ioctl(fd, IOMMU_IOAS_MAP, &cmd, "IOAS_MAP",
			   ns ? ns : &spare);
}

static int unmap(int fd, uint32_t ioas, uint64_t *ns)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = IOVA,
		.length = LEN,
	};
	uint64_t spare = 0;

	if (timed_ioctl(fd, IOMMU_IOAS_UNMAP, &cmd, "IOAS_UNMAP",
			ns ? ns : &spare))
		return -1;
	if (cmd.length != LEN) {
		fail_step = "IOAS_UNMAP (short)";
		fail_errno = 0;
		return -1;
	}
	return 0;
}

static void test_cmd_init(struct iommu_test_cmd *cmd, uint32_t op,
			  uint32_t id)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->size = sizeof(*cmd);
	cmd->op = op;
	cmd->id = id;
}

/* A mock device attached to @pt (an IOAS or a page table) */
static int mock_domain(int fd, uint32_t pt, uint32_t *hwpt, uint32_t *idev)
{
	struct iommu_test_cmd cmd;

	test_cmd_init(&cmd, IOMMU_TEST_OP_MOCK_DOMAIN, pt);
	if (do_ioctl(fd, IOMMU_TEST_CMD, &cmd, "TEST_OP_MOCK_DOMAIN"))
		return -1;
	if (hwpt)
		*hwpt = cmd.mock_domain.out_hwpt_id;
	if (idev)
		*idev = cmd.mock_domain.out_idev_id;
	return 0;
}

/*
 * A second, distinct mock domain on @ioas. Two plain MOCK_DOMAINs would
 * share the first one (the auto domain is compatible), so allocate a new
 * page table for the first device with IOMMU_HWPT_ALLOC and attach a second
 * mock device to it. If that is refused, try a device with
 * MOCK_FLAGS_DEVICE_HUGE_IOVA and see whether it got a domain of its own.
 */
static int second_domain(int fd, uint32_t ioas, uint32_t hwpt1, uint32_t idev1,
			 uint32_t *hwpt2)
{
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.dev_id = idev1,
		.pt_id = ioas,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};
	struct iommu_test_cmd cmd;

	if (!do_ioctl(fd, IOMMU_HWPT_ALLOC, &alloc, "HWPT_ALLOC")) {
		if (mock_domain(fd, alloc.out_hwpt_id, hwpt2, NULL))
			return -1;
		if (*hwpt2 != hwpt1) {
			mock2_how = "HWPT_ALLOC, then MOCK_DOMAIN on that";
			return 0;
		}
	}

	test_cmd_init(&cmd, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, ioas);
	cmd.mock_domain_flags.dev_flags = MOCK_FLAGS_DEVICE_HUGE_IOVA;
	if (do_ioctl(fd, IOMMU_TEST_CMD, &cmd, "TEST_OP_MOCK_DOMAIN_FLAGS"))
		return -1;
	if (cmd.mock_domain_flags.out_hwpt_id == hwpt1) {
		fail_step = "second mock domain (HUGE_IOVA device shares the first)";
		fail_errno = 0;
		return -1;
	}
	*hwpt2 = cmd.mock_domain_flags.out_hwpt_id;
	mock2_how = "MOCK_DOMAIN_FLAGS with MOCK_FLAGS_DEVICE_HUGE_IOVA";
	return 0;
}

/* Untimed: does mock domain @hwpt translate the first MiB to @buf? */
static void check_domain(int fd, uint32_t hwpt, void *buf)
{
	struct iommu_test_cmd cmd;

	test_cmd_init(&cmd, IOMMU_TEST_OP_MD_CHECK_MAP, hwpt);
	cmd.check_map.iova = IOVA;
	cmd.check_map.length = SZ_1M;
	cmd.check_map.uptr = (uintptr_t)buf;
	if (ioctl(fd, IOMMU_TEST_CMD, &cmd))
		printf("# mock2: MD_CHECK_MAP of domain %u failed: errno %d (%s)\n",
		       hwpt, errno, strerror(errno));
}

/* Pin the whole range through an in-kernel access, 16 MiB per call. */
static int access_case(int fd, uint32_t ioas, uint64_t *map_ns,
		       uint64_t *unmap_ns)
{
	uint32_t ids[LEN / PIN_CHUNK];
	struct iommu_test_cmd cmd;
	unsigned int i, pinned = 0;
	int afd, rc = 0;

	test_cmd_init(&cmd, IOMMU_TEST_OP_CREATE_ACCESS, ioas);
	cmd.create_access.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
	if (do_ioctl(fd, IOMMU_TEST_CMD, &cmd, "TEST_OP_CREATE_ACCESS"))
		return -1;
	afd = cmd.create_access.out_access_fd;

	for (i = 0; i < LEN / PIN_CHUNK; i++) {
		test_cmd_init(&cmd, IOMMU_TEST_OP_ACCESS_PAGES, afd);
		cmd.access_pages.flags = MOCK_FLAGS_ACCESS_WRITE;
		cmd.access_pages.iova = IOVA + i * PIN_CHUNK;
		cmd.access_pages.length = PIN_CHUNK;
		cmd.access_pages.uptr = 0;	/* no page-by-page comparison */
		rc = timed_ioctl(fd, IOMMU_TEST_CMD, &cmd,
				 "TEST_OP_ACCESS_PAGES", map_ns);
		if (rc)
			break;
		ids[pinned++] = cmd.access_pages.out_access_pages_id;
	}
	for (i = 0; i < pinned; i++) {
		test_cmd_init(&cmd, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, afd);
		cmd.destroy_access_pages.access_pages_id = ids[i];
		if (timed_ioctl(fd, IOMMU_TEST_CMD, &cmd,
				"TEST_OP_DESTROY_ACCESS_PAGES", unmap_ns))
			rc = -1;
	}
	close(afd);
	return rc;
}

/* One repetition on a fresh iommufd; closing it tears everything down. */
static int run_once(enum kind kind, void *buf, int mfd, int rep,
		    uint64_t *map_ns, uint64_t *unmap_ns)
{
	uint32_t ioas, ioas2, hwpt1, hwpt2, idev1;
	int fd, rc = -1;

	*map_ns = *unmap_ns = 0;
	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0) {
		fail_step = "open /dev/iommu";
		fail_errno = errno;
		return -1;
	}
	if (new_ioas(fd, &ioas))
		goto out;

	switch (kind) {
	case NODOMAIN:
	case MOCK1:
	case MOCK2:
		if (kind != NODOMAIN && mock_domain(fd, ioas, &hwpt1, &idev1))
			goto out;
		if (kind == MOCK2 &&
		    second_domain(fd, ioas, hwpt1, idev1, &hwpt2))
			goto out;
		if (map(fd, ioas, buf, mfd, map_ns))
			goto out;
		if (kind == MOCK2 && rep == 0) {
			check_domain(fd, hwpt1, buf);
			check_domain(fd, hwpt2, buf);
		}
		if (unmap(fd, ioas, unmap_ns))
			goto out;
		break;
	case ACCESS:
		if (map(fd, ioas, buf, mfd, NULL))
			goto out;
		if (access_case(fd, ioas, map_ns, unmap_ns))
			goto out;
		if (unmap(fd, ioas, NULL))
			goto out;
		break;
	case COPY: {
		/* The source has a mock domain: its pages are pinned already. */
		struct iommu_ioas_copy cmd = {
			.size = sizeof(cmd),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
			.length = LEN,
			.dst_iova = IOVA,
			.src_iova = IOVA,
		};

		if (mock_domain(fd, ioas, NULL, NULL) ||
		    map(fd, ioas, buf, mfd, NULL) || new_ioas(fd, &ioas2) ||
		    mock_domain(fd, ioas2, NULL, NULL))
			goto out;
		cmd.src_ioas_id = ioas;
		cmd.dst_ioas_id = ioas2;
		if (timed_ioctl(fd, IOMMU_IOAS_COPY, &cmd, "IOAS_COPY", map_ns))
			goto out;
		if (unmap(fd, ioas2, unmap_ns) || unmap(fd, ioas, NULL))
			goto out;
		break;
	}
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* @mfd >= 0: map that memfd with IOAS_MAP_FILE rather than @buf, its view. */
static void run_case(enum kind kind, const char *mem, void *buf, int mfd)
{
	uint64_t map_ns[REPS], unmap_ns[REPS];
	char name[64];
	int rep;

	snprintf(name, sizeof(name), "%s_%s", kind_name[kind], mem);
	if (!buf) {
		printf("# %s: no %s memory: errno %d (%s)\n", name, mem,
		       fail_errno, strerror(fail_errno));
		printf("BENCH %s fail fail\n", name);
		fflush(stdout);
		return;
	}
	if (mfd >= 0 && !have_map_file)
		printf("# %s: no IOAS_MAP_FILE here (ENOTTY): IOAS_MAP of the memfd's view instead\n",
		       name);
	for (rep = 0; rep < REPS; rep++) {
		if (run_once(kind, buf, mfd, rep, &map_ns[rep],
			     &unmap_ns[rep])) {
			printf("# %s: %s failed: errno %d (%s)\n", name,
			       fail_step, fail_errno, strerror(fail_errno));
			printf("BENCH %s fail fail\n", name);
			fflush(stdout);
			return;
		}
	}
	qsort(map_ns, REPS, sizeof(map_ns[0]), cmp_u64);
	qsort(unmap_ns, REPS, sizeof(unmap_ns[0]), cmp_u64);
	printf("BENCH %s %.2f %.2f\n", name,
	       (double)map_ns[REPS / 2] / NPAGES,
	       (double)unmap_ns[REPS / 2] / NPAGES);
	fflush(stdout);
}

/*
 * The floor: what pinning @buf costs by itself, pinned and unpinned by the
 * test driver in a domain fill's chunks with nothing else. Its two figures
 * stand in the map and unmap columns. Upstream has no such op.
 */
static void run_floor(const char *mem, void *buf)
{
	uint64_t pin_ns[REPS], unpin_ns[REPS];
	struct iommu_test_cmd cmd;
	int rep, fd;

	for (rep = 0; buf && rep < REPS; rep++) {
		fd = open("/dev/iommu", O_RDWR);
		if (fd < 0)
			break;
		test_cmd_init(&cmd, IOMMU_TEST_OP_LAB_GUP_FLOOR, 0);
		cmd.lab_gup_floor.uptr = (uintptr_t)buf;
		cmd.lab_gup_floor.length = LEN;
		if (ioctl(fd, IOMMU_TEST_CMD, &cmd)) {
			printf("# floor_%s: IOMMU_TEST_OP_LAB_GUP_FLOOR: errno %d (%s)\n",
			       mem, errno, strerror(errno));
			close(fd);
			break;
		}
		close(fd);
		pin_ns[rep] = cmd.lab_gup_floor.out_pin_ns;
		unpin_ns[rep] = cmd.lab_gup_floor.out_unpin_ns;
	}
	if (rep < REPS) {
		printf("BENCH floor_%s fail fail\n", mem);
		return;
	}
	qsort(pin_ns, REPS, sizeof(pin_ns[0]), cmp_u64);
	qsort(unpin_ns, REPS, sizeof(unpin_ns[0]), cmp_u64);
	printf("BENCH floor_%s %.2f %.2f\n", mem,
	       (double)pin_ns[REPS / 2] / NPAGES,
	       (double)unpin_ns[REPS / 2] / NPAGES);
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
		fail_errno = errno;
		return NULL;
	}
	/* 4 KiB folios only: keep THP away from this range. */
	if (!huge && madvise(buf, LEN, MADV_NOHUGEPAGE)) {
		fail_errno = errno;
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
		fail_errno = errno;
		return NULL;
	}
	buf = MAP_FAILED;
	if (ftruncate(*mfd, LEN))
		goto fail;
	buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, *mfd, 0);
	if (buf == MAP_FAILED)
		goto fail;
	/* 4 KiB folios only: no shmem THP behind this view either. */
	if (!huge && madvise(buf, LEN, MADV_NOHUGEPAGE))
		goto fail;
	for (off = 0; off < LEN; off += SZ_4K)
		buf[off] = 1;
	return buf;
fail:
	fail_errno = errno;
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

int main(void)
{
	static const enum kind kinds[] = { NODOMAIN, ACCESS, MOCK1, MOCK2,
					   COPY };
	/* The memfd cases: one mock domain; a second would only add its fill */
	static const enum kind memfd_kinds[] = { MOCK1 };
	static const char *const mems[] = { "4k", "2m" };
	char va[32], file[32];
	unsigned int k, m;
	void *buf;
	int mfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# bench: IOAS_MAP/UNMAP of %lu MiB at IOVA %#lx, median of %d; "
	       "guest ns per 4 KiB page\n", LEN / SZ_1M, IOVA, REPS);
	have_map_file = probe_map_file();
	for (m = 0; m < 2; m++) {
		buf = get_memory(m);
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			run_case(kinds[k], mems[m], buf, -1);
		run_floor(mems[m], buf);
		if (buf)
			munmap(buf, LEN);

		/* One buffer at a time: the guest's hugepages hold one. */
		buf = get_memfd(m, &mfd);
		snprintf(va, sizeof(va), "memfd%s_va", mems[m]);
		snprintf(file, sizeof(file), "memfd%s_file", mems[m]);
		for (k = 0; k < sizeof(memfd_kinds) / sizeof(memfd_kinds[0]);
		     k++) {
			run_case(memfd_kinds[k], va, buf, -1);
			run_case(memfd_kinds[k], file, buf, mfd);
		}
		if (buf) {
			munmap(buf, LEN);
			close(mfd);
		}
	}
	if (mock2_how)
		printf("# mock2: second domain by %s\n", mock2_how);
	return 0;
}
