// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOAS with mock IOMMU domains behind it (IOMMU_TEST_OP_MOCK_DOMAIN and
 * friends, IOMMU_HWPT_ALLOC): every domain must mirror the IOAS exactly,
 * whenever it was attached; pins follow the domains; automatic page tables
 * come and go with their devices; replace moves a device between page
 * tables; the mock aperture shapes the usable IOVA.
 *
 * The mock IOMMU translates 2 KiB IO pages (half a CPU page) inside
 * [MOCK_APERTURE_START, MOCK_APERTURE_LAST].
 */
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_mock.h"

#define MEM_PGS 256UL
#define MEM_SZ (MEM_PGS * PG)

/* ---- fixture ------------------------------------------------------------- */

FIXTURE(mdom) {
	int fd;
	uint32_t ioas;
	unsigned char *mem;
	long pin0;
};

FIXTURE_SETUP(mdom)
{
	size_t i;

	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	self->mem = mmap(NULL, MEM_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	/* Small pages only: MD_CHECK_REFS counts the pins of small pages. */
	ASSERT_EQ(0, madvise(self->mem, MEM_SZ, MADV_NOHUGEPAGE));
	for (i = 0; i < MEM_SZ; i += 512)
		self->mem[i] = (unsigned char)(i / 512) | 0x80;
	self->pin0 = pinned_kb();
}

FIXTURE_TEARDOWN(mdom)
{
	close(self->fd);
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, refs_fresh(self->mem, MEM_SZ));
	munmap(self->mem, MEM_SZ);
}

/* ---- mock devices and their automatic page tables ------------------------ */

TEST_F(mdom, attach_returns_new_objects)
{
	struct mdev a;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_NE(a.stdev, a.hwpt);
	EXPECT_NE(a.stdev, a.idev);
	EXPECT_NE(a.hwpt, a.idev);
	EXPECT_NE(self->ioas, a.stdev);
	EXPECT_NE(self->ioas, a.hwpt);
	EXPECT_NE(self->ioas, a.idev);
	EXPECT_EQ(IOPG, alignment_of(self->fd, self->ioas));
	/* The device belongs to its driver, the page table to the kernel. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, a.idev));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, a.hwpt));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->ioas));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	/* Unbinding took the device and its automatic page table along. */
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, a.idev));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, a.hwpt));
	EXPECT_EQ(ENOENT, dom_has(self->fd, a.hwpt, AT(1), IOPG, self->mem));
	EXPECT_EQ(1, alignment_of(self->fd, self->ioas));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, attach_bad_target)
{
	struct mdev a, b;
	uint32_t gone;

	EXPECT_EQ(ENOENT, dev_add(self->fd, 0, 0, &b));
	EXPECT_EQ(ENOENT, dev_add(self->fd, 31337, 0, &b));
	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, obj_destroy(self->fd, gone));
	EXPECT_EQ(ENOENT, dev_add(self->fd, gone, 0, &b));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	/* Neither a device nor a selftest object is a page table. */
	EXPECT_EQ(EINVAL, dev_add(self->fd, a.idev, 0, &b));
	EXPECT_EQ(EINVAL, dev_add(self->fd, a.stdev, 0, &b));
	/* A failed attach leaves nothing behind: one destroy frees all. */
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, auto_hwpt_shared_by_devices)
{
	static const int order[] = { 3, 0, 5, 1, 4 };
	struct mdev d[6];
	unsigned int i;

	for (i = 0; i < NELEM(d); i++) {
		ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d[i]));
		EXPECT_EQ(d[0].hwpt, d[i].hwpt);
		if (i)
			EXPECT_NE(d[i - 1].idev, d[i].idev);
	}
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, MEM_SZ, AT(4)));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	for (i = 0; i < NELEM(order); i++) {
		ASSERT_EQ(0, obj_destroy(self->fd, d[order[i]].stdev));
		/* Still used by the others. */
		EXPECT_EQ(EBUSY, obj_destroy(self->fd, d[0].hwpt));
		EXPECT_EQ(0, dom_has(self->fd, d[0].hwpt, AT(4), MEM_SZ,
				     self->mem));
		EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	}
	ASSERT_EQ(0, obj_destroy(self->fd, d[2].stdev));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, d[0].hwpt));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(4), MEM_SZ, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, ioas_busy_while_in_use)
{
	struct mdev a;
	uint32_t h;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->ioas));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	/* The page table of the user still holds the IOAS. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->ioas));
	ASSERT_EQ(0, obj_destroy(self->fd, h));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- IOVA alignment and the aperture ------------------------------------- */

TEST_F(mdom, alignment_follows_domain)
{
	struct mdev a;
	uint64_t iova;

	EXPECT_EQ(1, alignment_of(self->fd, self->ioas));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_EQ(IOPG, alignment_of(self->fd, self->ioas));
	/* Granules below the IO page are refused now. */
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->mem, IOPG,
				 AT(2) + 1024));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->mem + 1024, IOPG,
				 AT(2)));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->mem, 3 * 1024,
				 AT(2)));
	EXPECT_EQ(self->pin0, pinned_kb());
	/* A chosen IOVA honours it too. */
	iova = 0;
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->mem + IOPG, IOPG,
			      &iova, MAP_RW));
	EXPECT_EQ(0, iova % IOPG);
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, iova, IOPG, self->mem + IOPG));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, IOPG, NULL));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(1, alignment_of(self->fd, self->ioas));
	/* Byte granular again without a domain. */
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->mem + 1, 5, AT(2) + 3));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(2) + 3, 5, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, ranges_show_aperture)
{
	struct iommu_iova_range r[8];
	uint32_t num = NELEM(r);
	uint64_t align = 0;
	struct mdev a;
	unsigned int i;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, iova_info(self->fd, self->ioas, r, &num, &align));
	ASSERT_LE(1, num);
	ASSERT_GE(NELEM(r), num);
	EXPECT_EQ(IOPG, align);
	EXPECT_EQ(AP_LO, r[0].start);
	EXPECT_EQ(AP_HI, r[num - 1].last);
	for (i = 0; i < num; i++) {
		EXPECT_LE(r[i].start, r[i].last);
		EXPECT_LE(AP_LO, r[i].start);
		EXPECT_GE(AP_HI, r[i].last);
		if (i)
			EXPECT_LT(r[i - 1].last + 1, r[i].start);
	}
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	num = NELEM(r);
	ASSERT_EQ(0, iova_info(self->fd, self->ioas, r, &num, &align));
	EXPECT_EQ(1, num);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(UINT64_MAX, r[0].last);
	EXPECT_EQ(1, align);
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, fixed_map_outside_aperture)
{
	uint64_t iova = 0;
	struct mdev a;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->mem, PG, MIB));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->mem, PG,
				 AP_LO - PG));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->mem, 2 * PG,
				 AP_LO - PG));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->mem, 2 * PG,
				 AP_HI + 1 - PG));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->mem, PG,
				 AP_HI + 1));
	EXPECT_EQ(EINVAL, map_at(self->fd, self->ioas, self->mem, PG,
				 4 * AP_HI));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	/* The very edges are fine. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, PG, AP_LO));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + PG, PG,
			    AP_HI + 1 - PG));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AP_LO, PG, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AP_HI + 1 - PG, PG,
			     self->mem + PG));
	/* A chosen IOVA lands inside. */
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->mem, MEM_SZ, &iova,
			      MAP_RW));
	EXPECT_LE(AP_LO, iova);
	EXPECT_GE(AP_HI, iova + MEM_SZ - 1);
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, iova, MEM_SZ, self->mem));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &iova));
	EXPECT_EQ(MEM_SZ + 2 * PG, iova);
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, attach_refused_by_outside_mapping)
{
	uint64_t got = 0;
	struct mdev a;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 4 * PG, MIB));
	EXPECT_EQ(EADDRINUSE, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	EXPECT_EQ(1, alignment_of(self->fd, self->ioas));
	/* No reservation was left behind by the failed attach. */
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->mem, 4 * PG, 2 * MIB));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, AP_LO, &got));
	EXPECT_EQ(8 * PG, got);

	/* Just past the end of the aperture, and straddling its end. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, PG, AP_HI + 1));
	EXPECT_EQ(EADDRINUSE, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AP_HI + 1, PG, NULL));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 2 * PG,
			    AP_HI + 1 - PG));
	EXPECT_EQ(EADDRINUSE, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AP_HI + 1 - PG, 2 * PG,
				NULL));
	EXPECT_EQ(self->pin0, pinned_kb());

	/* Inside: the attach works and the domain has it. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 4 * PG, AT(1)));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(1), 4 * PG, self->mem));
	EXPECT_EQ(self->pin0 + KB(4 * PG), pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(1), 4 * PG, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, attach_refused_by_allowed_range)
{
	struct iommu_iova_range low = { .start = MIB, .last = 2 * MIB - 1 };
	struct iommu_iova_range in = { .start = AT(0), .last = AT(1) - 1 };
	struct mdev a;

	ASSERT_EQ(0, allow(self->fd, self->ioas, &low, 1));
	EXPECT_EQ(EADDRINUSE, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, allow(self->fd, self->ioas, &in, 1));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	/* With the domain there, allowing what it cannot reach fails. */
	EXPECT_EQ(EADDRINUSE, allow(self->fd, self->ioas, &low, 1));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 4 * PG, AT(0)));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(0), 4 * PG, self->mem));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(0), 4 * PG, NULL));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, allow(self->fd, self->ioas, &low, 1));
	EXPECT_EQ(0, allow(self->fd, self->ioas, NULL, 0));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- pinning follows the domains ---------------------------------------- */

TEST_F(mdom, map_pins_with_domain)
{
	uint64_t iova = 0;
	struct mdev a;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->mem, MEM_SZ, &iova,
			      MAP_RW));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, iova, MEM_SZ, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, iova + 7 * PG, 9 * PG,
			     self->mem + 7 * PG));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, iova, MEM_SZ, self->mem + PG));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, MEM_SZ, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, iova, IOPG, self->mem));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, iova + MEM_SZ - IOPG, IOPG,
			     self->mem + MEM_SZ - IOPG));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, attach_after_map)
{
	const uint64_t x = AT(3), y = AT(40), z = AT(41) + IOPG;
	uint64_t got = 0;
	struct mdev a;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 128 * PG, x));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + 128 * PG,
			    64 * PG, y));
	/* Nothing is pinned without a domain. */
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_EQ(self->pin0 + KB(192 * PG), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, 192 * PG, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->mem + 192 * PG, 64 * PG, 0));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, x, 128 * PG, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, y, 64 * PG,
			     self->mem + 128 * PG));

	/* And what comes after the attach. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + 192 * PG,
			    64 * PG, z));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, z, 64 * PG,
			     self->mem + 192 * PG));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));

	/* The domain leaves: unpinned, but the IOAS still maps it all. */
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(MEM_SZ, got);
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, detach_unpins_with_last_domain)
{
	struct mdev a, b;
	uint32_t h2;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, MEM_SZ, AT(8)));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h2));
	EXPECT_NE(a.hwpt, h2);
	ASSERT_EQ(0, dev_add(self->fd, h2, 0, &b));
	EXPECT_EQ(h2, b.hwpt);
	EXPECT_EQ(0, dom_has(self->fd, h2, AT(8), MEM_SZ, self->mem));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());

	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(ENOENT, dom_has(self->fd, a.hwpt, AT(8), PG, self->mem));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));
	/* A page table of the user without devices is still a domain. */
	ASSERT_EQ(0, obj_destroy(self->fd, b.stdev));
	EXPECT_EQ(0, dom_has(self->fd, h2, AT(8), MEM_SZ, self->mem));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, h2));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	EXPECT_EQ(1, alignment_of(self->fd, self->ioas));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(8), MEM_SZ, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, copy_between_domains_pins_once)
{
	uint32_t other;
	struct mdev a, b;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, dev_add(self->fd, other, 0, &b));
	EXPECT_NE(a.hwpt, b.hwpt);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, MEM_SZ, AT(16)));
	ASSERT_EQ(0, copy_at(self->fd, other, AT(100), self->ioas, AT(16),
			     MEM_SZ));
	/* A second copy into the same IOAS shares the pages too. */
	ASSERT_EQ(0, copy_at(self->fd, other, AT(200), self->ioas,
			     AT(16) + 16 * PG, 32 * PG));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(16), MEM_SZ, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, b.hwpt, AT(100), MEM_SZ, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, b.hwpt, AT(200), 32 * PG,
			     self->mem + 16 * PG));
	EXPECT_NE(0, dom_has(self->fd, b.hwpt, AT(16), PG, self->mem));

	/* The source goes: the copies keep the pages pinned. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(16), MEM_SZ, NULL));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, AT(16), PG, self->mem));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));
	EXPECT_EQ(0, dom_has(self->fd, b.hwpt, AT(100), MEM_SZ, self->mem));
	ASSERT_EQ(0, ioas_unmap(self->fd, other, AT(100), MEM_SZ, NULL));
	EXPECT_EQ(self->pin0 + KB(32 * PG), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem + 16 * PG, 32 * PG, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, 16 * PG, 0));
	ASSERT_EQ(0, ioas_unmap(self->fd, other, AT(200), 32 * PG, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));

	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, b.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, other));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, second_domain_via_hwpt_alloc)
{
	struct mdev a, b, c;
	uint32_t h2;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 64 * PG, AT(2)));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h2));
	ASSERT_EQ(0, dev_add(self->fd, h2, 0, &b));
	EXPECT_EQ(h2, b.hwpt);
	/* A plain attach to the IOAS still picks the automatic one. */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &c));
	EXPECT_EQ(a.hwpt, c.hwpt);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + 64 * PG,
			    64 * PG, AT(3)));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(2), 64 * PG, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, h2, AT(2), 64 * PG, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(3), 64 * PG,
			     self->mem + 64 * PG));
	EXPECT_EQ(0, dom_has(self->fd, h2, AT(3), 64 * PG,
			     self->mem + 64 * PG));
	EXPECT_EQ(self->pin0 + KB(128 * PG), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, 128 * PG, 1));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(2), 64 * PG, NULL));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, AT(2), PG, self->mem));
	EXPECT_NE(0, dom_has(self->fd, h2, AT(2), PG, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, h2, AT(3), 64 * PG,
			     self->mem + 64 * PG));
	EXPECT_EQ(self->pin0 + KB(64 * PG), pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, b.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, c.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, h2));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(3), 64 * PG, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- many domains kept in step, against a model ------------------------- */

#define SLOTS 24
#define SLOT_PGS 16			/* IO pages per slot */
#define SLOT_SZ (SLOT_PGS * IOPG)
#define CHURN_AT AT(8)
#define MAX_DOMS 6

/* One slot of IOVA: at most one area, inside it. */
struct slot {
	uint64_t so;			/* where the area starts in the slot */
	uint64_t len;			/* 0: nothing mapped */
	uint64_t off;			/* its memory, as an offset into mem */
	uint64_t ghost[SLOT_PGS];	/* memory an IO page last mapped */
};

struct churn {
	int fd;
	uint32_t ioas;
	unsigned char *mem;
	unsigned int seed;
	int ndom;
	uint32_t hwpt[MAX_DOMS];
	uint32_t stdev[MAX_DOMS];	/* the device that keeps it, or 0 */
	bool mine[MAX_DOMS];		/* made by IOMMU_HWPT_ALLOC */
	uint32_t anchor_idev, huge_idev;
	uint32_t anchor_stdev, huge_stdev;
	struct slot slot[SLOTS];
	unsigned long maps, unmaps, copies, refused;
};

static unsigned int rnd(struct churn *c, unsigned int n)
{
	return rand_r(&c->seed) % n;
}

static uint64_t slot_iova(int i)
{
	return CHURN_AT + (uint64_t)i * SLOT_SZ;
}

/*
 * Does every domain match the model in slot @i? The area must translate
 * to its memory; IO pages outside it must not translate to what they
 * mapped before (all of them when @deep, else the first such page).
 */
static int slot_check(struct churn *c, int i, bool deep)
{
	struct slot *s = &c->slot[i];
	uint64_t at;
	int d;

	for (d = 0; d < c->ndom; d++) {
		if (s->len && dom_has(c->fd, c->hwpt[d], slot_iova(i) + s->so,
				      s->len, c->mem + s->off))
			return 1;
		for (at = 0; at < SLOT_SZ; at += IOPG) {
			if (s->len && at >= s->so && at < s->so + s->len)
				continue;
			if (!dom_has(c->fd, c->hwpt[d], slot_iova(i) + at,
				     IOPG, c->mem + s->ghost[at / IOPG]))
				return 2;
			if (!deep)
				break;
		}
	}
	return 0;
}

static void churn_check_all(struct __test_metadata *_metadata,
			    struct churn *c, bool deep, int step)
{
	unsigned long so, len, off;
	int i, bad;

	for (i = 0; i < SLOTS; i++) {
		bad = slot_check(c, i, deep);
		so = c->slot[i].so;
		len = c->slot[i].len;
		off = c->slot[i].off;
		ASSERT_EQ(0, bad)
			TH_LOG("step %d slot %d: so %lu len %lu off %lu", step,
			       i, so, len, off);
	}
}

static void slot_forget(struct slot *s)
{
	uint64_t at;

	for (at = s->so; at < s->so + s->len; at += IOPG)
		s->ghost[at / IOPG] = s->off + at - s->so;
	s->len = 0;
}

static int find_slot(struct churn *c, bool mapped)
{
	int start = rnd(c, SLOTS), k, i;

	for (k = 0; k < SLOTS; k++) {
		i = (start + k) % SLOTS;
		if (!!c->slot[i].len == mapped)
			return i;
	}
	return -1;
}

static void churn_map(struct __test_metadata *_metadata, struct churn *c,
		      int i)
{
	struct slot *s = &c->slot[i];
	unsigned int n = 1 + rnd(c, SLOT_PGS);
	unsigned int so = rnd(c, SLOT_PGS - n + 1);
	unsigned int off = rnd(c, MEM_SZ / IOPG - n + 1);

	ASSERT_EQ(0, map_at(c->fd, c->ioas, c->mem + off * IOPG, n * IOPG,
			    slot_iova(i) + so * IOPG));
	s->so = so * IOPG;
	s->len = n * IOPG;
	s->off = off * IOPG;
	c->maps++;
}

static void churn_unmap(struct __test_metadata *_metadata, struct churn *c,
			int i)
{
	int k = 1 + rnd(c, SLOTS - i < 4 ? SLOTS - i : 4), j;
	uint64_t want = 0, got = 0;
	int rc;

	for (j = i; j < i + k; j++)
		want += c->slot[j].len;
	rc = ioas_unmap(c->fd, c->ioas, slot_iova(i), k * SLOT_SZ, &got);
	if (!want) {
		ASSERT_EQ(ENOENT, rc);
		return;
	}
	ASSERT_EQ(0, rc);
	ASSERT_EQ(want, got);
	for (j = i; j < i + k; j++)
		slot_forget(&c->slot[j]);
	c->unmaps++;
}

/* Copy part of the area of slot @i into the empty slot @j. */
static void churn_copy(struct __test_metadata *_metadata, struct churn *c,
		       int i, int j)
{
	struct slot *s = &c->slot[i], *t = &c->slot[j];
	unsigned int n = s->len / IOPG;
	unsigned int a = rnd(c, n), l = 1 + rnd(c, n - a);
	unsigned int so = rnd(c, SLOT_PGS - l + 1);

	ASSERT_EQ(0, copy_at(c->fd, c->ioas, slot_iova(j) + so * IOPG, c->ioas,
			     slot_iova(i) + s->so + a * IOPG, l * IOPG));
	t->so = so * IOPG;
	t->len = l * IOPG;
	t->off = s->off + a * IOPG;
	c->copies++;
}

/* Requests that must fail and change nothing. */
static void churn_refused(struct __test_metadata *_metadata, struct churn *c,
			  int i)
{
	struct slot *s = &c->slot[i];
	uint64_t start = slot_iova(i) + s->so;

	/* Onto the last IO page of the area. */
	ASSERT_EQ(EEXIST, map_at(c->fd, c->ioas, c->mem, IOPG,
				 start + s->len - IOPG));
	if (s->len >= 2 * IOPG) {
		/* Cutting the area. */
		ASSERT_EQ(ENOENT, ioas_unmap(c->fd, c->ioas, start,
					     s->len - IOPG, NULL));
		ASSERT_EQ(ENOENT, ioas_unmap(c->fd, c->ioas, start + IOPG,
					     s->len, NULL));
	}
	/* Copying from a hole. */
	if (s->so)
		ASSERT_EQ(ENOENT, copy_at(c->fd, c->ioas, AT(1), c->ioas,
					  start - IOPG, 2 * IOPG));
	c->refused++;
}

static void churn_step(struct __test_metadata *_metadata, struct churn *c,
		       int step)
{
	unsigned int pick = rnd(c, 100);
	int i = -1, j = -1, k;

	if (pick < 40) {
		i = find_slot(c, false);
		if (i >= 0)
			churn_map(_metadata, c, i);
	} else if (pick < 65) {
		i = rnd(c, SLOTS);
		churn_unmap(_metadata, c, i);
	} else if (pick < 88) {
		i = find_slot(c, true);
		j = find_slot(c, false);
		if (i >= 0 && j >= 0)
			churn_copy(_metadata, c, i, j);
	} else {
		i = find_slot(c, true);
		if (i >= 0)
			churn_refused(_metadata, c, i);
	}
	/* Deep look at what changed, a quick one everywhere. */
	for (k = i; k >= 0 && k < SLOTS && k < i + 4; k++)
		ASSERT_EQ(0, slot_check(c, k, true))
			TH_LOG("step %d (pick %u) slot %d", step, pick, k);
	if (j >= 0)
		ASSERT_EQ(0, slot_check(c, j, true))
			TH_LOG("step %d copy into slot %d", step, j);
	churn_check_all(_metadata, c, false, step);
}

static void churn_push(struct churn *c, uint32_t hwpt, uint32_t stdev,
		       bool mine)
{
	c->hwpt[c->ndom] = hwpt;
	c->stdev[c->ndom] = stdev;
	c->mine[c->ndom] = mine;
	c->ndom++;
}

/* One more domain on the IOAS: a page table of the user with a device. */
static void churn_add_domain(struct __test_metadata *_metadata,
			     struct churn *c, bool huge)
{
	struct mdev d;
	uint32_t h;

	ASSERT_GT(MAX_DOMS, c->ndom);
	ASSERT_EQ(0, pt_alloc(c->fd, huge ? c->huge_idev : c->anchor_idev,
			      c->ioas, 0, &h));
	ASSERT_EQ(0, dev_add(c->fd, h,
			     huge ? MOCK_FLAGS_DEVICE_HUGE_IOVA : 0, &d));
	ASSERT_EQ(h, d.hwpt);
	churn_push(c, h, d.stdev, true);
}

static void churn_drop_domain(struct __test_metadata *_metadata,
			      struct churn *c, int d)
{
	uint32_t h = c->hwpt[d];

	ASSERT_NE(0, c->stdev[d]);
	ASSERT_EQ(0, obj_destroy(c->fd, c->stdev[d]));
	if (c->mine[d])
		ASSERT_EQ(0, obj_destroy(c->fd, h));
	ASSERT_EQ(ENOENT, dom_has(c->fd, h, slot_iova(0), IOPG, c->mem));
	c->ndom--;
	c->hwpt[d] = c->hwpt[c->ndom];
	c->stdev[d] = c->stdev[c->ndom];
	c->mine[d] = c->mine[c->ndom];
}

static void churn_init(struct __test_metadata *_metadata, struct churn *c,
		       int fd, uint32_t ioas, unsigned char *mem,
		       unsigned int seed, bool huge)
{
	struct mdev d;
	int i;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->ioas = ioas;
	c->mem = mem;
	c->seed = seed;
	for (i = 0; i < SLOTS; i++)
		c->slot[i].len = 0;
	/* The anchor device keeps the automatic page table alive. */
	ASSERT_EQ(0, dev_add(fd, ioas, 0, &d));
	c->anchor_idev = d.idev;
	c->anchor_stdev = d.stdev;
	churn_push(c, d.hwpt, 0, false);
	if (huge) {
		ASSERT_EQ(0, dev_add(fd, ioas, MOCK_FLAGS_DEVICE_HUGE_IOVA,
				     &d));
		c->huge_idev = d.idev;
		c->huge_stdev = d.stdev;
		if (d.hwpt != c->hwpt[0])
			churn_push(c, d.hwpt, 0, false);
	}
}

static void churn_finish(struct __test_metadata *_metadata, struct churn *c,
			 long pin0)
{
	uint64_t want = 0, got = 0;
	int i;

	TH_LOG("%lu maps, %lu unmaps, %lu copies, %lu refused, %d domains",
	       c->maps, c->unmaps, c->copies, c->refused, c->ndom);
	churn_check_all(_metadata, c, true, -1);
	for (i = 0; i < SLOTS; i++)
		want += c->slot[i].len;
	if (want)
		EXPECT_LT(pin0, pinned_kb());
	ASSERT_EQ(0, ioas_unmap(c->fd, c->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(want, got);
	for (i = 0; i < SLOTS; i++)
		slot_forget(&c->slot[i]);
	churn_check_all(_metadata, c, true, -1);
	EXPECT_EQ(pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(c->fd, c->mem, MEM_SZ, 0));
	for (i = c->ndom - 1; i >= 0; i--)
		if (c->stdev[i])
			churn_drop_domain(_metadata, c, i);
	if (c->huge_stdev)
		ASSERT_EQ(0, obj_destroy(c->fd, c->huge_stdev));
	ASSERT_EQ(0, obj_destroy(c->fd, c->anchor_stdev));
	EXPECT_EQ(0, obj_destroy(c->fd, c->ioas));
}

static void churn_run(struct __test_metadata *_metadata, struct churn *c,
		      int steps)
{
	int step;

	for (step = 0; step < steps; step++)
		churn_step(_metadata, c, step);
}

TEST_F_TIMEOUT(mdom, churn_one_domain, 300)
{
	struct churn c;

	churn_init(_metadata, &c, self->fd, self->ioas, self->mem, 1101,
		   false);
	ASSERT_EQ(1, c.ndom);
	churn_run(_metadata, &c, 250);
	churn_finish(_metadata, &c, self->pin0);
}

TEST_F_TIMEOUT(mdom, churn_two_domains, 300)
{
	struct churn c;

	churn_init(_metadata, &c, self->fd, self->ioas, self->mem, 2202,
		   false);
	churn_add_domain(_metadata, &c, false);
	ASSERT_EQ(2, c.ndom);
	churn_run(_metadata, &c, 200);
	churn_finish(_metadata, &c, self->pin0);
}

TEST_F_TIMEOUT(mdom, churn_three_domains_one_huge, 300)
{
	struct churn c;

	churn_init(_metadata, &c, self->fd, self->ioas, self->mem, 3303,
		   true);
	while (c.ndom < 2)
		churn_add_domain(_metadata, &c, false);
	churn_add_domain(_metadata, &c, true);
	ASSERT_EQ(3, c.ndom);
	churn_run(_metadata, &c, 200);
	churn_finish(_metadata, &c, self->pin0);
}

/* Domains join an IOAS full of mappings and leave it, mid-stream. */
TEST_F_TIMEOUT(mdom, churn_domains_come_and_go, 300)
{
	struct churn c;
	int round, d;

	churn_init(_metadata, &c, self->fd, self->ioas, self->mem, 4404,
		   true);
	for (round = 0; round < 8; round++) {
		churn_run(_metadata, &c, 30);
		if (round % 3 != 2 && c.ndom < MAX_DOMS) {
			churn_add_domain(_metadata, &c, round & 1);
			/* The newcomer mirrors everything at once. */
			churn_check_all(_metadata, &c, true, round);
		} else {
			for (d = 0; d < c.ndom; d++)
				if (c.stdev[d])
					break;
			if (d < c.ndom)
				churn_drop_domain(_metadata, &c, d);
			churn_check_all(_metadata, &c, true, round);
		}
		TH_LOG("round %d: %d domains", round, c.ndom);
	}
	churn_finish(_metadata, &c, self->pin0);
}

/* ---- IOMMU_HWPT_ALLOC ---------------------------------------------------- */

TEST_F(mdom, hwpt_alloc_lifecycle)
{
	struct mdev a;
	uint32_t h;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 32 * PG, AT(5)));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h));
	EXPECT_NE(a.hwpt, h);
	EXPECT_NE(a.idev, h);
	/* Born with what the IOAS maps, and kept in step after. */
	EXPECT_EQ(0, dom_has(self->fd, h, AT(5), 32 * PG, self->mem));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + 32 * PG,
			    32 * PG, AT(6)));
	EXPECT_EQ(0, dom_has(self->fd, h, AT(6), 32 * PG,
			     self->mem + 32 * PG));
	EXPECT_EQ(self->pin0 + KB(64 * PG), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, 64 * PG, 1));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->ioas));
	/* Nothing attached: the user may destroy it. */
	ASSERT_EQ(0, obj_destroy(self->fd, h));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, h));
	EXPECT_EQ(ENOENT, dom_has(self->fd, h, AT(5), PG, self->mem));
	EXPECT_EQ(self->pin0 + KB(64 * PG), pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

static int hwpt_alloc_raw(int fd, struct iommu_hwpt_alloc *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl_errno(fd, IOMMU_HWPT_ALLOC, cmd);
}

TEST_F(mdom, hwpt_alloc_rejects)
{
	struct iommu_hwpt_vtd_s1 vtd = { .addr_width = 48 };
	struct iommu_hwpt_alloc cmd, good;
	struct mdev a;
	uint32_t h;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	memset(&good, 0, sizeof(good));
	good.dev_id = a.idev;
	good.pt_id = self->ioas;

	/* No nesting: a page table is not a parent. */
	EXPECT_EQ(EOPNOTSUPP, pt_alloc(self->fd, a.idev, a.hwpt, 0, &h));
	EXPECT_EQ(ENOENT, pt_alloc(self->fd, 9999, self->ioas, 0, &h));
	EXPECT_EQ(ENOENT, pt_alloc(self->fd, self->ioas, self->ioas, 0, &h));
	EXPECT_EQ(ENOENT, pt_alloc(self->fd, a.stdev, self->ioas, 0, &h));
	EXPECT_EQ(EINVAL, pt_alloc(self->fd, a.idev, a.idev, 0, &h));
	EXPECT_EQ(EOPNOTSUPP, pt_alloc(self->fd, a.idev, self->ioas, 1 << 7,
				       &h));
	EXPECT_EQ(EOPNOTSUPP, pt_alloc(self->fd, a.idev, self->ioas, 1u << 31,
				       &h));

	cmd = good;
	cmd.__reserved = 1;
	EXPECT_EQ(EOPNOTSUPP, hwpt_alloc_raw(self->fd, &cmd));
	/* Driver data makes a nested table: not for an IOAS parent. */
	cmd = good;
	cmd.data_type = IOMMU_HWPT_DATA_VTD_S1;
	cmd.data_len = sizeof(vtd);
	cmd.data_uptr = (uintptr_t)&vtd;
	EXPECT_EQ(EOPNOTSUPP, hwpt_alloc_raw(self->fd, &cmd));
	cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
	EXPECT_EQ(EOPNOTSUPP, hwpt_alloc_raw(self->fd, &cmd));
	/* A type without data. */
	cmd.data_type = IOMMU_HWPT_DATA_VTD_S1;
	cmd.data_len = 0;
	EXPECT_EQ(EINVAL, hwpt_alloc_raw(self->fd, &cmd));

	/* None of that made anything; the plain request works. */
	cmd = good;
	ASSERT_EQ(0, hwpt_alloc_raw(self->fd, &cmd));
	ASSERT_EQ(0, obj_destroy(self->fd, cmd.out_hwpt_id));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	/* The device is gone with its selftest object. */
	EXPECT_EQ(ENOENT, pt_alloc(self->fd, a.idev, self->ioas, 0, &h));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/*
 * As 6.12 answers them: data without a type is EINVAL, and so is a parent
 * ID that names nothing (unlike the device ID, which is ENOENT).
 */
TEST_F(mdom, hwpt_alloc_einval_cases)
{
	struct iommu_hwpt_vtd_s1 vtd = { .addr_width = 48 };
	struct iommu_hwpt_alloc cmd;
	uint32_t h, gone;
	struct mdev a;
	int rc;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	memset(&cmd, 0, sizeof(cmd));
	cmd.dev_id = a.idev;
	cmd.pt_id = self->ioas;
	cmd.data_len = sizeof(vtd);
	cmd.data_uptr = (uintptr_t)&vtd;
	rc = hwpt_alloc_raw(self->fd, &cmd);
	EXPECT_EQ(EINVAL, rc);
	if (!rc)
		EXPECT_EQ(0, obj_destroy(self->fd, cmd.out_hwpt_id));

	EXPECT_EQ(EINVAL, pt_alloc(self->fd, a.idev, 9999, 0, &h));
	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, obj_destroy(self->fd, gone));
	EXPECT_EQ(EINVAL, pt_alloc(self->fd, a.idev, gone, 0, &h));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, hwpt_alloc_dirty_capability)
{
	struct mdev a, nd;
	uint32_t h;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, MOCK_FLAGS_DEVICE_NO_DIRTY,
			     &nd));
	EXPECT_EQ(EOPNOTSUPP, pt_alloc(self->fd, nd.idev, self->ioas,
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &h));
	ASSERT_EQ(0, pt_alloc(self->fd, nd.idev, self->ioas, 0, &h));
	ASSERT_EQ(0, obj_destroy(self->fd, h));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas,
			      IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &h));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 8 * PG, AT(7)));
	EXPECT_EQ(0, dom_has(self->fd, h, AT(7), 8 * PG, self->mem));
	ASSERT_EQ(0, obj_destroy(self->fd, h));
	ASSERT_EQ(0, obj_destroy(self->fd, nd.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(7), 8 * PG, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, user_hwpt_busy_while_attached)
{
	struct mdev a, b;
	uint32_t h, pt;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h));
	ASSERT_EQ(0, dev_add(self->fd, h, 0, &b));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, h));
	/* Moving the device away frees it for the user. */
	pt = self->ioas;
	ASSERT_EQ(0, dev_move(self->fd, b.stdev, &pt));
	EXPECT_EQ(a.hwpt, pt);
	ASSERT_EQ(0, obj_destroy(self->fd, h));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, h));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, a.hwpt));
	ASSERT_EQ(0, obj_destroy(self->fd, b.stdev));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, a.hwpt));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- MOCK_DOMAIN_REPLACE ------------------------------------------------- */

TEST_F(mdom, replace_to_user_hwpt_and_back)
{
	struct mdev a;
	uint32_t h2, pt;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, MEM_SZ, AT(9)));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h2));
	pt = h2;
	ASSERT_EQ(0, dev_move(self->fd, a.stdev, &pt));
	EXPECT_EQ(h2, pt);
	/* Its last device left: the automatic page table is gone. */
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, a.hwpt));
	EXPECT_EQ(ENOENT, dom_has(self->fd, a.hwpt, AT(9), PG, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, h2, AT(9), MEM_SZ, self->mem));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, h2));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	/* To the same page table again: nothing changes. */
	ASSERT_EQ(0, dev_move(self->fd, a.stdev, &pt));
	EXPECT_EQ(h2, pt);

	/* Back to the IOAS: a new automatic page table. */
	pt = self->ioas;
	ASSERT_EQ(0, dev_move(self->fd, a.stdev, &pt));
	EXPECT_NE(h2, pt);
	EXPECT_NE(self->ioas, pt);
	EXPECT_EQ(0, dom_has(self->fd, pt, AT(9), MEM_SZ, self->mem));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, pt));
	ASSERT_EQ(0, obj_destroy(self->fd, h2));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, pt));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(9), MEM_SZ, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, replace_across_ioas)
{
	const uint64_t half = MEM_SZ / 2;
	uint32_t other, pt, first;
	struct mdev a;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, half, AT(10)));
	ASSERT_EQ(0, map_at(self->fd, other, self->mem + half, half, AT(10)));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	first = a.hwpt;
	EXPECT_EQ(self->pin0 + KB(half), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, half, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->mem + half, half, 0));

	pt = other;
	ASSERT_EQ(0, dev_move(self->fd, a.stdev, &pt));
	EXPECT_NE(first, pt);
	EXPECT_NE(other, pt);
	EXPECT_EQ(ENOENT, dom_has(self->fd, first, AT(10), PG, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, pt, AT(10), half, self->mem + half));
	/* The first IOAS lost its only domain and so its pins. */
	EXPECT_EQ(self->pin0 + KB(half), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, half, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->mem + half, half, 1));
	EXPECT_EQ(1, alignment_of(self->fd, self->ioas));
	EXPECT_EQ(IOPG, alignment_of(self->fd, other));
	/* Only the IOAS with the device is busy now. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, other));

	first = pt;
	pt = self->ioas;
	ASSERT_EQ(0, dev_move(self->fd, a.stdev, &pt));
	EXPECT_EQ(0, dom_has(self->fd, pt, AT(10), half, self->mem));
	EXPECT_EQ(ENOENT, dom_has(self->fd, first, AT(10), PG, self->mem));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, half, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->mem + half, half, 0));
	EXPECT_EQ(0, obj_destroy(self->fd, other));

	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(10), half, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, replace_errors_keep_device)
{
	struct mdev a;
	uint32_t pt, gone;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 16 * PG, AT(11)));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &gone));
	ASSERT_EQ(0, obj_destroy(self->fd, gone));

	pt = 9999;
	EXPECT_EQ(ENOENT, dev_move(self->fd, a.stdev, &pt));
	pt = gone;
	EXPECT_EQ(ENOENT, dev_move(self->fd, a.stdev, &pt));
	pt = a.idev;
	EXPECT_EQ(EINVAL, dev_move(self->fd, a.stdev, &pt));
	pt = self->ioas;
	EXPECT_EQ(ENOENT, dev_move(self->fd, 9999, &pt));
	/* Only selftest objects can be moved. */
	EXPECT_EQ(ENOENT, dev_move(self->fd, a.idev, &pt));
	EXPECT_EQ(ENOENT, dev_move(self->fd, a.hwpt, &pt));

	/* Still where it was, with everything mapped. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, a.hwpt));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(11), 16 * PG, self->mem));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(ENOENT, dev_move(self->fd, a.stdev, &pt));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(11), 16 * PG, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, replace_last_device_drops_auto)
{
	struct mdev a, b;
	uint32_t h2, pt;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &b));
	ASSERT_EQ(a.hwpt, b.hwpt);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 8 * PG, AT(12)));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h2));
	pt = h2;
	ASSERT_EQ(0, dev_move(self->fd, a.stdev, &pt));
	/* b still holds the automatic one. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, b.hwpt));
	EXPECT_EQ(0, dom_has(self->fd, b.hwpt, AT(12), 8 * PG, self->mem));
	pt = h2;
	ASSERT_EQ(0, dev_move(self->fd, b.stdev, &pt));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, b.hwpt));
	EXPECT_EQ(0, dom_has(self->fd, h2, AT(12), 8 * PG, self->mem));
	EXPECT_EQ(self->pin0 + KB(8 * PG), pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, h2));
	ASSERT_EQ(0, obj_destroy(self->fd, b.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, h2));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(12), 8 * PG, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- in-kernel accesses next to domains ---------------------------------- */

TEST_F(mdom, access_shares_domain_pins)
{
	uint64_t iova = 0;
	uint32_t id;
	struct mdev a;
	int afd;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->mem, MEM_SZ, &iova,
			      MAP_RW));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	ASSERT_EQ(0, acc_pin(self->fd, afd, iova + 4 * PG, 8 * PG,
			     self->mem + 4 * PG, &id));
	/* The domain pinned them already: no second pin, no charge. */
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, iova, MEM_SZ, self->mem));
	ASSERT_EQ(0, acc_unpin(self->fd, afd, id));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));

	/* Unmapping under a pinned access: it is told, both let go. */
	ASSERT_EQ(0, acc_pin(self->fd, afd, iova, 2 * PG, self->mem, &id));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, MEM_SZ, NULL));
	EXPECT_EQ(ENOENT, acc_unpin(self->fd, afd, id));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, iova, IOPG, self->mem));
	close(afd);
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, access_pins_survive_domain)
{
	const uint64_t iova = AT(14);
	uint32_t id;
	struct mdev a;
	int afd;

	/* Inside the aperture, or the domain could not come later. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, MEM_SZ, iova));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	ASSERT_EQ(0, acc_pin(self->fd, afd, iova, 4 * PG, self->mem, &id));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, 4 * PG, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->mem + 4 * PG,
				MEM_SZ - 4 * PG, 0));
	EXPECT_EQ(self->pin0 + KB(4 * PG), pinned_kb());

	/* The domain arrives: one pin per page still, charged once. */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, iova, MEM_SZ, self->mem));

	/* It leaves: what the access holds stays pinned. */
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, 4 * PG, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->mem + 4 * PG,
				MEM_SZ - 4 * PG, 0));
	EXPECT_EQ(self->pin0 + KB(4 * PG), pinned_kb());
	ASSERT_EQ(0, acc_unpin(self->fd, afd, id));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	EXPECT_EQ(self->pin0, pinned_kb());
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, MEM_SZ, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- RLIMIT_MEMLOCK ------------------------------------------------------ */

TEST_F(mdom, rlimit_map_with_domain)
{
	struct rlimit lim = { .rlim_cur = 16 * PG, .rlim_max = 16 * PG };
	const uint64_t x = AT(20);
	struct mdev a;
	uint32_t h2;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, drop_effective_cap(CAP_IPC_LOCK));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));

	EXPECT_EQ(ENOMEM, map_at(self->fd, self->ioas, self->mem, 32 * PG, x));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, x, IOPG, self->mem));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x, 32 * PG, NULL));

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 16 * PG, x));
	EXPECT_EQ(self->pin0 + KB(16 * PG), pinned_kb());
	EXPECT_EQ(ENOMEM, map_at(self->fd, self->ioas, self->mem + 16 * PG,
				 PG, x + 16 * PG));
	EXPECT_EQ(self->pin0 + KB(16 * PG), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem + 16 * PG, PG, 0));
	/* Another domain mirrors the same pages: no extra charge. */
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h2));
	EXPECT_EQ(0, dom_has(self->fd, h2, x, 16 * PG, self->mem));
	EXPECT_EQ(self->pin0 + KB(16 * PG), pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, h2));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 16 * PG, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	/* The charge went back: the whole budget is there again. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + 8 * PG, 16 * PG,
			    x));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 16 * PG, NULL));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, rlimit_attach_over_limit)
{
	struct rlimit lim = { .rlim_cur = 16 * PG, .rlim_max = 16 * PG };
	uint64_t got = 0;
	struct mdev a;

	ASSERT_EQ(0, drop_effective_cap(CAP_IPC_LOCK));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	/* Without a domain nothing is pinned, so this is fine... */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 12 * PG, AT(21)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + 12 * PG, 12 * PG,
			    AT(22)));
	EXPECT_EQ(self->pin0, pinned_kb());
	/* ...but a domain would have to pin it all. */
	EXPECT_EQ(ENOMEM, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	EXPECT_EQ(1, alignment_of(self->fd, self->ioas));

	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(22), 12 * PG, &got));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	EXPECT_EQ(self->pin0 + KB(12 * PG), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, 12 * PG, 1));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(21), 12 * PG, self->mem));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(21), 12 * PG, NULL));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- MD_CHECK_MAP itself, and sub-page mappings -------------------------- */

TEST_F(mdom, check_map_sees_wrong_page)
{
	const uint64_t x = AT(24);
	struct mdev a;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 8 * PG, x));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, x, 8 * PG, self->mem));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, x + IOPG, IOPG,
			     self->mem + IOPG));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, x + 3 * IOPG, 5 * IOPG,
			     self->mem + 3 * IOPG));
	/* Off by a page, by half a page, and running past the end. */
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, x, 8 * PG, self->mem + PG));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, x, PG, self->mem + IOPG));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, x + IOPG, IOPG, self->mem));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, x, 9 * PG, self->mem));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, x - IOPG, 2 * IOPG,
			     self->mem - IOPG));
	/* Its own argument errors. */
	EXPECT_EQ(EINVAL, dom_has(self->fd, a.hwpt, x, 0, self->mem));
	EXPECT_EQ(ENOENT, dom_has(self->fd, 9999, x, PG, self->mem));
	EXPECT_EQ(ENOENT, dom_has(self->fd, self->ioas, x, PG, self->mem));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 8 * PG, NULL));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, half_page_mappings)
{
	const uint64_t x = AT(25) + IOPG;
	struct mdev a;
	uint32_t h2;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	/* The second half of page 0, at an IOVA that is not page aligned. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + IOPG, IOPG, x));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, PG, 1));
	EXPECT_EQ(self->pin0 + KB(PG), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, x, IOPG, self->mem + IOPG));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, x, IOPG, self->mem));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, x - IOPG, IOPG, self->mem));
	/* Its first half, right after: a mapping of its own. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, IOPG, x + IOPG));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, x + IOPG, IOPG, self->mem));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, PG, 2));
	EXPECT_EQ(self->pin0 + KB(2 * PG), pinned_kb());
	/* A later domain gets the halves right too. */
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h2));
	EXPECT_EQ(0, dom_has(self->fd, h2, x, IOPG, self->mem + IOPG));
	EXPECT_EQ(0, dom_has(self->fd, h2, x + IOPG, IOPG, self->mem));
	/* Three halves from the middle of a page. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + 5 * IOPG,
			    3 * IOPG, AT(26)));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(26), 3 * IOPG,
			     self->mem + 5 * IOPG));
	EXPECT_EQ(0, dom_has(self->fd, h2, AT(26), 3 * IOPG,
			     self->mem + 5 * IOPG));
	EXPECT_EQ(0, check_refs(self->fd, self->mem + 2 * PG, 2 * PG, 1));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(26), 3 * IOPG, NULL));
	EXPECT_EQ(0, check_refs(self->fd, self->mem + 2 * PG, 2 * PG, 0));

	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, IOPG, NULL));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, PG, 1));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x + IOPG, IOPG, NULL));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, PG, 0));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, h2));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, readonly_mapping_in_domain)
{
	uint64_t iova = AT(27);
	struct mdev a;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->mem, 16 * PG, &iova,
			      IOMMU_IOAS_MAP_READABLE |
			      IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(27), 16 * PG, self->mem));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, 16 * PG, 1));
	EXPECT_EQ(self->pin0 + KB(16 * PG), pinned_kb());
	/* No writable copy of read-only memory. */
	EXPECT_EQ(EPERM, copy_at(self->fd, self->ioas, AT(28), self->ioas,
				 AT(27), 16 * PG));
	EXPECT_NE(0, dom_has(self->fd, a.hwpt, AT(28), PG, self->mem));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(27), 16 * PG, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, unmap_all_with_domains)
{
	static const unsigned int pgs[] = { 1, 3, 16, 40, 7, 64, 2, 123 };
	uint64_t want = 0, got = 0, off = 0;
	struct mdev a, b;
	unsigned int i;
	uint32_t h2;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, pt_alloc(self->fd, a.idev, self->ioas, 0, &h2));
	ASSERT_EQ(0, dev_add(self->fd, h2, 0, &b));
	for (i = 0; i < NELEM(pgs); i++) {
		ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + off,
				    pgs[i] * PG, AT(30 + i)));
		off += pgs[i] * PG;
		want += pgs[i] * PG;
	}
	ASSERT_GE(MEM_SZ, off);
	EXPECT_EQ(self->pin0 + KB(want), pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(want, got);
	for (i = 0, off = 0; i < NELEM(pgs); off += pgs[i] * PG, i++) {
		EXPECT_NE(0, dom_has(self->fd, a.hwpt, AT(30 + i), IOPG,
				     self->mem + off));
		EXPECT_NE(0, dom_has(self->fd, h2, AT(30 + i), IOPG,
				     self->mem + off));
	}
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	/* Again on the empty IOAS: fine, nothing. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(0, got);
	ASSERT_EQ(0, obj_destroy(self->fd, b.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, h2));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, huge_pages_option_locked)
{
	struct mdev a;
	uint64_t val;

	val = 0;
	ASSERT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_SET, self->ioas, &val));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	/* Turning it on is always fine, off too while nothing is mapped. */
	val = 1;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_SET, self->ioas, &val));
	val = 0;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_SET, self->ioas, &val));
	val = 7;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_GET, self->ioas, &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, 32 * PG, AT(50)));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(50), 32 * PG, self->mem));
	/* A domain holding mappings keeps huge pages off once they were. */
	val = 1;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_SET, self->ioas, &val));
	val = 0;
	EXPECT_EQ(EINVAL, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
				    IOMMU_OPTION_OP_SET, self->ioas, &val));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(50), 32 * PG, NULL));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	val = 0;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_SET, self->ioas, &val));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(mdom, close_releases_everything)
{
	uint32_t ioas, h2;
	struct mdev a, b;
	int fd;

	fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, dev_add(fd, ioas, 0, &a));
	ASSERT_EQ(0, pt_alloc(fd, a.idev, ioas, 0, &h2));
	ASSERT_EQ(0, dev_add(fd, h2, 0, &b));
	ASSERT_EQ(0, map_at(fd, ioas, self->mem, MEM_SZ, AT(60)));
	ASSERT_EQ(0, copy_at(fd, ioas, AT(70), ioas, AT(60), MEM_SZ / 2));
	EXPECT_EQ(self->pin0 + KB(MEM_SZ), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 1));
	/* Objects of one context are not seen from another. */
	EXPECT_EQ(ENOENT, dom_has(self->fd, h2, AT(60), PG, self->mem));
	close(fd);
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->mem, MEM_SZ, 0));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- devices with 1 MiB IO pages ----------------------------------------- */

TEST_F(mdom, huge_iova_domain_hugetlb)
{
	const uint64_t len = 4 * MIB;
	unsigned char *buf;
	struct mdev n, h;
	uint32_t hh, pt;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (buf == MAP_FAILED)
		SKIP(return, "no hugetlb pages");
	memset(buf, 0x3c, len);

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &n));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, MOCK_FLAGS_DEVICE_HUGE_IOVA,
			     &h));
	/* A domain made for the huge device, and the device moved there. */
	ASSERT_EQ(0, pt_alloc(self->fd, h.idev, self->ioas, 0, &hh));
	pt = hh;
	ASSERT_EQ(0, dev_move(self->fd, h.stdev, &pt));
	ASSERT_EQ(hh, pt);

	ASSERT_EQ(0, map_at(self->fd, self->ioas, buf, len, AT(64)));
	EXPECT_EQ(self->pin0 + KB(len), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, n.hwpt, AT(64), len, buf));
	EXPECT_EQ(0, dom_has(self->fd, hh, AT(64), len, buf));
	EXPECT_EQ(0, dom_has(self->fd, hh, AT(64) + MIB + IOPG, 3 * IOPG,
			     buf + MIB + IOPG));
	EXPECT_NE(0, dom_has(self->fd, hh, AT(64), len, buf + IOPG));
	EXPECT_NE(0, dom_has(self->fd, hh, AT(64) + MIB, IOPG, buf));
	/* Only 1 MiB aligned: still fine for 1 MiB IO pages. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, buf + MIB, 2 * MIB, AT(81)));
	EXPECT_EQ(0, dom_has(self->fd, hh, AT(81), 2 * MIB, buf + MIB));
	EXPECT_EQ(0, dom_has(self->fd, n.hwpt, AT(81), 2 * MIB, buf + MIB));
	/* A domain born later copies them. */
	ASSERT_EQ(0, obj_destroy(self->fd, n.stdev));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &n));
	EXPECT_EQ(0, dom_has(self->fd, n.hwpt, AT(64), len, buf));
	EXPECT_EQ(0, dom_has(self->fd, n.hwpt, AT(81), 2 * MIB, buf + MIB));

	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(64), len, NULL));
	EXPECT_NE(0, dom_has(self->fd, hh, AT(64) + MIB, IOPG, buf + MIB));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(81), 2 * MIB, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, h.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, hh));
	ASSERT_EQ(0, obj_destroy(self->fd, n.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
	munmap(buf, len);
}

TEST_F(mdom, huge_iova_domain_small_pages)
{
	struct mdev h;
	uint32_t hh, pt;

	/* Small pages can only be mapped 2 KiB at a time; all still works. */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, MOCK_FLAGS_DEVICE_HUGE_IOVA,
			     &h));
	ASSERT_EQ(0, pt_alloc(self->fd, h.idev, self->ioas, 0, &hh));
	pt = hh;
	ASSERT_EQ(0, dev_move(self->fd, h.stdev, &pt));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, MEM_SZ, AT(96)));
	EXPECT_EQ(0, dom_has(self->fd, hh, AT(96), MEM_SZ, self->mem));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem + IOPG, 5 * IOPG,
			    AT(100) + IOPG));
	EXPECT_EQ(0, dom_has(self->fd, hh, AT(100) + IOPG, 5 * IOPG,
			     self->mem + IOPG));
	EXPECT_EQ(0, check_refs(self->fd, self->mem, 3 * PG, 2));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
	EXPECT_NE(0, dom_has(self->fd, hh, AT(96), IOPG, self->mem));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, h.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, hh));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/*
 * Memory faulted in out of order is no physical run: its area keeps the
 * pages of such chunks itself. A copy into a second domain, an access pin
 * and the unmaps must find exactly the pages the first domain maps.
 */
TEST_F(mdom, scattered_pages_copied_pinned_unmapped)
{
	size_t len = 4 * MIB, n = len / PG, i;
	uint32_t other, pin_id;
	struct mdev a, b;
	unsigned char *m;
	long pin0 = pinned_kb();
	int afd;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, madvise(m, len, MADV_NOHUGEPAGE));
	/* Page 3i (mod n) i-th: no two neighbours are faulted in together */
	for (i = 0; i < n; i++)
		m[(i * 3 % n) * PG] = (unsigned char)i;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, dev_add(self->fd, other, 0, &b));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, m, len, AT(16)));
	ASSERT_EQ(0, copy_at(self->fd, other, AT(64), self->ioas, AT(16), len));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, AT(16), len, m));
	EXPECT_EQ(0, dom_has(self->fd, b.hwpt, AT(64), len, m));
	EXPECT_EQ(pin0 + KB(len), pinned_kb());

	/* The pin compares each page it got with the user's own. */
	ASSERT_EQ(0, acc_new(self->fd, other, &afd));
	ASSERT_EQ(0, acc_pin(self->fd, afd, AT(64) + 3 * PG, len - 5 * PG,
			     m + 3 * PG, &pin_id));
	EXPECT_EQ(0, check_refs(self->fd, m, len, 1));

	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(16), len, NULL));
	EXPECT_EQ(0, check_refs(self->fd, m, len, 1));
	EXPECT_EQ(0, acc_unpin(self->fd, afd, pin_id));
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, other, AT(64), len, NULL));
	EXPECT_EQ(pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, m, len, 0));

	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, b.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, other));
	munmap(m, len);
}

/* ---- what the kernel copies back ---------------------------------------- */

/* 0 when @len bytes at @p are all @c */
static int all_bytes(const void *p, size_t len, unsigned char c)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != c)
			return -1;
	return 0;
}

/*
 * Every byte the kernel copies back must be one it means to write. Output
 * fields and buffers start as a pattern; whatever a call does not define
 * comes back as it went in, and what it defines as zero comes back zero.
 */
TEST_F(mdom, outputs_carry_only_what_is_meant)
{
	struct iommu_test_hw_info *ti;
	struct iommu_iova_range r[6];
	struct iommu_ioas_iova_ranges ranges, want_r;
	struct iommu_ioas_alloc alloc, want_a;
	struct iommu_hw_info hw, want_h;
	struct iommu_ioas_map map, want_m;
	struct iommu_ioas_unmap unmap, want_u;
	unsigned char info[64];
	unsigned int n;
	struct mdev a;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));

	memset(&alloc, 0, sizeof(alloc));
	alloc.size = sizeof(alloc);
	alloc.out_ioas_id = 0xa5a5a5a5;
	want_a = alloc;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_ALLOC, &alloc));
	EXPECT_NE(0xa5a5a5a5, alloc.out_ioas_id);
	want_a.out_ioas_id = alloc.out_ioas_id;
	EXPECT_EQ(0, memcmp(&want_a, &alloc, sizeof(alloc)));

	/* Too small an array: the count comes back, the array stays as is. */
	memset(r, 0xa5, sizeof(r));
	memset(&ranges, 0, sizeof(ranges));
	ranges.size = sizeof(ranges);
	ranges.ioas_id = self->ioas;
	ranges.allowed_iovas = (uintptr_t)r;
	ranges.out_iova_alignment = 0xa5a5a5a5a5a5a5a5ULL;
	EXPECT_EQ(EMSGSIZE, ioctl_errno(self->fd, IOMMU_IOAS_IOVA_RANGES,
					&ranges));
	EXPECT_EQ(0, all_bytes(r, sizeof(r), 0xa5));
	n = ranges.num_iovas;
	ASSERT_LT(0, n);
	ASSERT_GT(NELEM(r), n);
	/* Room for all: exactly @n entries written, the rest untouched. */
	ranges.num_iovas = NELEM(r);
	want_r = ranges;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_IOVA_RANGES, &ranges));
	EXPECT_EQ(n, ranges.num_iovas);
	EXPECT_EQ(0, all_bytes(&r[n], (NELEM(r) - n) * sizeof(r[0]), 0xa5));
	EXPECT_LE(r[0].start, r[0].last);
	EXPECT_EQ(0, ranges.out_iova_alignment &
		     (ranges.out_iova_alignment - 1));
	want_r.num_iovas = n;
	want_r.out_iova_alignment = ranges.out_iova_alignment;
	EXPECT_EQ(0, memcmp(&want_r, &ranges, sizeof(ranges)));

	/* A bigger buffer than the driver's data: the rest is zeroed. */
	memset(info, 0xa5, sizeof(info));
	memset(&hw, 0, sizeof(hw));
	hw.size = sizeof(hw);
	hw.dev_id = a.idev;
	hw.data_len = sizeof(info);
	hw.data_uptr = (uintptr_t)info;
	hw.out_capabilities = 0xa5a5a5a5a5a5a5a5ULL;
	want_h = hw;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_GET_HW_INFO, &hw));
	ASSERT_EQ(sizeof(*ti), hw.data_len);
	ti = (struct iommu_test_hw_info *)info;
	EXPECT_EQ(0, ti->flags);
	EXPECT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, ti->test_reg);
	EXPECT_EQ(0, all_bytes(info + sizeof(*ti), sizeof(info) - sizeof(*ti),
			       0));
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, hw.out_data_type);
	EXPECT_EQ(0, all_bytes(hw.__reserved, sizeof(hw.__reserved), 0));
	want_h.data_len = hw.data_len;
	want_h.out_data_type = hw.out_data_type;
	want_h.out_max_pasid_log2 = hw.out_max_pasid_log2;
	want_h.out_capabilities = hw.out_capabilities;
	EXPECT_EQ(0, memcmp(&want_h, &hw, sizeof(hw)));
	/* A smaller one: only its bytes are written. */
	memset(info, 0xa5, sizeof(info));
	hw.data_len = 4;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_GET_HW_INFO, &hw));
	EXPECT_EQ(0, all_bytes(info + 4, sizeof(info) - 4, 0xa5));
	EXPECT_EQ(0, ti->flags);

	/* A map at a kernel chosen IOVA, and its unmap */
	memset(&map, 0, sizeof(map));
	map.size = sizeof(map);
	map.flags = MAP_RW;
	map.ioas_id = self->ioas;
	map.user_va = (uintptr_t)self->mem;
	map.length = MEM_SZ;
	map.iova = 0xa5a5a5a5a5a5a5a5ULL;
	want_m = map;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_MAP, &map));
	EXPECT_NE(0xa5a5a5a5a5a5a5a5ULL, map.iova);
	want_m.iova = map.iova;
	EXPECT_EQ(0, memcmp(&want_m, &map, sizeof(map)));
	memset(&unmap, 0, sizeof(unmap));
	unmap.size = sizeof(unmap);
	unmap.ioas_id = self->ioas;
	unmap.iova = map.iova;
	unmap.length = MEM_SZ;
	want_u = unmap;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_UNMAP, &unmap));
	EXPECT_EQ(0, memcmp(&want_u, &unmap, sizeof(unmap)));

	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, alloc.out_ioas_id));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

/* ---- a big map does not stall the rest of the IOAS ---------------------- */

struct big_map {
	int fd;
	uint32_t ioas;
	void *va;
	size_t len;
	uint64_t iova;
	int rc;
	int done;
};

static void *big_map_run(void *arg)
{
	struct big_map *b = arg;

	b->rc = map_at(b->fd, b->ioas, b->va, b->len, b->iova);
	__atomic_store_n(&b->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * While one thread maps 512 MiB into an IOAS with a domain, pinning and
 * mapping it page by page, another maps and unmaps 4 KiB there, reads the
 * IOVA ranges and pins through an access: each must be done while the big
 * map still runs, which a map holding the IOAS's locks throughout forbids
 * whatever the machine's speed. Until it is done the big area is not
 * mapped: unmapping it finds nothing.
 */
TEST_F_TIMEOUT(mdom, big_map_stalls_nothing, 600)
{
	struct big_map b = {
		.fd = self->fd, .ioas = self->ioas, .len = 512 * MIB,
		.iova = AT(256),
	};
	long before = self->pin0 + KB(MEM_SZ);
	struct iommu_iova_range r[4];
	uint32_t num = NELEM(r), id = 0;
	uint64_t align, unmapped;
	pthread_t thread;
	struct mdev a;
	int afd, rc;

	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, MEM_SZ, AT(0)));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	b.va = mmap(NULL, b.len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, b.va);
	ASSERT_EQ(0, madvise(b.va, b.len, MADV_NOHUGEPAGE));

	ASSERT_EQ(0, pthread_create(&thread, NULL, big_map_run, &b));
	/* It pins after charging: once VmPin grows, it is filling. */
	while (pinned_kb() == before && !__atomic_load_n(&b.done,
							 __ATOMIC_SEQ_CST))
		usleep(1000);
	EXPECT_EQ(0, __atomic_load_n(&b.done, __ATOMIC_SEQ_CST));

	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->mem, PG, AT(2)));
	EXPECT_EQ(0, iova_info(self->fd, self->ioas, r, &num, &align));
	EXPECT_EQ(0, acc_pin(self->fd, afd, AT(0) + PG, PG, self->mem + PG,
			     &id));
	EXPECT_EQ(0, acc_unpin(self->fd, afd, id));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(2), PG, NULL));
	unmapped = 1;
	rc = ioas_unmap(self->fd, self->ioas, b.iova, b.len, &unmapped);
	/* All of that while the big map ran: */
	EXPECT_EQ(0, __atomic_load_n(&b.done, __ATOMIC_SEQ_CST));
	EXPECT_EQ(ENOENT, rc);

	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, b.rc);
	EXPECT_EQ(before + KB(b.len), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, b.iova, MIB, b.va));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, b.iova + b.len - MIB, MIB,
			     (char *)b.va + b.len - MIB));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, b.iova, b.len,
				&unmapped));
	EXPECT_EQ(b.len, unmapped);
	EXPECT_EQ(before, pinned_kb());
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
	munmap(b.va, b.len);
}

TEST_HARNESS_MAIN
