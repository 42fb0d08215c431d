// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested page tables on mock domains: IOMMU_HWPT_ALLOC on a NEST_PARENT
 * page table with the selftest data type, and IOMMU_HWPT_INVALIDATE of
 * the nested mock domain's IOTLB, which IOMMU_TEST_OP_MD_CHECK_IOTLB reads
 * back. Every errno of both ioctls, the hold of a nested table on its
 * parent, attach and replace onto nested tables, and leaks.
 */
#include <sys/mman.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_mock.h"

#define NEST IOMMU_HWPT_ALLOC_NEST_PARENT
#define INV_TYPE IOMMU_HWPT_INVALIDATE_DATA_SELFTEST
#define IOTLB_DEF IOMMU_TEST_IOTLB_DEFAULT
#define BUF_SZ (16 * PG)

static int nested_alloc(int fd, uint32_t idev, uint32_t parent, uint32_t flags,
			uint32_t type, const void *data, uint32_t len,
			uint32_t *out)
{
	return hwpt_alloc_full(fd, idev, parent, flags, 0, type, data, len,
			       out);
}

static int nested_new(int fd, uint32_t idev, uint32_t parent, uint32_t *out)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOTLB_DEF };

	return nested_alloc(fd, idev, parent, 0, IOMMU_HWPT_DATA_SELFTEST,
			    &data, sizeof(data), out);
}

/* IOMMU_HWPT_INVALIDATE; *@num in: entries, out: entries carried out */
static int invalidate(int fd, uint32_t hwpt, uint32_t type, const void *reqs,
		      uint32_t len, uint32_t *num)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt,
		.data_uptr = (uintptr_t)reqs,
		.data_type = type,
		.entry_len = len,
		.entry_num = *num,
	};
	int rc = ioctl_errno(fd, IOMMU_HWPT_INVALIDATE, &cmd);

	*num = cmd.entry_num;
	return rc;
}

static int iotlb_is(int fd, uint32_t hwpt, uint32_t id, uint32_t val)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
		.id = hwpt,
		.check_iotlb = { .id = id, .iotlb = val },
	};

	return test_op(fd, &cmd);
}

/* 0 when the IOTLB entries of @hwpt are @want[0..3] */
static int iotlb_are(int fd, uint32_t hwpt, const uint32_t want[4])
{
	uint32_t i;
	int rc;

	for (i = 0; i != MOCK_NESTED_DOMAIN_IOTLB_NUM; i++) {
		rc = iotlb_is(fd, hwpt, i, want[i]);
		if (rc)
			return rc;
	}
	return 0;
}

FIXTURE(nest) {
	int fd;
	uint32_t ioas;
	struct mdev dev;
	uint32_t parent;
	unsigned char *buf;
	long pin0;
};

FIXTURE_SETUP(nest)
{
	self->pin0 = pinned_kb();
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	self->buf = anon_mem(BUF_SZ, 0x6b);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, BUF_SZ, AT(1)));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &self->dev));
	ASSERT_EQ(0, pt_alloc(self->fd, self->dev.idev, self->ioas, NEST,
			      &self->parent));
}

FIXTURE_TEARDOWN(nest)
{
	close(self->fd);
	munmap(self->buf, BUF_SZ);
	EXPECT_EQ(self->pin0, pinned_kb());
}

TEST_F(nest, alloc_errors)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOTLB_DEF };
	const uint32_t min = sizeof(data.iotlb);
	struct {
		struct iommu_hwpt_selftest data;
		uint32_t more;
	} big = { { IOTLB_DEF }, 0 };
	uint32_t plain, nested, out = 0;

	ASSERT_EQ(0, pt_alloc(self->fd, self->dev.idev, self->ioas, 0, &plain));
	/* Data without a type, or a type without data. */
	EXPECT_EQ(EINVAL, nested_alloc(self->fd, self->dev.idev, self->parent,
				       0, IOMMU_HWPT_DATA_NONE, &data,
				       sizeof(data), &out));
	EXPECT_EQ(EINVAL, nested_alloc(self->fd, self->dev.idev, self->parent,
				       0, IOMMU_HWPT_DATA_SELFTEST, &data, 0,
				       &out));
	/* On a page table, no data is no nested table to make. */
	EXPECT_EQ(EOPNOTSUPP, pt_alloc(self->fd, self->dev.idev, self->parent,
				       0, &out));
	/* A type the driver does not know, short data, data it cannot read. */
	EXPECT_EQ(EOPNOTSUPP, nested_alloc(self->fd, self->dev.idev,
					   self->parent, 0,
					   IOMMU_HWPT_DATA_SELFTEST + 1, &data,
					   sizeof(data), &out));
	EXPECT_EQ(EINVAL, nested_alloc(self->fd, self->dev.idev, self->parent,
				       0, IOMMU_HWPT_DATA_SELFTEST, &data,
				       min - 1, &out));
	EXPECT_EQ(EFAULT, nested_alloc(self->fd, self->dev.idev, self->parent,
				       0, IOMMU_HWPT_DATA_SELFTEST, NULL,
				       sizeof(data), &out));
	/* Data longer than the driver's struct: refused, even if zero. */
	EXPECT_EQ(EINVAL, nested_alloc(self->fd, self->dev.idev, self->parent,
				       0, IOMMU_HWPT_DATA_SELFTEST, &big,
				       sizeof(big), &out));
	/* A nested table takes no allocation flags. */
	EXPECT_EQ(EOPNOTSUPP, nested_alloc(self->fd, self->dev.idev,
					   self->parent, NEST,
					   IOMMU_HWPT_DATA_SELFTEST, &data,
					   sizeof(data), &out));
	EXPECT_EQ(EOPNOTSUPP, nested_alloc(self->fd, self->dev.idev,
					   self->parent,
					   IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					   IOMMU_HWPT_DATA_SELFTEST, &data,
					   sizeof(data), &out));
	/* Parents: not made for it, automatic, nested, not a table at all. */
	EXPECT_EQ(EINVAL, nested_new(self->fd, self->dev.idev, plain, &out));
	EXPECT_EQ(EINVAL, nested_new(self->fd, self->dev.idev, self->dev.hwpt,
				     &out));
	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested));
	EXPECT_EQ(EINVAL, nested_new(self->fd, self->dev.idev, nested, &out));
	EXPECT_EQ(EINVAL, nested_new(self->fd, self->dev.idev, self->dev.idev,
				     &out));
	EXPECT_EQ(EINVAL, nested_new(self->fd, self->dev.idev, 9999, &out));
	EXPECT_EQ(ENOENT, nested_new(self->fd, 9999, self->parent, &out));
	/* Data for a paging table is something no driver takes. */
	EXPECT_EQ(EOPNOTSUPP, nested_alloc(self->fd, self->dev.idev,
					   self->ioas, 0,
					   IOMMU_HWPT_DATA_SELFTEST, &data,
					   sizeof(data), &out));
	EXPECT_EQ(0, obj_destroy(self->fd, nested));
	EXPECT_EQ(0, obj_destroy(self->fd, plain));
}

TEST_F(nest, holds_parent)
{
	const uint32_t def[4] = { IOTLB_DEF, IOTLB_DEF, IOTLB_DEF, IOTLB_DEF };
	uint32_t nested[2];

	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested[0]));
	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested[1]));
	EXPECT_EQ(0, iotlb_are(self->fd, nested[0], def));
	EXPECT_EQ(0, iotlb_are(self->fd, nested[1], def));
	/* The check op itself: wrong value, wrong entry, not nested. */
	EXPECT_EQ(EINVAL, iotlb_is(self->fd, nested[0], 0, 0));
	EXPECT_EQ(EINVAL, iotlb_is(self->fd, nested[0],
				   MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1,
				   IOTLB_DEF));
	EXPECT_EQ(EINVAL, iotlb_is(self->fd, self->parent, 0, IOTLB_DEF));
	EXPECT_EQ(ENOENT, iotlb_is(self->fd, self->ioas, 0, IOTLB_DEF));

	/* The parent and its IOAS stay while a nested table is there. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->parent));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->ioas));
	EXPECT_EQ(0, obj_destroy(self->fd, nested[0]));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->parent));
	EXPECT_EQ(0, obj_destroy(self->fd, nested[1]));
	EXPECT_EQ(0, obj_destroy(self->fd, self->parent));
	/* Dirty tracking is a paging table's business. */
	ASSERT_EQ(0, pt_alloc(self->fd, self->dev.idev, self->ioas, NEST,
			      &self->parent));
	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested[0]));
	EXPECT_EQ(ENOENT, tracking(self->fd, nested[0],
				   IOMMU_HWPT_DIRTY_TRACKING_ENABLE));
	EXPECT_EQ(ENOENT, harvest(self->fd, nested[0], AT(1), PG, PG,
				  self->buf, 0));
}

TEST_F(nest, attach_and_replace)
{
	uint32_t nested[2], pt;
	struct mdev other;

	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested[0]));
	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested[1]));
	pt = nested[0];
	ASSERT_EQ(0, dev_move(self->fd, self->dev.stdev, &pt));
	EXPECT_EQ(nested[0], pt);
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, nested[0]));
	/* The automatic table went when its device left for the nested one. */
	EXPECT_EQ(ENOENT, dom_has(self->fd, self->dev.hwpt, AT(1), BUF_SZ,
				  self->buf));
	/* The parent still maps the IOAS, and keeps the pages pinned. */
	EXPECT_EQ(0, dom_has(self->fd, self->parent, AT(1), BUF_SZ, self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SZ, 1));

	pt = nested[1];
	ASSERT_EQ(0, dev_move(self->fd, self->dev.stdev, &pt));
	EXPECT_EQ(0, obj_destroy(self->fd, nested[0]));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, nested[1]));

	/* A second device straight onto a nested table. */
	ASSERT_EQ(0, dev_add(self->fd, nested[1], 0, &other));
	EXPECT_EQ(nested[1], other.hwpt);
	EXPECT_EQ(0, obj_destroy(self->fd, other.stdev));

	/* Back to the parent, and to the IOAS. */
	pt = self->parent;
	ASSERT_EQ(0, dev_move(self->fd, self->dev.stdev, &pt));
	EXPECT_EQ(0, obj_destroy(self->fd, nested[1]));
	pt = self->ioas;
	ASSERT_EQ(0, dev_move(self->fd, self->dev.stdev, &pt));
	EXPECT_EQ(0, obj_destroy(self->fd, self->parent));
	EXPECT_EQ(0, obj_destroy(self->fd, self->dev.stdev));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SZ, 0));
}

/* Closing the context with a device on a nested table frees it all. */
TEST_F(nest, close_while_attached)
{
	uint32_t nested, pt;

	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested));
	pt = nested;
	ASSERT_EQ(0, dev_move(self->fd, self->dev.stdev, &pt));
}

TEST_F(nest, invalidate_errors)
{
	struct iommu_hwpt_invalidate_selftest reqs[2] = {};
	uint32_t nested, num;

	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested));
	/* Only nested tables take invalidations. */
	num = 1;
	EXPECT_EQ(ENOENT, invalidate(self->fd, self->parent, INV_TYPE, reqs,
				     sizeof(reqs[0]), &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(ENOENT, invalidate(self->fd, self->ioas, INV_TYPE, reqs,
				     sizeof(reqs[0]), &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(ENOENT, invalidate(self->fd, 9999, INV_TYPE, reqs,
				     sizeof(reqs[0]), &num));
	/* An empty array is a no-op, but its type is still checked. */
	num = 0;
	EXPECT_EQ(0, invalidate(self->fd, nested, INV_TYPE, NULL, 0, &num));
	EXPECT_EQ(0, num);
	num = 0;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested,
				     IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
				     reqs, sizeof(reqs[0]), &num));
	/* Entries: none, sizes wrong, too long, too many, no pointer. */
	num = 1;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested, INV_TYPE, reqs, 0,
				     &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested, INV_TYPE, reqs, 1,
				     &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested, INV_TYPE, reqs,
				     sizeof(reqs[0]) + 1, &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested, INV_TYPE, reqs,
				     PG + 1, &num));
	EXPECT_EQ(0, num);
	num = (1U << 19) + 1;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested, INV_TYPE, reqs,
				     sizeof(reqs[0]), &num));
	EXPECT_EQ(0, num);
	num = UINT32_MAX;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested, INV_TYPE, reqs,
				     sizeof(reqs[0]), &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested, INV_TYPE, NULL,
				     sizeof(reqs[0]), &num));
	EXPECT_EQ(0, num);
	num = 1;
	EXPECT_EQ(EFAULT, invalidate(self->fd, nested, INV_TYPE, (void *)8,
				     sizeof(reqs[0]), &num));
	EXPECT_EQ(0, num);
	/* An entry the driver refuses. */
	num = 1;
	reqs[0].flags = 0xffffffff;
	EXPECT_EQ(EOPNOTSUPP, invalidate(self->fd, nested, INV_TYPE, reqs,
					 sizeof(reqs[0]), &num));
	EXPECT_EQ(0, num);
	reqs[0].flags = 0;
	reqs[0].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
	num = 1;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested, INV_TYPE, reqs,
				     sizeof(reqs[0]), &num));
	EXPECT_EQ(0, num);
}

TEST_F(nest, invalidate_counts)
{
	const uint32_t def = IOTLB_DEF;
	const uint32_t first_gone[4] = { 0, def, def, def };
	const uint32_t three_gone[4] = { 0, 0, 0, def };
	const uint32_t all_gone[4] = { 0, 0, 0, 0 };
	struct {
		struct iommu_hwpt_invalidate_selftest inv;
		uint32_t pad;
	} longer[2] = { { { 0, 1 }, 0 }, { { 0, 2 }, 0 } };
	struct iommu_hwpt_invalidate_selftest reqs[4] = {};
	uint32_t nested, num;

	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested));
	/* The first carried out, the second refused: the count says one. */
	reqs[0].iotlb_id = 0;
	reqs[1].flags = 0xffffffff;
	num = 2;
	EXPECT_EQ(EOPNOTSUPP, invalidate(self->fd, nested, INV_TYPE, reqs,
					 sizeof(reqs[0]), &num));
	EXPECT_EQ(1, num);
	EXPECT_EQ(0, iotlb_are(self->fd, nested, first_gone));
	/* Entries longer than the driver's struct: refused, even if zero. */
	num = 2;
	EXPECT_EQ(EINVAL, invalidate(self->fd, nested, INV_TYPE, longer,
				     sizeof(longer[0]), &num));
	EXPECT_EQ(0, num);
	/* Two at once, then all. */
	reqs[0] = (struct iommu_hwpt_invalidate_selftest){ 0, 1 };
	reqs[1] = (struct iommu_hwpt_invalidate_selftest){ 0, 2 };
	num = 2;
	EXPECT_EQ(0, invalidate(self->fd, nested, INV_TYPE, reqs,
				sizeof(reqs[0]), &num));
	EXPECT_EQ(2, num);
	EXPECT_EQ(0, iotlb_are(self->fd, nested, three_gone));
	reqs[0] = (struct iommu_hwpt_invalidate_selftest){
		IOMMU_TEST_INVALIDATE_FLAG_ALL, 0 };
	num = 1;
	EXPECT_EQ(0, invalidate(self->fd, nested, INV_TYPE, reqs,
				sizeof(reqs[0]), &num));
	EXPECT_EQ(1, num);
	EXPECT_EQ(0, iotlb_are(self->fd, nested, all_gone));
}

/* A large array is bounded work, not a hang: every entry is carried out. */
TEST_F(nest, invalidate_many)
{
	const uint32_t n = 1U << 16;
	struct iommu_hwpt_invalidate_selftest *reqs;
	uint32_t nested, num = n, i;

	reqs = calloc(n, sizeof(*reqs));
	ASSERT_NE(NULL, reqs);
	for (i = 0; i != n; i++)
		reqs[i].iotlb_id = i % MOCK_NESTED_DOMAIN_IOTLB_NUM;
	ASSERT_EQ(0, nested_new(self->fd, self->dev.idev, self->parent,
				&nested));
	EXPECT_EQ(0, invalidate(self->fd, nested, INV_TYPE, reqs,
				sizeof(*reqs), &num));
	EXPECT_EQ(n, num);
	free(reqs);
}

TEST_HARNESS_MAIN
