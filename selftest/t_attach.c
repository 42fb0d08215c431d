// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attach, replace and unmap the way real drivers and VMMs drive them,
 * modelled with the mock IOMMU's lab flags: several devices in one group,
 * domains a driver finishes only at attach, software MSI windows, devices
 * without cache coherency; and the unmap, pin and removal paths under a
 * second thread that keeps using what is going away.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_mock.h"

#define GRP MOCK_FLAGS_DEVICE_SHARED_GROUP
#define LATE MOCK_FLAGS_DEVICE_LATE_FINISH
#define BUF_SZ (64 * PG)

static int msi_cookie(int fd, uint32_t hwpt, uint32_t *cookie)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_LAB_MSI_COOKIE,
		.id = hwpt,
	};
	int rc = test_op(fd, &cmd);

	if (!rc)
		*cookie = cmd.lab_msi_cookie.out_cookie;
	return rc;
}

static int unpin_raw(int fd, int afd, uint64_t iova, uint64_t len)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_LAB_ACCESS_UNPIN,
		.id = afd,
		.access_pages = { .iova = iova, .length = len },
	};

	return test_op(fd, &cmd);
}

static int borrow(int fd, uint32_t id, uint32_t ms)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_LAB_BORROW,
		.id = id,
		.lab_borrow = { .ms = ms },
	};

	return test_op(fd, &cmd);
}

/* The IOVA ranges of @ioas must be exactly @want. */
static bool ranges_are(int fd, uint32_t ioas,
		       const struct iommu_iova_range *want, uint32_t n)
{
	struct iommu_iova_range r[8];
	uint32_t num = NELEM(r), i;
	uint64_t align;

	if (iova_info(fd, ioas, r, &num, &align) || num != n)
		return false;
	for (i = 0; i != n; i++)
		if (r[i].start != want[i].start || r[i].last != want[i].last)
			return false;
	return true;
}

/* The state letter of thread @tid of this process ('R', 'S', 'D', 'I'...) */
static char thread_state(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Wait until thread @tid sleeps in one of @states; false if it never does. */
static bool thread_waits(pid_t tid, const char *states)
{
	int i;

	/* Bounded by tries, not time: each try yields to the other thread. */
	for (i = 0; i != 200000; i++) {
		char st = thread_state(tid);

		if (st && strchr(states, st))
			return true;
		sched_yield();
	}
	return false;
}

FIXTURE(attach) {
	int fd;
	uint32_t ioas;
	unsigned char *buf;
	long pin0;
};

FIXTURE_SETUP(attach)
{
	self->pin0 = pinned_kb();
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	self->buf = anon_mem(BUF_SZ, 0x3c);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(attach)
{
	close(self->fd);
	munmap(self->buf, BUF_SZ);
	EXPECT_EQ(self->pin0, pinned_kb());
}

/* ---- devices that share one iommu_group ---------------------------------- */

TEST_F(attach, group_by_ioas_and_hwpt)
{
	uint32_t other, user_hwpt;
	struct mdev a, b, c, d;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, BUF_SZ, AT(1)));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, GRP, &a));
	/* The second device of the group joins the group's page table. */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, GRP, &b));
	EXPECT_EQ(a.hwpt, b.hwpt);
	/* By the page table's ID too. */
	ASSERT_EQ(0, dev_add(self->fd, a.hwpt, GRP, &c));
	EXPECT_EQ(a.hwpt, c.hwpt);

	/* Another page table, by IOAS or by ID, is refused and changes nothing. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	EXPECT_EQ(EINVAL, dev_add(self->fd, other, GRP, &d));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, other, 0, &user_hwpt));
	EXPECT_EQ(EINVAL, dev_add(self->fd, user_hwpt, GRP, &d));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(1), BUF_SZ, self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SZ, 1));

	/* One leaving keeps the others attached. */
	EXPECT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, dom_has(self->fd, b.hwpt, AT(1), BUF_SZ, self->buf));
	EXPECT_EQ(0, obj_destroy(self->fd, b.stdev));
	EXPECT_EQ(0, dom_has(self->fd, c.hwpt, AT(1), BUF_SZ, self->buf));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->ioas));

	/* With the last one the group, and the automatic table, are gone. */
	EXPECT_EQ(0, obj_destroy(self->fd, c.stdev));
	EXPECT_EQ(ENOENT, dom_has(self->fd, c.hwpt, AT(1), BUF_SZ, self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SZ, 0));
	/* Now the group may go anywhere. */
	ASSERT_EQ(0, dev_add(self->fd, user_hwpt, GRP, &d));
	EXPECT_EQ(user_hwpt, d.hwpt);
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, user_hwpt));
	EXPECT_EQ(0, obj_destroy(self->fd, other));
}

TEST_F(attach, group_replace_moves_all)
{
	struct mdev a, b, solo;
	uint32_t other, pt;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, BUF_SZ, AT(1)));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, GRP, &a));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, GRP, &b));
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_at(self->fd, other, self->buf, BUF_SZ, AT(3)));

	pt = other;
	ASSERT_EQ(0, dev_move(self->fd, b.stdev, &pt));
	EXPECT_NE(a.hwpt, pt);
	EXPECT_EQ(0, dom_has(self->fd, pt, AT(3), BUF_SZ, self->buf));
	/* The whole group moved: the old automatic table went with it. */
	EXPECT_EQ(ENOENT, dom_has(self->fd, a.hwpt, AT(1), BUF_SZ,
				  self->buf));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
	/* A device of another group may share the automatic table. */
	ASSERT_EQ(0, dev_add(self->fd, other, 0, &solo));
	EXPECT_EQ(pt, solo.hwpt);

	EXPECT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, dom_has(self->fd, pt, AT(3), BUF_SZ, self->buf));
	EXPECT_EQ(0, obj_destroy(self->fd, b.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, solo.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, other));
}

/* ---- domains a driver finishes at attach --------------------------------- */

static const struct iommu_iova_range aperture[] = { { AP_LO, AP_HI } };

TEST_F(attach, late_finish_with_mappings)
{
	struct mdev a;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, BUF_SZ, AT(1)));
	/* Filled only once attached: before, the domain refuses maps. */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, LATE, &a));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(1), BUF_SZ, self->buf));
	/* The aperture learned at attach is kept out, and its page size. */
	EXPECT_TRUE(ranges_are(self->fd, self->ioas, aperture, 1));
	EXPECT_EQ(PG, alignment_of(self->fd, self->ioas));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->buf, PG,
				 AP_HI + 1));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->buf, IOPG,
				 AT(9)));
	EXPECT_EQ(0, obj_destroy(self->fd, a.stdev));
	/* Both leave with the domain. */
	EXPECT_EQ(1, alignment_of(self->fd, self->ioas));
}

TEST_F(attach, late_finish_empty_and_outside)
{
	const struct iommu_iova_range all[] = { { 0, UINT64_MAX } };
	uint32_t second, user_hwpt;
	struct mdev a, b;

	/* Nothing mapped: the aperture still becomes the usable range. */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, LATE, &a));
	EXPECT_TRUE(ranges_are(self->fd, self->ioas, aperture, 1));
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf, BUF_SZ, AT(1)));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(1), BUF_SZ, self->buf));

	/* A page table made before any attach learns it at its first one. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &second));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, second, 0, &user_hwpt));
	EXPECT_TRUE(ranges_are(self->fd, second, all, 1));
	ASSERT_EQ(0, dev_add(self->fd, user_hwpt, LATE, &b));
	EXPECT_TRUE(ranges_are(self->fd, second, aperture, 1));
	EXPECT_EQ(0, obj_destroy(self->fd, b.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, user_hwpt));
	EXPECT_TRUE(ranges_are(self->fd, second, all, 1));

	/* A mapping outside what the domain turns out to translate. */
	ASSERT_EQ(0, map_at(self->fd, second, self->buf, PG, PG));
	EXPECT_EQ(EADDRINUSE, dev_add(self->fd, second, LATE, &b));
	EXPECT_TRUE(ranges_are(self->fd, second, all, 1));
	EXPECT_EQ(0, ioas_unmap(self->fd, second, PG, PG, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, second));
	EXPECT_EQ(0, obj_destroy(self->fd, a.stdev));
}

/* Replace onto a table made for it: the domain is finished by the replace. */
TEST_F(attach, late_finish_replace)
{
	uint32_t second, pt;
	struct mdev a;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, LATE, &a));
	ASSERT_EQ(0, ioas_alloc(self->fd, &second));
	pt = second;
	ASSERT_EQ(0, dev_move(self->fd, a.stdev, &pt));
	EXPECT_NE(a.hwpt, pt);
	EXPECT_TRUE(ranges_are(self->fd, second, aperture, 1));
	EXPECT_EQ(PG, alignment_of(self->fd, second));
	ASSERT_EQ(0, map_at(self->fd, second, self->buf, BUF_SZ, AT(2)));
	EXPECT_EQ(0, dom_has(self->fd, pt, AT(2), BUF_SZ, self->buf));
	EXPECT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, second));
}

/* ---- software MSI windows ------------------------------------------------ */

TEST_F(attach, sw_msi_window_and_cookie)
{
	const struct iommu_iova_range around[] = {
		{ AP_LO, MOCK_SW_MSI_BASE - 1 },
		{ MOCK_SW_MSI_BASE + MOCK_SW_MSI_LENGTH, AP_HI },
	};
	uint32_t cookie = 7, user_hwpt, pt;
	struct mdev a, b, plain;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, MOCK_FLAGS_DEVICE_SW_MSI,
			     &a));
	EXPECT_TRUE(ranges_are(self->fd, self->ioas, around, 2));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->buf, PG,
				 MOCK_SW_MSI_BASE));
	ASSERT_EQ(0, msi_cookie(self->fd, a.hwpt, &cookie));
	EXPECT_EQ(1, cookie);
	/* Another group with a window on the same domain: taken once only. */
	ASSERT_EQ(0, dev_add(self->fd, a.hwpt, MOCK_FLAGS_DEVICE_SW_MSI, &b));
	EXPECT_EQ(a.hwpt, b.hwpt);

	/* A domain no such device uses has none. */
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &user_hwpt));
	ASSERT_EQ(0, msi_cookie(self->fd, user_hwpt, &cookie));
	EXPECT_EQ(0, cookie);
	ASSERT_EQ(0, dev_add(self->fd, user_hwpt, 0, &plain));
	ASSERT_EQ(0, msi_cookie(self->fd, user_hwpt, &cookie));
	EXPECT_EQ(0, cookie);
	/* Replace onto it gives it one. */
	pt = user_hwpt;
	ASSERT_EQ(0, dev_move(self->fd, b.stdev, &pt));
	ASSERT_EQ(0, msi_cookie(self->fd, user_hwpt, &cookie));
	EXPECT_EQ(1, cookie);

	EXPECT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, b.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, plain.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, user_hwpt));
	/* The window leaves with the last device that has it. */
	EXPECT_TRUE(ranges_are(self->fd, self->ioas,
			       (const struct iommu_iova_range[]){
				       { 0, UINT64_MAX } }, 1));
}

/* ---- devices the core must refuse ---------------------------------------- */

TEST_F(attach, no_cache_coherency)
{
	struct mdev a;

	EXPECT_EQ(EINVAL, dev_add(self->fd, self->ioas,
				  MOCK_FLAGS_DEVICE_NO_COHERENCY, &a));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- an unmap racing a pinner that always holds a pin -------------------- */

struct pinner {
	int fd, afd;
	uint64_t iova[2];
	int stop;		/* __atomic builtins */
	int bad;		/* an errno the pinner did not expect */
};

static void *pin_alternately(void *arg)
{
	struct pinner *p = arg;
	int held = -1, i = 0, rc, urc;
	uint32_t id[2];

	while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
		/* Take the other area before letting go of this one. */
		rc = acc_pin(p->fd, p->afd, p->iova[i], PG, NULL, &id[i]);
		if (rc && rc != EINVAL && rc != ENOENT) {
			p->bad = rc;
			break;
		}
		if (held >= 0) {
			urc = acc_unpin(p->fd, p->afd, id[held]);
			/* The unmap callback may have dropped it already. */
			if (urc && urc != ENOENT) {
				p->bad = urc;
				break;
			}
			held = -1;
		}
		if (!rc)
			held = i;
		i = !i;
	}
	return NULL;
}

TEST_F_TIMEOUT(attach, unmap_beats_alternating_pinner, 600)
{
	struct pinner p = { .fd = self->fd,
			    .iova = { AT(1), AT(1) + BUF_SZ / 2 } };
	uint64_t unmapped;
	pthread_t th;
	int round;

	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &p.afd));
	for (round = 0; round != 100; round++) {
		ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf,
				    BUF_SZ / 2, p.iova[0]));
		ASSERT_EQ(0, map_at(self->fd, self->ioas,
				    self->buf + BUF_SZ / 2, BUF_SZ / 2,
				    p.iova[1]));
		__atomic_store_n(&p.stop, 0, __ATOMIC_RELAXED);
		ASSERT_EQ(0, pthread_create(&th, NULL, pin_alternately, &p));
		/* Let it get going, so the unmap meets pins. */
		while (!__atomic_load_n(&p.bad, __ATOMIC_RELAXED) &&
		       check_refs(self->fd, self->buf, BUF_SZ, 0) == 0)
			sched_yield();
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(1), BUF_SZ,
					&unmapped));
		EXPECT_EQ(BUF_SZ, unmapped);
		__atomic_store_n(&p.stop, 1, __ATOMIC_RELAXED);
		ASSERT_EQ(0, pthread_join(th, NULL));
		ASSERT_EQ(0, p.bad);
	}
	close(p.afd);
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SZ, 0));
}

/* A driver that, told to let go of one buffer, pins the other one. */
TEST_F(attach, unmap_beats_bouncing_pin)
{
	const uint64_t half = BUF_SZ / 2, at = AT(2);
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.access_pages = {
			.flags = MOCK_FLAGS_ACCESS_LAB_BOUNCE,
			.iova = at,
			.length = half,
		},
	};
	uint64_t unmapped = 0;
	int afd;

	ASSERT_EQ(0, (at / half) % 2);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, half, at));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + half, half,
			    at + half));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	cmd.id = afd;
	ASSERT_EQ(0, test_op(self->fd, &cmd));
	/* Its neighbour is not being unmapped: the pin moves there. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, at, half, &unmapped));
	EXPECT_EQ(half, unmapped);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, half, at));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, half, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + half, half, 1));
	/* Inside it, the areas being unmapped take no new pin. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, at, BUF_SZ, &unmapped));
	EXPECT_EQ(BUF_SZ, unmapped);
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SZ, 0));
	close(afd);
}

/* ---- the test driver's batch limit changing under a pin ------------------ */

struct limiter {
	int fd;
	int stop;
};

static int set_limit(int fd, uint32_t limit)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = limit },
	};

	return test_op(fd, &cmd);
}

static void *flip_limit(void *arg)
{
	struct limiter *l = arg;
	bool big = false;

	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
		set_limit(l->fd, big ? 65536 : 16);
		big = !big;
	}
	return NULL;
}

TEST_F_TIMEOUT(attach, pin_while_limit_changes, 600)
{
	const uint64_t len = 4 * MIB;
	struct limiter l = { .fd = self->fd };
	unsigned char *mem;
	pthread_t th;
	uint32_t id;
	int afd, i;

	mem = anon_mem(len, 1);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, mem, len, AT(1)));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	ASSERT_EQ(0, set_limit(self->fd, 16));
	ASSERT_EQ(0, pthread_create(&th, NULL, flip_limit, &l));
	/* Under KASAN a batch sized on one read and filled on another shows. */
	for (i = 0; i != 40; i++) {
		ASSERT_EQ(0, acc_pin(self->fd, afd, AT(1), len, mem, &id));
		ASSERT_EQ(0, acc_unpin(self->fd, afd, id));
	}
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, set_limit(self->fd, 65536));
	close(afd);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(1), len, NULL));
	munmap(mem, len);
}

/* ---- a driver unpinning what it never pinned ----------------------------- */

TEST_F(attach, unpin_of_unknown_range)
{
	uint32_t id;
	int afd;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, BUF_SZ, AT(1)));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	ASSERT_EQ(0, acc_pin(self->fd, afd, AT(1), 2 * PG, self->buf, &id));
	/* Wrong length, then nothing pinned there, then nothing mapped. */
	EXPECT_EQ(0, unpin_raw(self->fd, afd, AT(1), PG));
	EXPECT_EQ(0, unpin_raw(self->fd, afd, AT(1) + 4 * PG, PG));
	EXPECT_EQ(0, unpin_raw(self->fd, afd, AT(100), PG));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * PG, 1));
	/* None of it counted: the real pin goes, and the area with it. */
	EXPECT_EQ(0, acc_unpin(self->fd, afd, id));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * PG, 0));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(1), BUF_SZ, NULL));
	close(afd);
}

/*
 * kvmgt pins a huge guest page 4 KiB at a time and unpins it in one call:
 * that call undoes every pin inside its range, across areas too.
 */
TEST_F(attach, unpin_of_page_by_page_pins)
{
	const uint64_t half = BUF_SZ / 2;
	uint32_t id, i;
	int afd;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, half, AT(1)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + half, half,
			    AT(1) + half));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	/* Every page alone, but the two at the boundary in one pin. */
	for (i = 0; i != BUF_SZ / PG; i++) {
		uint64_t len = i == half / PG - 1 ? 2 * PG : PG;

		if (i == half / PG)
			continue;
		ASSERT_EQ(0, acc_pin(self->fd, afd, AT(1) + i * PG, len,
				     self->buf + i * PG, &id));
	}
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SZ, 1));

	/* One call for four pages undoes their four pins only. */
	EXPECT_EQ(0, unpin_raw(self->fd, afd, AT(1), 4 * PG));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * PG, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 4 * PG,
				BUF_SZ - 4 * PG, 1));
	/* The rest in one, across the two areas and the pin spanning them. */
	EXPECT_EQ(0, unpin_raw(self->fd, afd, AT(1), BUF_SZ));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SZ, 0));
	/* Nothing is left counted: the unmap needs no callback. */
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(1), BUF_SZ, NULL));
	close(afd);
}

/* ---- dirty tracking starts clean ----------------------------------------- */

TEST_F(attach, dirty_enable_clears_stale_bits)
{
	uint64_t bits[1] = { ~0ULL }, out[1], nr = 0;
	uint32_t hwpt;
	struct mdev a;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, BUF_SZ, AT(1)));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas,
			      IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt));
	ASSERT_EQ(0, tracking(self->fd, hwpt,
			      IOMMU_HWPT_DIRTY_TRACKING_ENABLE));
	ASSERT_EQ(0, poke(self->fd, hwpt, AT(1), BUF_SZ, PG, bits, &nr));
	EXPECT_EQ(BUF_SZ / PG, nr);
	/* Off and on again: what was dirtied before is not news. */
	ASSERT_EQ(0, tracking(self->fd, hwpt, 0));
	ASSERT_EQ(0, tracking(self->fd, hwpt,
			      IOMMU_HWPT_DIRTY_TRACKING_ENABLE));
	/* The kernel only sets bits: the caller clears the bitmap. */
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, harvest(self->fd, hwpt, AT(1), BUF_SZ, PG, out, 0));
	EXPECT_EQ(0, out[0]);
	/* And what is dirtied now is. */
	bits[0] = 5;
	ASSERT_EQ(0, poke(self->fd, hwpt, AT(1), BUF_SZ, PG, bits, &nr));
	ASSERT_EQ(0, harvest(self->fd, hwpt, AT(1), BUF_SZ, PG, out, 0));
	EXPECT_EQ(5, out[0]);
	EXPECT_EQ(0, obj_destroy(self->fd, hwpt));
	EXPECT_EQ(0, obj_destroy(self->fd, a.stdev));
}

/* ---- removals while another thread uses the object ----------------------- */

/* A thread that borrows object @id for @ms, or with @ms 0 destroys it. */
struct worker {
	int fd;
	uint32_t id;
	uint32_t ms;
	pid_t tid;
	int rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	__atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid),
			 __ATOMIC_RELEASE);
	w->rc = w->ms ? borrow(w->fd, w->id, w->ms) : obj_destroy(w->fd, w->id);
	return NULL;
}

/* Start @w; its thread ID, once it runs, or 0. */
static pid_t start_work(struct worker *w, pthread_t *th)
{
	pid_t tid;

	if (pthread_create(th, NULL, work, w))
		return 0;
	while (!(tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE)))
		sched_yield();
	return tid;
}

TEST_F_TIMEOUT(attach, destroy_of_busy_object, 120)
{
	struct worker b = { .fd = self->fd, .id = self->ioas, .ms = 3000 };
	pthread_t th;
	pid_t tid;

	tid = start_work(&b, &th);
	ASSERT_NE(0, tid);
	ASSERT_TRUE(thread_waits(tid, "S"));
	/* In use right now: refused at once, and the ID still works. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->ioas));
	EXPECT_NE(0, alignment_of(self->fd, self->ioas));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, b.rc);
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F_TIMEOUT(attach, kernel_removal_waits_idle, 120)
{
	struct worker b = { .fd = self->fd, .ms = 3000 };
	struct worker d = { .fd = self->fd };
	pthread_t bth, dth;
	struct mdev a;
	pid_t tid;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	/* An ioctl uses the device while its driver unbinds it. */
	b.id = a.idev;
	tid = start_work(&b, &bth);
	ASSERT_NE(0, tid);
	ASSERT_TRUE(thread_waits(tid, "S"));
	d.id = a.stdev;
	tid = start_work(&d, &dth);
	ASSERT_NE(0, tid);
	/* The unbind waits, but idle, not in uninterruptible D state. */
	ASSERT_TRUE(thread_waits(tid, "I"));
	ASSERT_EQ(0, pthread_join(bth, NULL));
	ASSERT_EQ(0, pthread_join(dth, NULL));
	EXPECT_EQ(0, b.rc);
	EXPECT_EQ(0, d.rc);
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, a.idev));
}

TEST_HARNESS_MAIN
