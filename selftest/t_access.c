// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel accesses through the test driver (IOMMU_TEST_CMD): pinning by
 * IOVA, reads and writes, the unmap callback, sharing of pinned pages
 * between IOAS, and RLIMIT_MEMLOCK accounting in both modes.
 */
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "lab_harness.h"
#include "lab_util.h"
#include "iommufd_test.h"

#define PAGE 4096UL
#define BUF_PAGES 64UL
#define BUF_SIZE (BUF_PAGES * PAGE)

static int create_access(int fd, uint32_t ioas, uint32_t flags, int *afd)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = { .flags = flags },
	};
	int rc = ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);

	if (!rc)
		*afd = cmd.create_access.out_access_fd;
	return rc;
}

static int access_pin(int fd, int afd, uint64_t iova, uint64_t len,
		      void *check, uint32_t flags, uint32_t *pin_id)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = afd,
		.access_pages = {
			.flags = flags,
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)check,
		},
	};
	int rc = ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);

	if (!rc && pin_id)
		*pin_id = cmd.access_pages.out_access_pages_id;
	return rc;
}

static int access_unpin(int fd, int afd, uint32_t pin_id)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
		.id = afd,
		.destroy_access_pages = { .access_pages_id = pin_id },
	};

	return ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);
}

static int access_rw(int fd, int afd, uint64_t iova, void *buf, uint64_t len,
		     uint32_t flags)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = afd,
		.access_rw = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)buf,
			.flags = flags,
		},
	};

	return ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);
}

/* The pins of a closed context, seen from a fresh one. */
static int refs_after_close(void *buf)
{
	int fd = open(IOMMU_DEV, O_RDWR);
	int rc;

	if (fd < 0)
		return errno;
	rc = check_refs(fd, buf, BUF_SIZE, 0);
	close(fd);
	return rc;
}

static int set_temp_limit(int fd, uint32_t limit)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = limit },
	};

	return ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);
}

FIXTURE(access) {
	int fd;
	uint32_t ioas;
	unsigned char *buf;
	uint64_t iova;
	long pin0;
};

FIXTURE_SETUP(access)
{
	unsigned long i;

	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	self->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	/* Small folios only: MD_CHECK_REFS looks at small pages. */
	ASSERT_EQ(0, madvise(self->buf, BUF_SIZE, MADV_NOHUGEPAGE));
	for (i = 0; i < BUF_SIZE; i++)
		self->buf[i] = i * 7 + 3;
	self->iova = 0;
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->buf, BUF_SIZE,
			      &self->iova, MAP_RW));
	self->pin0 = proc_status_kb("VmPin");
}

FIXTURE_TEARDOWN(access)
{
	close(self->fd);
	/* Everything the context pinned is released with it. */
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	EXPECT_EQ(0, refs_after_close(self->buf));
	munmap(self->buf, BUF_SIZE);
}

TEST_F(access, create_errors)
{
	int afd;

	EXPECT_EQ(EOPNOTSUPP, create_access(self->fd, self->ioas, 2, &afd));
	EXPECT_EQ(ENOENT, create_access(self->fd, 9999, 0, &afd));
	ASSERT_EQ(0, create_access(self->fd, self->ioas, 0, &afd));
	/* An access holds its IOAS. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->ioas));
	close(afd);
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
}

TEST_F(access, pin_and_unpin)
{
	uint32_t id;
	int afd;

	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 0));
	ASSERT_EQ(0, access_pin(self->fd, afd, self->iova + PAGE, 4 * PAGE,
				self->buf + PAGE, 0, &id));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + PAGE, 4 * PAGE, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, PAGE, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 5 * PAGE, PAGE, 0));
	EXPECT_EQ(self->pin0 + 16, proc_status_kb("VmPin"));

	ASSERT_EQ(0, access_unpin(self->fd, afd, id));
	EXPECT_EQ(ENOENT, access_unpin(self->fd, afd, id));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 0));
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	close(afd);
}

TEST_F(access, pin_overlapping_counts_once)
{
	uint32_t a, b;
	int afd;

	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	ASSERT_EQ(0, access_pin(self->fd, afd, self->iova, 8 * PAGE,
				self->buf, 0, &a));
	ASSERT_EQ(0, access_pin(self->fd, afd, self->iova + 4 * PAGE,
				8 * PAGE, self->buf + 4 * PAGE, 0, &b));
	/* Pinned once each, charged once each, however many users. */
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 12 * PAGE, 1));
	EXPECT_EQ(self->pin0 + 48, proc_status_kb("VmPin"));
	ASSERT_EQ(0, access_unpin(self->fd, afd, a));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * PAGE, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 4 * PAGE, 8 * PAGE, 1));
	EXPECT_EQ(self->pin0 + 32, proc_status_kb("VmPin"));
	ASSERT_EQ(0, access_unpin(self->fd, afd, b));
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	close(afd);
}

TEST_F(access, pin_errors)
{
	uint64_t ro_iova = 0;
	uint32_t id;
	int afd, rw_afd;

	ASSERT_EQ(0, create_access(self->fd, self->ioas, 0, &rw_afd));
	EXPECT_EQ(EOPNOTSUPP, access_pin(self->fd, rw_afd, self->iova, PAGE,
					 NULL, 0, &id));
	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	EXPECT_EQ(EOPNOTSUPP, access_pin(self->fd, afd, self->iova, PAGE,
					 NULL, 1 << 5, &id));
	/* Past the end of the mapping. */
	EXPECT_EQ(ENOENT, access_pin(self->fd, afd, self->iova + BUF_SIZE,
				     PAGE, NULL, 0, &id));
	EXPECT_EQ(ENOENT, access_pin(self->fd, afd,
				     self->iova + BUF_SIZE - PAGE, 2 * PAGE,
				     NULL, 0, &id));
	/* Writing through a read-only mapping. */
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->buf, PAGE, &ro_iova,
			      IOMMU_IOAS_MAP_READABLE));
	EXPECT_EQ(EPERM, access_pin(self->fd, afd, ro_iova, PAGE, NULL,
				    MOCK_FLAGS_ACCESS_WRITE, &id));
	EXPECT_EQ(0, access_pin(self->fd, afd, ro_iova, PAGE, self->buf, 0,
				&id));
	/* The wrong descriptor. */
	EXPECT_EQ(EBADF, access_pin(self->fd, self->fd, self->iova, PAGE, NULL,
				    0, &id));
	EXPECT_EQ(ENOENT, access_unpin(self->fd, afd, 4444));
	close(afd);
	close(rw_afd);
}

TEST_F(access, pin_check_detects_wrong_pages)
{
	uint32_t id;
	int afd;

	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	/* The test driver compares against the pages at another address. */
	EXPECT_EQ(EBADE, access_pin(self->fd, afd, self->iova, PAGE,
				    self->buf + PAGE, 0, &id));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 0));
	close(afd);
}

static void rw_round(struct __test_metadata *_metadata, int fd, int afd,
		     unsigned char *buf, uint64_t iova, uint64_t off,
		     uint64_t len, uint32_t flags)
{
	unsigned char tmp[3 * PAGE];
	uint64_t i;

	ASSERT_LE(len, sizeof(tmp));
	memset(tmp, 0, sizeof(tmp));
	ASSERT_EQ(0, access_rw(fd, afd, iova + off, tmp, len, flags));
	ASSERT_EQ(0, memcmp(tmp, buf + off, len));

	for (i = 0; i < len; i++)
		tmp[i] = ~buf[off + i];
	ASSERT_EQ(0, access_rw(fd, afd, iova + off, tmp, len,
			       flags | MOCK_ACCESS_RW_WRITE));
	ASSERT_EQ(0, memcmp(tmp, buf + off, len));
}

static void rw_patterns(struct __test_metadata *_metadata, int fd, int afd,
			unsigned char *buf, uint64_t iova, uint32_t flags)
{
	static const uint64_t offs[] = { 0, 1, 7, PAGE - 1, PAGE, 3 * PAGE + 5 };
	static const uint64_t lens[] = { 1, 3, 64, PAGE - 1, PAGE, PAGE + 1,
					 2 * PAGE + 17 };
	unsigned int i, j;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			rw_round(_metadata, fd, afd, buf, iova, offs[i],
				 lens[j], flags);
}

TEST_F(access, rw_unpinned)
{
	int afd;

	ASSERT_EQ(0, create_access(self->fd, self->ioas, 0, &afd));
	rw_patterns(_metadata, self->fd, afd, self->buf, self->iova, 0);
	rw_patterns(_metadata, self->fd, afd, self->buf, self->iova,
		    MOCK_ACCESS_RW_SLOW_PATH);
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 0));
	close(afd);
}

TEST_F(access, rw_pinned)
{
	uint32_t id;
	int afd;

	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	ASSERT_EQ(0, access_pin(self->fd, afd, self->iova, BUF_SIZE, self->buf,
				MOCK_FLAGS_ACCESS_WRITE, &id));
	rw_patterns(_metadata, self->fd, afd, self->buf, self->iova, 0);
	rw_patterns(_metadata, self->fd, afd, self->buf, self->iova,
		    MOCK_ACCESS_RW_SLOW_PATH);
	ASSERT_EQ(0, access_unpin(self->fd, afd, id));
	close(afd);
}

/* Tiny batches: every run boundary of the pinning code is crossed. */
TEST_F(access, pin_small_batches)
{
	uint32_t limits[] = { 12, 16, 64, 100, 4096 };
	unsigned int i;
	uint32_t id;
	int afd;

	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		ASSERT_EQ(0, set_temp_limit(self->fd, limits[i]));
		ASSERT_EQ(0, access_pin(self->fd, afd, self->iova + PAGE,
					BUF_SIZE - 2 * PAGE, self->buf + PAGE,
					0, &id));
		EXPECT_EQ(0, check_refs(self->fd, self->buf + PAGE,
					BUF_SIZE - 2 * PAGE, 1));
		rw_patterns(_metadata, self->fd, afd, self->buf, self->iova,
			    MOCK_ACCESS_RW_SLOW_PATH);
		ASSERT_EQ(0, access_unpin(self->fd, afd, id));
		EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 0));
	}
	ASSERT_EQ(0, set_temp_limit(self->fd, 65536));
	close(afd);
}

TEST_F(access, rw_errors)
{
	unsigned char tmp[16];
	uint64_t ro_iova = 0;
	int afd;

	ASSERT_EQ(0, create_access(self->fd, self->ioas, 0, &afd));
	EXPECT_EQ(EOPNOTSUPP, access_rw(self->fd, afd, self->iova, tmp, 1,
					1 << 1));
	EXPECT_EQ(ENOENT, access_rw(self->fd, afd, self->iova + BUF_SIZE, tmp,
				    1, 0));
	EXPECT_EQ(ENOENT, access_rw(self->fd, afd, self->iova + BUF_SIZE - 1,
				    tmp, 2, 0));
	EXPECT_EQ(EFAULT, access_rw(self->fd, afd, self->iova, NULL, 16, 0));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->buf, PAGE, &ro_iova,
			      IOMMU_IOAS_MAP_READABLE));
	EXPECT_EQ(EPERM, access_rw(self->fd, afd, ro_iova, tmp, 1,
				   MOCK_ACCESS_RW_WRITE));
	EXPECT_EQ(0, access_rw(self->fd, afd, ro_iova, tmp, 1, 0));
	close(afd);
}

TEST_F(access, unmap_calls_back)
{
	uint64_t unmapped = 0;
	uint32_t id;
	int afd;

	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	ASSERT_EQ(0, access_pin(self->fd, afd, self->iova + 2 * PAGE, PAGE,
				self->buf + 2 * PAGE, 0, &id));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 2 * PAGE, PAGE, 1));
	/* The unmap asks the access to let go, then succeeds. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, self->iova, BUF_SIZE,
				&unmapped));
	EXPECT_EQ(BUF_SIZE, unmapped);
	EXPECT_EQ(ENOENT, access_unpin(self->fd, afd, id));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 0));
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	close(afd);
}

TEST_F(access, copy_shares_pins)
{
	uint64_t dst_iova = 0;
	uint32_t dst, a, b;
	int afd, bfd;
	struct iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = MAP_RW,
		.src_ioas_id = self->ioas,
		.src_iova = self->iova,
		.length = BUF_SIZE,
	};

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	copy.dst_ioas_id = dst;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_COPY, &copy));
	dst_iova = copy.dst_iova;

	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	ASSERT_EQ(0, create_access(self->fd, dst,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &bfd));
	ASSERT_EQ(0, access_pin(self->fd, afd, self->iova, BUF_SIZE, self->buf,
				0, &a));
	ASSERT_EQ(0, access_pin(self->fd, bfd, dst_iova, BUF_SIZE, self->buf,
				0, &b));
	/* Both IOAS share the pages: one pin, one charge. */
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 1));
	EXPECT_EQ(self->pin0 + BUF_SIZE / 1024, proc_status_kb("VmPin"));
	ASSERT_EQ(0, access_unpin(self->fd, afd, a));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 1));
	ASSERT_EQ(0, access_unpin(self->fd, bfd, b));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 0));
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	close(afd);
	close(bfd);
}

static void rlimit_case(struct __test_metadata *_metadata, int fd,
			uint32_t ioas, unsigned char *buf, uint64_t iova,
			long pin0)
{
	struct rlimit lim = { .rlim_cur = 16 * PAGE, .rlim_max = 16 * PAGE };
	uint32_t id;
	int afd;

	ASSERT_EQ(0, drop_effective_cap(CAP_IPC_LOCK));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	ASSERT_EQ(0, create_access(fd, ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	/* Over the limit: nothing stays pinned or charged. */
	EXPECT_EQ(ENOMEM, access_pin(fd, afd, iova, 32 * PAGE, buf, 0, &id));
	EXPECT_EQ(0, check_refs(fd, buf, BUF_SIZE, 0));
	EXPECT_EQ(pin0, proc_status_kb("VmPin"));
	/* Within it: fine. */
	ASSERT_EQ(0, access_pin(fd, afd, iova, 16 * PAGE, buf, 0, &id));
	EXPECT_EQ(ENOMEM, access_pin(fd, afd, iova + 16 * PAGE, PAGE,
				     buf + 16 * PAGE, 0, NULL));
	ASSERT_EQ(0, access_unpin(fd, afd, id));
	EXPECT_EQ(pin0, proc_status_kb("VmPin"));
	close(afd);
}

TEST_F(access, rlimit_user_mode)
{
	rlimit_case(_metadata, self->fd, self->ioas, self->buf, self->iova,
		    self->pin0);
}

TEST(rlimit_mm_mode)
{
	unsigned char *buf;
	uint64_t val = 1, iova = 0;
	uint32_t ioas;
	long lck0;
	int fd;

	fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, option_op(fd, IOMMU_OPTION_RLIMIT_MODE,
			       IOMMU_OPTION_OP_SET, 0, &val));
	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, madvise(buf, BUF_SIZE, MADV_NOHUGEPAGE));
	memset(buf, 1, BUF_SIZE);
	ASSERT_EQ(0, ioas_map(fd, ioas, buf, BUF_SIZE, &iova, MAP_RW));
	lck0 = proc_status_kb("VmLck");
	rlimit_case(_metadata, fd, ioas, buf, iova, proc_status_kb("VmPin"));
	EXPECT_EQ(lck0, proc_status_kb("VmLck"));
	close(fd);
}

struct unmap_race {
	int fd, afd;
	uint64_t iova;
	unsigned char *buf;
	bool stop;		/* read and written with __atomic builtins */
	unsigned long pins, misses;
};

static void *race_pinner(void *arg)
{
	struct unmap_race *r = arg;
	uint32_t id;
	int rc;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		rc = access_pin(r->fd, r->afd, r->iova + PAGE, 2 * PAGE, NULL,
				0, &id);
		if (!rc) {
			r->pins++;
			/* The unmap may have taken it back already. */
			rc = access_unpin(r->fd, r->afd, id);
			if (rc && rc != ENOENT)
				return (void *)1L;
		} else if (rc == ENOENT || rc == EINVAL) {
			/* Nothing mapped, or being unmapped. */
			r->misses++;
		} else {
			return (void *)2L;
		}
	}
	return NULL;
}

TEST_F(access, unmap_races_pins)
{
	struct unmap_race r = { .fd = self->fd, .iova = self->iova,
				.buf = self->buf };
	uint64_t iova;
	pthread_t th;
	void *ret;
	int i;

	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &r.afd));
	ASSERT_EQ(0, pthread_create(&th, NULL, race_pinner, &r));
	for (i = 0; i < 300; i++) {
		ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, self->iova,
					BUF_SIZE, NULL));
		iova = self->iova;
		ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->buf,
				      BUF_SIZE, &iova,
				      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(NULL, ret);
	TH_LOG("%lu pins, %lu found nothing mapped", r.pins, r.misses);
	close(r.afd);
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_SIZE, 0));
}

/* The benchmark's floor op: its errnos, and nothing pinned afterwards. */
TEST(gup_floor_op)
{
	const size_t mib = 1UL << 20;
	unsigned char *buf = mmap(NULL, mib, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_LAB_GUP_FLOOR,
	};
	long pin0 = proc_status_kb("VmPin");
	int fd = open(IOMMU_DEV, O_RDWR), refs_fd;

	ASSERT_LE(0, fd);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0x5a, mib);
	cmd.lab_gup_floor.uptr = (uintptr_t)buf;
	EXPECT_EQ(EINVAL, ioctl_errno(fd, IOMMU_TEST_CMD, &cmd)); /* length 0 */
	cmd.lab_gup_floor.length = mib - 1;
	EXPECT_EQ(EINVAL, ioctl_errno(fd, IOMMU_TEST_CMD, &cmd));
	cmd.lab_gup_floor.length = 2UL << 30;
	EXPECT_EQ(EINVAL, ioctl_errno(fd, IOMMU_TEST_CMD, &cmd));
	cmd.lab_gup_floor.uptr = (uintptr_t)buf + 1;
	cmd.lab_gup_floor.length = 4096;
	EXPECT_EQ(EINVAL, ioctl_errno(fd, IOMMU_TEST_CMD, &cmd));
	cmd.lab_gup_floor.uptr = 0;		/* nothing mapped there */
	EXPECT_EQ(EFAULT, ioctl_errno(fd, IOMMU_TEST_CMD, &cmd));
	cmd.lab_gup_floor.uptr = (uintptr_t)buf;
	cmd.lab_gup_floor.length = mib;
	ASSERT_EQ(0, ioctl_errno(fd, IOMMU_TEST_CMD, &cmd));
	EXPECT_LT(0, cmd.lab_gup_floor.out_pin_ns);
	EXPECT_LT(0, cmd.lab_gup_floor.out_unpin_ns);
	EXPECT_EQ(pin0, proc_status_kb("VmPin"));
	refs_fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, refs_fd);
	EXPECT_EQ(0, check_refs(refs_fd, buf, mib, 0));
	close(refs_fd);
	close(fd);
	munmap(buf, mib);
}

TEST(hugetlb_rw)
{
	const uint64_t len = 4UL << 20;
	unsigned char *buf, tmp[64];
	uint64_t iova = 0;
	uint32_t ioas, id;
	int fd, afd;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (buf == MAP_FAILED)
		SKIP(return, "no hugetlb pages");
	memset(buf, 0x5a, len);
	fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, ioas_map(fd, ioas, buf, len, &iova, MAP_RW));
	/* Placed at the memory's own huge page alignment. */
	EXPECT_EQ(0, iova % (2UL << 20));
	ASSERT_EQ(0, create_access(fd, ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	/* Across the boundary of two huge pages. */
	ASSERT_EQ(0, access_pin(fd, afd, iova + (2UL << 20) - PAGE, 2 * PAGE,
				buf + (2UL << 20) - PAGE, MOCK_FLAGS_ACCESS_WRITE,
				&id));
	memset(tmp, 0xc3, sizeof(tmp));
	ASSERT_EQ(0, access_rw(fd, afd, iova + (2UL << 20) - 32, tmp,
			       sizeof(tmp), MOCK_ACCESS_RW_WRITE));
	EXPECT_EQ(0xc3, buf[(2UL << 20) - 32]);
	EXPECT_EQ(0xc3, buf[(2UL << 20) + 31]);
	EXPECT_EQ(0x5a, buf[(2UL << 20) + 32]);
	ASSERT_EQ(0, access_unpin(fd, afd, id));
	close(afd);
	close(fd);
	munmap(buf, len);
}

TEST(temp_memory_limit)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = 4 },
	};
	int fd = open(IOMMU_DEV, O_RDWR);

	ASSERT_LE(0, fd);
	EXPECT_EQ(EINVAL, ioctl_errno(fd, IOMMU_TEST_CMD, &cmd));
	cmd.memory_limit.limit = 65536;
	EXPECT_EQ(0, ioctl_errno(fd, IOMMU_TEST_CMD, &cmd));
	cmd.op = 0x7777;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(fd, IOMMU_TEST_CMD, &cmd));
	close(fd);
}

/*
 * A pin of many xarray nodes' worth of pages (512) must unpin every one:
 * the unpin walk erases as it goes, freeing nodes under its feet.
 */
TEST(large_pin_unpins_all)
{
	const uint64_t len = 512 * PAGE;
	uint64_t iova = 0;
	unsigned char *buf;
	uint32_t ioas, id;
	long pin0;
	int fd, afd;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, madvise(buf, len, MADV_NOHUGEPAGE));
	memset(buf, 0x33, len);
	pin0 = proc_status_kb("VmPin");
	fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, ioas_map(fd, ioas, buf, len, &iova, MAP_RW));
	ASSERT_EQ(0, create_access(fd, ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &afd));
	ASSERT_EQ(0, access_pin(fd, afd, iova, len, buf, 0, &id));
	EXPECT_EQ(pin0 + (long)(len / 1024), proc_status_kb("VmPin"));
	EXPECT_EQ(0, check_refs(fd, buf, len, 1));
	ASSERT_EQ(0, access_unpin(fd, afd, id));
	EXPECT_EQ(pin0, proc_status_kb("VmPin"));
	EXPECT_EQ(0, check_refs(fd, buf, len, 0));
	close(afd);
	close(fd);
	munmap(buf, len);
}

TEST_HARNESS_MAIN
