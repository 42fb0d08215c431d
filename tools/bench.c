// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lab's benchmark (make bench): how long IOMMU_IOAS_MAP and
 * IOMMU_IOAS_UNMAP of 256 MiB take with nothing, an in-kernel access, one or
 * two mock domains behind the IOAS, and how long IOMMU_IOAS_COPY of such a
 * range into a second IOAS takes, over 4 KiB folios, 2 MiB hugetlbfs pages
 * THP (MADV_HUGEPAGE) and 4 KiB folios in no physical order (_frag). Then,
 * with one mock domain, a memfd of either
 * page size (shmem or hugetlbfs) mapped both ways: IOMMU_IOAS_MAP of its
 * MAP_SHARED view (_va), and IOMMU_IOAS_MAP_FILE of the memfd itself
 * (_file). A kernel without IOMMU_IOAS_MAP_FILE (upstream 6.12: ENOTTY)
 * gets IOMMU_IOAS_MAP of the view in the _file case too, so that row
 * compares our file path against its VA path on the same memory. Then the
 * mock1, access and floor cases again at 64 MiB and 1 GiB (<case>@64m,
 * <case>@1g), for the scaling; and the stall case: how long small calls on
 * an IOAS take while another thread maps 1 GiB into it.
 *
 * The guest runs under QEMU with -icount shift=0, so CLOCK_MONOTONIC counts
 * guest instructions: one "ns" is one instruction, and two runs of the same
 * kernel give (almost) the same numbers.
 *
 * Output, one line per case, in the format of tools/bench_util.h, or
 * "BENCH <case> fail fail" after a "#" comment that says what failed.
 * Each repetition runs on a fresh iommufd.
 */
#include <errno.h>
#include <pthread.h>
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
#include "bench_util.h"

#define PIN_CHUNK	(16 * SZ_1M)	/* ACCESS_PAGES cap of both kernels */
#define IOVA		(64 * SZ_1M)	/* inside the mock aperture */
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

/* Bytes mapped per case */
static unsigned long len = 256 * SZ_1M;

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
 * Map len bytes at IOVA: IOAS_MAP of @buf, or with @mfd >= 0 IOAS_MAP_FILE
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
		.length = len,
		.iova = IOVA,
	};
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = len,
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
		.length = len,
	};
	uint64_t spare = 0;

	if (timed_ioctl(fd, IOMMU_IOAS_UNMAP, &cmd, "IOAS_UNMAP",
			ns ? ns : &spare))
		return -1;
	if (cmd.length != len) {
		fail_step = "IOAS_UNMAP (short)";
		fail_errno = 0;
		return -1;
	}
	return 0;
}

/* Untimed IOAS_MAP and IOAS_UNMAP of @n bytes at @iova; errno or 0 */
static int ioas_map_at(int fd, uint32_t ioas, void *buf, unsigned long n,
		       uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = n,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd) ? errno : 0;
}

static int ioas_unmap_at(int fd, uint32_t ioas, uint64_t iova,
			 unsigned long n)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = n,
	};

	return ioctl(fd, IOMMU_IOAS_UNMAP, &cmd) ? errno : 0;
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

/* What the kernel holds now beyond @k0 KiB, in bytes; -1 if unknown */
static int64_t kmem_since(long k0)
{
	long k = kmem_kb();

	return k0 < 0 || k < 0 ? -1 : (int64_t)(k - k0) * 1024;
}

/*
 * Pin the whole range through an in-kernel access, 16 MiB per call; what
 * the kernel holds for the pins is measured before they go.
 */
static int access_case(int fd, uint32_t ioas, uint64_t *map_ns,
		       uint64_t *unmap_ns, int64_t *kmem)
{
	uint32_t ids[SZ_1G / PIN_CHUNK];
	struct iommu_test_cmd cmd;
	unsigned int i, pinned = 0;
	int afd, rc = 0;
	long k0;

	test_cmd_init(&cmd, IOMMU_TEST_OP_CREATE_ACCESS, ioas);
	cmd.create_access.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
	if (do_ioctl(fd, IOMMU_TEST_CMD, &cmd, "TEST_OP_CREATE_ACCESS"))
		return -1;
	afd = cmd.create_access.out_access_fd;

	k0 = kmem_kb();
	for (i = 0; i < len / PIN_CHUNK; i++) {
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
	*kmem = kmem_since(k0);
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
		    uint64_t *map_ns, uint64_t *unmap_ns, int64_t *kmem)
{
	uint32_t ioas, ioas2, hwpt1, hwpt2, idev1;
	int fd, rc = -1;
	long k0;

	*map_ns = *unmap_ns = 0;
	*kmem = -1;
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
		k0 = kmem_kb();
		if (map(fd, ioas, buf, mfd, map_ns))
			goto out;
		*kmem = kmem_since(k0);
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
		if (access_case(fd, ioas, map_ns, unmap_ns, kmem))
			goto out;
		if (unmap(fd, ioas, NULL))
			goto out;
		break;
	case COPY: {
		/* The source has a mock domain: its pages are pinned already. */
		struct iommu_ioas_copy cmd = {
			.size = sizeof(cmd),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
			.length = len,
			.dst_iova = IOVA,
			.src_iova = IOVA,
		};

		if (mock_domain(fd, ioas, NULL, NULL) ||
		    map(fd, ioas, buf, mfd, NULL) || new_ioas(fd, &ioas2) ||
		    mock_domain(fd, ioas2, NULL, NULL))
			goto out;
		cmd.src_ioas_id = ioas;
		cmd.dst_ioas_id = ioas2;
		k0 = kmem_kb();
		if (timed_ioctl(fd, IOMMU_IOAS_COPY, &cmd, "IOAS_COPY", map_ns))
			goto out;
		*kmem = kmem_since(k0);
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

/* @mfd >= 0: map that memfd with IOAS_MAP_FILE rather than @buf, its view. */
static void run_case(enum kind kind, const char *mem, void *buf, int mfd)
{
	uint64_t map_ns[REPS], unmap_ns[REPS];
	int64_t kmem[REPS];
	char name[64];
	int rep;

	case_name(name, sizeof(name), kind_name[kind], mem, len);
	if (!buf) {
		printf("# %s: no %s memory: errno %d (%s)\n", name, mem,
		       mem_errno, strerror(mem_errno));
		printf("BENCH %s fail fail\n", name);
		fflush(stdout);
		return;
	}
	if (mfd >= 0 && !have_map_file)
		printf("# %s: no IOAS_MAP_FILE here (ENOTTY): IOAS_MAP of the memfd's view instead\n",
		       name);
	for (rep = 0; rep < REPS; rep++) {
		if (run_once(kind, buf, mfd, rep, &map_ns[rep],
			     &unmap_ns[rep], &kmem[rep])) {
			printf("# %s: %s failed: errno %d (%s)\n", name,
			       fail_step, fail_errno, strerror(fail_errno));
			printf("BENCH %s fail fail\n", name);
			fflush(stdout);
			return;
		}
	}
	bench_line(name, map_ns, unmap_ns, kmem, len);
}

/*
 * The floor: what pinning @buf costs by itself, pinned and unpinned by the
 * test driver in a domain fill's chunks with nothing else. Its two figures
 * stand in the map and unmap columns. Upstream has no such op.
 */
static void run_floor(const char *mem, void *buf)
{
	uint64_t pin_ns[REPS], unpin_ns[REPS];
	int64_t kmem[REPS] = { -1, -1, -1 };
	struct iommu_test_cmd cmd;
	char name[64];
	int rep, fd;

	case_name(name, sizeof(name), "floor", mem, len);
	for (rep = 0; buf && rep < REPS; rep++) {
		fd = open("/dev/iommu", O_RDWR);
		if (fd < 0)
			break;
		test_cmd_init(&cmd, IOMMU_TEST_OP_LAB_GUP_FLOOR, 0);
		cmd.lab_gup_floor.uptr = (uintptr_t)buf;
		cmd.lab_gup_floor.length = len;
		if (ioctl(fd, IOMMU_TEST_CMD, &cmd)) {
			printf("# %s: IOMMU_TEST_OP_LAB_GUP_FLOOR: errno %d (%s)\n",
			       name, errno, strerror(errno));
			close(fd);
			break;
		}
		close(fd);
		pin_ns[rep] = cmd.lab_gup_floor.out_pin_ns;
		unpin_ns[rep] = cmd.lab_gup_floor.out_unpin_ns;
	}
	if (rep < REPS) {
		printf("BENCH %s fail fail\n", name);
		return;
	}
	bench_line(name, pin_ns, unpin_ns, kmem, len);
}

static void *memory_for(enum mem mem)
{
	void *buf = get_memory(mem, len);

	if (buf)
		printf("# mem: %s, %lu MiB: %ld physical runs\n", mem_name[mem],
		       len / SZ_1M, phys_runs(buf, len));
	if (buf && mem == MEM_THP)
		printf("# thp: %d%% of the %lu MiB in THP\n",
		       thp_percent(buf, len), len / SZ_1M);
	return buf;
}

/*
 * The stall case. One thread maps 1 GiB of 4 KiB pages into an IOAS with
 * a mock domain; meanwhile the other, once the big map pins, times a 4 KiB
 * IOAS_MAP and its unmap, an IOAS_IOVA_RANGES and an access pin and unpin
 * of one page on the same IOAS. Printed: the big map's ns, and each small
 * call's ns as per mille of it (a kernel that holds the IOAS locked for
 * the whole map puts them near 1000).
 */
struct stall {
	int fd;
	uint32_t ioas;
	void *buf;
	uint64_t ns;
	int rc, done;
};

static void *stall_map(void *arg)
{
	struct stall *st = arg;
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.ioas_id = st->ioas,
		.user_va = (uintptr_t)st->buf,
		.length = SZ_1G,
		.iova = IOVA + 256 * SZ_1M,
	};
	uint64_t t0 = now_ns();

	st->rc = ioctl(st->fd, IOMMU_IOAS_MAP, &cmd) ? errno : 0;
	st->ns = now_ns() - t0;
	__atomic_store_n(&st->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static long vm_pin_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void run_stall(void)
{
	struct iommu_iova_range ranges[8];
	struct iommu_ioas_iova_ranges r = {
		.size = sizeof(r),
		.allowed_iovas = (uintptr_t)ranges,
	};
	uint64_t t0, small[5], iova = IOVA;
	struct stall st = { 0 };
	struct iommu_test_cmd cmd;
	pthread_t thread;
	int afd = -1, fail = 1;
	long pin0;
	void *page;

	page = get_memory(MEM_4K, SZ_4K);
	st.buf = get_memory(MEM_4K, SZ_1G);
	st.fd = open("/dev/iommu", O_RDWR);
	if (!page || !st.buf || st.fd < 0 || new_ioas(st.fd, &st.ioas) ||
	    mock_domain(st.fd, st.ioas, NULL, NULL))
		goto out;
	r.ioas_id = st.ioas;
	/* A page for the access to pin, mapped before the big map starts */
	if (ioas_map_at(st.fd, st.ioas, page, SZ_4K, iova))
		goto out;
	test_cmd_init(&cmd, IOMMU_TEST_OP_CREATE_ACCESS, st.ioas);
	cmd.create_access.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
	if (do_ioctl(st.fd, IOMMU_TEST_CMD, &cmd, "TEST_OP_CREATE_ACCESS"))
		goto out;
	afd = cmd.create_access.out_access_fd;

	pin0 = vm_pin_kb();
	if (pthread_create(&thread, NULL, stall_map, &st))
		goto out;
	/*
	 * Start once the big map pins (VmPin grows), or after 20 ms where
	 * VmPin does not show it; sleep rather than spin, which under
	 * -icount starves the guest's timers.
	 */
	t0 = now_ns();
	while (vm_pin_kb() == pin0 && now_ns() - t0 < 20000000 &&
	       !__atomic_load_n(&st.done, __ATOMIC_SEQ_CST))
		usleep(1000);
	t0 = now_ns();
	fail = ioas_map_at(st.fd, st.ioas, page, SZ_4K, iova + SZ_2M);
	small[0] = now_ns() - t0;
	t0 = now_ns();
	fail |= ioctl(st.fd, IOMMU_IOAS_IOVA_RANGES, &r) && errno != EMSGSIZE;
	small[1] = now_ns() - t0;
	test_cmd_init(&cmd, IOMMU_TEST_OP_ACCESS_PAGES, afd);
	cmd.access_pages.iova = iova;
	cmd.access_pages.length = SZ_4K;
	t0 = now_ns();
	fail |= ioctl(st.fd, IOMMU_TEST_CMD, &cmd);
	small[2] = now_ns() - t0;
	test_cmd_init(&cmd, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, afd);
	cmd.destroy_access_pages.access_pages_id =
		cmd.access_pages.out_access_pages_id;
	t0 = now_ns();
	fail |= ioctl(st.fd, IOMMU_TEST_CMD, &cmd);
	small[3] = now_ns() - t0;
	t0 = now_ns();
	fail |= ioas_unmap_at(st.fd, st.ioas, iova + SZ_2M, SZ_4K);
	small[4] = now_ns() - t0;
	if (!__atomic_load_n(&st.done, __ATOMIC_SEQ_CST))
		printf("# stall: the small calls were done before the big map\n");
	else
		printf("# stall: the small calls ended after the big map\n");
	pthread_join(thread, NULL);
	fail |= st.rc;
out:
	if (fail || !st.ns) {
		printf("# stall: failed (big map errno %d, errno %d)\n", st.rc,
		       errno);
		printf("STALL fail\n");
	} else {
		printf("STALL %.0f %.1f %.1f %.1f %.1f %.1f\n", (double)st.ns,
		       1000.0 * small[0] / st.ns, 1000.0 * small[1] / st.ns,
		       1000.0 * small[2] / st.ns, 1000.0 * small[3] / st.ns,
		       1000.0 * small[4] / st.ns);
	}
	fflush(stdout);
	if (afd >= 0)
		close(afd);
	if (st.fd >= 0)
		close(st.fd);
	if (st.buf)
		munmap(st.buf, SZ_1G);
	if (page)
		munmap(page, SZ_4K);
}

int main(void)
{
	static const enum kind kinds[] = { NODOMAIN, ACCESS, MOCK1, MOCK2,
					   COPY };
	/* The memfd cases: one mock domain; a second would only add its fill */
	static const enum kind memfd_kinds[] = { MOCK1 };
	/* The scaling: the same cases at other sizes */
	static const enum kind scale_kinds[] = { ACCESS, MOCK1 };
	static const unsigned long sizes[] = { 64 * SZ_1M, SZ_1G };
	char va[32], file[32];
	unsigned int k, m, z;
	void *buf;
	int mfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# bench: IOAS_MAP/UNMAP of %lu MiB at IOVA %#lx, median of %d; "
	       "guest ns per 4 KiB page\n", len / SZ_1M, IOVA, REPS);
	have_map_file = probe_map_file();
	for (m = MEM_4K; m <= MEM_FRAG; m++) {
		buf = memory_for(m);
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			run_case(kinds[k], mem_name[m], buf, -1);
		run_floor(mem_name[m], buf);
		if (buf)
			munmap(buf, len);
		if (m >= MEM_THP)
			continue;

		/* One buffer at a time: the guest's hugepages hold one. */
		buf = get_memfd(m == MEM_2M, len, &mfd);
		snprintf(va, sizeof(va), "memfd%s_va", mem_name[m]);
		snprintf(file, sizeof(file), "memfd%s_file", mem_name[m]);
		for (k = 0; k < sizeof(memfd_kinds) / sizeof(memfd_kinds[0]);
		     k++) {
			run_case(memfd_kinds[k], va, buf, -1);
			run_case(memfd_kinds[k], file, buf, mfd);
		}
		if (buf) {
			munmap(buf, len);
			close(mfd);
		}
	}
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		len = sizes[z];
		for (m = MEM_4K; m <= MEM_FRAG; m++) {
			buf = memory_for(m);
			for (k = 0; k < sizeof(scale_kinds) /
					sizeof(scale_kinds[0]); k++)
				run_case(scale_kinds[k], mem_name[m], buf, -1);
			run_floor(mem_name[m], buf);
			if (buf)
				munmap(buf, len);
		}
	}
	run_stall();
	if (mock2_how)
		printf("# mock2: second domain by %s\n", mock2_how);
	return 0;
}
