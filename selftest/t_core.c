// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the /dev/iommu core: contexts, the object table, IOMMU_DESTROY,
 * IOMMU_IOAS_ALLOC, IOMMU_OPTION and the extensible-struct size rules that
 * every ioctl shares.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "lab_harness.h"
#include "lab_util.h"

FIXTURE(ctx) {
	int fd;
};

FIXTURE_SETUP(ctx)
{
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ctx)
{
	close(self->fd);
}

TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(IOMMU_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0660, st.st_mode & 0777);
}

TEST(open_close_many)
{
	int fds[256];
	uint32_t id;
	int i;

	for (i = 0; i < 256; i++) {
		fds[i] = open(IOMMU_DEV, O_RDWR);
		ASSERT_LE(0, fds[i]);
	}
	/* Each context numbers its own objects, starting afresh. */
	for (i = 0; i < 256; i++) {
		ASSERT_EQ(0, ioas_alloc(fds[i], &id));
		EXPECT_EQ(1, id);
	}
	for (i = 0; i < 256; i++)
		ASSERT_EQ(0, close(fds[i]));
}

TEST_F(ctx, destroy_unknown)
{
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, 0));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, 1));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, 12345));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, UINT32_MAX));
}

TEST_F(ctx, destroy_twice)
{
	uint32_t id;

	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	EXPECT_EQ(0, obj_destroy(self->fd, id));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, id));
}

TEST_F(ctx, ids_are_per_context)
{
	int other = open(IOMMU_DEV, O_RDWR);
	uint32_t id, id2;

	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	ASSERT_EQ(0, ioas_alloc(self->fd, &id2));
	EXPECT_EQ(ENOENT, obj_destroy(other, id2));
	EXPECT_EQ(0, obj_destroy(self->fd, id2));
	close(other);
}

TEST_F(ctx, dup_shares_context)
{
	int fd2 = dup(self->fd);
	uint32_t id;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	close(self->fd);
	/* The context lives on through the duplicate. */
	EXPECT_EQ(0, obj_destroy(fd2, id));
	self->fd = fd2;
}

TEST_F(ctx, ioas_alloc_many)
{
	enum { N = 2000 };
	static uint32_t ids[N];
	int i, j;

	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, ioas_alloc(self->fd, &ids[i]));
		ASSERT_NE(0, ids[i]);
		for (j = i - 1; j >= 0 && j > i - 8; j--)
			ASSERT_NE(ids[j], ids[i]);
	}
	/* Free every other one, then the rest in reverse. */
	for (i = 0; i < N; i += 2)
		ASSERT_EQ(0, obj_destroy(self->fd, ids[i]));
	for (i = N - 1; i > 0; i -= 2)
		ASSERT_EQ(0, obj_destroy(self->fd, ids[i]));
	for (i = 0; i < N; i++)
		ASSERT_EQ(ENOENT, obj_destroy(self->fd, ids[i]));
}

TEST_F(ctx, ioas_alloc_flags)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd), .flags = 1 };

	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_ALLOC, &cmd));
	cmd.flags = 1u << 31;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_ALLOC, &cmd));
}

TEST_F(ctx, ioas_alloc_bad_pointer)
{
	struct iommu_ioas_alloc *ro;
	uint32_t first, next;

	EXPECT_EQ(EFAULT, ioctl_errno(self->fd, IOMMU_IOAS_ALLOC, NULL));
	EXPECT_EQ(EFAULT, ioctl_errno(self->fd, IOMMU_IOAS_ALLOC,
				      (void *)16));

	/* Readable but not writable: the command is read, the reply fails. */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ro->size = sizeof(*ro);
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));

	ASSERT_EQ(0, ioas_alloc(self->fd, &first));
	EXPECT_EQ(EFAULT, ioctl_errno(self->fd, IOMMU_IOAS_ALLOC, ro));
	/* The failed call left no object and no ID behind. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &next));
	EXPECT_EQ(first + 1, next);
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, next + 1));
	munmap(ro, 4096);
}

/*
 * The size rules, checked on one ioctl: a buffer that declares its size and
 * holds a valid command after @min bytes of real fields.
 */
static void check_size_rules(struct __test_metadata *_metadata, int fd,
			     unsigned long nr, const void *valid,
			     size_t full, size_t min, bool repeatable)
{
	unsigned char buf[256];
	uint32_t size;

	ASSERT_LT(full + 16, sizeof(buf));

	/* Shorter than the last mandatory field. */
	for (size = 0; size < min; size += 4) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, valid, full);
		memcpy(buf, &size, sizeof(size));
		EXPECT_EQ(EINVAL, ioctl_errno(fd, nr, buf));
	}
	/* Longer, with a non-zero byte past what the kernel knows. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, valid, full);
	size = full + 16;
	memcpy(buf, &size, sizeof(size));
	buf[full + 9] = 1;
	EXPECT_EQ(E2BIG, ioctl_errno(fd, nr, buf));
	if (!repeatable)
		return;
	/* Longer, with a zero tail: fine. */
	buf[full + 9] = 0;
	EXPECT_EQ(0, ioctl_errno(fd, nr, buf));
	/* Exactly the minimum: fine too. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, valid, min);
	size = min;
	memcpy(buf, &size, sizeof(size));
	EXPECT_EQ(0, ioctl_errno(fd, nr, buf));
}

TEST_F(ctx, size_rules_ioas_alloc)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	check_size_rules(_metadata, self->fd, IOMMU_IOAS_ALLOC, &cmd,
			 sizeof(cmd), sizeof(cmd), true);
}

TEST_F(ctx, size_rules_option)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_GET,
	};

	check_size_rules(_metadata, self->fd, IOMMU_OPTION, &cmd,
			 sizeof(cmd), sizeof(cmd), true);
}

TEST_F(ctx, size_rules_destroy)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd) };
	uint32_t id;

	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	cmd.id = id;
	check_size_rules(_metadata, self->fd, IOMMU_DESTROY, &cmd,
			 sizeof(cmd), sizeof(cmd), false);
	/* The rejected calls did not destroy it. */
	EXPECT_EQ(0, obj_destroy(self->fd, id));
}

TEST_F(ctx, unknown_ioctls)
{
	unsigned char buf[64] = { 0 };
	struct iommu_destroy cmd = { .size = sizeof(cmd) };
	unsigned int nr;

	*(uint32_t *)buf = sizeof(buf);
	/* Past the end of the command table. */
	for (nr = 0xa1; nr < 0x100; nr += 0x13)
		EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, _IO(IOMMUFD_TYPE, nr),
					      buf));
	/* Below it: the VFIO container range, not served here yet. */
	EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, _IO(IOMMUFD_TYPE, 0x7f), buf));
	EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, _IO(IOMMUFD_TYPE, 0), buf));
	/* A known number, but another type letter or direction encoding. */
	EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, _IO('x', IOMMUFD_CMD_DESTROY),
				      &cmd));
	EXPECT_EQ(ENOTTY, ioctl_errno(self->fd,
				      _IOW(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY,
					   uint32_t), &cmd));
	EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, FIONREAD, buf));
}

/*
 * IOMMU_OPTION_RLIMIT_MODE, step by step: the op, whether it names the IOAS
 * the test makes half way (before step ioas_at), the value passed in, the
 * errno expected and, when check is set, the value read back.
 */
static const struct rlimit_step {
	uint16_t op;
	bool on_ioas;
	uint64_t in;
	int err;
	bool check;
	uint64_t out;
} rlimit_steps[] = {
	/* A GET overwrites what val64 held with the mode, 0 at first. */
	{ IOMMU_OPTION_OP_GET, false, 55, 0, true, 0 },
	/* Root may switch to mm->pinned_vm and back while nothing exists. */
	{ IOMMU_OPTION_OP_SET, false, 1, 0, false, 0 },
	{ IOMMU_OPTION_OP_GET, false, 7, 0, true, 1 },
	{ IOMMU_OPTION_OP_SET, false, 2, EINVAL, false, 0 },
	{ IOMMU_OPTION_OP_SET, false, 0, 0, false, 0 },
	/* Not once objects exist (an IOAS is made before this step). */
	{ IOMMU_OPTION_OP_SET, false, 1, EBUSY, false, 0 },
	{ IOMMU_OPTION_OP_GET, false, 7, 0, true, 0 },
	/* The mode is global: an object ID is an error. */
	{ IOMMU_OPTION_OP_GET, true, 0, EOPNOTSUPP, false, 0 },
};

TEST_F(ctx, option_rlimit_mode)
{
	const unsigned int ioas_at = 5;
	uint32_t id = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rlimit_steps); i++) {
		const struct rlimit_step *st = &rlimit_steps[i];
		uint64_t val = st->in;
		int rc;

		if (i == ioas_at)
			ASSERT_EQ(0, ioas_alloc(self->fd, &id));
		rc = option_op(self->fd, IOMMU_OPTION_RLIMIT_MODE, st->op,
			       st->on_ioas ? id : 0, &val);
		/* The first read must work for the rest to mean anything. */
		if (i == 0) {
			ASSERT_EQ(st->err, rc);
		} else {
			EXPECT_EQ(st->err, rc)
				TH_LOG("step %u", i);
		}
		if (st->check) {
			EXPECT_EQ(st->out, val)
				TH_LOG("step %u", i);
		}
	}
}

TEST_F(ctx, option_invalid)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_GET,
	};
	uint64_t val = 0;

	cmd.__reserved = 1;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_OPTION, &cmd));
	cmd.__reserved = 0;
	cmd.op = 2;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_OPTION, &cmd));
	cmd.op = 0xffff;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_OPTION, &cmd));
	EXPECT_EQ(EOPNOTSUPP, option_op(self->fd, 2, IOMMU_OPTION_OP_GET, 0,
					&val));
	EXPECT_EQ(EOPNOTSUPP, option_op(self->fd, UINT32_MAX,
					IOMMU_OPTION_OP_GET, 0, &val));
}

TEST_F(ctx, option_huge_pages)
{
	uint64_t val = 0;
	uint32_t id;

	ASSERT_EQ(0, ioas_alloc(self->fd, &id));
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_GET, id, &val));
	EXPECT_EQ(1, val);
	val = 0;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_SET, id, &val));
	val = 9;
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_GET, id, &val));
	EXPECT_EQ(0, val);
	val = 2;
	EXPECT_EQ(EINVAL, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
				    IOMMU_OPTION_OP_SET, id, &val));
	EXPECT_EQ(EOPNOTSUPP, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
					5, id, &val));
	/* Per IOAS: no object, or one that is gone, is ENOENT. */
	EXPECT_EQ(ENOENT, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
				    IOMMU_OPTION_OP_GET, 0, &val));
	EXPECT_EQ(0, obj_destroy(self->fd, id));
	EXPECT_EQ(ENOENT, option_op(self->fd, IOMMU_OPTION_HUGE_PAGES,
				    IOMMU_OPTION_OP_GET, id, &val));
}

/* capset(2) without libcap: drop one capability from the effective set. */
TEST_F(ctx, option_rlimit_needs_cap)
{
	uint64_t val = 1;

	ASSERT_EQ(0, drop_effective_cap(CAP_SYS_RESOURCE));
	EXPECT_EQ(EPERM, option_op(self->fd, IOMMU_OPTION_RLIMIT_MODE,
				   IOMMU_OPTION_OP_SET, 0, &val));
	/* Reading needs no privilege. */
	EXPECT_EQ(0, option_op(self->fd, IOMMU_OPTION_RLIMIT_MODE,
			       IOMMU_OPTION_OP_GET, 0, &val));
	EXPECT_EQ(0, val);
}

TEST(close_with_objects)
{
	int round, i, fd;
	uint32_t id;

	/* kmemleak, scanned when the run ends, checks nothing is left. */
	for (round = 0; round < 32; round++) {
		fd = open(IOMMU_DEV, O_RDWR);
		ASSERT_LE(0, fd);
		for (i = 0; i < 64; i++)
			ASSERT_EQ(0, ioas_alloc(fd, &id));
		ASSERT_EQ(0, close(fd));
	}
}

struct race {
	int fd;
	uint32_t id;
	bool stop;		/* read and written with __atomic builtins */
	unsigned long gets, gone;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;
	uint64_t val;
	int rc;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		val = 0;
		rc = option_op(r->fd, IOMMU_OPTION_HUGE_PAGES,
			       IOMMU_OPTION_OP_GET, r->id, &val);
		if (rc == 0)
			r->gets++;
		else if (rc == ENOENT)
			r->gone++;
		else
			return (void *)(long)rc;
	}
	return NULL;
}

/*
 * A DESTROY racing with ioctls that borrow the object either finds it in
 * use (EBUSY, and it stays whole) or destroys it; the lookups see it whole
 * or gone, never anything between.
 */
TEST_F(ctx, destroy_races_lookups)
{
	struct race r = { .fd = self->fd };
	unsigned long busy = 0;
	pthread_t th[2];
	int round, i, rc, tries;
	void *ret;

	for (round = 0; round < 200; round++) {
		ASSERT_EQ(0, ioas_alloc(self->fd, &r.id));
		__atomic_store_n(&r.stop, false, __ATOMIC_RELAXED);
		for (i = 0; i < 2; i++)
			ASSERT_EQ(0, pthread_create(&th[i], NULL, race_reader,
						    &r));
		usleep(round % 7 * 100);
		for (tries = 0; (rc = obj_destroy(self->fd, r.id)); tries++) {
			ASSERT_EQ(EBUSY, rc);
			busy++;
			/* Readers that never pause: stop them, then it goes. */
			if (tries == 1000)
				__atomic_store_n(&r.stop, true,
						 __ATOMIC_RELAXED);
		}
		__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
		for (i = 0; i < 2; i++) {
			ASSERT_EQ(0, pthread_join(th[i], &ret));
			EXPECT_EQ(NULL, ret);
		}
	}
	TH_LOG("%lu lookups succeeded, %lu found the IOAS gone, %lu destroys found it busy",
	       r.gets, r.gone, busy);
}

static void *alloc_destroy_loop(void *arg)
{
	int fd = *(int *)arg;
	uint32_t id;
	int i;

	for (i = 0; i < 2000; i++) {
		if (ioas_alloc(fd, &id))
			return (void *)1L;
		if (obj_destroy(fd, id))
			return (void *)2L;
	}
	return NULL;
}

TEST_F(ctx, parallel_alloc_destroy)
{
	pthread_t th[4];
	void *ret;
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, alloc_destroy_loop,
					    &self->fd));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &ret));
		EXPECT_EQ(NULL, ret);
	}
}

TEST_HARNESS_MAIN
