// SPDX-License-Identifier: GPL-2.0-only
/*
 * The IOAS ioctls with no device attached: IOMMU_IOAS_MAP, _UNMAP, _COPY,
 * _IOVA_RANGES, _ALLOW_IOVAS and the per-IOAS IOMMU_OPTION. With no domain
 * the IOVA alignment is 1 and a map pins nothing; pins only come from the
 * test driver's in-kernel accesses.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_util.h"
#include "iommufd_test.h"

#define PAGE 4096UL
#define BUF_PAGES 256UL
#define BUF_SIZE (BUF_PAGES * PAGE)
#define MIB (1UL << 20)
#define HUGE_2M (2UL << 20)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define FIXED_RW (MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA)

/* ---- local helpers ------------------------------------------------------ */

static int map_fixed(int fd, uint32_t ioas, void *va, uint64_t len,
		     uint64_t iova)
{
	return ioas_map(fd, ioas, va, len, &iova, FIXED_RW);
}

static int map_any(int fd, uint32_t ioas, void *va, uint64_t len,
		   uint64_t *iova)
{
	*iova = 0;
	return ioas_map(fd, ioas, va, len, iova, MAP_RW);
}

/* Unmap the whole IOAS: iova 0, length UINT64_MAX. */
static int unmap_every(int fd, uint32_t ioas, uint64_t *total)
{
	return ioas_unmap(fd, ioas, 0, UINT64_MAX, total);
}

static int do_copy(int fd, uint32_t flags, uint32_t dst, uint32_t src,
		   uint64_t src_iova, uint64_t len, uint64_t *dst_iova)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int rc = ioctl_errno(fd, IOMMU_IOAS_COPY, &cmd);

	if (!rc)
		*dst_iova = cmd.dst_iova;
	return rc;
}

static int reserve_range(int fd, uint32_t ioas, uint64_t start, uint64_t len)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = ioas,
		.add_reserved = { .start = start, .length = len },
	};

	return ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);
}

static int query_ranges(int fd, uint32_t ioas, struct iommu_iova_range *out,
			uint32_t *num, uint64_t *align)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = *num,
		.allowed_iovas = (uintptr_t)out,
	};
	int rc = ioctl_errno(fd, IOMMU_IOAS_IOVA_RANGES, &cmd);

	if (!rc || rc == EMSGSIZE) {
		*num = cmd.num_iovas;
		if (align)
			*align = cmd.out_iova_alignment;
	}
	return rc;
}

static int allow_ranges(int fd, uint32_t ioas,
			const struct iommu_iova_range *r, uint32_t num)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = num,
		.allowed_iovas = (uintptr_t)r,
	};

	return ioctl_errno(fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

static int new_access(int fd, uint32_t ioas, int *afd)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = {
			.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
		},
	};
	int rc = ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);

	if (!rc)
		*afd = cmd.create_access.out_access_fd;
	return rc;
}

static int pin_through(int fd, int afd, uint64_t iova, uint64_t len,
		       void *expect_va, uint32_t *pin_id)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = afd,
		.access_pages = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)expect_va,
		},
	};
	int rc = ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);

	if (!rc)
		*pin_id = cmd.access_pages.out_access_pages_id;
	return rc;
}

static int unpin_through(int fd, int afd, uint32_t pin_id)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
		.id = afd,
		.destroy_access_pages = { .access_pages_id = pin_id },
	};

	return ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);
}

static int mock_attach(int fd, uint32_t ioas, uint32_t *stdev,
		       uint32_t *hwpt, uint32_t *idev)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas,
	};
	int rc = ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);

	if (!rc) {
		*stdev = cmd.mock_domain.out_stdev_id;
		*hwpt = cmd.mock_domain.out_hwpt_id;
		*idev = cmd.mock_domain.out_idev_id;
	}
	return rc;
}

/*
 * Issue @cmd (@full bytes, size field first) declaring @size bytes; when
 * @dirty, the last declared byte (past @full) is non-zero. On success the
 * kernel's answer is copied back into @cmd.
 */
static int call_sized(int fd, unsigned long nr, void *cmd, size_t full,
		      uint32_t size, bool dirty)
{
	unsigned char raw[256];
	int rc;

	memset(raw, 0, sizeof(raw));
	memcpy(raw, cmd, full);
	memcpy(raw, &size, sizeof(size));
	if (dirty && size > full)
		raw[size - 1] = 0xa5;
	rc = ioctl_errno(fd, nr, raw);
	if (!rc)
		memcpy((char *)cmd + 4, raw + 4, full - 4);
	return rc;
}

static bool spans_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + blen - 1 && b <= a + alen - 1;
}

static unsigned char *aligned_area(size_t reserve, size_t align,
				   void **raw_out)
{
	unsigned char *raw = mmap(NULL, reserve, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (raw == MAP_FAILED)
		return NULL;
	*raw_out = raw;
	return (unsigned char *)(((uintptr_t)raw + align - 1) & ~(align - 1));
}

static void touch(unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += PAGE)
		p[i] = (unsigned char)(i >> 12) | 1;
}

/* ---- fixture --------------------------------------------------------------- */

FIXTURE(space) {
	int fd;
	uint32_t ioas;
	unsigned char *buf;
	long pin0;
};

FIXTURE_SETUP(space)
{
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	/* Small pages, so MD_CHECK_REFS sees every pin. */
	ASSERT_EQ(0, madvise(self->buf, BUF_SIZE, MADV_NOHUGEPAGE));
	touch(self->buf, BUF_SIZE);
	self->pin0 = proc_status_kb("VmPin");
}

FIXTURE_TEARDOWN(space)
{
	close(self->fd);
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	munmap(self->buf, BUF_SIZE);
}

/* ---- IOMMU_IOAS_MAP ------------------------------------------------------- */

TEST_F(space, map_unknown_flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas,
		.user_va = (uintptr_t)self->buf,
		.length = PAGE,
		.iova = 64 * PAGE,
	};

	cmd.flags = FIXED_RW | (1 << 3);
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_MAP, &cmd));
	cmd.flags = MAP_RW | (1u << 31);
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_MAP, &cmd));
	cmd.flags = FIXED_RW;
	cmd.__reserved = 1;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_MAP, &cmd));
	/* Checked before the IOAS is even looked up. */
	cmd.ioas_id = 7777;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_MAP, &cmd));
	cmd.ioas_id = self->ioas;
	cmd.__reserved = 0;
	EXPECT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_MAP, &cmd));
	EXPECT_EQ(64 * PAGE, cmd.iova);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, 64 * PAGE, PAGE, NULL));
}

TEST_F(space, map_values_too_big)
{
	uint64_t iova = UINT64_MAX;

	EXPECT_EQ(EOVERFLOW, ioas_map(self->fd, self->ioas, self->buf, PAGE,
				      &iova, FIXED_RW));
	iova = UINT64_MAX;
	EXPECT_EQ(EOVERFLOW, ioas_map(self->fd, self->ioas, self->buf, PAGE,
				      &iova, MAP_RW));
	iova = PAGE;
	EXPECT_EQ(EOVERFLOW, ioas_map(self->fd, self->ioas, self->buf,
				      UINT64_MAX, &iova, FIXED_RW));
	iova = 0;
	EXPECT_EQ(EOVERFLOW, ioas_map(self->fd, self->ioas, self->buf,
				      UINT64_MAX, &iova, MAP_RW));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX - 1,
				     NULL));
}

TEST_F(space, map_needs_read_or_write)
{
	uint64_t iova = 16 * PAGE;

	EXPECT_EQ(EINVAL, ioas_map(self->fd, self->ioas, self->buf, PAGE,
				   &iova, 0));
	EXPECT_EQ(EINVAL, ioas_map(self->fd, self->ioas, self->buf, PAGE,
				   &iova, IOMMU_IOAS_MAP_FIXED_IOVA));
	/* Either one alone is enough. */
	EXPECT_EQ(0, ioas_map(self->fd, self->ioas, self->buf, PAGE, &iova,
			      IOMMU_IOAS_MAP_FIXED_IOVA |
			      IOMMU_IOAS_MAP_READABLE));
	iova = 17 * PAGE;
	EXPECT_EQ(0, ioas_map(self->fd, self->ioas, self->buf, PAGE, &iova,
			      IOMMU_IOAS_MAP_FIXED_IOVA |
			      IOMMU_IOAS_MAP_WRITEABLE));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, 16 * PAGE, 2 * PAGE,
				&iova));
	EXPECT_EQ(2 * PAGE, iova);
}

TEST_F(space, map_unknown_ioas)
{
	uint32_t gone;
	uint64_t iova;

	EXPECT_EQ(ENOENT, map_fixed(self->fd, 0, self->buf, PAGE, PAGE));
	EXPECT_EQ(ENOENT, map_fixed(self->fd, self->ioas + 1, self->buf, PAGE,
				    PAGE));
	EXPECT_EQ(ENOENT, map_any(self->fd, 31337, self->buf, PAGE, &iova));
	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, obj_destroy(self->fd, gone));
	EXPECT_EQ(ENOENT, map_fixed(self->fd, gone, self->buf, PAGE, PAGE));
	EXPECT_EQ(ENOENT, map_any(self->fd, gone, self->buf, PAGE, &iova));
}

TEST_F(space, ids_of_other_objects)
{
	struct iommu_iova_range r = { .start = MIB, .last = 2 * MIB - 1 };
	uint32_t other, stdev, hwpt, idev, ids[3];
	uint64_t iova, val = 1;
	uint32_t num = 1;
	unsigned int i;
	int rc;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	/* Mock devices come with the devices work; until then, skip. */
	rc = mock_attach(self->fd, other, &stdev, &hwpt, &idev);
	if (rc == EOPNOTSUPP)
		SKIP(return, "no mock devices yet");
	ASSERT_EQ(0, rc);
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
			       MIB));
	ids[0] = hwpt;
	ids[1] = idev;
	ids[2] = stdev;
	for (i = 0; i < ARRAY_LEN(ids); i++) {
		EXPECT_NE(self->ioas, ids[i]);
		EXPECT_NE(other, ids[i]);
		EXPECT_EQ(ENOENT, map_fixed(self->fd, ids[i], self->buf, PAGE,
					    MIB));
		EXPECT_EQ(ENOENT, map_any(self->fd, ids[i], self->buf, PAGE,
					  &iova));
		EXPECT_EQ(ENOENT, unmap_every(self->fd, ids[i], NULL));
		EXPECT_EQ(ENOENT, query_ranges(self->fd, ids[i], &r, &num,
					       NULL));
		EXPECT_EQ(ENOENT, allow_ranges(self->fd, ids[i], &r, 1));
		iova = 0;
		EXPECT_EQ(ENOENT, do_copy(self->fd, MAP_RW, self->ioas, ids[i],
					  MIB, PAGE, &iova));
		iova = 0;
		EXPECT_EQ(ENOENT, do_copy(self->fd, MAP_RW, ids[i], self->ioas,
					  MIB, PAGE, &iova));
		EXPECT_EQ(ENOENT, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
					    IOMMU_OPTION_OP_GET, ids[i], &val));
	}
	EXPECT_EQ(0, obj_destroy(self->fd, stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, other));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &iova));
	EXPECT_EQ(4 * PAGE, iova);
}

TEST_F(space, map_zero_length)
{
	uint64_t iova;

	EXPECT_EQ(EINVAL, map_fixed(self->fd, self->ioas, self->buf, 0, PAGE));
	EXPECT_EQ(EINVAL, map_any(self->fd, self->ioas, self->buf, 0, &iova));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &iova));
	EXPECT_EQ(0, iova);
}

TEST_F(space, map_user_va_wraps)
{
	void *top = (void *)(uintptr_t)(UINT64_MAX - PAGE + 1);
	uint64_t iova;

	EXPECT_EQ(EOVERFLOW, map_fixed(self->fd, self->ioas, top, 2 * PAGE,
				       PAGE));
	EXPECT_EQ(EOVERFLOW, map_any(self->fd, self->ioas, top, 2 * PAGE,
				     &iova));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &iova));
	EXPECT_EQ(0, iova);
}

TEST_F(space, map_fixed_iova_wraps)
{
	uint64_t top = UINT64_MAX - PAGE + 1;

	EXPECT_EQ(EOVERFLOW, map_fixed(self->fd, self->ioas, self->buf,
				       2 * PAGE, top));
	EXPECT_EQ(EOVERFLOW, map_fixed(self->fd, self->ioas, self->buf,
				       PAGE + 1, top));
	/* The very last page of the IOVA space is fine. */
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE, top));
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf, 1,
				    UINT64_MAX - 1));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, top, PAGE, &top));
	EXPECT_EQ(PAGE, top);
}

TEST_F(space, map_fixed_overlaps)
{
	const uint64_t base = 0x100000;
	uint64_t total = 0;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 8 * PAGE,
			       base));
	/* Exact, front, back, containing, contained, single bytes. */
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf, 8 * PAGE,
				    base));
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
				    base - 2 * PAGE));
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
				    base + 6 * PAGE));
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf,
				    16 * PAGE, base - 4 * PAGE));
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf, 2 * PAGE,
				    base + 3 * PAGE));
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf, 2,
				    base - 1));
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf, 1,
				    base + 8 * PAGE - 1));
	/* Touching on either side is fine. */
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       base - PAGE));
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 3 * PAGE,
			       base + 8 * PAGE));
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf,
				    20 * PAGE, base - 8 * PAGE));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &total));
	EXPECT_EQ(12 * PAGE, total);
}

TEST_F(space, map_fixed_into_reserved)
{
	const uint64_t r = 0x400000;
	uint64_t total = 0;

	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, r, 4 * PAGE));
	EXPECT_EQ(EINVAL, map_fixed(self->fd, self->ioas, self->buf, PAGE, r));
	EXPECT_EQ(EINVAL, map_fixed(self->fd, self->ioas, self->buf, 2 * PAGE,
				    r - PAGE));
	EXPECT_EQ(EINVAL, map_fixed(self->fd, self->ioas, self->buf, 2 * PAGE,
				    r + 3 * PAGE));
	EXPECT_EQ(EINVAL, map_fixed(self->fd, self->ioas, self->buf,
				    16 * PAGE, r - 8 * PAGE));
	EXPECT_EQ(EINVAL, map_fixed(self->fd, self->ioas, self->buf, 1,
				    r + 4 * PAGE - 1));
	/* Next to it is fine. */
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       r - PAGE));
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       r + 4 * PAGE));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &total));
	EXPECT_EQ(2 * PAGE, total);
}

TEST_F(space, map_byte_granular)
{
	uint64_t out = 0;

	/* No domain: any IOVA, VA and length will do. */
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf + 0x123, 0x321,
			       0x5000123));
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf + 7, 1,
			       0x5000123 + 0x321));
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf, 1,
				    0x5000123 + 0x320));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, 0x5000124, 0x320,
				     NULL));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, 0x5000123, 0x321,
				&out));
	EXPECT_EQ(0x321, out);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, 0x5000000, MIB, &out));
	EXPECT_EQ(1, out);
}

TEST_F(space, map_auto_never_zero_or_overlapping)
{
	static const unsigned int pages[] = { 1, 3, 1, 8, 2, 17, 1, 4, 32, 5,
					      1, 1, 64, 7, 2, 9 };
	uint64_t iova[ARRAY_LEN(pages) + 2], len[ARRAY_LEN(pages) + 2];
	uint64_t total = 0, got = 0;
	unsigned int i, j, n = 0;

	/* Fixed areas low down, where the allocator will look. */
	iova[n] = 3 * PAGE;
	len[n] = 2 * PAGE;
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, len[n],
			       iova[n]));
	n++;
	iova[n] = 64 * PAGE;
	len[n] = 64 * PAGE;
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, len[n],
			       iova[n]));
	n++;
	for (i = 0; i < ARRAY_LEN(pages); i++, n++) {
		len[n] = pages[i] * PAGE;
		ASSERT_EQ(0, map_any(self->fd, self->ioas,
				     self->buf + (i % 4) * PAGE, len[n],
				     &iova[n]));
		EXPECT_NE(0, iova[n]);
	}
	for (i = 0; i < n; i++) {
		total += len[i];
		for (j = i + 1; j < n; j++)
			EXPECT_FALSE(spans_meet(iova[i], len[i], iova[j],
						len[j]));
	}
	/* Each one is exactly where it was said to be. */
	for (i = n; i-- > 0;) {
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova[i], len[i],
					&got));
		EXPECT_EQ(len[i], got);
		total -= got;
	}
	EXPECT_EQ(0, total);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(0, got);
}

TEST_F(space, map_auto_avoids_reserved)
{
	uint64_t iova[24], total = 0;
	unsigned int i;

	/* Everything below 64 MiB but one hole too small for 4 pages. */
	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 0, 32 * MIB));
	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 32 * MIB + 2 * PAGE,
				   32 * MIB - 2 * PAGE));
	for (i = 0; i < ARRAY_LEN(iova); i++) {
		ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf,
				     4 * PAGE, &iova[i]));
		EXPECT_LE(64 * MIB, iova[i]);
	}
	/* A page fits in the small hole; below 64 MiB nowhere else. */
	ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf, PAGE, &iova[0]));
	EXPECT_TRUE(iova[0] >= 64 * MIB ||
		    (iova[0] >= 32 * MIB &&
		     iova[0] + PAGE <= 32 * MIB + 2 * PAGE))
		TH_LOG("iova 0x%llx", (unsigned long long)iova[0]);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &total));
	EXPECT_EQ(ARRAY_LEN(iova) * 4 * PAGE + PAGE, total);
}

TEST_F(space, map_auto_alignment)
{
	static const struct {
		uint64_t va_off, len, align;
	} cases[] = {
		{ 0, PAGE, PAGE },
		{ 0, 3 * PAGE, 4 * PAGE },
		{ 0, 16 * PAGE, 16 * PAGE },
		{ 0, 300 * PAGE, HUGE_2M },
		{ 0, 4 * MIB, HUGE_2M },
		{ PAGE, 16 * PAGE, PAGE },
		{ 8 * PAGE, 64 * PAGE, 8 * PAGE },
		{ 0x40, 0x100, 0x40 },
		{ 0x200, 0x80, 0x80 },
		{ HUGE_2M, HUGE_2M, HUGE_2M },
		{ 3 * PAGE, 5, 8 },
	};
	uint64_t iova[ARRAY_LEN(cases)], total = 0, sum = 2;
	unsigned char *base;
	unsigned int i, j;
	void *raw;

	base = aligned_area(8 * MIB, HUGE_2M, &raw);
	ASSERT_NE(NULL, base);
	touch(base, 4 * MIB + PAGE);
	/* Odd-sized pieces low down push candidates off alignment. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 1, PAGE + 5));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 1,
			       HUGE_2M + 3 * PAGE));
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		ASSERT_EQ(0, map_any(self->fd, self->ioas,
				     base + cases[i].va_off, cases[i].len,
				     &iova[i]));
		EXPECT_NE(0, iova[i]);
		EXPECT_EQ(0, iova[i] % cases[i].align)
			TH_LOG("case %u: iova 0x%llx, expected alignment 0x%llx",
			       i, (unsigned long long)iova[i],
			       (unsigned long long)cases[i].align);
		for (j = 0; j < i; j++)
			EXPECT_FALSE(spans_meet(iova[i], cases[i].len, iova[j],
						cases[j].len));
		sum += cases[i].len;
	}
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &total));
	EXPECT_EQ(sum, total);
	munmap(raw, 8 * MIB);
}

/* Alignment is capped at 2 MiB however aligned and long the buffer. */
TEST_F(space, map_auto_alignment_cap)
{
	struct iommu_iova_range r = {
		.start = HUGE_2M,
		.last = HUGE_2M + 8 * MIB - 1,
	};
	unsigned char *base;
	uint64_t iova, total = 0;
	void *raw;

	base = aligned_area(24 * MIB, 8 * MIB, &raw);
	ASSERT_NE(NULL, base);
	touch(base, 8 * MIB);
	ASSERT_EQ(0, allow_ranges(self->fd, self->ioas, &r, 1));
	ASSERT_EQ(0, map_any(self->fd, self->ioas, base, 8 * MIB, &iova));
	EXPECT_EQ(HUGE_2M, iova);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &total));
	EXPECT_EQ(8 * MIB, total);
	munmap(raw, 24 * MIB);
}

TEST_F(space, map_auto_within_allowed)
{
	const struct iommu_iova_range r[2] = {
		{ .start = 64 * MIB, .last = 64 * MIB + 16 * PAGE - 1 },
		{ .start = 512 * MIB, .last = 513 * MIB - 1 },
	};
	uint64_t iova[40], total = 0;
	unsigned int i, j;
	uint64_t len;

	ASSERT_EQ(0, allow_ranges(self->fd, self->ioas, r, 2));
	for (i = 0; i < ARRAY_LEN(iova); i++) {
		len = (1 + i % 4) * PAGE;
		ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf, len,
				     &iova[i]));
		EXPECT_TRUE((iova[i] >= r[0].start &&
			     iova[i] + len - 1 <= r[0].last) ||
			    (iova[i] >= r[1].start &&
			     iova[i] + len - 1 <= r[1].last))
			TH_LOG("iova 0x%llx outside the allowed ranges",
			       (unsigned long long)iova[i]);
		for (j = 0; j < i; j++)
			EXPECT_FALSE(spans_meet(iova[i], len, iova[j],
						(1 + j % 4) * PAGE));
	}
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &total));
	EXPECT_EQ(10 * (1 + 2 + 3 + 4) * PAGE, total);
}

TEST_F(space, map_auto_no_room)
{
	const struct iommu_iova_range r = {
		.start = 256 * MIB,
		.last = 256 * MIB + 4 * PAGE - 1,
	};
	uint64_t iova, a, b, got = 0;

	ASSERT_EQ(0, allow_ranges(self->fd, self->ioas, &r, 1));
	EXPECT_EQ(ENOSPC, map_any(self->fd, self->ioas, self->buf, 8 * PAGE,
				  &iova));
	ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf, 4 * PAGE, &iova));
	EXPECT_EQ(r.start, iova);
	EXPECT_EQ(ENOSPC, map_any(self->fd, self->ioas, self->buf, PAGE,
				  &iova));
	/* A copy needs room as much as a map does. */
	EXPECT_EQ(ENOSPC, do_copy(self->fd, MAP_RW, self->ioas, self->ioas,
				  r.start, PAGE, &iova));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, r.start, 4 * PAGE,
				&got));
	EXPECT_EQ(4 * PAGE, got);
	ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf, 2 * PAGE, &a));
	ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf + 2 * PAGE,
			     2 * PAGE, &b));
	EXPECT_LE(r.start, a);
	EXPECT_LE(r.start, b);
	EXPECT_GE(r.last, a + 2 * PAGE - 1);
	EXPECT_GE(r.last, b + 2 * PAGE - 1);
	EXPECT_FALSE(spans_meet(a, 2 * PAGE, b, 2 * PAGE));
	EXPECT_EQ(ENOSPC, map_any(self->fd, self->ioas, self->buf, PAGE,
				  &iova));
	/* Fixed placement ignores the allowed ranges. */
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE, PAGE));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(5 * PAGE, got);
}

TEST_F(space, map_fixed_outside_allowed)
{
	const struct iommu_iova_range r = {
		.start = 16 * MIB,
		.last = 17 * MIB - 1,
	};
	uint64_t got = 0;

	ASSERT_EQ(0, allow_ranges(self->fd, self->ioas, &r, 1));
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
			       64 * MIB));
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
			       17 * MIB - 2 * PAGE));
	EXPECT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE, PAGE));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(9 * PAGE, got);
}

/* ---- IOMMU_IOAS_UNMAP ----------------------------------------------------- */

TEST_F(space, unmap_all_empty)
{
	uint64_t got = 12345;
	uint32_t other;

	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(0, got);
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	got = 99;
	EXPECT_EQ(0, unmap_every(self->fd, other, &got));
	EXPECT_EQ(0, got);
	EXPECT_EQ(ENOENT, unmap_every(self->fd, other + 1, &got));
}

TEST_F(space, unmap_all_returns_total)
{
	uint64_t got = 0, iova;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 3 * PAGE, 0));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 5,
			       0x77770000));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       UINT64_MAX - PAGE + 1));
	ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf, 32 * PAGE,
			     &iova));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(36 * PAGE + 5, got);
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, iova, 32 * PAGE,
				     NULL));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(0, got);
}

TEST_F(space, unmap_bad_arguments)
{
	uint64_t got = 0;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
			       MIB));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, 0, MIB, 4 * PAGE, NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, 4242, MIB, 4 * PAGE, NULL));
	EXPECT_EQ(EINVAL, ioas_unmap(self->fd, self->ioas, MIB, 0, NULL));
	EXPECT_EQ(EINVAL, ioas_unmap(self->fd, self->ioas, 0, 0, NULL));
	EXPECT_EQ(EOVERFLOW, ioas_unmap(self->fd, self->ioas, UINT64_MAX, 1,
					NULL));
	EXPECT_EQ(EOVERFLOW, ioas_unmap(self->fd, self->ioas, MIB, UINT64_MAX,
					NULL));
	EXPECT_EQ(EOVERFLOW, ioas_unmap(self->fd, self->ioas, 1, UINT64_MAX,
					NULL));
	EXPECT_EQ(EOVERFLOW, ioas_unmap(self->fd, self->ioas,
					UINT64_MAX - PAGE + 1, 2 * PAGE,
					NULL));
	EXPECT_EQ(EOVERFLOW, ioas_unmap(self->fd, self->ioas, 3, UINT64_MAX - 1,
					NULL));
	/* None of it touched the mapping. */
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, 4 * PAGE, &got));
	EXPECT_EQ(4 * PAGE, got);
}

TEST_F(space, unmap_nothing_there)
{
	uint64_t got = 0;

	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, MIB, PAGE, NULL));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
			       MIB));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, MIB - PAGE, PAGE,
				     NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, MIB + 4 * PAGE,
				     64 * PAGE, NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, 0, MIB, NULL));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX - 1,
				&got));
	EXPECT_EQ(4 * PAGE, got);
}

TEST_F(space, unmap_cutting_an_area)
{
	const uint64_t x = 8 * MIB;
	uint64_t got = 0;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 8 * PAGE, x));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
			       x + 8 * PAGE));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x, 4 * PAGE, NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x + 4 * PAGE,
				     4 * PAGE, NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x + PAGE, 2 * PAGE,
				     NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x - PAGE, 2 * PAGE,
				     NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x + 1,
				     8 * PAGE - 1, NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x, 8 * PAGE - 1,
				     NULL));
	/* The first area is cut: nothing at all is unmapped. */
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x + 4 * PAGE,
				     64 * PAGE, NULL));
	/* Both survived, each exactly as mapped. */
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, x + 8 * PAGE, 4 * PAGE,
				&got));
	EXPECT_EQ(4 * PAGE, got);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 8 * PAGE, &got));
	EXPECT_EQ(8 * PAGE, got);
}

TEST_F(space, unmap_several_with_gaps)
{
	const uint64_t x = 32 * MIB;
	uint64_t got = 0;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 2 * PAGE, x));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 3 * PAGE,
			       x + 4 * PAGE));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       x + 7 * PAGE));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 5 * PAGE,
			       x + 20 * PAGE));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       x + 40 * PAGE));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, x - PAGE, 30 * PAGE,
				&got));
	EXPECT_EQ(11 * PAGE, got);
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x - PAGE,
				     30 * PAGE, NULL));
	/* Exactly the span of two areas with a gap between them. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE, x));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       x + 9 * PAGE));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 10 * PAGE, &got));
	EXPECT_EQ(2 * PAGE, got);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(PAGE, got);
}

/* ---- IOMMU_IOAS_COPY ------------------------------------------------------ */

TEST_F(space, copy_bad_arguments)
{
	const uint64_t x = MIB;
	uint64_t dst = 0, got = 0;
	uint32_t other;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 8 * PAGE, x));
	EXPECT_EQ(EOPNOTSUPP, do_copy(self->fd, MAP_RW | (1 << 3), other,
				      self->ioas, x, PAGE, &dst));
	EXPECT_EQ(EOPNOTSUPP, do_copy(self->fd, MAP_RW | (1u << 30), other,
				      self->ioas, x, PAGE, &dst));
	EXPECT_EQ(EINVAL, do_copy(self->fd, 0, other, self->ioas, x, PAGE,
				  &dst));
	EXPECT_EQ(EINVAL, do_copy(self->fd, IOMMU_IOAS_MAP_FIXED_IOVA, other,
				  self->ioas, x, PAGE, &dst));
	EXPECT_EQ(EINVAL, do_copy(self->fd, MAP_RW, other, self->ioas, x, 0,
				  &dst));
	/* Holes in the source. */
	EXPECT_EQ(ENOENT, do_copy(self->fd, MAP_RW, other, self->ioas,
				  x - PAGE, 2 * PAGE, &dst));
	EXPECT_EQ(ENOENT, do_copy(self->fd, MAP_RW, other, self->ioas,
				  x + 4 * PAGE, 8 * PAGE, &dst));
	EXPECT_EQ(ENOENT, do_copy(self->fd, MAP_RW, other, self->ioas,
				  x + 8 * PAGE, PAGE, &dst));
	EXPECT_EQ(ENOENT, do_copy(self->fd, MAP_RW, other, self->ioas, 0,
				  PAGE, &dst));
	/* Unknown IOAS on either side. */
	EXPECT_EQ(ENOENT, do_copy(self->fd, MAP_RW, other, 5555, x, PAGE,
				  &dst));
	EXPECT_EQ(ENOENT, do_copy(self->fd, MAP_RW, 5555, self->ioas, x, PAGE,
				  &dst));
	EXPECT_EQ(ENOENT, do_copy(self->fd, MAP_RW, 0, self->ioas, x, PAGE,
				  &dst));
	/* Out of range values. */
	EXPECT_EQ(EOVERFLOW, do_copy(self->fd, MAP_RW, other, self->ioas, x,
				     UINT64_MAX, &dst));
	EXPECT_EQ(EOVERFLOW, do_copy(self->fd, MAP_RW, other, self->ioas,
				     UINT64_MAX, PAGE, &dst));
	dst = UINT64_MAX;
	EXPECT_EQ(EOVERFLOW, do_copy(self->fd, FIXED_RW, other, self->ioas, x,
				     PAGE, &dst));
	dst = 0;
	EXPECT_EQ(EOVERFLOW, do_copy(self->fd, MAP_RW, other, self->ioas,
				     UINT64_MAX - PAGE + 1, 2 * PAGE, &dst));
	/* Fixed destination that wraps. */
	dst = UINT64_MAX - PAGE + 1;
	EXPECT_EQ(EOVERFLOW, do_copy(self->fd, FIXED_RW, other, self->ioas, x,
				     2 * PAGE, &dst));
	/* Nothing landed anywhere. */
	EXPECT_EQ(0, unmap_every(self->fd, other, &got));
	EXPECT_EQ(0, got);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(8 * PAGE, got);
}

TEST_F(space, copy_spans_adjacent_areas)
{
	const uint64_t x = 4 * MIB, y = 40 * MIB;
	uint64_t dst = y, got = 0;
	uint32_t other;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf + 32 * PAGE,
			       4 * PAGE, x));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
			       x + 4 * PAGE));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf + 100 * PAGE,
			       2 * PAGE, x + 8 * PAGE));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       x + 11 * PAGE));
	/* Three areas in one go, starting and ending mid-area. */
	ASSERT_EQ(0, do_copy(self->fd, FIXED_RW, other, self->ioas,
			     x + 2 * PAGE, 7 * PAGE, &dst));
	EXPECT_EQ(y, dst);
	/* A hole at x + 10 pages stops a longer copy. */
	dst = y + 64 * PAGE;
	EXPECT_EQ(ENOENT, do_copy(self->fd, FIXED_RW, other, self->ioas, x,
				  12 * PAGE, &dst));
	EXPECT_EQ(0, ioas_unmap(self->fd, other, y, 7 * PAGE, &got));
	EXPECT_EQ(7 * PAGE, got);
	EXPECT_EQ(0, unmap_every(self->fd, other, &got));
	EXPECT_EQ(0, got);
	/* All of the first three, automatically placed. */
	ASSERT_EQ(0, do_copy(self->fd, MAP_RW, other, self->ioas, x,
			     10 * PAGE, &dst));
	EXPECT_NE(0, dst);
	EXPECT_EQ(0, ioas_unmap(self->fd, other, dst, 10 * PAGE, &got));
	EXPECT_EQ(10 * PAGE, got);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(11 * PAGE, got);
}

TEST_F(space, copy_middle_of_area)
{
	const uint64_t x = 2 * MIB, y = 6 * MIB;
	uint64_t dst = y, got = 0;
	uint32_t other;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 16 * PAGE, x));
	ASSERT_EQ(0, do_copy(self->fd, FIXED_RW, other, self->ioas,
			     x + 5 * PAGE, 3 * PAGE, &dst));
	/* Byte-granular too, with no domain. */
	dst = y + MIB;
	ASSERT_EQ(0, do_copy(self->fd, FIXED_RW, other, self->ioas, x + 0x10,
			     0x30, &dst));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, other, y, PAGE, NULL));
	EXPECT_EQ(0, ioas_unmap(self->fd, other, y, 3 * PAGE, &got));
	EXPECT_EQ(3 * PAGE, got);
	EXPECT_EQ(0, ioas_unmap(self->fd, other, y + MIB, 0x30, &got));
	EXPECT_EQ(0x30, got);
	/* The source is untouched. */
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 16 * PAGE, &got));
	EXPECT_EQ(16 * PAGE, got);
}

TEST_F(space, copy_write_of_readonly)
{
	const uint64_t x = MIB;
	uint64_t ro = x, dst = 0, got = 0;
	uint32_t other;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->buf, 4 * PAGE, &ro,
			      IOMMU_IOAS_MAP_FIXED_IOVA |
			      IOMMU_IOAS_MAP_READABLE));
	EXPECT_EQ(EPERM, do_copy(self->fd, MAP_RW, other, self->ioas, x,
				 4 * PAGE, &dst));
	dst = 0;
	EXPECT_EQ(EPERM, do_copy(self->fd, IOMMU_IOAS_MAP_WRITEABLE, other,
				 self->ioas, x + PAGE, PAGE, &dst));
	EXPECT_EQ(0, unmap_every(self->fd, other, &got));
	EXPECT_EQ(0, got);
	dst = 0;
	ASSERT_EQ(0, do_copy(self->fd, IOMMU_IOAS_MAP_READABLE, other,
			     self->ioas, x, 4 * PAGE, &dst));
	EXPECT_EQ(0, ioas_unmap(self->fd, other, dst, 4 * PAGE, &got));
	EXPECT_EQ(4 * PAGE, got);
	/* A writeable area copied read-only is fine as well. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       x + 4 * PAGE));
	dst = 0;
	ASSERT_EQ(0, do_copy(self->fd, IOMMU_IOAS_MAP_READABLE, other,
			     self->ioas, x + 4 * PAGE, PAGE, &dst));
	EXPECT_EQ(0, unmap_every(self->fd, other, &got));
	EXPECT_EQ(PAGE, got);
}

TEST_F(space, copy_destination_busy_or_chosen)
{
	const uint64_t x = MIB, y = 16 * MIB;
	uint64_t dst, got = 0;
	uint32_t other;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 16 * PAGE, x));
	ASSERT_EQ(0, map_fixed(self->fd, other, self->buf, 4 * PAGE, y));
	dst = y;
	EXPECT_EQ(EEXIST, do_copy(self->fd, FIXED_RW, other, self->ioas, x,
				  PAGE, &dst));
	dst = y - 2 * PAGE;
	EXPECT_EQ(EEXIST, do_copy(self->fd, FIXED_RW, other, self->ioas, x,
				  4 * PAGE, &dst));
	dst = y + 3 * PAGE;
	EXPECT_EQ(EEXIST, do_copy(self->fd, FIXED_RW, other, self->ioas, x,
				  8 * PAGE, &dst));
	dst = y - 8 * PAGE;
	EXPECT_EQ(EEXIST, do_copy(self->fd, FIXED_RW, other, self->ioas, x,
				  8 * PAGE + 1, &dst));
	dst = y - 8 * PAGE;
	ASSERT_EQ(0, do_copy(self->fd, FIXED_RW, other, self->ioas, x,
			     8 * PAGE, &dst));
	EXPECT_EQ(y - 8 * PAGE, dst);
	/* Chosen by the kernel, clear of what is there. */
	dst = y;
	ASSERT_EQ(0, do_copy(self->fd, MAP_RW, other, self->ioas, x, 8 * PAGE,
			     &dst));
	EXPECT_NE(0, dst);
	EXPECT_FALSE(spans_meet(dst, 8 * PAGE, y - 8 * PAGE, 12 * PAGE));
	EXPECT_EQ(0, ioas_unmap(self->fd, other, dst, 8 * PAGE, &got));
	EXPECT_EQ(8 * PAGE, got);
	EXPECT_EQ(0, unmap_every(self->fd, other, &got));
	EXPECT_EQ(12 * PAGE, got);
}

TEST_F(space, copy_into_same_ioas)
{
	const uint64_t x = MIB;
	uint64_t dst = x + 100 * PAGE, got = 0;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 8 * PAGE, x));
	ASSERT_EQ(0, do_copy(self->fd, FIXED_RW, self->ioas, self->ioas, x,
			     8 * PAGE, &dst));
	EXPECT_EQ(x + 100 * PAGE, dst);
	/* Onto itself is an overlap. */
	dst = x + 4 * PAGE;
	EXPECT_EQ(EEXIST, do_copy(self->fd, FIXED_RW, self->ioas, self->ioas,
				  x, 8 * PAGE, &dst));
	/* A copy of the copy. */
	ASSERT_EQ(0, do_copy(self->fd, MAP_RW, self->ioas, self->ioas,
			     x + 102 * PAGE, 2 * PAGE, &dst));
	EXPECT_FALSE(spans_meet(dst, 2 * PAGE, x, 8 * PAGE));
	EXPECT_FALSE(spans_meet(dst, 2 * PAGE, x + 100 * PAGE, 8 * PAGE));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 8 * PAGE, &got));
	EXPECT_EQ(8 * PAGE, got);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, dst, 2 * PAGE, &got));
	EXPECT_EQ(2 * PAGE, got);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(8 * PAGE, got);
}

TEST_F(space, copy_outlives_source)
{
	const uint64_t x = 3 * MIB, y = 9 * MIB;
	uint64_t dst = y, got = 0;
	uint32_t other, third;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, ioas_alloc(self->fd, &third));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 16 * PAGE, x));
	ASSERT_EQ(0, do_copy(self->fd, FIXED_RW, other, self->ioas, x,
			     16 * PAGE, &dst));
	dst = y;
	ASSERT_EQ(0, do_copy(self->fd, FIXED_RW, third, self->ioas, x,
			     16 * PAGE, &dst));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 16 * PAGE, &got));
	EXPECT_EQ(16 * PAGE, got);
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x, 16 * PAGE,
				     NULL));
	EXPECT_EQ(0, ioas_unmap(self->fd, other, y, 16 * PAGE, &got));
	EXPECT_EQ(16 * PAGE, got);
	/* Even the source IOAS going away leaves the copy alone. */
	ASSERT_EQ(0, obj_destroy(self->fd, self->ioas));
	dst = 0;
	ASSERT_EQ(0, do_copy(self->fd, FIXED_RW, other, third, y + 4 * PAGE,
			     4 * PAGE, &dst));
	EXPECT_EQ(0, ioas_unmap(self->fd, third, y, 16 * PAGE, &got));
	EXPECT_EQ(16 * PAGE, got);
	EXPECT_EQ(0, unmap_every(self->fd, other, &got));
	EXPECT_EQ(4 * PAGE, got);
}

TEST_F(space, copy_shares_pinned_pages)
{
	const uint64_t x = MIB, y = 5 * MIB;
	uint32_t other, pa, pb;
	uint64_t dst = y;
	int afd, bfd;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 16 * PAGE, x));
	/* Pages 4..11 of the buffer appear in the second IOAS at y. */
	ASSERT_EQ(0, do_copy(self->fd, FIXED_RW, other, self->ioas,
			     x + 4 * PAGE, 8 * PAGE, &dst));
	ASSERT_EQ(0, new_access(self->fd, self->ioas, &afd));
	ASSERT_EQ(0, new_access(self->fd, other, &bfd));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 16 * PAGE, 0));

	/* Pages 0..7 through the source, 4..11 through the copy. */
	ASSERT_EQ(0, pin_through(self->fd, afd, x, 8 * PAGE, self->buf, &pa));
	EXPECT_EQ(self->pin0 + 32, proc_status_kb("VmPin"));
	ASSERT_EQ(0, pin_through(self->fd, bfd, y, 8 * PAGE,
				 self->buf + 4 * PAGE, &pb));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 12 * PAGE, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 12 * PAGE, 4 * PAGE, 0));
	EXPECT_EQ(self->pin0 + 48, proc_status_kb("VmPin"));

	ASSERT_EQ(0, unpin_through(self->fd, afd, pa));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * PAGE, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 4 * PAGE, 8 * PAGE, 1));
	EXPECT_EQ(self->pin0 + 32, proc_status_kb("VmPin"));
	ASSERT_EQ(0, unpin_through(self->fd, bfd, pb));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 16 * PAGE, 0));
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));

	/* Once more over the very same pages from both sides. */
	ASSERT_EQ(0, pin_through(self->fd, bfd, y, 8 * PAGE,
				 self->buf + 4 * PAGE, &pb));
	ASSERT_EQ(0, pin_through(self->fd, afd, x + 4 * PAGE, 8 * PAGE,
				 self->buf + 4 * PAGE, &pa));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 4 * PAGE, 8 * PAGE, 1));
	EXPECT_EQ(self->pin0 + 32, proc_status_kb("VmPin"));
	ASSERT_EQ(0, unpin_through(self->fd, bfd, pb));
	ASSERT_EQ(0, unpin_through(self->fd, afd, pa));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 16 * PAGE, 0));
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	close(afd);
	close(bfd);
}

/* ---- IOMMU_IOAS_IOVA_RANGES ----------------------------------------------- */

TEST_F(space, ranges_bad_arguments)
{
	struct iommu_iova_range r[2];
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas,
		.num_iovas = 2,
		.allowed_iovas = (uintptr_t)r,
		.__reserved = 1,
	};
	uint32_t num = 2;

	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_IOVA_RANGES,
					  &cmd));
	EXPECT_EQ(ENOENT, query_ranges(self->fd, 0, r, &num, NULL));
	EXPECT_EQ(ENOENT, query_ranges(self->fd, self->ioas + 3, r, &num,
				       NULL));
}

TEST_F(space, ranges_fresh_ioas)
{
	struct iommu_iova_range r[3];
	uint64_t align = 0;
	uint32_t num = 3;

	memset(r, 0x5c, sizeof(r));
	ASSERT_EQ(0, query_ranges(self->fd, self->ioas, r, &num, &align));
	EXPECT_EQ(1, num);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(UINT64_MAX, r[0].last);
	EXPECT_EQ(1, align);
	EXPECT_EQ(0x5c5c5c5c5c5c5c5cULL, r[1].start);
	/* Mappings don't change it. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE, MIB));
	num = 3;
	ASSERT_EQ(0, query_ranges(self->fd, self->ioas, r, &num, &align));
	EXPECT_EQ(1, num);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(UINT64_MAX, r[0].last);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, PAGE, NULL));
}

TEST_F(space, ranges_around_reserved)
{
	struct iommu_iova_range r[4];
	uint32_t num = 4, other;

	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 16 * MIB, MIB));
	ASSERT_EQ(0, query_ranges(self->fd, self->ioas, r, &num, NULL));
	ASSERT_EQ(2, num);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(16 * MIB - 1, r[0].last);
	EXPECT_EQ(17 * MIB, r[1].start);
	EXPECT_EQ(UINT64_MAX, r[1].last);

	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 64 * MIB, 4 * PAGE));
	num = 4;
	ASSERT_EQ(0, query_ranges(self->fd, self->ioas, r, &num, NULL));
	ASSERT_EQ(3, num);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(16 * MIB - 1, r[0].last);
	EXPECT_EQ(17 * MIB, r[1].start);
	EXPECT_EQ(64 * MIB - 1, r[1].last);
	EXPECT_EQ(64 * MIB + 4 * PAGE, r[2].start);
	EXPECT_EQ(UINT64_MAX, r[2].last);

	/* One touching an existing one leaves no hole between them. */
	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 17 * MIB, MIB));
	num = 4;
	ASSERT_EQ(0, query_ranges(self->fd, self->ioas, r, &num, NULL));
	ASSERT_EQ(3, num);
	EXPECT_EQ(18 * MIB, r[1].start);
	EXPECT_EQ(64 * MIB - 1, r[1].last);

	/* Reserved from 0 and up to the top: one hole in the middle. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, reserve_range(self->fd, other, 0, MIB));
	ASSERT_EQ(0, reserve_range(self->fd, other, UINT64_MAX - MIB + 1, MIB));
	num = 4;
	ASSERT_EQ(0, query_ranges(self->fd, other, r, &num, NULL));
	ASSERT_EQ(1, num);
	EXPECT_EQ(MIB, r[0].start);
	EXPECT_EQ(UINT64_MAX - MIB, r[0].last);
}

TEST_F(space, ranges_too_small)
{
	struct iommu_iova_range r[4];
	uint32_t num, fresh;

	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 16 * MIB, MIB));
	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 32 * MIB, MIB));

	num = 0;
	EXPECT_EQ(EMSGSIZE, query_ranges(self->fd, self->ioas, NULL, &num,
					 NULL));
	EXPECT_EQ(3, num);

	memset(r, 0xee, sizeof(r));
	num = 1;
	EXPECT_EQ(EMSGSIZE, query_ranges(self->fd, self->ioas, r, &num, NULL));
	EXPECT_EQ(3, num);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(16 * MIB - 1, r[0].last);
	EXPECT_EQ(0xeeeeeeeeeeeeeeeeULL, r[1].start);
	EXPECT_EQ(0xeeeeeeeeeeeeeeeeULL, r[1].last);

	memset(r, 0xee, sizeof(r));
	num = 2;
	EXPECT_EQ(EMSGSIZE, query_ranges(self->fd, self->ioas, r, &num, NULL));
	EXPECT_EQ(3, num);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(17 * MIB, r[1].start);
	EXPECT_EQ(32 * MIB - 1, r[1].last);
	EXPECT_EQ(0xeeeeeeeeeeeeeeeeULL, r[2].start);

	/* Exactly enough, and more than enough. */
	num = 3;
	EXPECT_EQ(0, query_ranges(self->fd, self->ioas, r, &num, NULL));
	EXPECT_EQ(3, num);
	EXPECT_EQ(33 * MIB, r[2].start);
	EXPECT_EQ(UINT64_MAX, r[2].last);
	memset(r, 0xee, sizeof(r));
	num = 4;
	EXPECT_EQ(0, query_ranges(self->fd, self->ioas, r, &num, NULL));
	EXPECT_EQ(3, num);
	EXPECT_EQ(0xeeeeeeeeeeeeeeeeULL, r[3].start);

	/* A fresh IOAS needs one. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &fresh));
	num = 0;
	EXPECT_EQ(EMSGSIZE, query_ranges(self->fd, fresh, NULL, &num, NULL));
	EXPECT_EQ(1, num);
}

TEST_F(space, ranges_ignore_allowed)
{
	const struct iommu_iova_range allow[2] = {
		{ .start = 8 * MIB, .last = 9 * MIB - 1 },
		{ .start = 40 * MIB, .last = 80 * MIB - 1 },
	};
	struct iommu_iova_range r[4];
	uint32_t num = 4;

	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 16 * MIB, MIB));
	ASSERT_EQ(0, allow_ranges(self->fd, self->ioas, allow, 2));
	ASSERT_EQ(0, query_ranges(self->fd, self->ioas, r, &num, NULL));
	ASSERT_EQ(2, num);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(16 * MIB - 1, r[0].last);
	EXPECT_EQ(17 * MIB, r[1].start);
	EXPECT_EQ(UINT64_MAX, r[1].last);
}

/* ---- IOMMU_IOAS_ALLOW_IOVAS ----------------------------------------------- */

TEST_F(space, allow_bad_ranges)
{
	struct iommu_iova_range r[3] = {
		{ .start = 4 * MIB, .last = 8 * MIB - 1 },
		{ .start = 16 * MIB, .last = 17 * MIB - 1 },
	};
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas,
		.num_iovas = 1,
		.allowed_iovas = (uintptr_t)r,
		.__reserved = 1,
	};

	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_ALLOW_IOVAS,
					  &cmd));
	EXPECT_EQ(ENOENT, allow_ranges(self->fd, 9191, r, 1));
	/* last before start, and a single byte (start == last). */
	r[1].start = 17 * MIB;
	r[1].last = 16 * MIB;
	EXPECT_EQ(EINVAL, allow_ranges(self->fd, self->ioas, r, 2));
	r[1].start = 16 * MIB;
	r[1].last = 16 * MIB;
	EXPECT_EQ(EINVAL, allow_ranges(self->fd, self->ioas, r, 2));
	r[1].last = 16 * MIB + 1;
	EXPECT_EQ(0, allow_ranges(self->fd, self->ioas, r, 2));
	/* Overlapping each other, in either order. */
	r[1].start = 8 * MIB - 1;
	r[1].last = 9 * MIB;
	EXPECT_EQ(EINVAL, allow_ranges(self->fd, self->ioas, r, 2));
	r[1].start = MIB;
	r[1].last = 4 * MIB;
	EXPECT_EQ(EINVAL, allow_ranges(self->fd, self->ioas, r, 2));
	r[1].start = 5 * MIB;
	r[1].last = 6 * MIB;
	EXPECT_EQ(EINVAL, allow_ranges(self->fd, self->ioas, r, 2));
	r[2] = r[0];
	r[1].start = 30 * MIB;
	r[1].last = 31 * MIB;
	EXPECT_EQ(EINVAL, allow_ranges(self->fd, self->ioas, r, 3));
	/* Touching is not overlapping. */
	r[1].start = 8 * MIB;
	r[1].last = 9 * MIB - 1;
	EXPECT_EQ(0, allow_ranges(self->fd, self->ioas, r, 2));
	EXPECT_EQ(0, allow_ranges(self->fd, self->ioas, NULL, 0));
}

TEST_F(space, allow_failure_keeps_old_set)
{
	const struct iommu_iova_range good = {
		.start = 64 * MIB,
		.last = 65 * MIB - 1,
	};
	struct iommu_iova_range bad[2] = {
		{ .start = 128 * MIB, .last = 129 * MIB - 1 },
		{ .start = 4 * MIB, .last = 5 * MIB - 1 },
	};
	uint64_t iova, got = 0;
	unsigned int i;

	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 4 * MIB + PAGE,
				   PAGE));
	ASSERT_EQ(0, allow_ranges(self->fd, self->ioas, &good, 1));
	/* Intersects the reserved page. */
	EXPECT_EQ(EADDRINUSE, allow_ranges(self->fd, self->ioas, bad, 2));
	bad[1].start = 4 * MIB + 2 * PAGE - 1;
	bad[1].last = 4 * MIB + 2 * PAGE;
	EXPECT_EQ(EADDRINUSE, allow_ranges(self->fd, self->ioas, bad, 2));
	/* Malformed. */
	bad[1].start = 128 * MIB + 5;
	bad[1].last = 200 * MIB;
	EXPECT_EQ(EINVAL, allow_ranges(self->fd, self->ioas, bad, 2));
	bad[1].start = 200 * MIB;
	bad[1].last = 200 * MIB;
	EXPECT_EQ(EINVAL, allow_ranges(self->fd, self->ioas, bad, 2));
	/* Automatic placement still honours the old range only. */
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf, 4 * PAGE,
				     &iova));
		EXPECT_LE(good.start, iova);
		EXPECT_GE(good.last, iova + 4 * PAGE - 1);
	}
	/* And reserving inside it is still refused. */
	EXPECT_EQ(EADDRINUSE, reserve_range(self->fd, self->ioas,
					    65 * MIB - PAGE, PAGE));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(32 * PAGE, got);
}

TEST_F(space, allow_cleared_by_empty_set)
{
	const struct iommu_iova_range r = {
		.start = 300 * MIB,
		.last = 301 * MIB - 1,
	};
	uint64_t iova, got = 0;

	ASSERT_EQ(0, allow_ranges(self->fd, self->ioas, &r, 1));
	ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf, PAGE, &iova));
	EXPECT_LE(r.start, iova);
	EXPECT_EQ(EADDRINUSE, reserve_range(self->fd, self->ioas, r.last, 1));
	ASSERT_EQ(0, allow_ranges(self->fd, self->ioas, NULL, 0));
	/* No longer allowed: reserving there works now. */
	EXPECT_EQ(0, reserve_range(self->fd, self->ioas, r.last, 1));
	/* Fill the rest of the old range: placement must go elsewhere. */
	if (iova > r.start)
		ASSERT_EQ(0, reserve_range(self->fd, self->ioas, r.start,
					   iova - r.start));
	if (iova + PAGE < r.last)
		ASSERT_EQ(0, reserve_range(self->fd, self->ioas, iova + PAGE,
					   r.last - iova - PAGE));
	ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf, 64 * PAGE,
			     &iova));
	EXPECT_FALSE(spans_meet(iova, 64 * PAGE, r.start, r.last - r.start + 1));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(65 * PAGE, got);
}

TEST_F(space, reserve_conflicts)
{
	const struct iommu_iova_range r = {
		.start = 16 * MIB,
		.last = 18 * MIB - 1,
	};
	uint64_t got = 0;

	ASSERT_EQ(0, allow_ranges(self->fd, self->ioas, &r, 1));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
			       64 * MIB));
	EXPECT_EQ(EADDRINUSE, reserve_range(self->fd, self->ioas, r.start,
					    PAGE));
	EXPECT_EQ(EADDRINUSE, reserve_range(self->fd, self->ioas,
					    r.start - PAGE, 2 * PAGE));
	EXPECT_EQ(EADDRINUSE, reserve_range(self->fd, self->ioas, 0,
					    1ULL << 40));
	EXPECT_EQ(EADDRINUSE, reserve_range(self->fd, self->ioas,
					    64 * MIB + 3 * PAGE, 2 * PAGE));
	EXPECT_EQ(EADDRINUSE, reserve_range(self->fd, self->ioas, 60 * MIB,
					    8 * MIB));
	/* Right next to both is fine. */
	EXPECT_EQ(0, reserve_range(self->fd, self->ioas, r.start - PAGE,
				   PAGE));
	EXPECT_EQ(0, reserve_range(self->fd, self->ioas, r.last + 1, PAGE));
	EXPECT_EQ(0, reserve_range(self->fd, self->ioas, 64 * MIB + 4 * PAGE,
				   PAGE));
	EXPECT_EQ(0, reserve_range(self->fd, self->ioas, 64 * MIB - PAGE,
				   PAGE));
	/* The mapping is still there. */
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(4 * PAGE, got);
	/* Once it is gone, its place can be reserved. */
	EXPECT_EQ(0, reserve_range(self->fd, self->ioas, 64 * MIB, 4 * PAGE));
}

/* ---- IOMMU_OPTION on an IOAS ---------------------------------------------- */

TEST_F(space, option_huge_pages)
{
	uint64_t val = 77, got = 0;

	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_GET, self->ioas, &val));
	EXPECT_EQ(1, val);
	/* With no domain, mappings don't stand in the way. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 8 * PAGE,
			       MIB));
	val = 0;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_SET, self->ioas, &val));
	val = 77;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_GET, self->ioas, &val));
	EXPECT_EQ(0, val);
	val = 2;
	EXPECT_EQ(EINVAL, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
				    IOMMU_OPTION_OP_SET, self->ioas, &val));
	val = UINT64_MAX;
	EXPECT_EQ(EINVAL, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
				    IOMMU_OPTION_OP_SET, self->ioas, &val));
	val = 77;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_GET, self->ioas, &val));
	EXPECT_EQ(0, val);
	val = 1;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_SET, self->ioas, &val));
	val = 77;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_GET, self->ioas, &val));
	EXPECT_EQ(1, val);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(8 * PAGE, got);
}

/* ---- lifetime ----------------------------------------------------------- */

TEST_F(space, destroy_with_mappings)
{
	uint64_t iova, dst = 0, got = 0;
	uint32_t other;
	int i;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, reserve_range(self->fd, self->ioas, 512 * MIB, MIB));
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, map_fixed(self->fd, self->ioas,
				       self->buf + i * PAGE, PAGE,
				       MIB + i * 2 * PAGE));
	ASSERT_EQ(0, map_any(self->fd, self->ioas, self->buf, BUF_SIZE, &iova));
	ASSERT_EQ(0, do_copy(self->fd, MAP_RW, other, self->ioas, iova,
			     BUF_SIZE, &dst));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
	EXPECT_EQ(ENOENT, map_fixed(self->fd, self->ioas, self->buf, PAGE,
				    PAGE));
	EXPECT_EQ(ENOENT, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(0, ioas_unmap(self->fd, other, dst, BUF_SIZE, &got));
	EXPECT_EQ(BUF_SIZE, got);
	EXPECT_EQ(0, obj_destroy(self->fd, other));
}

TEST_F(space, close_with_mappings)
{
	uint64_t iova, dst;
	uint32_t a, b;
	int round, i, fd;

	for (round = 0; round < 8; round++) {
		fd = open(IOMMU_DEV, O_RDWR);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ioas_alloc(fd, &a));
		ASSERT_EQ(0, ioas_alloc(fd, &b));
		for (i = 0; i < 100; i++)
			ASSERT_EQ(0, map_any(fd, a, self->buf + (i % 16) * PAGE,
					     (1 + i % 3) * PAGE, &iova));
		ASSERT_EQ(0, reserve_range(fd, b, 0, MIB));
		dst = 0;
		ASSERT_EQ(0, do_copy(fd, MAP_RW, b, a, iova, PAGE, &dst));
		ASSERT_EQ(0, allow_ranges(fd, a,
					  &(struct iommu_iova_range){
						  .start = 1ULL << 40,
						  .last = (1ULL << 41) - 1 },
					  1));
		ASSERT_EQ(0, close(fd));
	}
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
}

/* ---- many areas ------------------------------------------------------------ */

TEST_F(space, ten_thousand_areas)
{
	const unsigned int n = 10000;
	const uint64_t base = 1ULL << 32;
	uint64_t got = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, map_fixed(self->fd, self->ioas,
				       self->buf + (i % BUF_PAGES) * PAGE, PAGE,
				       base + (uint64_t)i * 2 * PAGE))
			TH_LOG("area %u", i);
	EXPECT_EQ(EEXIST, map_fixed(self->fd, self->ioas, self->buf, 2 * PAGE,
				    base + 4999 * 2 * PAGE + PAGE));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, base + PAGE, PAGE,
				     NULL));
	/* The first half in one call, then the rest with unmap-all. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, base,
				(uint64_t)n / 2 * 2 * PAGE, &got));
	EXPECT_EQ((uint64_t)n / 2 * PAGE, got);
	ASSERT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ((uint64_t)n / 2 * PAGE, got);

	/* Again, back to back, each a different size. */
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf,
				       1 + i % 64, base + (uint64_t)i * 64));
	ASSERT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ((uint64_t)(n / 64) * (64 * 65 / 2) +
		  (uint64_t)(n % 64) * (n % 64 + 1) / 2, got);
}

/* ---- randomised against a model ------------------------------------------ */

#define RND_PAGES 64
#define RND_OPS 3000
#define RND_BASE (1ULL << 30)

struct rnd_area {
	int start, n;
};

struct rnd_model {
	int owner[RND_PAGES];	/* area index, or -1 */
	struct rnd_area *area;
	int nr;
};

static void rnd_add(struct rnd_model *m, int start, int n)
{
	int i, id = m->nr++;

	m->area[id].start = start;
	m->area[id].n = n;
	for (i = start; i < start + n; i++)
		m->owner[i] = id;
}

static void rnd_drop(struct rnd_model *m, int id)
{
	int i;

	for (i = m->area[id].start; i < m->area[id].start + m->area[id].n; i++)
		m->owner[i] = -1;
}

static bool rnd_busy(const struct rnd_model *m, int start, int n)
{
	int i;

	for (i = start; i < start + n; i++)
		if (m->owner[i] >= 0)
			return true;
	return false;
}

static uint64_t rnd_mapped_pages(const struct rnd_model *m)
{
	uint64_t cnt = 0;
	int i;

	for (i = 0; i < RND_PAGES; i++)
		cnt += m->owner[i] >= 0;
	return cnt;
}

/* A random mapped page, or -1. */
static int rnd_some_mapped(const struct rnd_model *m)
{
	int k, i, cnt = rnd_mapped_pages(m);

	if (!cnt)
		return -1;
	k = rand() % cnt;
	for (i = 0; i < RND_PAGES; i++)
		if (m->owner[i] >= 0 && !k--)
			return i;
	return -1;
}

static uint64_t rnd_iova(int page)
{
	return RND_BASE + (uint64_t)page * PAGE;
}

TEST_F(space, random_against_model)
{
	struct rnd_model m = { .nr = 0 };
	unsigned long maps = 0, unmaps = 0, copies = 0, ok = 0, gone = 0;
	int op, i, s, n, d, p, e;
	uint64_t got = 0, dst, want;

	m.area = calloc(RND_OPS * 8 + 16, sizeof(*m.area));
	ASSERT_NE(NULL, m.area);
	for (i = 0; i < RND_PAGES; i++)
		m.owner[i] = -1;
	srand(20241112);

	for (op = 0; op < RND_OPS; op++) {
		int kind = rand() % 100;

		if (kind < 40) {
			maps++;
			n = 1 + rand() % 8;
			s = rand() % (RND_PAGES - n + 1);
			e = rnd_busy(&m, s, n) ? EEXIST : 0;
			ASSERT_EQ(e, map_fixed(self->fd, self->ioas,
					       self->buf + s * PAGE, n * PAGE,
					       rnd_iova(s)))
				TH_LOG("op %d: map pages %d+%d", op, s, n);
			if (!e) {
				rnd_add(&m, s, n);
				ok++;
			}
		} else if (kind < 75) {
			int ids[RND_PAGES], nids = 0, cut = -1;

			unmaps++;
			p = rand() % 2 ? rnd_some_mapped(&m) : -1;
			if (p >= 0) {
				/* Around a live area, maybe a bit wider. */
				struct rnd_area *a = &m.area[m.owner[p]];

				s = a->start;
				e = a->start + a->n;
				if (rand() % 3 == 0) {
					int k = rand() % 4;

					s = s > k ? s - k : 0;
				}
				if (rand() % 2)
					e += rand() % 12;
				if (e > RND_PAGES)
					e = RND_PAGES;
				n = e - s;
			} else {
				s = rand() % RND_PAGES;
				n = 1 + rand() % (RND_PAGES - s < 16 ?
						  RND_PAGES - s : 16);
			}
			for (i = s; i < s + n; i++) {
				int id = m.owner[i];

				if (id < 0 || (nids && ids[nids - 1] == id))
					continue;
				ids[nids++] = id;
				if (cut < 0 &&
				    (m.area[id].start < s ||
				     m.area[id].start + m.area[id].n > s + n))
					cut = nids - 1;
			}
			want = 0;
			for (i = 0; i < nids; i++)
				want += (uint64_t)m.area[ids[i]].n * PAGE;
			e = (!nids || cut >= 0) ? ENOENT : 0;
			got = 0;
			ASSERT_EQ(e, ioas_unmap(self->fd, self->ioas,
						rnd_iova(s), n * PAGE, &got))
				TH_LOG("op %d: unmap pages %d+%d", op, s, n);
			if (!e) {
				EXPECT_EQ(want, got);
				for (i = 0; i < nids; i++)
					rnd_drop(&m, ids[i]);
				ok++;
			} else if (cut > 0) {
				/*
				 * Whole areas before the cut one may or may
				 * not have gone already: settle them one by
				 * one. The cut one and those after it stay.
				 */
				for (i = 0; i < cut; i++) {
					struct rnd_area *a = &m.area[ids[i]];
					int rc;

					rc = ioas_unmap(self->fd, self->ioas,
							rnd_iova(a->start),
							a->n * PAGE, &got);
					if (rc == ENOENT) {
						gone++;
					} else {
						ASSERT_EQ(0, rc);
						EXPECT_EQ(a->n * PAGE, got);
					}
					rnd_drop(&m, ids[i]);
				}
			}
		} else if (kind < 99) {
			copies++;
			n = 1 + rand() % 8;
			p = rand() % 3 ? rnd_some_mapped(&m) : -1;
			if (p >= 0 && p + n <= RND_PAGES)
				s = p;
			else
				s = rand() % (RND_PAGES - n + 1);
			d = rand() % (RND_PAGES - n + 1);
			for (i = s; i < s + n && m.owner[i] >= 0; i++)
				;
			if (i < s + n)
				e = ENOENT;
			else if (rnd_busy(&m, d, n))
				e = EEXIST;
			else
				e = 0;
			dst = rnd_iova(d);
			ASSERT_EQ(e, do_copy(self->fd, FIXED_RW, self->ioas,
					     self->ioas, rnd_iova(s), n * PAGE,
					     &dst))
				TH_LOG("op %d: copy pages %d+%d to %d", op, s,
				       n, d);
			if (!e) {
				/* One new area per source area touched. */
				int from = s, pieces[RND_PAGES][2], np = 0;

				for (i = s + 1; i <= s + n; i++) {
					if (i < s + n &&
					    m.owner[i] == m.owner[from])
						continue;
					pieces[np][0] = d + (from - s);
					pieces[np][1] = i - from;
					np++;
					from = i;
				}
				for (i = 0; i < np; i++)
					rnd_add(&m, pieces[i][0],
						pieces[i][1]);
				ok++;
			}
		} else {
			want = rnd_mapped_pages(&m) * PAGE;
			ASSERT_EQ(0, unmap_every(self->fd, self->ioas, &got));
			EXPECT_EQ(want, got);
			for (i = 0; i < RND_PAGES; i++)
				m.owner[i] = -1;
		}
	}
	want = rnd_mapped_pages(&m) * PAGE;
	ASSERT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(want, got);
	TH_LOG("%lu maps, %lu unmaps, %lu copies, %lu succeeded", maps,
	       unmaps, copies, ok);
	TH_LOG("%lu areas were already gone after a failed unmap", gone);
	free(m.area);
}

/* ---- threads ------------------------------------------------------------- */

struct worker {
	int fd;
	uint32_t ioas;
	unsigned char *buf;
	uint64_t base;
	int done;
};

static void *worker_loop(void *arg)
{
	struct worker *w = arg;
	uint64_t iova, len, got = 0;
	int i;

	for (i = 0; i < 500; i++) {
		iova = w->base + (uint64_t)(i % 16) * 16 * PAGE;
		len = (1 + i % 4) * PAGE;
		if (map_fixed(w->fd, w->ioas, w->buf, len, iova))
			return (void *)1L;
		if (map_fixed(w->fd, w->ioas, w->buf + len, PAGE, iova + len))
			return (void *)2L;
		if (map_fixed(w->fd, w->ioas, w->buf, PAGE, iova) != EEXIST)
			return (void *)3L;
		if (ioas_unmap(w->fd, w->ioas, iova, len + PAGE, &got))
			return (void *)4L;
		if (got != len + PAGE)
			return (void *)5L;
		w->done++;
	}
	return NULL;
}

TEST_F(space, threads_disjoint_ranges)
{
	struct worker w[4];
	pthread_t th[4];
	uint64_t got = 0;
	void *ret;
	int i;

	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){
			.fd = self->fd,
			.ioas = self->ioas,
			.buf = self->buf + i * 16 * PAGE,
			.base = (uint64_t)(i + 1) << 28,
		};
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker_loop, &w[i]));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &ret));
		EXPECT_EQ(NULL, ret) TH_LOG("worker %d failed at step %d", i,
					    w[i].done);
		EXPECT_EQ(500, w[i].done);
	}
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(0, got);
}

/* ---- huge pages -------------------------------------------------------------- */

TEST_F(space, hugetlb_auto_iova_aligned)
{
	unsigned char *huge;
	uint64_t iova, got = 0;

	huge = mmap(NULL, HUGE_2M, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (huge == MAP_FAILED)
		SKIP(return, "no 2 MiB hugetlb page available");
	memset(huge, 0x3c, HUGE_2M);
	/* Make the first 2 MiB boundaries unusable. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE, PAGE));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, PAGE,
			       HUGE_2M));
	ASSERT_EQ(0, map_any(self->fd, self->ioas, huge, HUGE_2M, &iova));
	EXPECT_EQ(0, iova % HUGE_2M);
	EXPECT_NE(0, iova);
	EXPECT_NE(HUGE_2M, iova);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, HUGE_2M, &got));
	EXPECT_EQ(HUGE_2M, got);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(2 * PAGE, got);
	munmap(huge, HUGE_2M);
}

TEST_F(space, thp_auto_iova_aligned)
{
	unsigned char *thp;
	uint64_t iova, got = 0;

	thp = aligned_alloc(HUGE_2M, HUGE_2M);
	ASSERT_NE(NULL, thp);
	if (madvise(thp, HUGE_2M, MADV_HUGEPAGE)) {
		free(thp);
		SKIP(return, "no transparent huge pages");
	}
	memset(thp, 0x5e, HUGE_2M);
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 3 * PAGE,
			       HUGE_2M - PAGE));
	ASSERT_EQ(0, map_any(self->fd, self->ioas, thp, HUGE_2M, &iova));
	EXPECT_EQ(0, iova % HUGE_2M);
	EXPECT_NE(0, iova);
	EXPECT_FALSE(spans_meet(iova, HUGE_2M, HUGE_2M - PAGE, 3 * PAGE));
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(HUGE_2M + 3 * PAGE, got);
	free(thp);
}

/* ---- struct size rules ----------------------------------------------------- */

TEST_F(space, size_rules_map)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = FIXED_RW,
		.ioas_id = self->ioas,
		.user_va = (uintptr_t)self->buf,
		.length = PAGE,
		.iova = MIB,
	};
	const size_t full = sizeof(cmd);
	uint64_t got = 0;

	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_MAP, &cmd, full, 0,
				     false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_MAP, &cmd, full, 16,
				     false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_MAP, &cmd, full,
				     full - 4, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_MAP, &cmd, full,
				     full - 1, false));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_MAP, &cmd, full,
				    full + 8, true));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_MAP, &cmd, full,
				    full + 1, true));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, MIB, PAGE, NULL));
	EXPECT_EQ(0, call_sized(self->fd, IOMMU_IOAS_MAP, &cmd, full,
				full + 24, false));
	EXPECT_EQ(MIB, cmd.iova);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, PAGE, &got));
	EXPECT_EQ(PAGE, got);
}

TEST_F(space, size_rules_unmap)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas,
		.iova = MIB,
		.length = 2 * PAGE,
	};
	const size_t full = sizeof(cmd);

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 2 * PAGE,
			       MIB));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_UNMAP, &cmd, full, 4,
				     false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_UNMAP, &cmd, full,
				     full - 8, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_UNMAP, &cmd, full,
				     full - 1, false));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_UNMAP, &cmd, full,
				    full + 16, true));
	EXPECT_EQ(0, call_sized(self->fd, IOMMU_IOAS_UNMAP, &cmd, full,
				full + 16, false));
	EXPECT_EQ(2 * PAGE, cmd.length);
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, MIB, 2 * PAGE,
				     NULL));
}

TEST_F(space, size_rules_copy)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = FIXED_RW,
		.src_ioas_id = self->ioas,
		.length = 4 * PAGE,
		.dst_iova = 8 * MIB,
		.src_iova = MIB,
	};
	const size_t full = sizeof(cmd);
	uint32_t other;
	uint64_t got = 0;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	cmd.dst_ioas_id = other;
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas, self->buf, 4 * PAGE,
			       MIB));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_COPY, &cmd, full, 8,
				     false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_COPY, &cmd, full,
				     full - 8, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_COPY, &cmd, full,
				     full - 1, false));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_COPY, &cmd, full,
				    full + 8, true));
	EXPECT_EQ(0, unmap_every(self->fd, other, &got));
	EXPECT_EQ(0, got);
	EXPECT_EQ(0, call_sized(self->fd, IOMMU_IOAS_COPY, &cmd, full,
				full + 8, false));
	EXPECT_EQ(8 * MIB, cmd.dst_iova);
	EXPECT_EQ(0, ioas_unmap(self->fd, other, 8 * MIB, 4 * PAGE, &got));
	EXPECT_EQ(4 * PAGE, got);
	EXPECT_EQ(0, unmap_every(self->fd, self->ioas, &got));
	EXPECT_EQ(4 * PAGE, got);
}

TEST_F(space, size_rules_iova_ranges)
{
	struct iommu_iova_range r[2];
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas,
		.num_iovas = 2,
		.allowed_iovas = (uintptr_t)r,
	};
	const size_t full = sizeof(cmd);

	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_IOVA_RANGES, &cmd,
				     full, 12, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_IOVA_RANGES, &cmd,
				     full, full - 8, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_IOVA_RANGES, &cmd,
				     full, full - 1, false));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_IOVA_RANGES, &cmd,
				    full, full + 32, true));
	memset(r, 0, sizeof(r));
	EXPECT_EQ(0, call_sized(self->fd, IOMMU_IOAS_IOVA_RANGES, &cmd, full,
				full + 32, false));
	EXPECT_EQ(1, cmd.num_iovas);
	EXPECT_EQ(1, cmd.out_iova_alignment);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(UINT64_MAX, r[0].last);
}

TEST_F(space, size_rules_allow_iovas)
{
	const struct iommu_iova_range r = {
		.start = 32 * MIB,
		.last = 33 * MIB - 1,
	};
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas,
		.num_iovas = 1,
		.allowed_iovas = (uintptr_t)&r,
	};
	const size_t full = sizeof(cmd);

	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd,
				     full, 8, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd,
				     full, full - 8, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd,
				     full, full - 1, false));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd,
				    full, full + 8, true));
	/* None of those set anything: reserving inside is still fine. */
	EXPECT_EQ(0, reserve_range(self->fd, self->ioas, 33 * MIB - PAGE,
				   PAGE));
	EXPECT_EQ(EADDRINUSE, call_sized(self->fd, IOMMU_IOAS_ALLOW_IOVAS,
					 &cmd, full, full + 8, false));
	cmd.allowed_iovas = (uintptr_t)&(struct iommu_iova_range){
		.start = 40 * MIB, .last = 41 * MIB - 1 };
	EXPECT_EQ(0, call_sized(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd, full,
				full + 8, false));
	EXPECT_EQ(EADDRINUSE, reserve_range(self->fd, self->ioas, 40 * MIB,
					    PAGE));
}

TEST_HARNESS_MAIN
