// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dirty page tracking of mock domains: IOMMU_HWPT_SET_DIRTY_TRACKING,
 * IOMMU_HWPT_GET_DIRTY_BITMAP, and IOMMU_TEST_OP_DIRTY, which plays a
 * device writing to IOVA. What the test op marks must come back in the
 * user's bitmap, at any granule, then be gone (unless NO_CLEAR).
 *
 * The mock IO page is 2 KiB: a granule smaller than that sees each dirty
 * IO page as several dirty bits, a larger one ORs IO pages together.
 */
#include <stdbool.h>
#include <sys/mman.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_mock.h"

#define HUGE2M (2 * MIB)
#define WORDS(bits) (((bits) + 63) / 64)
#define TRACK_ON IOMMU_HWPT_DIRTY_TRACKING_ENABLE
#define NO_CLEAR IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR
#define CANARY 0xa5

static void bit_on(uint64_t *map, uint64_t n)
{
	map[n / 64] |= 1ULL << (n % 64);
}

static bool bit_is(const uint64_t *map, uint64_t n)
{
	return map[n / 64] >> (n % 64) & 1;
}

static uint64_t bits_set(const uint64_t *map, uint64_t nbits)
{
	uint64_t n, count = 0;

	for (n = 0; n < nbits; n++)
		count += bit_is(map, n);
	return count;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dULL;
	return x ^ (x >> 33);
}

/*
 * The bits a read of [from, from + len) at @psz should show, given the
 * dirty IO pages @io (bit i: the IO page at offset i * IOPG). Offsets are
 * relative to the start of what @io describes.
 */
static void expected(const uint64_t *io, uint64_t io_pages, uint64_t from,
		     uint64_t len, uint64_t psz, uint64_t *want)
{
	uint64_t i, lo, hi;

	memset(want, 0, WORDS(len / psz) * 8);
	for (i = 0; i < io_pages; i++) {
		if (!bit_is(io, i))
			continue;
		lo = i * IOPG;
		hi = lo + IOPG;
		if (hi <= from || lo >= from + len)
			continue;
		if (lo < from)
			lo = from;
		if (hi > from + len)
			hi = from + len;
		for (lo = (lo - from) / psz; lo <= (hi - 1 - from) / psz; lo++)
			bit_on(want, lo);
	}
}

/*
 * Read the dirty bits of [iova, +len) into the bitmap at @at (zeroed here,
 * with guard bytes on both sides) and compare them with @want.
 */
static void harvest_check(struct __test_metadata *_metadata, int fd,
			  uint32_t hwpt, uint64_t iova, uint64_t len,
			  uint64_t psz, uint32_t flags, unsigned char *at,
			  const uint64_t *want)
{
	uint64_t nbits = len / psz, bytes = WORDS(nbits) * 8, w;
	uint64_t *got = (uint64_t *)at;
	unsigned int i;

	memset(at - 16, CANARY, 16);
	memset(at, 0, bytes);
	memset(at + bytes, CANARY, 16);
	ASSERT_EQ(0, harvest(fd, hwpt, iova, len, psz, at, flags))
		TH_LOG("read %#lx+%#lx at %lu", (unsigned long)iova,
		       (unsigned long)len, (unsigned long)psz);
	for (w = 0; w < WORDS(nbits); w++) {
		uint64_t g = got[w], e = want ? want[w] : 0;

		ASSERT_EQ(e, g)
			TH_LOG("word %lu of %lu: iova %#lx len %#lx psz %lu",
			       (unsigned long)w, (unsigned long)WORDS(nbits),
			       (unsigned long)iova, (unsigned long)len,
			       (unsigned long)psz);
	}
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(CANARY, at[-16 + (int)i]);
		ASSERT_EQ(CANARY, at[bytes + i]);
	}
}

static int hw_caps(int fd, uint32_t idev, uint64_t *caps)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = idev,
	};
	int rc = ioctl_errno(fd, IOMMU_GET_HW_INFO, &cmd);

	if (!rc)
		*caps = cmd.out_capabilities;
	return rc;
}

/* ---- granules and range sizes, each against the same checks ------------ */

FIXTURE(gran) {
	int fd;
	uint32_t ioas, hwpt;
	struct mdev dev;
	void *raw;
	size_t raw_len;
	unsigned char *mem;
	uint64_t iova;
	uint64_t io_pages;
	uint64_t *io;			/* IO pages we made dirty */
	uint64_t *want;
	unsigned char *bm;		/* room for user bitmaps */
	size_t bm_len;
	long pin0;
};

FIXTURE_VARIANT(gran) {
	uint64_t len;
	uint64_t psz;
};

FIXTURE_VARIANT_ADD(gran, r4k_p4k) { .len = 4 * 1024, .psz = 4096 };
FIXTURE_VARIANT_ADD(gran, r4k_p1k) { .len = 4 * 1024, .psz = 1024 };
FIXTURE_VARIANT_ADD(gran, r64k_p2k) { .len = 64 * 1024, .psz = 2048 };
FIXTURE_VARIANT_ADD(gran, r256k_p512) { .len = 256 * 1024, .psz = 512 };
FIXTURE_VARIANT_ADD(gran, r1m_p4k) { .len = MIB, .psz = 4096 };
FIXTURE_VARIANT_ADD(gran, r4m_p2m) { .len = 4 * MIB, .psz = HUGE2M };
FIXTURE_VARIANT_ADD(gran, r8m_p4k) { .len = 8 * MIB, .psz = 4096 };
FIXTURE_VARIANT_ADD(gran, r8m_p64k) { .len = 8 * MIB, .psz = 65536 };
FIXTURE_VARIANT_ADD(gran, r128m_p4k) { .len = 128 * MIB, .psz = 4096 };
FIXTURE_VARIANT_ADD(gran, r128m_p2m) { .len = 128 * MIB, .psz = HUGE2M };

FIXTURE_SETUP(gran)
{
	uint64_t nbits = variant->len / variant->psz, off;
	uint32_t pt;

	self->pin0 = pinned_kb();
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	/* The device sits on a dirty tracking page table of its own. */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &self->dev));
	ASSERT_EQ(0, pt_alloc(self->fd, self->dev.idev, self->ioas,
			      IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &self->hwpt));
	pt = self->hwpt;
	ASSERT_EQ(0, dev_move(self->fd, self->dev.stdev, &pt));
	ASSERT_EQ(self->hwpt, pt);

	self->raw_len = variant->len + HUGE2M;
	self->raw = mmap(NULL, self->raw_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->raw);
	self->mem = (unsigned char *)(((uintptr_t)self->raw + HUGE2M - 1) &
				      ~(HUGE2M - 1));
	for (off = 0; off < variant->len; off += MIB)
		self->mem[off] = 1;
	self->iova = AT(256);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->mem, variant->len,
			    self->iova));
	ASSERT_EQ(0, tracking(self->fd, self->hwpt, TRACK_ON));

	self->io_pages = variant->len / IOPG;
	self->io = calloc(WORDS(self->io_pages), 8);
	self->want = calloc(WORDS(nbits) + 1, 8);
	ASSERT_NE(NULL, self->io);
	ASSERT_NE(NULL, self->want);
	self->bm_len = (WORDS(nbits) * 8 + PG - 1) / PG * PG + 4 * PG;
	self->bm = mmap(NULL, self->bm_len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->bm);
}

FIXTURE_TEARDOWN(gran)
{
	close(self->fd);
	EXPECT_EQ(self->pin0, pinned_kb());
	munmap(self->raw, self->raw_len);
	munmap(self->bm, self->bm_len);
	free(self->io);
	free(self->want);
}

/*
 * Dirty a scattering of IO pages, sparse enough that some granules stay
 * clean, plus the first and last IO page of the range.
 */
static void scatter(struct __test_metadata *_metadata, int fd,
		    uint32_t hwpt, uint64_t iova, uint64_t *io,
		    uint64_t io_pages, uint64_t psz, uint64_t salt)
{
	uint64_t every = psz / IOPG * 3, i, nr = 0;

	if (every < 5)
		every = 5;
	memset(io, 0, WORDS(io_pages) * 8);
	for (i = 0; i < io_pages; i++)
		if (!i || i == io_pages - 1 || !(mix(i ^ salt) % every))
			bit_on(io, i);
	ASSERT_EQ(0, poke(fd, hwpt, iova, io_pages * IOPG, IOPG, io, &nr));
	ASSERT_EQ(bits_set(io, io_pages), nr);
}

#define SCATTER(salt) \
	scatter(_metadata, self->fd, self->hwpt, self->iova, self->io, \
		self->io_pages, variant->psz, salt)

/* Drop from the model what a clearing read of [from, +len) took. */
static void forget(uint64_t *io, uint64_t from, uint64_t len)
{
	uint64_t i;

	for (i = from / IOPG; i < (from + len) / IOPG; i++)
		io[i / 64] &= ~(1ULL << (i % 64));
}

TEST_F_TIMEOUT(gran, read_clears, 300)
{
	const uint64_t len = variant->len, psz = variant->psz;

	SCATTER(1);
	expected(self->io, self->io_pages, 0, len, psz, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + PG, self->want);
	/* Taken: nothing left, whichever way we look. */
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + PG, NULL);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz,
		      NO_CLEAR, self->bm + PG, NULL);
	/* The device writes again: seen again. */
	SCATTER(2);
	expected(self->io, self->io_pages, 0, len, psz, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + PG, self->want);
}

TEST_F_TIMEOUT(gran, read_no_clear, 300)
{
	const uint64_t len = variant->len, psz = variant->psz;

	SCATTER(3);
	expected(self->io, self->io_pages, 0, len, psz, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz,
		      NO_CLEAR, self->bm + PG, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz,
		      NO_CLEAR, self->bm + PG, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + PG, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz,
		      NO_CLEAR, self->bm + PG, NULL);
}

/* User bitmaps that are not page aligned, and that span two pages. */
TEST_F_TIMEOUT(gran, bitmap_placement, 300)
{
	const uint64_t len = variant->len, psz = variant->psz;
	const size_t at[] = { PG + 8, 2 * PG - 8, PG + IOPG + 24, 2 * PG - 64 };
	unsigned int k;

	SCATTER(4);
	expected(self->io, self->io_pages, 0, len, psz, self->want);
	for (k = 0; k < NELEM(at); k++)
		harvest_check(_metadata, self->fd, self->hwpt, self->iova, len,
			      psz, NO_CLEAR, self->bm + at[k], self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + 2 * PG - 8, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + PG + 8, NULL);
}

/* Reading part of the range takes only that part. */
TEST_F_TIMEOUT(gran, read_part, 300)
{
	const uint64_t len = variant->len, psz = variant->psz;
	const uint64_t unit = psz > IOPG ? psz : IOPG;
	uint64_t half = len / 2 / unit * unit, mid = len / 4 / unit * unit;

	SCATTER(5);
	if (half) {
		expected(self->io, self->io_pages, half, len - half, psz,
			 self->want);
		harvest_check(_metadata, self->fd, self->hwpt,
			      self->iova + half, len - half, psz, 0,
			      self->bm + PG, self->want);
		forget(self->io, half, len - half);
	}
	/* One granule (or IO page) in the first half. */
	expected(self->io, self->io_pages, mid, unit, psz, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova + mid, unit,
		      psz, 0, self->bm + PG, self->want);
	forget(self->io, mid, unit);
	/* The whole range shows what is left, and only that. */
	expected(self->io, self->io_pages, 0, len, psz, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + PG, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + PG, NULL);
}

/* The test op in the variant's own granule: counts, and what it dirties. */
TEST_F_TIMEOUT(gran, poke_in_granule, 300)
{
	const uint64_t len = variant->len, psz = variant->psz;
	uint64_t nbits = len / psz, n, i, nr = 0;
	uint64_t *bits = calloc(WORDS(nbits), 8);

	ASSERT_NE(NULL, bits);
	for (n = 0; n < nbits; n++)
		if (n % 3 == 0 || n == nbits - 1)
			bit_on(bits, n);
	ASSERT_EQ(0, poke(self->fd, self->hwpt, self->iova, len, psz, bits,
			  &nr));
	EXPECT_EQ(bits_set(bits, nbits), nr);
	/* Each bit dirtied every IO page its granule touches. */
	memset(self->io, 0, WORDS(self->io_pages) * 8);
	for (n = 0; n < nbits; n++) {
		if (!bit_is(bits, n))
			continue;
		for (i = n * psz / IOPG; i <= ((n + 1) * psz - 1) / IOPG; i++)
			bit_on(self->io, i);
	}
	expected(self->io, self->io_pages, 0, len, psz, self->want);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + PG, self->want);
	/* Poking nothing dirties nothing. */
	memset(bits, 0, WORDS(nbits) * 8);
	ASSERT_EQ(0, poke(self->fd, self->hwpt, self->iova, len, psz, bits,
			  &nr));
	EXPECT_EQ(0, nr);
	harvest_check(_metadata, self->fd, self->hwpt, self->iova, len, psz, 0,
		      self->bm + PG, NULL);
	free(bits);
}

/* ---- the rest, on a 4 MiB mapping --------------------------------------- */

#define RIG_LEN (4 * MIB)

struct rig {
	int fd;
	uint32_t ioas;
	struct mdev dev;
	uint32_t hwpt;			/* dirty capable, the device on it */
	void *raw;
	unsigned char *mem;		/* RIG_LEN, 2 MiB aligned */
	uint64_t iova;
	uint64_t *bm;			/* a bitmap for 4 MiB at 512 bytes */
	long pin0;
};

static void rig_up(struct __test_metadata *_metadata, struct rig *r,
		   bool enable)
{
	uint32_t pt;

	memset(r, 0, sizeof(*r));
	r->pin0 = pinned_kb();
	r->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, r->fd);
	ASSERT_EQ(0, ioas_alloc(r->fd, &r->ioas));
	ASSERT_EQ(0, dev_add(r->fd, r->ioas, 0, &r->dev));
	ASSERT_EQ(0, pt_alloc(r->fd, r->dev.idev, r->ioas,
			      IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &r->hwpt));
	pt = r->hwpt;
	ASSERT_EQ(0, dev_move(r->fd, r->dev.stdev, &pt));
	r->raw = mmap(NULL, RIG_LEN + HUGE2M, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, r->raw);
	r->mem = (unsigned char *)(((uintptr_t)r->raw + HUGE2M - 1) &
				   ~(HUGE2M - 1));
	memset(r->mem, 0x11, RIG_LEN);
	r->iova = AT(64);
	ASSERT_EQ(0, map_at(r->fd, r->ioas, r->mem, RIG_LEN, r->iova));
	if (enable)
		ASSERT_EQ(0, tracking(r->fd, r->hwpt, TRACK_ON));
	r->bm = calloc(WORDS(RIG_LEN / 512) + 8, 8);
	ASSERT_NE(NULL, r->bm);
}

/* Everything goes, one object at a time; nothing may stay pinned. */
static void rig_down(struct __test_metadata *_metadata, struct rig *r)
{
	EXPECT_EQ(0, ioas_unmap(r->fd, r->ioas, 0, UINT64_MAX, NULL));
	EXPECT_EQ(0, obj_destroy(r->fd, r->dev.stdev));
	EXPECT_EQ(0, obj_destroy(r->fd, r->hwpt));
	EXPECT_EQ(0, obj_destroy(r->fd, r->ioas));
	close(r->fd);
	EXPECT_EQ(r->pin0, pinned_kb());
	munmap(r->raw, RIG_LEN + HUGE2M);
	free(r->bm);
}

/* Dirty the IO pages at the offsets in @offs (bytes), one each. */
static uint64_t poke_offsets(struct rig *r, uint32_t hwpt,
			     const uint64_t *offs, unsigned int n)
{
	uint64_t bits[WORDS(RIG_LEN / IOPG)], nr = 0, total = 0;
	unsigned int k;

	for (k = 0; k < n; k++) {
		memset(bits, 0, sizeof(bits));
		bit_on(bits, offs[k] / IOPG);
		if (poke(r->fd, hwpt, r->iova, RIG_LEN, IOPG, bits, &nr))
			return UINT64_MAX;
		total += nr;
	}
	return total;
}

TEST(tracking_toggle)
{
	struct iommu_hwpt_set_dirty_tracking cmd = { .size = sizeof(cmd) };
	struct rig r;

	rig_up(_metadata, &r, false);
	EXPECT_EQ(0, tracking(r.fd, r.hwpt, TRACK_ON));
	EXPECT_EQ(0, tracking(r.fd, r.hwpt, TRACK_ON));
	EXPECT_EQ(0, tracking(r.fd, r.hwpt, 0));
	EXPECT_EQ(0, tracking(r.fd, r.hwpt, 0));
	EXPECT_EQ(EOPNOTSUPP, tracking(r.fd, r.hwpt, 1 << 1));
	EXPECT_EQ(EOPNOTSUPP, tracking(r.fd, r.hwpt, TRACK_ON | 1u << 31));
	cmd.flags = TRACK_ON;
	cmd.hwpt_id = r.hwpt;
	cmd.__reserved = 1;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(r.fd, IOMMU_HWPT_SET_DIRTY_TRACKING,
					  &cmd));
	EXPECT_EQ(ENOENT, tracking(r.fd, 9999, TRACK_ON));
	EXPECT_EQ(ENOENT, tracking(r.fd, r.ioas, TRACK_ON));
	EXPECT_EQ(ENOENT, tracking(r.fd, r.dev.idev, TRACK_ON));
	EXPECT_EQ(ENOENT, tracking(r.fd, r.dev.stdev, TRACK_ON));
	/* Still off after all that: the test op refuses to dirty. */
	memset(r.bm, 0xff, 8);
	EXPECT_EQ(EINVAL, poke(r.fd, r.hwpt, r.iova, 64 * IOPG, IOPG, r.bm,
			       NULL));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	rig_down(_metadata, &r);
}

TEST(tracking_needs_dirty_ops)
{
	uint32_t plain;
	struct mdev b;
	struct rig r;

	rig_up(_metadata, &r, true);
	/* An automatic page table, and one allocated without the flag. */
	ASSERT_EQ(0, dev_add(r.fd, r.ioas, 0, &b));
	ASSERT_NE(r.hwpt, b.hwpt);
	ASSERT_EQ(0, pt_alloc(r.fd, b.idev, r.ioas, 0, &plain));
	EXPECT_EQ(EOPNOTSUPP, tracking(r.fd, b.hwpt, TRACK_ON));
	EXPECT_EQ(EOPNOTSUPP, tracking(r.fd, b.hwpt, 0));
	EXPECT_EQ(EOPNOTSUPP, tracking(r.fd, plain, TRACK_ON));
	EXPECT_EQ(EOPNOTSUPP, harvest(r.fd, b.hwpt, r.iova, RIG_LEN, PG, r.bm,
				      0));
	EXPECT_EQ(EOPNOTSUPP, harvest(r.fd, plain, r.iova, RIG_LEN, PG, r.bm,
				      NO_CLEAR));
	/* The mock never logs writes there. */
	memset(r.bm, 0xff, 8);
	EXPECT_EQ(EINVAL, poke(r.fd, plain, r.iova, 64 * IOPG, IOPG, r.bm,
			       NULL));
	EXPECT_EQ(0, obj_destroy(r.fd, plain));
	EXPECT_EQ(0, obj_destroy(r.fd, b.stdev));
	EXPECT_EQ(ENOENT, obj_destroy(r.fd, b.hwpt));
	rig_down(_metadata, &r);
}

TEST(device_dirty_capability)
{
	uint64_t caps = ~0ULL;
	struct mdev nd, x;
	uint32_t h, pt;
	struct rig r;

	rig_up(_metadata, &r, true);
	ASSERT_EQ(0, hw_caps(r.fd, r.dev.idev, &caps));
	EXPECT_EQ(IOMMU_HW_CAP_DIRTY_TRACKING,
		  caps & IOMMU_HW_CAP_DIRTY_TRACKING);

	ASSERT_EQ(0, dev_add(r.fd, r.ioas, MOCK_FLAGS_DEVICE_NO_DIRTY, &nd));
	caps = ~0ULL;
	ASSERT_EQ(0, hw_caps(r.fd, nd.idev, &caps));
	EXPECT_EQ(0, caps & IOMMU_HW_CAP_DIRTY_TRACKING);
	EXPECT_EQ(EOPNOTSUPP, pt_alloc(r.fd, nd.idev, r.ioas,
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &h));
	/* A device that cannot log stays off dirty tracking tables. */
	EXPECT_EQ(EINVAL, dev_add(r.fd, r.hwpt, MOCK_FLAGS_DEVICE_NO_DIRTY,
				  &x));
	pt = r.hwpt;
	EXPECT_EQ(EINVAL, dev_move(r.fd, nd.stdev, &pt));
	EXPECT_EQ(EBUSY, obj_destroy(r.fd, nd.hwpt));
	/* Any table made without the flag is fine for it. */
	ASSERT_EQ(0, pt_alloc(r.fd, r.dev.idev, r.ioas, 0, &h));
	pt = h;
	ASSERT_EQ(0, dev_move(r.fd, nd.stdev, &pt));
	EXPECT_EQ(h, pt);
	EXPECT_EQ(0, obj_destroy(r.fd, nd.stdev));
	EXPECT_EQ(0, obj_destroy(r.fd, h));
	rig_down(_metadata, &r);
}

TEST(poke_rules)
{
	uint64_t nr = 77, ones[WORDS(RIG_LEN / IOPG) + 64];
	struct iommu_test_cmd cmd;
	struct rig r;

	rig_up(_metadata, &r, true);
	memset(ones, 0xff, sizeof(ones));
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.op = IOMMU_TEST_OP_DIRTY;
	cmd.id = r.hwpt;
	cmd.dirty.flags = 1;
	cmd.dirty.iova = r.iova;
	cmd.dirty.length = PG;
	cmd.dirty.page_size = PG;
	cmd.dirty.uptr = (uintptr_t)ones;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(r.fd, IOMMU_TEST_CMD, &cmd));
	EXPECT_EQ(EINVAL, poke(r.fd, r.hwpt, r.iova, PG, 0, ones, &nr));
	EXPECT_EQ(EINVAL, poke(r.fd, r.hwpt, r.iova, 0, PG, ones, &nr));
	EXPECT_EQ(EINVAL, poke(r.fd, r.hwpt, r.iova + IOPG, PG, PG, ones,
			       &nr));
	EXPECT_EQ(EINVAL, poke(r.fd, r.hwpt, r.iova, PG + IOPG, PG, ones,
			       &nr));
	EXPECT_EQ(ENOENT, poke(r.fd, 9999, r.iova, PG, PG, ones, &nr));
	EXPECT_EQ(ENOENT, poke(r.fd, r.ioas, r.iova, PG, PG, ones, &nr));
	/* None of that dirtied anything. */
	EXPECT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(0, r.bm[0] | r.bm[WORDS(RIG_LEN / PG) - 1]);

	/* Unmapped IOVA counts for nothing; the mapped part does. */
	ASSERT_EQ(0, poke(r.fd, r.hwpt, r.iova - 2 * MIB, 2 * MIB, IOPG, ones,
			  &nr));
	EXPECT_EQ(0, nr);
	ASSERT_EQ(0, poke(r.fd, r.hwpt, r.iova + RIG_LEN - 8 * IOPG,
			  16 * IOPG, IOPG, ones, &nr));
	EXPECT_EQ(8, nr);
	ASSERT_EQ(0, poke(r.fd, r.hwpt, r.iova - 2 * MIB, 4 * MIB, MIB, ones,
			  &nr));
	EXPECT_EQ(2, nr);
	memset(r.bm, 0, WORDS(RIG_LEN / PG) * 8);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	/* The first 2 MiB, and the last 4 pages. */
	EXPECT_EQ(UINT64_MAX, r.bm[0]);
	EXPECT_EQ(UINT64_MAX, r.bm[7]);
	EXPECT_EQ(0, r.bm[8]);
	EXPECT_EQ(0xfULL << 60, r.bm[15]);
	rig_down(_metadata, &r);
}

TEST(read_errors)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = { .size = sizeof(cmd) };
	const uint64_t offs[] = { 0, 5 * IOPG, MIB + IOPG, RIG_LEN - IOPG };
	uint64_t want[WORDS(RIG_LEN / PG)];
	unsigned char *ro, *none;
	unsigned int k;
	struct rig r;

	rig_up(_metadata, &r, true);
	ASSERT_EQ(4, poke_offsets(&r, r.hwpt, offs, 4));

	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, 0, r.bm, 0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, 3, r.bm, 0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, 3 * PG, r.bm,
				  0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG + 8, r.bm,
				  0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, 0, PG, r.bm, 0));
	/* Not all mapped: before, after, all outside. */
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova - PG, 2 * PG, PG, r.bm,
				  0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova + RIG_LEN - PG, 2 * PG,
				  PG, r.bm, 0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova - RIG_LEN,
				  3 * RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, AT(1), PG, PG, r.bm, 0));
	/* Below the IO page granule of the IOAS. */
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova + 1024, IOPG, 1024,
				  r.bm, 0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, IOPG + 1024, 1024,
				  r.bm, 0));
	/* Any byte alignment of the bitmap is fine, as upstream allows. */
	{
		static unsigned char odd[RIG_LEN / PG / 8 + 16];

		EXPECT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG,
				     odd + 4, NO_CLEAR));
		EXPECT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG,
				     odd + 1, NO_CLEAR));
	}
	EXPECT_EQ(EOPNOTSUPP, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm,
				      1 << 1));
	EXPECT_EQ(EOPNOTSUPP, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm,
				      NO_CLEAR | 1u << 31));
	cmd.hwpt_id = r.hwpt;
	cmd.__reserved = 1;
	cmd.iova = r.iova;
	cmd.length = RIG_LEN;
	cmd.page_size = PG;
	cmd.data = (uintptr_t)r.bm;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(r.fd, IOMMU_HWPT_GET_DIRTY_BITMAP,
					  &cmd));
	EXPECT_EQ(ENOENT, harvest(r.fd, 9999, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(ENOENT, harvest(r.fd, r.ioas, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(EOVERFLOW, harvest(r.fd, r.hwpt, UINT64_MAX - PG + 1,
				     2 * PG, PG, r.bm, 0));

	/* A bitmap the kernel cannot write. */
	ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_NE(MAP_FAILED, none);
	EXPECT_EQ(EFAULT, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, ro,
				  NO_CLEAR));
	EXPECT_EQ(EFAULT, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, none,
				  NO_CLEAR));
	munmap(ro, PG);
	munmap(none, PG);

	/* The failures took nothing: all four are still there. */
	memset(want, 0, sizeof(want));
	for (k = 0; k < 4; k++)
		bit_on(want, offs[k] / PG);
	memset(r.bm, 0, sizeof(want));
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(0, memcmp(want, r.bm, sizeof(want)));
	rig_down(_metadata, &r);
}

/* The range must start and end on the granule of the bitmap. */
TEST(read_range_fits_granule)
{
	const uint64_t offs[] = { MIB + 3 * IOPG };
	struct rig r;

	rig_up(_metadata, &r, true);
	ASSERT_EQ(1, poke_offsets(&r, r.hwpt, offs, 1));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova + MIB, HUGE2M, HUGE2M,
				  r.bm, NO_CLEAR));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, 3 * MIB, HUGE2M, r.bm,
				  NO_CLEAR));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova + PG, 2 * PG,
				  2 * PG, r.bm, NO_CLEAR));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova + IOPG, PG, PG, r.bm,
				  NO_CLEAR));
	/* Aligned, it is read (and taken) in one go. */
	memset(r.bm, 0, 8);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, HUGE2M, r.bm, 0));
	EXPECT_EQ(1, r.bm[0]);
	rig_down(_metadata, &r);
}

TEST(tracking_off_refuses_read)
{
	const uint64_t offs[] = { 7 * IOPG };
	struct rig r;

	rig_up(_metadata, &r, true);
	ASSERT_EQ(1, poke_offsets(&r, r.hwpt, offs, 1));
	ASSERT_EQ(0, tracking(r.fd, r.hwpt, 0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm,
				  NO_CLEAR));
	EXPECT_EQ(UINT64_MAX, poke_offsets(&r, r.hwpt, offs, 1));
	rig_down(_metadata, &r);
}

/* Turning tracking on starts a fresh log: old bits are dropped. */
TEST(enable_starts_clean)
{
	const uint64_t offs[] = { 0, 9 * IOPG, 3 * MIB };
	const uint64_t later[] = { 2 * MIB + IOPG };
	struct rig r;

	rig_up(_metadata, &r, true);
	ASSERT_EQ(3, poke_offsets(&r, r.hwpt, offs, 3));
	ASSERT_EQ(0, tracking(r.fd, r.hwpt, 0));
	ASSERT_EQ(0, tracking(r.fd, r.hwpt, TRACK_ON));
	memset(r.bm, 0, WORDS(RIG_LEN / PG) * 8);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm,
			     NO_CLEAR));
	EXPECT_EQ(0, r.bm[0]);
	EXPECT_EQ(0, r.bm[12]);
	/* And it logs from there on. */
	ASSERT_EQ(1, poke_offsets(&r, r.hwpt, later, 1));
	memset(r.bm, 0, WORDS(RIG_LEN / PG) * 8);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(1ULL, r.bm[8]);
	EXPECT_EQ(0, r.bm[0] | r.bm[12]);
	rig_down(_metadata, &r);
}

/* An unmapped range loses its dirty state; mapped again it is clean. */
TEST(unmap_forgets_dirty)
{
	uint64_t ones[WORDS(RIG_LEN / IOPG)], nr = 0, w;
	struct rig r;

	rig_up(_metadata, &r, true);
	memset(ones, 0xff, sizeof(ones));
	ASSERT_EQ(0, poke(r.fd, r.hwpt, r.iova, RIG_LEN, IOPG, ones, &nr));
	ASSERT_EQ(RIG_LEN / IOPG, nr);
	/* Only the whole area can go: remap the memory in two halves. */
	ASSERT_EQ(0, ioas_unmap(r.fd, r.ioas, r.iova, RIG_LEN, NULL));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	ASSERT_EQ(0, map_at(r.fd, r.ioas, r.mem, RIG_LEN / 2, r.iova));
	ASSERT_EQ(0, map_at(r.fd, r.ioas, r.mem + RIG_LEN / 2, RIG_LEN / 2,
			    r.iova + RIG_LEN / 2));
	memset(r.bm, 0, WORDS(RIG_LEN / PG) * 8);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	for (w = 0; w < WORDS(RIG_LEN / PG); w++)
		EXPECT_EQ(0, r.bm[w]);
	/* Dirty one half, then unmap the other: the first keeps its bits. */
	ASSERT_EQ(0, poke(r.fd, r.hwpt, r.iova, RIG_LEN / 2, IOPG, ones, &nr));
	ASSERT_EQ(0, poke(r.fd, r.hwpt, r.iova + RIG_LEN / 2, RIG_LEN / 2,
			  IOPG, ones, &nr));
	ASSERT_EQ(0, ioas_unmap(r.fd, r.ioas, r.iova + RIG_LEN / 2,
				RIG_LEN / 2, NULL));
	ASSERT_EQ(0, map_at(r.fd, r.ioas, r.mem + RIG_LEN / 2, RIG_LEN / 2,
			    r.iova + RIG_LEN / 2));
	memset(r.bm, 0, WORDS(RIG_LEN / PG) * 8);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	for (w = 0; w < WORDS(RIG_LEN / PG); w++)
		EXPECT_EQ(w < WORDS(RIG_LEN / PG) / 2 ? UINT64_MAX : 0,
			  r.bm[w]);
	rig_down(_metadata, &r);
}

TEST(domains_dirty_independently)
{
	const uint64_t offs[] = { IOPG, 2 * MIB + 5 * PG };
	struct mdev b;
	struct rig r;
	uint32_t h2;

	rig_up(_metadata, &r, true);
	ASSERT_EQ(0, pt_alloc(r.fd, r.dev.idev, r.ioas,
			      IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &h2));
	ASSERT_EQ(0, dev_add(r.fd, h2, 0, &b));
	/* Off on the second one for now. */
	EXPECT_EQ(EINVAL, harvest(r.fd, h2, r.iova, RIG_LEN, PG, r.bm, 0));
	ASSERT_EQ(0, tracking(r.fd, h2, TRACK_ON));
	ASSERT_EQ(2, poke_offsets(&r, r.hwpt, offs, 2));
	memset(r.bm, 0, WORDS(RIG_LEN / PG) * 8);
	ASSERT_EQ(0, harvest(r.fd, h2, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(0, r.bm[0] | r.bm[8]);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(1ULL, r.bm[0]);
	EXPECT_EQ(1ULL << 5, r.bm[8]);
	/* And the other way round. */
	ASSERT_EQ(1, poke_offsets(&r, h2, offs + 1, 1));
	memset(r.bm, 0, WORDS(RIG_LEN / PG) * 8);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(0, r.bm[0] | r.bm[8]);
	ASSERT_EQ(0, harvest(r.fd, h2, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(0, r.bm[0]);
	EXPECT_EQ(1ULL << 5, r.bm[8]);
	/* A late dirty table starts clean, whatever the others logged. */
	ASSERT_EQ(1, poke_offsets(&r, r.hwpt, offs, 1));
	ASSERT_EQ(0, obj_destroy(r.fd, b.stdev));
	ASSERT_EQ(0, obj_destroy(r.fd, h2));
	ASSERT_EQ(0, pt_alloc(r.fd, r.dev.idev, r.ioas,
			      IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &h2));
	ASSERT_EQ(0, tracking(r.fd, h2, TRACK_ON));
	memset(r.bm, 0, 8);
	ASSERT_EQ(0, harvest(r.fd, h2, r.iova, RIG_LEN, PG, r.bm, 0));
	EXPECT_EQ(0, r.bm[0]);
	ASSERT_EQ(0, obj_destroy(r.fd, h2));
	rig_down(_metadata, &r);
}

/* A dirty IO page of a 1 MiB mapping makes the whole 1 MiB dirty. */
TEST(huge_io_pages_dirty_whole)
{
	const uint64_t len = 4 * MIB, iova = AT(128);
	uint64_t bits[WORDS(4 * MIB / IOPG)], got[WORDS(4 * MIB / PG)];
	uint64_t nr = 0, w;
	unsigned char *buf;
	struct mdev h;
	uint32_t hh, pt;
	long pin0;
	int fd;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (buf == MAP_FAILED)
		SKIP(return, "no hugetlb pages");
	memset(buf, 0x77, len);
	pin0 = pinned_kb();
	fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &pt));
	ASSERT_EQ(0, dev_add(fd, pt, MOCK_FLAGS_DEVICE_HUGE_IOVA, &h));
	ASSERT_EQ(0, pt_alloc(fd, h.idev, pt, IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
			      &hh));
	ASSERT_EQ(0, dev_move(fd, h.stdev, &hh));
	ASSERT_EQ(0, map_at(fd, pt, buf, len, iova));
	ASSERT_EQ(0, tracking(fd, hh, TRACK_ON));

	/* One IO page in the second MiB. */
	memset(bits, 0, sizeof(bits));
	bit_on(bits, (MIB + 3 * PG) / IOPG);
	ASSERT_EQ(0, poke(fd, hh, iova, len, IOPG, bits, &nr));
	EXPECT_EQ(1, nr);
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, harvest(fd, hh, iova, len, PG, got, 0));
	for (w = 0; w < WORDS(len / PG); w++)
		EXPECT_EQ(w >= 4 && w < 8 ? UINT64_MAX : 0, got[w])
			TH_LOG("word %lu", (unsigned long)w);
	/* At a 1 MiB granule: just bit 1. */
	ASSERT_EQ(0, poke(fd, hh, iova, len, IOPG, bits, &nr));
	memset(got, 0, 8);
	ASSERT_EQ(0, harvest(fd, hh, iova, len, MIB, got, 0));
	EXPECT_EQ(2ULL, got[0]);

	ASSERT_EQ(0, ioas_unmap(fd, pt, iova, len, NULL));
	ASSERT_EQ(0, obj_destroy(fd, h.stdev));
	ASSERT_EQ(0, obj_destroy(fd, hh));
	ASSERT_EQ(0, obj_destroy(fd, pt));
	close(fd);
	EXPECT_EQ(pin0, pinned_kb());
	munmap(buf, len);
}

/* One read may cover several areas, as long as there is no hole. */
TEST(read_across_areas)
{
	const uint64_t offs[] = { 0, RIG_LEN - IOPG };
	uint64_t bits[WORDS(8 * MIB / IOPG)], got[WORDS(8 * MIB / PG)];
	uint64_t nr = 0, w;
	struct rig r;

	rig_up(_metadata, &r, true);
	/* The same memory once more, right behind, and once after a gap. */
	ASSERT_EQ(0, map_at(r.fd, r.ioas, r.mem, RIG_LEN, r.iova + RIG_LEN));
	ASSERT_EQ(0, map_at(r.fd, r.ioas, r.mem, PG, r.iova + 2 * RIG_LEN +
			    PG));
	memset(bits, 0, sizeof(bits));
	bit_on(bits, offs[1] / IOPG);
	bit_on(bits, (RIG_LEN + offs[0]) / IOPG);
	ASSERT_EQ(0, poke(r.fd, r.hwpt, r.iova, 2 * RIG_LEN, IOPG, bits, &nr));
	EXPECT_EQ(2, nr);
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, 2 * RIG_LEN, PG, got,
			     NO_CLEAR));
	for (w = 0; w < WORDS(2 * RIG_LEN / PG); w++) {
		uint64_t e = 0;

		if (w == WORDS(RIG_LEN / PG) - 1)
			e = 1ULL << 63;
		if (w == WORDS(RIG_LEN / PG))
			e = 1;
		EXPECT_EQ(e, got[w]);
	}
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova, 2 * RIG_LEN + 2 * PG,
				  PG, got, 0));
	EXPECT_EQ(EINVAL, harvest(r.fd, r.hwpt, r.iova + RIG_LEN,
				  RIG_LEN + 2 * PG, PG, got, 0));
	/* The straddling 2 MiB granule in the middle. */
	memset(got, 0, 8);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova + 2 * MIB, 4 * MIB, HUGE2M,
			     got, 0));
	EXPECT_EQ(3ULL, got[0]);
	memset(got, 0, 8);
	ASSERT_EQ(0, harvest(r.fd, r.hwpt, r.iova, 2 * RIG_LEN, HUGE2M, got,
			     0));
	EXPECT_EQ(0, got[0]);
	rig_down(_metadata, &r);
}

TEST_HARNESS_MAIN
