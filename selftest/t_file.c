// SPDX-License-Identifier: GPL-2.0-only
/*
 * File-backed mappings (IOMMU_IOAS_MAP_FILE) and moving their charge
 * (IOMMU_IOAS_CHANGE_PROCESS). A file mapping names its memory by memfd and
 * offset, not by an address of the caller: the pages come from the file's
 * page cache, so the mapping outlives every view of the file, the file
 * descriptor and the process that made it, and the pages it pins can be
 * charged to another process later.
 *
 * Every byte that matters is checked: the files hold a pattern that
 * depends on the file offset (pat()), and what the mock domain translates
 * to, what a test access reads and what the file gives back with pread()
 * or a shared view must all be that pattern. Every test leaves VmPin as it
 * found it.
 */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <linux/vfio.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_mock.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif
#ifndef MFD_HUGE_1GB
#define MFD_HUGE_1GB (30U << 26)
#endif

#define GIB (1UL << 30)
#define HUGE2M (2 * MIB)
#define FIXED_RW (MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA)
#define RD_ONLY (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA)
#define WR_ONLY (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_FIXED_IOVA)
#define SLOW MOCK_ACCESS_RW_SLOW_PATH
#define WRITE MOCK_ACCESS_RW_WRITE
#define XFER_MAX (4 * MIB)	/* one ACCESS_RW; the mock takes 16 MiB */

/*
 * Bytes mapped in @ioas, found by unmapping everything (which succeeds on
 * an empty IOAS too); UINT64_MAX if the unmap fails.
 */
static uint64_t mapped_bytes(int fd, uint32_t ioas)
{
	uint64_t got = 0;

	return ioas_unmap(fd, ioas, 0, UINT64_MAX, &got) ? UINT64_MAX : got;
}

/* A test access that reads and writes but never pins: no alignment rule. */
static int acc_new_rw(int fd, uint32_t ioas, int *afd)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
	};
	int rc = test_op(fd, &cmd);

	if (!rc)
		*afd = cmd.create_access.out_access_fd;
	return rc;
}

/* ---- the pattern --------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The 8 bytes around file offset @off after pattern @seed; 0 is a hole. */
static uint64_t pat_word(uint64_t off, unsigned int seed)
{
	return seed ? mix64((off >> 3) ^ ((uint64_t)seed << 48)) : 0;
}

static void pat_fill(unsigned char *p, uint64_t off, size_t len,
		     unsigned int seed)
{
	uint64_t w = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!i || !((off + i) & 7))
			w = pat_word(off + i, seed);
		p[i] = w >> (((off + i) & 7) * 8);
	}
}

/* The pattern with every bit flipped: what no correct read leaves. */
static void pat_spoil(unsigned char *p, uint64_t off, size_t len,
		      unsigned int seed)
{
	size_t i;

	pat_fill(p, off, len, seed);
	for (i = 0; i < len; i++)
		p[i] ^= 0xff;
}

/* Index of the first byte of @p that is not file offset @off's, or -1. */
static long pat_miss(const unsigned char *p, uint64_t off, size_t len,
		     unsigned int seed)
{
	uint64_t w = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!i || !((off + i) & 7))
			w = pat_word(off + i, seed);
		if (p[i] != (unsigned char)(w >> (((off + i) & 7) * 8)))
			return i;
	}
	return -1;
}

/* ---- files --------------------------------------------------------------- */

/* @size bytes of pattern @seed at @off of @mfd, written with pwrite(). */
static int file_put(int mfd, uint64_t off, uint64_t size, unsigned int seed)
{
	unsigned char *chunk = malloc(MIB);
	uint64_t done, n;
	int rc = 0;

	if (!chunk)
		return errno;
	for (done = 0; done < size && !rc; done += n) {
		n = size - done < MIB ? size - done : MIB;
		pat_fill(chunk, off + done, n, seed);
		if (pwrite(mfd, chunk, n, off + done) != (ssize_t)n)
			rc = errno ? errno : EIO;
	}
	free(chunk);
	return rc;
}

/* A shmem memfd of @size bytes; pattern @seed written unless seed is 0. */
static int shm_new(uint64_t size, unsigned int seed, unsigned int flags)
{
	int mfd = memfd_create("t_file", flags);

	if (mfd < 0)
		return -1;
	if (ftruncate(mfd, size) || (seed && file_put(mfd, 0, size, seed))) {
		close(mfd);
		return -1;
	}
	return mfd;
}

static unsigned char *view_of(int mfd, uint64_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, mfd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Free huge pages of @hpsz bytes in the pool, or -1 without such a pool. */
static long huge_free(uint64_t hpsz)
{
	char path[96];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/hugepages/hugepages-%lukB/free_hugepages",
		 (unsigned long)(hpsz / 1024));
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/*
 * A hugetlbfs memfd of @size bytes in pages of @hpsz, filled with @seed
 * through the shared view left in *@view. Returns -errno when the kernel
 * has no such pages to give (hugetlbfs cannot be written with pwrite()).
 */
static int huge_new(uint64_t size, uint64_t hpsz, unsigned int seed,
		    unsigned char **view)
{
	unsigned int flag = hpsz == GIB ? MFD_HUGE_1GB : MFD_HUGE_2MB;
	int mfd, rc;

	if (huge_free(hpsz) < (long)(size / hpsz))
		return -ENOSPC;
	mfd = memfd_create("t_file_huge", MFD_HUGETLB | flag);
	if (mfd < 0)
		return -errno;
	if (ftruncate(mfd, size)) {
		rc = -errno;
		close(mfd);
		return rc;
	}
	*view = view_of(mfd, size, PROT_READ | PROT_WRITE);
	if (!*view) {
		rc = -errno;
		close(mfd);
		return rc;
	}
	pat_fill(*view, 0, size, seed);
	return mfd;
}

/* Whether @rc from huge_new() means "none here" rather than a failure. */
static bool huge_missing(int rc)
{
	return rc == -ENOMEM || rc == -EINVAL || rc == -ENOSPC ||
	       rc == -ENOENT;
}

/* ---- test accesses ------------------------------------------------------- */

static int acc_rw(int fd, int afd, uint64_t iova, void *buf, uint64_t len,
		  uint32_t flags)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = afd,
		.access_rw = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)buf,
			.flags = flags,
		},
	};

	return test_op(fd, &cmd);
}

/* ACCESS_PAGES with its flags; @va is compared unless NULL. */
static int acc_pin_flags(int fd, int afd, uint64_t iova, uint64_t len,
			 const void *va, uint32_t flags, uint32_t *id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = afd,
		.access_pages = {
			.flags = flags,
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)va,
		},
	};
	int rc = test_op(fd, &cmd);

	if (!rc && id)
		*id = cmd.access_pages.out_access_pages_id;
	return rc;
}

/* [iova, +len) read through @afd must be file bytes @off.. of @seed. */
static void iova_holds(struct __test_metadata *_metadata, int fd, int afd,
		       uint64_t iova, uint64_t off, uint64_t len,
		       unsigned int seed, uint32_t flags)
{
	uint64_t done, n;
	unsigned char *buf;
	long miss;

	buf = malloc(len < XFER_MAX ? len : XFER_MAX);
	ASSERT_NE(NULL, buf);
	for (done = 0; done < len; done += n) {
		n = len - done < XFER_MAX ? len - done : XFER_MAX;
		pat_spoil(buf, off + done, n, seed);
		ASSERT_EQ(0, acc_rw(fd, afd, iova + done, buf, n, flags))
			TH_LOG("read iova %#lx + %#lx, flags %#x",
			       (unsigned long)(iova + done), (unsigned long)n,
			       flags);
		miss = pat_miss(buf, off + done, n, seed);
		ASSERT_EQ(-1, miss)
			TH_LOG("iova %#lx: byte %ld is not file byte %#lx of %u",
			       (unsigned long)(iova + done), miss,
			       (unsigned long)(off + done + miss), seed);
	}
	free(buf);
}

/* Write file bytes @off.. of @seed to [iova, +len) through @afd. */
static void iova_put(struct __test_metadata *_metadata, int fd, int afd,
		     uint64_t iova, uint64_t off, uint64_t len,
		     unsigned int seed, uint32_t flags)
{
	unsigned char *buf = malloc(len);

	ASSERT_NE(NULL, buf);
	pat_fill(buf, off, len, seed);
	ASSERT_EQ(0, acc_rw(fd, afd, iova, buf, len, WRITE | flags))
		TH_LOG("write iova %#lx + %#lx, flags %#x",
		       (unsigned long)iova, (unsigned long)len, flags);
	free(buf);
}

/* pread() of [off, +len) of @mfd must be pattern @seed. */
static void file_holds(struct __test_metadata *_metadata, int mfd,
		       uint64_t off, uint64_t len, unsigned int seed)
{
	unsigned char *buf = malloc(len);
	long miss;

	ASSERT_NE(NULL, buf);
	pat_spoil(buf, off, len, seed);
	ASSERT_EQ((ssize_t)len, pread(mfd, buf, len, off));
	miss = pat_miss(buf, off, len, seed);
	EXPECT_EQ(-1, miss) TH_LOG("file byte %#lx is not of seed %u",
				   (unsigned long)(off + miss), seed);
	free(buf);
}

/* ---- other processes ----------------------------------------------------- */

static long locked_kb(void)
{
	return proc_status_kb("VmLck");
}

/*
 * A servant: a forked process that does what it is told with the context
 * it inherited (or received), one order at a time, and answers each with
 * an errno. It stands for the other process of a live update; all checks
 * stay in the test. It goes when told to, or when its pipe closes.
 */
enum order_op {
	DO_CHANGE = 1,		/* IOMMU_IOAS_CHANGE_PROCESS */
	DO_CLOSE_CTX,		/* close its context fd */
	DO_CLOSE_FILE,		/* close its memfd */
	DO_LIMIT,		/* RLIMIT_MEMLOCK to @a bytes, no CAP_IPC_LOCK */
	DO_MAP_FILE,		/* memfd [@a, +@b) at IOVA @c of @ioas */
	DO_UNMAP,		/* [@a, +@b) of @ioas */
	DO_TAKE_CTX,		/* its context from now on: fd @b of pid @a */
	DO_MUNMAP,		/* its view [@a, +@b) of the file */
};

struct order {
	uint32_t op;
	uint32_t ioas;
	uint64_t a, b, c;
};

struct servant {
	pid_t pid;
	int to, from;
};

/* Duplicate descriptor @fd of process @pid; -1 if that fails. */
static int take_fd(pid_t pid, int fd)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0), got;

	if (pidfd < 0)
		return -1;
	got = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	return got;
}

static int obey(const struct order *o, int *ctx, int *mfd)
{
	struct rlimit lim;

	switch (o->op) {
	case DO_CHANGE:
		return change_process(*ctx);
	case DO_CLOSE_CTX:
		if (close(*ctx))
			return errno;
		*ctx = -1;
		return 0;
	case DO_CLOSE_FILE:
		if (close(*mfd))
			return errno;
		*mfd = -1;
		return 0;
	case DO_LIMIT:
		if (getrlimit(RLIMIT_MEMLOCK, &lim))
			return errno;
		lim.rlim_cur = o->a;
		if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < o->a)
			lim.rlim_max = o->a;
		if (drop_effective_cap(CAP_IPC_LOCK) ||
		    setrlimit(RLIMIT_MEMLOCK, &lim))
			return errno;
		return 0;
	case DO_MAP_FILE:
		return map_file_at(*ctx, o->ioas, *mfd, o->a, o->b, o->c);
	case DO_UNMAP:
		return ioas_unmap(*ctx, o->ioas, o->a, o->b, NULL);
	case DO_TAKE_CTX:
		if (*ctx >= 0)
			close(*ctx);
		*ctx = take_fd(o->a, o->b);
		return *ctx < 0 ? EBADF : 0;
	case DO_MUNMAP:
		return munmap((void *)(uintptr_t)o->a, o->b) ? errno : 0;
	}
	return -1;	/* no such order */
}

static void serve(int ctx, int mfd, int in, int out)
{
	struct order o;
	int32_t rc;

	while (read(in, &o, sizeof(o)) == sizeof(o)) {
		rc = obey(&o, &ctx, &mfd);
		if (write(out, &rc, sizeof(rc)) != sizeof(rc))
			_exit(1);
	}
	_exit(0);
}

static int servant_start(struct servant *s, int ctx, int mfd)
{
	int down[2], up[2];

	if (pipe(down))
		return errno;
	if (pipe(up)) {
		close(down[0]);
		close(down[1]);
		return errno;
	}
	s->pid = fork();
	if (s->pid < 0)
		return errno;
	if (!s->pid) {
		close(down[1]);
		close(up[0]);
		serve(ctx, mfd, down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	s->to = down[1];
	s->from = up[0];
	return 0;
}

/* The servant's answer to one order, or -1 if it did not answer. */
static int ask(struct servant *s, uint32_t op, uint32_t ioas, uint64_t a,
	       uint64_t b, uint64_t c)
{
	struct order o = { .op = op, .ioas = ioas, .a = a, .b = b, .c = c };
	int32_t rc;

	if (s->pid <= 0 || write(s->to, &o, sizeof(o)) != sizeof(o) ||
	    read(s->from, &rc, sizeof(rc)) != sizeof(rc))
		return -1;
	return rc;
}

/* Dismiss it and wait until it is gone; its exit status, or -1. */
static int servant_stop(struct servant *s)
{
	int status;

	if (s->pid <= 0)
		return -1;
	close(s->to);
	close(s->from);
	if (waitpid(s->pid, &status, 0) != s->pid)
		status = -1;
	s->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- plain contexts: the errnos, alignment, copies, unmaps --------------- */

FIXTURE(file) {
	int fd;
	uint32_t ioas;
	long pin0;
};

FIXTURE_SETUP(file)
{
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	self->pin0 = pinned_kb();
	ASSERT_LE(0, self->pin0);
}

FIXTURE_TEARDOWN(file)
{
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(self->pin0, pinned_kb());
}

/* Copy @cmd into a buffer of @size bytes (its size field too), call. */
static int call_sized(int fd, unsigned long nr, void *cmd, size_t full,
		      uint32_t size, bool dirty)
{
	unsigned char raw[128];

	memset(raw, 0, sizeof(raw));
	memcpy(raw, cmd, full);
	memcpy(raw, &size, sizeof(size));
	if (dirty && size > full)
		raw[size - 1] = 0x5a;
	return ioctl_errno(fd, nr, raw);
}

TEST_F(file, map_unknown_flags)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas,
		.length = PG,
		.iova = MIB,
	};
	uint64_t got = 0;

	cmd.fd = shm_new(PG, 1, 0);
	ASSERT_LE(0, cmd.fd);
	cmd.flags = FIXED_RW | (1 << 3);
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	cmd.flags = MAP_RW | (1u << 31);
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	cmd.flags = FIXED_RW;
	EXPECT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_MAP_FILE, &cmd));
	EXPECT_EQ(MIB, cmd.iova);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, PG, &got));
	EXPECT_EQ(PG, got);
	close(cmd.fd);
}

TEST_F(file, map_values_too_big)
{
	int mfd = shm_new(PG, 1, 0);
	uint64_t iova;

	ASSERT_LE(0, mfd);
	iova = UINT64_MAX;
	EXPECT_EQ(EOVERFLOW, ioas_map_file(self->fd, self->ioas, mfd, 0, PG,
					   &iova, FIXED_RW));
	iova = UINT64_MAX;
	EXPECT_EQ(EOVERFLOW, ioas_map_file(self->fd, self->ioas, mfd, 0, PG,
					   &iova, MAP_RW));
	iova = MIB;
	EXPECT_EQ(EOVERFLOW, ioas_map_file(self->fd, self->ioas, mfd, 0,
					   UINT64_MAX, &iova, FIXED_RW));
	iova = 0;
	EXPECT_EQ(EOVERFLOW, ioas_map_file(self->fd, self->ioas, mfd, 0,
					   UINT64_MAX, &iova, MAP_RW));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	close(mfd);
}

TEST_F(file, map_needs_read_or_write)
{
	int mfd = shm_new(2 * PG, 2, 0);
	uint64_t iova = MIB, got = 0;

	ASSERT_LE(0, mfd);
	EXPECT_EQ(EINVAL, ioas_map_file(self->fd, self->ioas, mfd, 0, PG,
					&iova, 0));
	EXPECT_EQ(EINVAL, ioas_map_file(self->fd, self->ioas, mfd, 0, PG,
					&iova, IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	/* Either one alone is enough. */
	EXPECT_EQ(0, ioas_map_file(self->fd, self->ioas, mfd, 0, PG, &iova,
				   RD_ONLY));
	iova = MIB + PG;
	EXPECT_EQ(0, ioas_map_file(self->fd, self->ioas, mfd, PG, PG, &iova,
				   WR_ONLY));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, 2 * PG, &got));
	EXPECT_EQ(2 * PG, got);
	close(mfd);
}

TEST_F(file, map_unknown_ioas)
{
	int mfd = shm_new(PG, 3, 0);
	uint32_t gone, other;
	uint64_t iova = 0;
	struct mdev d;

	ASSERT_LE(0, mfd);
	EXPECT_EQ(ENOENT, map_file_at(self->fd, 0, mfd, 0, PG, MIB));
	EXPECT_EQ(ENOENT, map_file_at(self->fd, 31337, mfd, 0, PG, MIB));
	EXPECT_EQ(ENOENT, ioas_map_file(self->fd, self->ioas + 1000, mfd, 0,
					PG, &iova, MAP_RW));
	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, obj_destroy(self->fd, gone));
	EXPECT_EQ(ENOENT, map_file_at(self->fd, gone, mfd, 0, PG, MIB));
	/* Objects of other types are not IOAS either. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, dev_add(self->fd, other, 0, &d));
	EXPECT_EQ(ENOENT, map_file_at(self->fd, d.hwpt, mfd, 0, PG, AT(1)));
	EXPECT_EQ(ENOENT, map_file_at(self->fd, d.stdev, mfd, 0, PG, AT(1)));
	EXPECT_EQ(ENOENT, map_file_at(self->fd, d.idev, mfd, 0, PG, AT(1)));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	close(mfd);
}

TEST_F(file, map_bad_fd)
{
	int spare = shm_new(PG, 4, 0);

	ASSERT_LE(0, spare);
	ASSERT_EQ(0, close(spare));
	EXPECT_EQ(EBADF, map_file_at(self->fd, self->ioas, -1, 0, PG, MIB));
	EXPECT_EQ(EBADF, map_file_at(self->fd, self->ioas, spare, 0, PG, MIB));
	EXPECT_EQ(EBADF, map_file_at(self->fd, self->ioas, INT_MAX, 0, PG,
				     MIB));
	EXPECT_EQ(EBADF, map_file_at(self->fd, self->ioas, INT_MIN, 0, PG,
				     MIB));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
}

TEST_F(file, map_zero_length)
{
	int mfd = shm_new(PG, 5, 0);
	uint64_t iova = 0;

	ASSERT_LE(0, mfd);
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, 0, MIB));
	EXPECT_EQ(EINVAL, ioas_map_file(self->fd, self->ioas, mfd, 0, 0,
					&iova, MAP_RW));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, PG, 0, MIB));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	close(mfd);
}

TEST_F(file, map_range_wraps)
{
	int mfd = shm_new(PG, 6, 0);

	ASSERT_LE(0, mfd);
	EXPECT_EQ(EOVERFLOW, map_file_at(self->fd, self->ioas, mfd,
					 UINT64_MAX - PG + 1, 2 * PG, MIB));
	EXPECT_EQ(EOVERFLOW, map_file_at(self->fd, self->ioas, mfd, UINT64_MAX,
					 2, MIB));
	EXPECT_EQ(EOVERFLOW, map_file_at(self->fd, self->ioas, mfd, PG,
					 UINT64_MAX - 1, MIB));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	close(mfd);
}

TEST_F(file, map_not_shmem_or_hugetlbfs)
{
	int pipes[2], efd, zero, status, ifd;

	ASSERT_EQ(0, pipe(pipes));
	efd = eventfd(0, 0);
	ASSERT_LE(0, efd);
	zero = open("/dev/zero", O_RDWR);
	ASSERT_LE(0, zero);
	status = open("/proc/self/status", O_RDONLY);
	ASSERT_LE(0, status);
	ifd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, ifd);

	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, efd, 0, PG, MIB));
	EXPECT_EQ(EINVAL, ioas_map_file(self->fd, self->ioas, pipes[0], 0, PG,
					&(uint64_t){ MIB }, RD_ONLY));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, zero, 0, PG, MIB));
	EXPECT_EQ(EINVAL, ioas_map_file(self->fd, self->ioas, status, 0, PG,
					&(uint64_t){ MIB }, RD_ONLY));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, ifd, 0, PG, MIB));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, self->fd, 0, PG,
				      MIB));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	close(pipes[0]);
	close(pipes[1]);
	close(efd);
	close(zero);
	close(status);
	close(ifd);
}

/* A tmpfs file that is no memfd is shmem all the same. */
TEST_F(file, map_plain_tmpfs_file)
{
	static const char *const dirs[] = { "/tmp", "/dev/shm" };
	const char *dir = NULL;
	char path[64];
	struct statfs sf;
	unsigned int i;
	int tfd, afd;

	for (i = 0; i < NELEM(dirs) && !dir; i++)
		if (!statfs(dirs[i], &sf) && sf.f_type == TMPFS_MAGIC)
			dir = dirs[i];
	if (!dir)
		SKIP(return, "no tmpfs mounted at /tmp or /dev/shm");
	snprintf(path, sizeof(path), "%s/t_file.%d", dir, (int)getpid());
	tfd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, unlink(path));
	ASSERT_EQ(0, file_put(tfd, 0, 5 * PG, 7));

	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, tfd, PG, 3 * PG, MIB));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, MIB, PG, 3 * PG, 7, 0);
	iova_put(_metadata, self->fd, afd, MIB + 10, PG + 10, 100, 8, 0);
	file_holds(_metadata, tfd, PG + 10, 100, 8);
	file_holds(_metadata, tfd, 0, PG + 10, 7);
	close(afd);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, 3 * PG, NULL));
	close(tfd);
}

TEST_F(file, map_past_end_of_file)
{
	int mfd = shm_new(4 * PG, 9, 0), empty = shm_new(0, 0, 0);
	uint64_t got = 0;

	ASSERT_LE(0, mfd);
	ASSERT_LE(0, empty);
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, 5 * PG,
				      MIB));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 4 * PG, PG,
				      MIB));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 3 * PG,
				      2 * PG, MIB));
	/* Byte granular without a domain: one byte too far is too far. */
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 3 * PG + 1,
				      PG, MIB + 1));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0,
				      4 * PG + 1, MIB));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 1ULL << 62,
				      PG, MIB));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, empty, 0, PG, MIB));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	/* Up to the last byte is fine. */
	EXPECT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 3 * PG, PG, MIB));
	EXPECT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 4 * PG - 1, 1,
				 2 * MIB));
	EXPECT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, 4 * PG,
				 3 * MIB));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(5 * PG + 1, got);
	/* Shrunk to nothing, the file has no range left to map. */
	ASSERT_EQ(0, ftruncate(mfd, 0));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, PG, MIB));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, 1, MIB));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	close(mfd);
	close(empty);
}

/* Writes through the IOMMU need a file opened for writing. */
TEST_F(file, map_read_only_fd)
{
	int mfd = shm_new(4 * PG, 10, 0), ro, wo, afd;
	unsigned char tmp[64];
	char path[64];

	ASSERT_LE(0, mfd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = open(path, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(EPERM, map_file_at(self->fd, self->ioas, ro, 0, 4 * PG, MIB));
	EXPECT_EQ(EPERM, ioas_map_file(self->fd, self->ioas, ro, 0, 4 * PG,
				       &(uint64_t){ MIB }, WR_ONLY));
	EXPECT_EQ(EPERM, ioas_map_file(self->fd, self->ioas, ro, 0, 4 * PG,
				       &(uint64_t){ 0 },
				       IOMMU_IOAS_MAP_WRITEABLE));
	/* Nor may a device read what the fd may not. */
	wo = open(path, O_WRONLY);
	ASSERT_LE(0, wo);
	EXPECT_EQ(EPERM, map_file_at(self->fd, self->ioas, wo, 0, 4 * PG, MIB));
	EXPECT_EQ(EPERM, ioas_map_file(self->fd, self->ioas, wo, 0, 4 * PG,
				       &(uint64_t){ MIB }, RD_ONLY));
	close(wo);
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	ASSERT_EQ(0, ioas_map_file(self->fd, self->ioas, ro, 0, 4 * PG,
				   &(uint64_t){ MIB }, RD_ONLY));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, MIB, 0, 4 * PG, 10, 0);
	iova_holds(_metadata, self->fd, afd, MIB + 7, 7, PG, 10, SLOW);
	/* A read-only area takes no writes, by either path or a pin. */
	memset(tmp, 0xee, sizeof(tmp));
	EXPECT_EQ(EPERM, acc_rw(self->fd, afd, MIB, tmp, sizeof(tmp), WRITE));
	EXPECT_EQ(EPERM, acc_rw(self->fd, afd, MIB, tmp, sizeof(tmp),
				WRITE | SLOW));
	EXPECT_EQ(EPERM, acc_pin_flags(self->fd, afd, MIB, PG, NULL,
				       MOCK_FLAGS_ACCESS_WRITE, NULL));
	file_holds(_metadata, mfd, 0, 4 * PG, 10);
	close(afd);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, 4 * PG, NULL));
	close(ro);
	close(mfd);
}

/* F_SEAL_WRITE promises no more writes: a writable mapping would break it. */
TEST_F(file, map_write_sealed)
{
	int mfd = shm_new(4 * PG, 11, MFD_ALLOW_SEALING), afd;
	int open_mfd = shm_new(4 * PG, 12, MFD_ALLOW_SEALING);
	struct mdev d;

	ASSERT_LE(0, mfd);
	ASSERT_LE(0, open_mfd);
	ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(EPERM, map_file_at(self->fd, self->ioas, mfd, 0, 4 * PG,
				     MIB));
	EXPECT_EQ(EPERM, ioas_map_file(self->fd, self->ioas, mfd, 0, PG,
				       &(uint64_t){ MIB }, WR_ONLY));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	ASSERT_EQ(0, ioas_map_file(self->fd, self->ioas, mfd, 0, 4 * PG,
				   &(uint64_t){ MIB }, RD_ONLY));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, MIB, 0, 4 * PG, 11, 0);
	close(afd);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, 4 * PG, NULL));

	/*
	 * The other way round: pages pinned writable for a domain keep the
	 * seal away (memfd waits for such pins, then gives up with EBUSY).
	 */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, open_mfd, 0, 4 * PG,
				 AT(1)));
	EXPECT_EQ(-1, fcntl(open_mfd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(1), 4 * PG, NULL));
	EXPECT_EQ(0, fcntl(open_mfd, F_ADD_SEALS, F_SEAL_WRITE));
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	close(open_mfd);
	close(mfd);
}

/*
 * The VFIO container ioctls on the same context see a file mapping as any
 * other: VFIO_IOMMU_UNMAP_DMA takes it out of the domain and unpins it.
 */
TEST_F(file, vfio_container_unmaps_it)
{
	int mfd = shm_new(8 * PG, 31, 0);
	struct iommu_vfio_ioas vioas = {
		.size = sizeof(vioas),
		.ioas_id = self->ioas,
		.op = IOMMU_VFIO_IOAS_SET,
	};
	struct vfio_iommu_type1_dma_unmap um = {
		.argsz = sizeof(um),
	};
	unsigned char *view;
	struct mdev d;

	ASSERT_LE(0, mfd);
	view = view_of(mfd, 8 * PG, PROT_READ);
	ASSERT_NE(NULL, view);
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_VFIO_IOAS, &vioas));
	ASSERT_EQ(0, ioctl(self->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, 4 * PG, AT(1)));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 4 * PG, 4 * PG,
				 AT(2)));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, AT(1), 4 * PG, view));
	EXPECT_EQ(self->pin0 + KB(8 * PG), pinned_kb());

	um.iova = AT(1);
	um.size = 4 * PG;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &um));
	EXPECT_EQ(4 * PG, um.size);
	EXPECT_EQ(self->pin0 + KB(4 * PG), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, AT(2), 4 * PG,
			     view + 4 * PG));

	um.iova = 0;
	um.size = 0;
	um.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &um));
	EXPECT_EQ(4 * PG, um.size);
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	munmap(view, 8 * PG);
	close(mfd);
}

/*
 * With nothing pinned (no domain, no access) there is nothing to charge:
 * a new owner over its own limit still takes the mapping over.
 */
TEST_F(file, change_with_nothing_pinned)
{
	int mfd = shm_new(4 * PG, 12, 0), fd2 = open(IOMMU_DEV, O_RDWR), status;
	unsigned char *buf = anon_mem(4 * PG, 0x21);
	uint32_t ioas2;
	struct mdev d;
	pid_t pid;

	ASSERT_LE(0, mfd);
	ASSERT_LE(0, fd2);
	ASSERT_NE(MAP_FAILED, buf);
	/* The user has pages locked elsewhere, over the new owner's limit. */
	ASSERT_EQ(0, ioas_alloc(fd2, &ioas2));
	ASSERT_EQ(0, dev_add(fd2, ioas2, 0, &d));
	ASSERT_EQ(0, map_at(fd2, ioas2, buf, 4 * PG, AT(1)));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, 4 * PG, MIB));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct rlimit none = { 0, 0 };

		if (drop_effective_cap(CAP_IPC_LOCK) ||
		    setrlimit(RLIMIT_MEMLOCK, &none))
			_exit(100);
		_exit(change_process(self->fd));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(self->pin0 + KB(4 * PG), pinned_kb());
	EXPECT_EQ(4 * PG, mapped_bytes(self->fd, self->ioas));
	close(fd2);
	EXPECT_EQ(self->pin0, pinned_kb());
	munmap(buf, 4 * PG);
	close(mfd);
}

TEST_F(file, map_alignment)
{
	int mfd = shm_new(8 * PG, 13, 0), afd;
	unsigned char *view;
	uint64_t iova;
	struct mdev d;

	ASSERT_LE(0, mfd);
	view = view_of(mfd, 8 * PG, PROT_READ);
	ASSERT_NE(NULL, view);
	/* No domain: any byte of the file to any IOVA, as for user_va. */
	EXPECT_EQ(1, alignment_of(self->fd, self->ioas));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 100, 5, MIB + 3));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, PG - 7, 20,
				 2 * MIB + 100));
	/* A pinning access would need page aligned mappings. */
	EXPECT_EQ(EADDRINUSE, acc_new(self->fd, self->ioas, &afd));
	ASSERT_EQ(0, acc_new_rw(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, MIB + 3, 100, 5, 13, 0);
	iova_holds(_metadata, self->fd, afd, 2 * MIB + 100, PG - 7, 20, 13, 0);
	iova_holds(_metadata, self->fd, afd, 2 * MIB + 100, PG - 7, 20, 13,
		   SLOW);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));

	/* With a mock domain, its 2 KiB IO page rules start and IOVA. */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	ASSERT_EQ(IOPG, alignment_of(self->fd, self->ioas));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 1024, IOPG,
				      AT(2) + 1024));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, IOPG,
				      AT(2) + 1024));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 1024, IOPG,
				      AT(2)));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, 3 * 1024,
				      AT(2)));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 100, 5,
				      AT(2) + 100));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));
	/* Half a page, on the IO page grid both sides. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, IOPG, IOPG,
				 AT(2) + IOPG));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, AT(2) + IOPG, IOPG,
			     view + IOPG));
	EXPECT_NE(0, dom_has(self->fd, d.hwpt, AT(2) + IOPG, IOPG, view));
	/* A chosen IOVA honours the grid too. */
	iova = 0;
	ASSERT_EQ(0, ioas_map_file(self->fd, self->ioas, mfd, 3 * PG + IOPG,
				   IOPG, &iova, MAP_RW));
	EXPECT_EQ(0, iova % IOPG);
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, iova, IOPG,
			     view + 3 * PG + IOPG));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	munmap(view, 8 * PG);
	close(mfd);
}

TEST_F(file, map_fixed_conflicts)
{
	int mfd = shm_new(8 * PG, 14, 0);
	unsigned char *va = anon_mem(4 * PG, 0x33);
	struct iommu_test_cmd res = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = self->ioas,
		.add_reserved = { .start = 8 * MIB, .length = 4 * PG },
	};
	uint64_t got = 0;

	ASSERT_LE(0, mfd);
	ASSERT_NE(MAP_FAILED, va);
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, 4 * PG, MIB));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, va, 4 * PG, 2 * MIB));
	/* Onto a file area, onto a VA area, just touching each. */
	EXPECT_EQ(EEXIST, map_file_at(self->fd, self->ioas, mfd, 0, PG, MIB));
	EXPECT_EQ(EEXIST, map_file_at(self->fd, self->ioas, mfd, 0, PG,
				      MIB + 3 * PG));
	EXPECT_EQ(EEXIST, map_file_at(self->fd, self->ioas, mfd, 0, 2 * PG,
				      MIB - PG));
	EXPECT_EQ(EEXIST, map_file_at(self->fd, self->ioas, mfd, 0, 8 * PG,
				      MIB - 2 * PG));
	EXPECT_EQ(EEXIST, map_file_at(self->fd, self->ioas, mfd, 0, PG,
				      2 * MIB + PG));
	EXPECT_EQ(EEXIST, map_file_at(self->fd, self->ioas, mfd, 4 * PG, PG,
				      2 * MIB + 4 * PG - 1));
	/* Into reserved IOVA. */
	ASSERT_EQ(0, test_op(self->fd, &res));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, PG,
				      8 * MIB));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, 2 * PG,
				      8 * MIB - PG));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, PG,
				      8 * MIB + 3 * PG));
	/* Right beside all of them is free. */
	EXPECT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, PG,
				 MIB + 4 * PG));
	EXPECT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, PG,
				 8 * MIB + 4 * PG));
	EXPECT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, PG,
				 8 * MIB - PG));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(11 * PG, got);
	munmap(va, 4 * PG);
	close(mfd);
}

TEST_F(file, map_auto_iova)
{
	int a = shm_new(3 * PG, 15, 0), b = shm_new(HUGE2M, 16, 0), afd;
	uint64_t ia = 0, ib = 0, ic = 0, got = 0;
	struct mdev d;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, ioas_map_file(self->fd, self->ioas, a, 0, 3 * PG, &ia,
				   MAP_RW));
	ASSERT_EQ(0, ioas_map_file(self->fd, self->ioas, b, 0, HUGE2M, &ib,
				   MAP_RW));
	EXPECT_NE(0, ia);
	EXPECT_NE(0, ib);
	EXPECT_TRUE(ia + 3 * PG <= ib || ib + HUGE2M <= ia);
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, ia, 0, 3 * PG, 15, 0);
	iova_holds(_metadata, self->fd, afd, ib, 0, HUGE2M, 16, 0);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(3 * PG + HUGE2M, got);

	/* With a domain the IOVA comes from inside its aperture. */
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	ASSERT_EQ(0, ioas_map_file(self->fd, self->ioas, a, PG, 2 * PG, &ic,
				   MAP_RW));
	EXPECT_LE(AP_LO, ic);
	EXPECT_GE(AP_HI, ic + 2 * PG - 1);
	EXPECT_EQ(0, ic % IOPG);
	EXPECT_EQ(self->pin0 + KB(2 * PG), pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, ic, 2 * PG, &got));
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	close(a);
	close(b);
}

TEST_F(file, map_size_rules)
{
	int mfd = shm_new(PG, 17, 0);
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = FIXED_RW,
		.ioas_id = self->ioas,
		.start = 0,
		.length = PG,
		.iova = MIB,
	};
	const size_t full = sizeof(cmd);
	uint64_t got = 0;

	ASSERT_LE(0, mfd);
	cmd.fd = mfd;
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_MAP_FILE, &cmd, full,
				     0, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_MAP_FILE, &cmd, full,
				     16, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_MAP_FILE, &cmd, full,
				     full - 8, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_MAP_FILE, &cmd, full,
				     full - 1, false));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_MAP_FILE, &cmd, full,
				    full + 8, true));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_MAP_FILE, &cmd, full,
				    full + 1, true));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, MIB, PG, NULL));
	EXPECT_EQ(0, call_sized(self->fd, IOMMU_IOAS_MAP_FILE, &cmd, full,
				full + 24, false));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, PG, &got));
	EXPECT_EQ(PG, got);
	close(mfd);
}

/* ---- IOAS_COPY and IOAS_UNMAP of file areas ------------------------------ */

TEST_F(file, copy_into_second_domain)
{
	const uint64_t x = AT(8), y = AT(64), y2 = AT(96), len = 16 * PG;
	int mfd = shm_new(len, 21, 0), afd;
	uint32_t ioas2;
	unsigned char *view;
	struct mdev a, b;
	uint64_t got = 0;

	ASSERT_LE(0, mfd);
	view = view_of(mfd, len, PROT_READ);
	ASSERT_NE(NULL, view);
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, dev_add(self->fd, ioas2, 0, &b));
	ASSERT_NE(a.hwpt, b.hwpt);

	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, len, x));
	EXPECT_EQ(self->pin0 + KB(len), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, view, len, 1));
	/* Copies share the pages and their one charge. */
	ASSERT_EQ(0, copy_at(self->fd, ioas2, y, self->ioas, x, len));
	ASSERT_EQ(0, copy_at(self->fd, ioas2, y2, self->ioas, x + 4 * PG,
			     8 * PG));
	EXPECT_EQ(self->pin0 + KB(len), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, view, len, 1));
	EXPECT_EQ(0, dom_has(self->fd, a.hwpt, x, len, view));
	EXPECT_EQ(0, dom_has(self->fd, b.hwpt, y, len, view));
	EXPECT_EQ(0, dom_has(self->fd, b.hwpt, y2, 8 * PG, view + 4 * PG));
	EXPECT_NE(0, dom_has(self->fd, b.hwpt, y2, 8 * PG, view));

	/* The source goes; the copies stay, still pinned, still charged. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, &got));
	EXPECT_EQ(len, got);
	EXPECT_EQ(self->pin0 + KB(len), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, view, len, 1));
	EXPECT_EQ(0, dom_has(self->fd, b.hwpt, y, len, view));
	ASSERT_EQ(0, acc_new(self->fd, ioas2, &afd));
	iova_holds(_metadata, self->fd, afd, y, 0, len, 21, 0);
	iova_holds(_metadata, self->fd, afd, y2, 4 * PG, 8 * PG, 21, SLOW);
	iova_put(_metadata, self->fd, afd, y2 + PG + 1, 5 * PG + 1, 99, 22, 0);
	EXPECT_EQ(-1, pat_miss(view + 5 * PG + 1, 5 * PG + 1, 99, 22));
	iova_holds(_metadata, self->fd, afd, y + 5 * PG + 1, 5 * PG + 1, 99,
		   22, 0);
	close(afd);

	ASSERT_EQ(0, ioas_unmap(self->fd, ioas2, 0, UINT64_MAX, &got));
	EXPECT_EQ(len + 8 * PG, got);
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, view, len, 0));
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, b.stdev));
	munmap(view, len);
	close(mfd);
}

TEST_F(file, unmap_partial_and_all)
{
	const uint64_t x = AT(16);
	int fa = shm_new(8 * PG, 23, 0), fb = shm_new(4 * PG, 24, 0), afd;
	unsigned char *va, *vb;
	uint64_t got = 0;
	unsigned char tmp[16];
	struct mdev d;

	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	va = view_of(fa, 8 * PG, PROT_READ);
	vb = view_of(fb, 4 * PG, PROT_READ);
	ASSERT_NE(NULL, va);
	ASSERT_NE(NULL, vb);
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	/* Two files back to back. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, fa, 0, 8 * PG, x));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, fb, 0, 4 * PG,
				 x + 8 * PG));
	EXPECT_EQ(self->pin0 + KB(12 * PG), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, x, 8 * PG, va));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, x + 8 * PG, 4 * PG, vb));

	/* Cutting into an area unmaps nothing at all. */
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x, 4 * PG, NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x + 4 * PG, 8 * PG,
				     NULL));
	EXPECT_EQ(ENOENT, ioas_unmap(self->fd, self->ioas, x + 9 * PG, 3 * PG,
				     NULL));
	EXPECT_EQ(self->pin0 + KB(12 * PG), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, x, 8 * PG, va));

	/* One whole area goes, the other stays as it was. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 8 * PG, &got));
	EXPECT_EQ(8 * PG, got);
	EXPECT_EQ(self->pin0 + KB(4 * PG), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, va, 8 * PG, 0));
	EXPECT_EQ(0, check_refs(self->fd, vb, 4 * PG, 1));
	EXPECT_NE(0, dom_has(self->fd, d.hwpt, x, IOPG, va));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, x + 8 * PG, 4 * PG, vb));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x + 8 * PG, 0, 4 * PG, 24, 0);
	EXPECT_NE(0, acc_rw(self->fd, afd, x, tmp, sizeof(tmp), 0));
	close(afd);

	/* And back; then everything at once. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, fa, 0, 8 * PG, x));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, x, 8 * PG, va));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(12 * PG, got);
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, va, 8 * PG, 0));
	EXPECT_EQ(0, check_refs(self->fd, vb, 4 * PG, 0));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));

	/* Areas left behind go with their IOAS. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, fa, 0, 8 * PG, x));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, fb, PG, 2 * PG,
				 x + 16 * PG));
	EXPECT_EQ(self->pin0 + KB(10 * PG), pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, self->ioas));
	EXPECT_EQ(self->pin0, pinned_kb());
	munmap(va, 8 * PG);
	munmap(vb, 4 * PG);
	close(fa);
	close(fb);
}

/* Whatever shrinking a pinned file does to its data, nothing leaks. */
TEST_F(file, truncate_while_mapped)
{
	int mfd = shm_new(16 * PG, 25, 0);
	uint64_t got = 0;
	struct mdev d;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, 16 * PG, AT(4)));
	EXPECT_EQ(self->pin0 + KB(16 * PG), pinned_kb());
	ASSERT_EQ(0, ftruncate(mfd, 2 * PG));
	EXPECT_EQ(self->pin0 + KB(16 * PG), pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(16 * PG, got);
	EXPECT_EQ(self->pin0, pinned_kb());
	/* What is left of the file maps as usual. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, 2 * PG, AT(4)));
	EXPECT_EQ(EINVAL, map_file_at(self->fd, self->ioas, mfd, 0, 3 * PG,
				      AT(8)));
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	close(mfd);
}

/* ---- dirty tracking ------------------------------------------------------ */

TEST_F(file, dirty_tracking)
{
	const uint64_t len = 4 * MIB, x = AT(64), io_pages = len / IOPG;
	const uint64_t dirty[] = { 0, 1, 5, 777, 1500, io_pages - 1 };
	uint64_t *io, *want, *got, nr = 0, i, w;
	int mfd = shm_new(len, 26, 0);
	unsigned char *view;
	uint32_t hwpt, pt;
	struct mdev d;

	ASSERT_LE(0, mfd);
	view = view_of(mfd, len, PROT_READ);
	ASSERT_NE(NULL, view);
	io = calloc(io_pages / 64, 8);
	want = calloc(len / PG / 64, 8);
	got = calloc(len / PG / 64, 8);
	ASSERT_NE(NULL, io);
	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	ASSERT_EQ(0, pt_alloc(self->fd, d.idev, self->ioas,
			      IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt));
	pt = hwpt;
	ASSERT_EQ(0, dev_move(self->fd, d.stdev, &pt));
	ASSERT_EQ(hwpt, pt);
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, len, x));
	EXPECT_EQ(0, dom_has(self->fd, hwpt, x, len, view));
	ASSERT_EQ(0, tracking(self->fd, hwpt,
			      IOMMU_HWPT_DIRTY_TRACKING_ENABLE));

	for (i = 0; i < NELEM(dirty); i++) {
		io[dirty[i] / 64] |= 1ULL << (dirty[i] % 64);
		w = dirty[i] * IOPG / PG;
		want[w / 64] |= 1ULL << (w % 64);
	}
	ASSERT_EQ(0, poke(self->fd, hwpt, x, len, IOPG, io, &nr));
	EXPECT_EQ(NELEM(dirty), nr);
	ASSERT_EQ(0, harvest(self->fd, hwpt, x, len, PG, got,
			     IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR));
	for (w = 0; w < len / PG / 64; w++)
		EXPECT_EQ(want[w], got[w]) TH_LOG("word %lu", (unsigned long)w);
	memset(got, 0, len / PG / 8);
	ASSERT_EQ(0, harvest(self->fd, hwpt, x, len, PG, got, 0));
	for (w = 0; w < len / PG / 64; w++)
		EXPECT_EQ(want[w], got[w]) TH_LOG("word %lu", (unsigned long)w);
	/* Read and cleared: nothing is left. */
	memset(got, 0, len / PG / 8);
	ASSERT_EQ(0, harvest(self->fd, hwpt, x, len, PG, got, 0));
	for (w = 0; w < len / PG / 64; w++)
		EXPECT_EQ(0, got[w]) TH_LOG("word %lu", (unsigned long)w);
	/* Tracking changed nothing of the translation or the data. */
	EXPECT_EQ(0, dom_has(self->fd, hwpt, x, len, view));
	EXPECT_EQ(-1, pat_miss(view, 0, len, 26));

	ASSERT_EQ(0, tracking(self->fd, hwpt, 0));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	ASSERT_EQ(0, obj_destroy(self->fd, hwpt));
	free(io);
	free(want);
	free(got);
	munmap(view, len);
	close(mfd);
}

/* ---- hugetlbfs ----------------------------------------------------------- */

TEST_F(file, hugetlb_2m)
{
	/* Pieces of the 8 MiB file: huge page multiples, and 4 KiB inside. */
	static const struct { uint64_t start, len, iova; } pc[] = {
		{ 2 * MIB, 4 * MIB, AT(256) },
		{ PG, 2 * PG, AT(300) + PG },
		{ 2 * MIB + PG, 2 * MIB - PG, AT(320) + PG },
		{ 6 * MIB - PG, 2 * PG, AT(340) + PG },
		{ 8 * MIB - PG, PG, AT(360) + PG },
	};
	unsigned char *v2, *v8, *nv;
	uint64_t got = 0;
	struct mdev d;
	unsigned int i;
	int f2, f8, afd;
	uint32_t id;

	f2 = huge_new(HUGE2M, HUGE2M, 31, &v2);
	if (huge_missing(f2))
		SKIP(return, "no 2 MiB hugetlbfs pages (%s)", strerror(-f2));
	ASSERT_LE(0, f2);
	f8 = huge_new(8 * MIB, HUGE2M, 32, &v8);
	if (huge_missing(f8))
		SKIP(return, "not four 2 MiB hugetlbfs pages (%s)",
		     strerror(-f8));
	ASSERT_LE(0, f8);
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));

	/* Whole files, charged by the small page. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, f2, 0, HUGE2M, AT(64)));
	EXPECT_EQ(self->pin0 + KB(HUGE2M), pinned_kb());
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, f8, 0, 8 * MIB,
				 AT(128)));
	EXPECT_EQ(self->pin0 + KB(10 * MIB), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, AT(64), HUGE2M, v2));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, AT(128), 8 * MIB, v8));
	EXPECT_NE(0, dom_has(self->fd, d.hwpt, AT(128), HUGE2M, v2));
	iova_holds(_metadata, self->fd, afd, AT(64), 0, HUGE2M, 31, 0);
	iova_holds(_metadata, self->fd, afd, AT(128), 0, 8 * MIB, 32, 0);

	for (i = 0; i < NELEM(pc); i++) {
		ASSERT_EQ(0, map_file_at(self->fd, self->ioas, f8, pc[i].start,
					 pc[i].len, pc[i].iova))
			TH_LOG("piece %u", i);
		EXPECT_EQ(0, dom_has(self->fd, d.hwpt, pc[i].iova, pc[i].len,
				     v8 + pc[i].start))
			TH_LOG("piece %u", i);
		iova_holds(_metadata, self->fd, afd, pc[i].iova, pc[i].start,
			   pc[i].len, 32, 0);
	}
	/* The small pages of a pin are those of the huge page's view. */
	ASSERT_EQ(0, acc_pin_flags(self->fd, afd, pc[1].iova, pc[1].len,
				   v8 + pc[1].start, 0, &id));
	EXPECT_NE(0, acc_pin_flags(self->fd, afd, pc[1].iova, pc[1].len, v8,
				   0, NULL));
	ASSERT_EQ(0, acc_unpin(self->fd, afd, id));
	iova_holds(_metadata, self->fd, afd, pc[3].iova, pc[3].start,
		   pc[3].len, 32, SLOW);

	/* A new view, elsewhere, sees the same pages and new data. */
	nv = view_of(f8, 8 * MIB, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, nv);
	ASSERT_NE(v8, nv);
	ASSERT_EQ(0, munmap(v8, 8 * MIB));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, AT(128), 8 * MIB, nv));
	for (i = 0; i < NELEM(pc); i++)
		EXPECT_EQ(0, dom_has(self->fd, d.hwpt, pc[i].iova, pc[i].len,
				     nv + pc[i].start))
			TH_LOG("piece %u", i);
	pat_fill(nv + 6 * MIB - PG, 6 * MIB - PG, 2 * PG, 33);
	iova_holds(_metadata, self->fd, afd, pc[3].iova, pc[3].start,
		   pc[3].len, 33, 0);
	iova_holds(_metadata, self->fd, afd, AT(128) + 6 * MIB - PG,
		   6 * MIB - PG, 2 * PG, 33, SLOW);
	iova_put(_metadata, self->fd, afd, pc[1].iova + 5, PG + 5, 3000, 34,
		 0);
	EXPECT_EQ(-1, pat_miss(nv + PG + 5, PG + 5, 3000, 34));
	file_holds(_metadata, f8, PG + 5, 3000, 34);
	EXPECT_EQ(-1, pat_miss(nv, 0, PG + 5, 32));

	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(10 * MIB + 4 * MIB + 2 * PG + 2 * MIB - PG + 2 * PG + PG,
		  got);
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	munmap(nv, 8 * MIB);
	munmap(v2, HUGE2M);
	close(f2);
	close(f8);
}

/* The 1 GiB case exists only where the guest has such pages. */
TEST_F(file, hugetlb_1g)
{
	const uint64_t x = AT(512);
	unsigned char *v;
	struct mdev d;
	int f, afd;

	f = huge_new(GIB, GIB, 35, &v);
	if (huge_missing(f))
		SKIP(return, "no 1 GiB hugetlbfs page (%s)", strerror(-f));
	ASSERT_LE(0, f);
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, f, 0, GIB, x));
	EXPECT_EQ(self->pin0 + KB(GIB), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, x, 4 * MIB, v));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, x + GIB / 2 + PG, 2 * PG,
			     v + GIB / 2 + PG));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, x + GIB - 4 * MIB, 4 * MIB,
			     v + GIB - 4 * MIB));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, 4 * MIB, 35, 0);
	iova_holds(_metadata, self->fd, afd, x + GIB - 3 * PG - 1,
		   GIB - 3 * PG - 1, 3 * PG + 1, 35, SLOW);
	/* And 4 KiB into the huge page, through a second area. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, f, 3 * PG, 5 * PG,
				 AT(64) + 3 * PG));
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, AT(64) + 3 * PG, 5 * PG,
			     v + 3 * PG));
	iova_holds(_metadata, self->fd, afd, AT(64) + 3 * PG, 3 * PG, 5 * PG,
		   35, 0);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	munmap(v, GIB);
	close(f);
}

/* ---- CHANGE_PROCESS within one process ----------------------------------- */

TEST_F(file, change_bad_arguments)
{
	struct iommu_ioas_change_process cmd = { .size = sizeof(cmd) };
	const size_t full = sizeof(cmd);

	cmd.__reserved = 1;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_CHANGE_PROCESS,
					  &cmd));
	cmd.__reserved = 0x80000000u;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_IOAS_CHANGE_PROCESS,
					  &cmd));
	cmd.__reserved = 0;
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd,
				     full, 0, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd,
				     full, 4, false));
	EXPECT_EQ(EINVAL, call_sized(self->fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd,
				     full, 7, false));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd,
				    full, 16, true));
	EXPECT_EQ(E2BIG, call_sized(self->fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd,
				    full, 9, true));
	EXPECT_EQ(0, call_sized(self->fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd,
				full, 16, false));
	EXPECT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd));
}

TEST_F(file, change_with_nothing_to_move)
{
	int bare = open(IOMMU_DEV, O_RDWR), mfd = shm_new(PG, 36, 0);
	uint32_t empty;

	ASSERT_LE(0, bare);
	ASSERT_LE(0, mfd);
	/* No IOAS at all; then IOAS without mappings. */
	EXPECT_EQ(0, change_process(bare));
	close(bare);
	EXPECT_EQ(0, change_process(self->fd));
	ASSERT_EQ(0, ioas_alloc(self->fd, &empty));
	EXPECT_EQ(0, change_process(self->fd));
	/* Mapped once, now empty again. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, PG, MIB));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, MIB, PG, NULL));
	EXPECT_EQ(0, change_process(self->fd));
	EXPECT_EQ(self->pin0, pinned_kb());
	close(mfd);
}

/* Into the process that holds the charge already: nothing moves. */
TEST_F(file, change_to_same_process)
{
	const uint64_t len = 32 * PG;
	int f1 = shm_new(len, 37, 0), f2 = shm_new(len, 38, 0), afd, bfd;
	uint32_t ioas2, ioas3, id;
	struct mdev a, b;
	unsigned int i;

	ASSERT_LE(0, f1);
	ASSERT_LE(0, f2);
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas3));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &a));
	ASSERT_EQ(0, dev_add(self->fd, ioas2, 0, &b));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, f1, 0, len, AT(8)));
	ASSERT_EQ(0, copy_at(self->fd, ioas2, AT(8), self->ioas, AT(8), len));
	ASSERT_EQ(0, map_file_at(self->fd, ioas2, f2, 0, len / 2, AT(64)));
	/* And pages pinned only by an access, in an IOAS without domain. */
	ASSERT_EQ(0, map_file_at(self->fd, ioas3, f2, len / 2, len / 2, MIB));
	ASSERT_EQ(0, acc_new(self->fd, ioas3, &bfd));
	ASSERT_EQ(0, acc_pin_flags(self->fd, bfd, MIB, len / 2, NULL, 0, &id));
	EXPECT_EQ(self->pin0 + KB(2 * len), pinned_kb());

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, change_process(self->fd));
		EXPECT_EQ(self->pin0 + KB(2 * len), pinned_kb());
	}
	ASSERT_EQ(0, acc_new(self->fd, ioas2, &afd));
	iova_holds(_metadata, self->fd, afd, AT(8), 0, len, 37, 0);
	iova_holds(_metadata, self->fd, afd, AT(64), 0, len / 2, 38, SLOW);
	iova_holds(_metadata, self->fd, bfd, MIB, len / 2, len / 2, 38, 0);
	close(afd);

	/* Each release takes back exactly its own share. */
	ASSERT_EQ(0, acc_unpin(self->fd, bfd, id));
	EXPECT_EQ(self->pin0 + KB(len + len / 2), pinned_kb());
	close(bfd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
	EXPECT_EQ(self->pin0 + KB(len + len / 2), pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, b.stdev));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, change_process(self->fd));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, a.stdev));
	close(f1);
	close(f2);
}

/* Any address mapping in the context refuses the move, and moves nothing. */
TEST_F(file, change_refused_for_user_va)
{
	unsigned char *buf = anon_mem(4 * PG, 0x44);
	int mfd = shm_new(8 * PG, 39, 0);
	uint32_t ioas2, ioas3;
	struct mdev d;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas3));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, 8 * PG, AT(8)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, buf, 4 * PG, AT(16)));
	EXPECT_EQ(self->pin0 + KB(12 * PG), pinned_kb());
	EXPECT_EQ(EINVAL, change_process(self->fd));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(16), 4 * PG, NULL));
	EXPECT_EQ(0, change_process(self->fd));
	/* In another IOAS, unpinned, or a copy of one: all the same. */
	ASSERT_EQ(0, map_at(self->fd, ioas2, buf, 4 * PG, MIB));
	EXPECT_EQ(EINVAL, change_process(self->fd));
	ASSERT_EQ(0, copy_at(self->fd, ioas3, MIB, ioas2, MIB + PG, 2 * PG));
	ASSERT_EQ(0, ioas_unmap(self->fd, ioas2, MIB, 4 * PG, NULL));
	EXPECT_EQ(EINVAL, change_process(self->fd));
	ASSERT_EQ(0, ioas_unmap(self->fd, ioas3, MIB, 2 * PG, NULL));
	EXPECT_EQ(0, change_process(self->fd));
	EXPECT_EQ(self->pin0 + KB(8 * PG), pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(8), 8 * PG, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	munmap(buf, 4 * PG);
	close(mfd);
}

/*
 * Maps and unmaps on several threads while another moves the charge
 * again and again into the same process: every call is 0 (or EINVAL
 * while an address mapping exists), and the count comes out even.
 */
#define CHURN_ROUNDS 200
#define CHANGE_ROUNDS 400

struct churn {
	int fd;
	uint32_t ioas;
	int mfd;		/* < 0: map @va instead */
	unsigned char *va;
	uint64_t base;
	int step, rc;
};

static void *churn_loop(void *arg)
{
	struct churn *c = arg;
	uint64_t iova, len, got;
	int i;

	for (i = 0; i < CHURN_ROUNDS; i++) {
		iova = c->base + (uint64_t)(i % 8) * 16 * PG;
		len = (1 + i % 4) * PG;
		c->step = i;
		if (c->mfd >= 0)
			c->rc = map_file_at(c->fd, c->ioas, c->mfd,
					    (i % 4) * PG, len, iova);
		else
			c->rc = map_at(c->fd, c->ioas, c->va, len, iova);
		if (c->rc)
			return (void *)1L;
		got = 0;
		c->rc = ioas_unmap(c->fd, c->ioas, iova, len, &got);
		if (c->rc || got != len)
			return (void *)2L;
	}
	return NULL;
}

struct changer {
	int fd;
	unsigned int moved, refused;
	int bad;
};

static void *changer_loop(void *arg)
{
	struct changer *c = arg;
	int i, rc;

	for (i = 0; i < CHANGE_ROUNDS; i++) {
		rc = change_process(c->fd);
		if (!rc) {
			c->moved++;
		} else if (rc == EINVAL) {
			c->refused++;
		} else {
			c->bad = rc;
			return (void *)1L;
		}
	}
	return NULL;
}

TEST_F(file, change_races_map_and_unmap)
{
	unsigned char *va = anon_mem(8 * PG, 0x55);
	struct changer ch = { .fd = self->fd };
	struct churn c[3];
	pthread_t th[4];
	struct mdev d;
	uint32_t ioas2;
	int f1, f2, afd;
	void *ret;
	int i;

	ASSERT_NE(MAP_FAILED, va);
	f1 = shm_new(8 * PG, 40, 0);
	f2 = shm_new(8 * PG, 41, 0);
	ASSERT_LE(0, f1);
	ASSERT_LE(0, f2);
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	/* One steady area the moves must carry along all the time. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, f2, 0, 8 * PG, AT(4)));
	c[0] = (struct churn){ .fd = self->fd, .ioas = self->ioas, .mfd = f1,
			       .base = AT(64) };
	c[1] = (struct churn){ .fd = self->fd, .ioas = self->ioas, .mfd = f2,
			       .base = AT(128) };
	c[2] = (struct churn){ .fd = self->fd, .ioas = ioas2, .mfd = -1,
			       .va = va, .base = AT(64) };
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, churn_loop, &c[i]));
	ASSERT_EQ(0, pthread_create(&th[3], NULL, changer_loop, &ch));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &ret));
		EXPECT_EQ(NULL, ret) TH_LOG("mapper %d, round %d: %s", i,
					    c[i].step, strerror(c[i].rc));
	}
	ASSERT_EQ(0, pthread_join(th[3], &ret));
	EXPECT_EQ(NULL, ret) TH_LOG("change_process: %s", strerror(ch.bad));
	EXPECT_EQ(CHANGE_ROUNDS, ch.moved + ch.refused);
	TH_LOG("%u moves, %u refused", ch.moved, ch.refused);

	/* Settled: only the steady area is charged, and it still works. */
	EXPECT_EQ(self->pin0 + KB(8 * PG), pinned_kb());
	EXPECT_EQ(0, change_process(self->fd));
	EXPECT_EQ(self->pin0 + KB(8 * PG), pinned_kb());
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, AT(4), 0, 8 * PG, 41, 0);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, mapped_bytes(self->fd, ioas2));
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	munmap(va, 8 * PG);
	close(f1);
	close(f2);
}

/* ---- odd file sizes, whole and in pieces, under a mock domain ------------ */

FIXTURE(sizes) {
	int fd;
	uint32_t ioas;
	struct mdev dev;
	int mfd;
	unsigned char *view;
	long pin0;
};

FIXTURE_VARIANT(sizes) {
	uint64_t len;
};

FIXTURE_VARIANT_ADD(sizes, one_page) { .len = PG };
FIXTURE_VARIANT_ADD(sizes, three_pages) { .len = 3 * PG };
FIXTURE_VARIANT_ADD(sizes, two_mib_and_a_page) { .len = 2 * MIB + PG };
FIXTURE_VARIANT_ADD(sizes, seventeen_mib) { .len = 17 * MIB };

FIXTURE_SETUP(sizes)
{
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &self->dev));
	self->mfd = shm_new(variant->len, 51, 0);
	ASSERT_LE(0, self->mfd);
	self->view = view_of(self->mfd, variant->len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->view);
	self->pin0 = pinned_kb();
}

FIXTURE_TEARDOWN(sizes)
{
	close(self->fd);
	EXPECT_EQ(self->pin0, pinned_kb());
	munmap(self->view, variant->len);
	close(self->mfd);
}

struct piece {
	uint64_t start, len, iova;
};

/* The file in pieces (last page, middle, first page), scattered in IOVA. */
static unsigned int cut(uint64_t size, struct piece *p)
{
	unsigned int n = 0, i;

	if (size == PG) {
		p[n++] = (struct piece){ .start = 0, .len = PG };
	} else {
		p[n++] = (struct piece){ .start = size - PG, .len = PG };
		if (size > 2 * PG)
			p[n++] = (struct piece){ .start = PG,
						 .len = size - 2 * PG };
		p[n++] = (struct piece){ .start = 0, .len = PG };
	}
	for (i = 0; i < n; i++)
		p[i].iova = AT(64 + 32 * i) + (i + 1) * 5 * PG;
	return n;
}

TEST_F(sizes, whole_and_pieces)
{
	const uint64_t len = variant->len, x = AT(20);
	unsigned char *nv;
	struct piece p[3];
	unsigned int n, i;
	uint64_t got = 0;

	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd, 0, len, x));
	EXPECT_EQ(self->pin0 + KB(len), pinned_kb());
	EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, x, len, self->view));
	EXPECT_EQ(0, check_refs(self->fd, self->view, len, 1));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, &got));
	EXPECT_EQ(len, got);
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->view, len, 0));

	n = cut(len, p);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd,
					 p[i].start, p[i].len, p[i].iova))
			TH_LOG("piece %u", i);
	EXPECT_EQ(self->pin0 + KB(len), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, self->view, len, 1));
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, p[i].iova,
				     p[i].len, self->view + p[i].start))
			TH_LOG("piece %u", i);
	/* The first piece holds the last page, not the first. */
	if (n > 1)
		EXPECT_NE(0, dom_has(self->fd, self->dev.hwpt, p[0].iova, PG,
				     self->view));

	/* Another view of the file, at another address: the same pages. */
	nv = view_of(self->mfd, len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, nv);
	ASSERT_NE(self->view, nv);
	ASSERT_EQ(0, munmap(self->view, len));
	self->view = nv;
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, p[i].iova,
				     p[i].len, nv + p[i].start))
			TH_LOG("piece %u", i);
	EXPECT_EQ(0, check_refs(self->fd, nv, len, 1));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, &got));
	EXPECT_EQ(len, got);
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, nv, len, 0));
}

TEST_F(sizes, data_through_new_view)
{
	const uint64_t len = variant->len, x = AT(20);
	const uint64_t part = len < 64 * 1024 ? len - 200 : 64 * 1024;
	unsigned char *nv;
	struct piece p[3];
	unsigned int n, i;
	int afd;

	n = cut(len, p);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd,
					 p[i].start, p[i].len, p[i].iova));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd, 0, len, x));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, len, 51, 0);
	for (i = 0; i < n; i++)
		iova_holds(_metadata, self->fd, afd, p[i].iova, p[i].start,
			   p[i].len, 51, SLOW);

	/* What a new view writes is what the IOVA holds. */
	nv = view_of(self->mfd, len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, nv);
	ASSERT_NE(self->view, nv);
	ASSERT_EQ(0, munmap(self->view, len));
	self->view = nv;
	pat_fill(nv, 0, len, 52);
	iova_holds(_metadata, self->fd, afd, x, 0, len, 52, 0);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, p[i].iova,
				     p[i].len, nv + p[i].start));
		iova_holds(_metadata, self->fd, afd, p[i].iova, p[i].start,
			   p[i].len, 52, i & 1 ? SLOW : 0);
	}

	/* And what the access writes lands in the view and the file. */
	iova_put(_metadata, self->fd, afd, x + 100, 100, part, 53, 0);
	EXPECT_EQ(-1, pat_miss(nv + 100, 100, part, 53));
	EXPECT_EQ(-1, pat_miss(nv, 0, 100, 52));
	EXPECT_EQ(-1, pat_miss(nv + 100 + part, 100 + part, 100, 52));
	file_holds(_metadata, self->mfd, 100, part, 53);
	iova_put(_metadata, self->fd, afd, p[0].iova + 7, p[0].start + 7, 900,
		 54, SLOW);
	EXPECT_EQ(-1, pat_miss(nv + p[0].start + 7, p[0].start + 7, 900, 54));
	iova_holds(_metadata, self->fd, afd, x + p[0].start + 7,
		   p[0].start + 7, 900, 54, 0);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
}

/* ---- the data, with and without a domain pinning it at map time ---------- */

FIXTURE(fdata) {
	int fd;
	uint32_t ioas;
	struct mdev dev;
	long pin0;
};

FIXTURE_VARIANT(fdata) {
	bool domain;
};

FIXTURE_VARIANT_ADD(fdata, domain) { .domain = true };
FIXTURE_VARIANT_ADD(fdata, no_domain) { .domain = false };

FIXTURE_SETUP(fdata)
{
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	if (variant->domain)
		ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &self->dev));
	self->pin0 = pinned_kb();
}

FIXTURE_TEARDOWN(fdata)
{
	close(self->fd);
	EXPECT_EQ(self->pin0, pinned_kb());
}

/* VmPin while @len bytes of file are mapped: only a domain pins them. */
static long mapped_kb(bool domain, long pin0, uint64_t len)
{
	return pin0 + (domain ? KB(len) : 0);
}

TEST_F(fdata, written_with_pwrite_only)
{
	const uint64_t len = 8 * PG, x = AT(8);
	int mfd = shm_new(len, 61, 0), afd;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, len, x));
	EXPECT_EQ(mapped_kb(variant->domain, self->pin0, len), pinned_kb());
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, len, 61, 0);
	iova_holds(_metadata, self->fd, afd, x + 3, 3, len - 6, 61, SLOW);
	/* Writes by both paths, each across a page boundary. */
	iova_put(_metadata, self->fd, afd, x + 3 * PG - 50, 3 * PG - 50,
		 PG + 100, 62, 0);
	iova_put(_metadata, self->fd, afd, x + 6 * PG - 7, 6 * PG - 7, 300, 63,
		 SLOW);
	file_holds(_metadata, mfd, 0, 3 * PG - 50, 61);
	file_holds(_metadata, mfd, 3 * PG - 50, PG + 100, 62);
	file_holds(_metadata, mfd, 4 * PG + 50, 2 * PG - 57, 61);
	file_holds(_metadata, mfd, 6 * PG - 7, 300, 63);
	file_holds(_metadata, mfd, 6 * PG + 293, 2 * PG - 293, 61);
	/* pwrite() after the map is seen through the IOVA too. */
	ASSERT_EQ(0, file_put(mfd, PG + 1, 2 * PG, 64));
	iova_holds(_metadata, self->fd, afd, x + PG + 1, PG + 1, 2 * PG, 64, 0);
	iova_holds(_metadata, self->fd, afd, x + PG + 1, PG + 1, 2 * PG, 64,
		   SLOW);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, NULL));
	close(mfd);
}

TEST_F(fdata, holes_read_as_zero)
{
	const uint64_t x = AT(8);
	int mfd = shm_new(4 * PG, 0, 0), afd;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, file_put(mfd, 2 * PG, PG, 65));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, 4 * PG, x));
	EXPECT_EQ(mapped_kb(variant->domain, self->pin0, 4 * PG), pinned_kb());
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, 2 * PG, 0, 0);
	iova_holds(_metadata, self->fd, afd, x + 2 * PG, 2 * PG, PG, 65, 0);
	iova_holds(_metadata, self->fd, afd, x + 3 * PG, 3 * PG, PG, 0, SLOW);
	/* A write into a hole makes it data of the file. */
	iova_put(_metadata, self->fd, afd, x + 10, 10, 2 * PG, 66, 0);
	file_holds(_metadata, mfd, 0, 10, 0);
	file_holds(_metadata, mfd, 10, 2 * PG, 66);
	file_holds(_metadata, mfd, 2 * PG + 10, PG - 10, 65);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 4 * PG, NULL));
	close(mfd);
}

TEST_F(fdata, every_view_gone)
{
	const uint64_t len = 16 * PG, x = AT(8);
	int mfd = shm_new(len, 0, 0), afd;
	unsigned char *v;

	ASSERT_LE(0, mfd);
	v = view_of(mfd, len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, v);
	pat_fill(v, 0, len, 67);
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, len, x));
	ASSERT_EQ(0, munmap(v, len));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, len, 67, 0);
	iova_holds(_metadata, self->fd, afd, x, 0, len, 67, SLOW);
	iova_put(_metadata, self->fd, afd, x + 5 * PG, 5 * PG, 3 * PG, 68,
		 SLOW);
	file_holds(_metadata, mfd, 5 * PG, 3 * PG, 68);
	/* A view made now shows what went in by the IOVA. */
	v = view_of(mfd, len, PROT_READ);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(-1, pat_miss(v + 5 * PG, 5 * PG, 3 * PG, 68));
	EXPECT_EQ(-1, pat_miss(v, 0, 5 * PG, 67));
	if (variant->domain)
		EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, x, len, v));
	munmap(v, len);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, NULL));
	close(mfd);
}

/* The mapping holds the file: closing every descriptor of it is fine. */
TEST_F(fdata, file_closed)
{
	const uint64_t len = 8 * PG, x = AT(8);
	int mfd = shm_new(len, 69, 0), afd;
	uint64_t got = 0;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, len, x));
	ASSERT_EQ(0, close(mfd));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, len, 69, 0);
	iova_put(_metadata, self->fd, afd, x + PG - 1, PG - 1, 2 * PG + 2, 70,
		 0);
	iova_holds(_metadata, self->fd, afd, x + PG - 1, PG - 1, 2 * PG + 2,
		   70, SLOW);
	iova_holds(_metadata, self->fd, afd, x, 0, PG - 1, 69, SLOW);
	EXPECT_EQ(mapped_kb(variant->domain, self->pin0, len), pinned_kb());
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, &got));
	EXPECT_EQ(len, got);
}

/* A child maps the file into the shared context and is gone. */
TEST_F(fdata, mapped_by_exited_child)
{
	const uint64_t len = 8 * PG, x = AT(8);
	int mfd = shm_new(len, 71, 0), afd, status;
	unsigned char *v;
	uint64_t got = 0;
	pid_t pid;

	ASSERT_LE(0, mfd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(map_file_at(self->fd, self->ioas, mfd, 0, len, x));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* Its pins were its own. */
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, len, 71, 0);
	iova_holds(_metadata, self->fd, afd, x + 1, 1, len - 2, 71, SLOW);
	iova_put(_metadata, self->fd, afd, x + 2 * PG, 2 * PG, PG, 72, 0);
	file_holds(_metadata, mfd, 2 * PG, PG, 72);
	if (variant->domain) {
		v = view_of(mfd, len, PROT_READ);
		ASSERT_NE(NULL, v);
		EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, x, len, v));
		munmap(v, len);
	}
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, &got));
	EXPECT_EQ(len, got);
	EXPECT_EQ(self->pin0, pinned_kb());
	close(mfd);
}

TEST_F(fdata, access_pins)
{
	const uint64_t len = 16 * PG, x = AT(8);
	int mfd = shm_new(len, 73, 0), afd;
	unsigned char *v;
	uint32_t id, id2;

	ASSERT_LE(0, mfd);
	v = view_of(mfd, len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, mfd, 0, len, x));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	EXPECT_EQ(mapped_kb(variant->domain, self->pin0, len), pinned_kb());

	/* The pinned pages are the file's, as its view shows them. */
	ASSERT_EQ(0, acc_pin_flags(self->fd, afd, x + PG, 8 * PG, v + PG, 0,
				   &id));
	EXPECT_EQ(variant->domain ? self->pin0 + KB(len) :
				    self->pin0 + KB(8 * PG),
		  pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, v + PG, 8 * PG, 1));
	EXPECT_EQ(0, check_refs(self->fd, v, PG, variant->domain ? 1 : 0));
	EXPECT_EQ(EBADE, acc_pin_flags(self->fd, afd, x + PG, 8 * PG, v, 0,
				       NULL));
	/* A write pin, off the page grid: three pages. */
	ASSERT_EQ(0, acc_pin_flags(self->fd, afd, x + 10 * PG + 100, 2 * PG,
				   v + 10 * PG + 100, MOCK_FLAGS_ACCESS_WRITE,
				   &id2));
	EXPECT_EQ(variant->domain ? self->pin0 + KB(len) :
				    self->pin0 + KB(11 * PG),
		  pinned_kb());
	iova_holds(_metadata, self->fd, afd, x + PG, PG, 8 * PG, 73, 0);
	iova_put(_metadata, self->fd, afd, x + 10 * PG + 100, 10 * PG + 100,
		 2 * PG, 74, 0);
	EXPECT_EQ(-1, pat_miss(v + 10 * PG + 100, 10 * PG + 100, 2 * PG, 74));
	ASSERT_EQ(0, acc_unpin(self->fd, afd, id));
	ASSERT_EQ(0, acc_unpin(self->fd, afd, id2));
	EXPECT_EQ(mapped_kb(variant->domain, self->pin0, len), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, v, len, variant->domain ? 1 : 0));
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, NULL));
	EXPECT_EQ(0, check_refs(self->fd, v, len, 0));
	munmap(v, len);
	close(mfd);
}

/* Reads and writes by both paths across two files mapped back to back. */
TEST_F(fdata, access_rw_across_files)
{
	static const uint32_t paths[] = { 0, SLOW };
	const uint64_t x = AT(8), seam = x + 5 * PG;
	int fa = shm_new(5 * PG, 75, 0), fb = shm_new(3 * PG, 76, 0), afd;
	unsigned char *buf = malloc(3 * PG), back[1000];
	unsigned int i;

	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, fa, 0, 5 * PG, x));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, fb, 0, 3 * PG, seam));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	for (i = 0; i < NELEM(paths); i++) {
		/* Most of the last page of one, then most of the other. */
		memset(buf, 0, 3 * PG);
		ASSERT_EQ(0, acc_rw(self->fd, afd, seam - PG + 10, buf,
				    3 * PG - 20, paths[i]));
		EXPECT_EQ(-1, pat_miss(buf, 4 * PG + 10, PG - 10, 75));
		EXPECT_EQ(-1, pat_miss(buf + PG - 10, 0, 2 * PG - 10, 76));
	}

	/*
	 * Over the seam by the fast path: fa's last 300 bytes and fb's
	 * first 300. Short of it by the slow path: fa [5 PG - 1000, +500).
	 */
	pat_fill(buf, 0, 3 * PG, 77);
	ASSERT_EQ(0, acc_rw(self->fd, afd, seam - 300, buf, 600, WRITE));
	ASSERT_EQ(0, acc_rw(self->fd, afd, seam - 1000, buf + 1000, 500,
			    WRITE | SLOW));
	ASSERT_EQ((ssize_t)sizeof(back),
		  pread(fa, back, sizeof(back), 5 * PG - 1000));
	EXPECT_EQ(0, memcmp(back, buf + 1000, 500));
	EXPECT_EQ(-1, pat_miss(back + 500, 5 * PG - 500, 200, 75));
	EXPECT_EQ(0, memcmp(back + 700, buf, 300));
	file_holds(_metadata, fa, 0, 5 * PG - 1000, 75);
	ASSERT_EQ((ssize_t)600, pread(fb, back, 600, 0));
	EXPECT_EQ(0, memcmp(back, buf + 300, 300));
	EXPECT_EQ(-1, pat_miss(back + 300, 300, 300, 76));
	/* And a slow write over the seam, read back by the fast path. */
	ASSERT_EQ(0, acc_rw(self->fd, afd, seam - 2000, buf + 2000, 4000,
			    WRITE | SLOW));
	memset(back, 0, sizeof(back));
	ASSERT_EQ(0, acc_rw(self->fd, afd, seam - 500, back, sizeof(back), 0));
	EXPECT_EQ(0, memcmp(back, buf + 2000 + 1500, sizeof(back)));
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, 0, UINT64_MAX, NULL));
	free(buf);
	close(fa);
	close(fb);
}

/* ---- RLIMIT_MEMLOCK, in both modes --------------------------------------- */

FIXTURE(limit) {
	int fd;
	uint32_t ioas;
	int mfd;
	long pin0, lck0;
};

FIXTURE_VARIANT(limit) {
	uint64_t mode;		/* IOMMU_OPTION_RLIMIT_MODE: 1 is per mm */
};

FIXTURE_VARIANT_ADD(limit, user) { .mode = 0 };
FIXTURE_VARIANT_ADD(limit, mm) { .mode = 1 };

FIXTURE_SETUP(limit)
{
	uint64_t mode = variant->mode;

	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, option_op(self->fd, IOMMU_OPTION_RLIMIT_MODE,
			       IOMMU_OPTION_OP_SET, 0, &mode));
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	self->mfd = shm_new(64 * PG, 81, 0);
	ASSERT_LE(0, self->mfd);
	self->pin0 = pinned_kb();
	self->lck0 = locked_kb();
}

FIXTURE_TEARDOWN(limit)
{
	close(self->fd);
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(self->lck0, locked_kb());
	close(self->mfd);
}

/* VmLck with @bytes charged: only the mm mode charges the mm. */
static long lck_with(uint64_t mode, long lck0, uint64_t bytes)
{
	return lck0 + (mode ? KB(bytes) : 0);
}

static void limit_to(struct __test_metadata *_metadata, uint64_t bytes)
{
	struct rlimit lim = { .rlim_cur = bytes, .rlim_max = bytes };

	ASSERT_EQ(0, drop_effective_cap(CAP_IPC_LOCK));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
}

TEST_F(limit, map_with_domain)
{
	const uint64_t x = AT(8);
	unsigned char *v = view_of(self->mfd, 64 * PG, PROT_READ);
	struct mdev d;

	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	limit_to(_metadata, 16 * PG);

	EXPECT_EQ(ENOMEM, map_file_at(self->fd, self->ioas, self->mfd, 0,
				      32 * PG, x));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(self->lck0, locked_kb());
	EXPECT_EQ(0, check_refs(self->fd, v, 64 * PG, 0));
	EXPECT_NE(0, dom_has(self->fd, d.hwpt, x, IOPG, v));
	EXPECT_EQ(0, mapped_bytes(self->fd, self->ioas));

	/* Up to the limit, and not a page past it. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd, 0, 16 * PG,
				 x));
	EXPECT_EQ(self->pin0 + KB(16 * PG), pinned_kb());
	EXPECT_EQ(lck_with(variant->mode, self->lck0, 16 * PG), locked_kb());
	EXPECT_EQ(0, dom_has(self->fd, d.hwpt, x, 16 * PG, v));
	EXPECT_EQ(ENOMEM, map_file_at(self->fd, self->ioas, self->mfd,
				      16 * PG, PG, x + 16 * PG));
	EXPECT_EQ(self->pin0 + KB(16 * PG), pinned_kb());
	EXPECT_EQ(0, check_refs(self->fd, v + 16 * PG, PG, 0));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 16 * PG, NULL));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(self->lck0, locked_kb());
	/* The whole budget is back. */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd, 48 * PG,
				 16 * PG, x));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, 16 * PG, NULL));
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	munmap(v, 64 * PG);
}

TEST_F(limit, attach_over_limit)
{
	struct mdev d;

	limit_to(_metadata, 16 * PG);
	/* Without a domain nothing pins, so this is fine... */
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd, 0, 32 * PG,
				 AT(8)));
	EXPECT_EQ(self->pin0, pinned_kb());
	/* ...but a domain would have to pin it all. */
	EXPECT_EQ(ENOMEM, dev_add(self->fd, self->ioas, 0, &d));
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(self->lck0, locked_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(8), 32 * PG, NULL));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd, 0, 12 * PG,
				 AT(8)));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &d));
	EXPECT_EQ(self->pin0 + KB(12 * PG), pinned_kb());
	EXPECT_EQ(lck_with(variant->mode, self->lck0, 12 * PG), locked_kb());
	ASSERT_EQ(0, obj_destroy(self->fd, d.stdev));
	EXPECT_EQ(self->pin0, pinned_kb());
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(8), 12 * PG, NULL));
}

/* ---- CHANGE_PROCESS between processes ------------------------------------ */

#define HO_LEN (32 * PG)

FIXTURE(handover) {
	int fd;
	uint32_t ioas;
	struct mdev dev;
	int mfd;
	unsigned char *view;
	long pin0, lck0;
	struct servant s;
};

FIXTURE_VARIANT(handover) {
	uint64_t mode;
};

FIXTURE_VARIANT_ADD(handover, user) { .mode = 0 };
FIXTURE_VARIANT_ADD(handover, mm) { .mode = 1 };

FIXTURE_SETUP(handover)
{
	uint64_t mode = variant->mode;

	self->s.pid = 0;
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, option_op(self->fd, IOMMU_OPTION_RLIMIT_MODE,
			       IOMMU_OPTION_OP_SET, 0, &mode));
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &self->dev));
	self->mfd = shm_new(HO_LEN, 91, 0);
	ASSERT_LE(0, self->mfd);
	self->view = view_of(self->mfd, HO_LEN, PROT_READ);
	ASSERT_NE(NULL, self->view);
	self->pin0 = pinned_kb();
	self->lck0 = locked_kb();
}

FIXTURE_TEARDOWN(handover)
{
	servant_stop(&self->s);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(self->pin0, pinned_kb());
	EXPECT_EQ(self->lck0, locked_kb());
	if (self->view)
		munmap(self->view, HO_LEN);
	if (self->mfd >= 0)
		close(self->mfd);
}

/* Pins and locked memory of one process, against what they should be. */
struct charge {
	pid_t pid;
	long pin0, lck0;
};

static void charge_start(struct __test_metadata *_metadata, struct charge *c,
			 pid_t pid)
{
	c->pid = pid;
	c->pin0 = pid_status_kb(pid, "VmPin");
	c->lck0 = pid_status_kb(pid, "VmLck");
	ASSERT_LE(0, c->pin0);
	ASSERT_LE(0, c->lck0);
}

/* @c carries @bytes of pins: VmPin, and VmLck too in the mm mode. */
#define EXPECT_CHARGED(c, bytes)					\
	do {								\
		EXPECT_EQ((c)->pin0 + KB(bytes),			\
			  pid_status_kb((c)->pid, "VmPin"))			\
			TH_LOG("VmPin of %d", (int)(c)->pid);		\
		EXPECT_EQ((c)->lck0 + (variant->mode ? KB(bytes) : 0),	\
			  pid_status_kb((c)->pid, "VmLck"))			\
			TH_LOG("VmLck of %d", (int)(c)->pid);		\
	} while (0)

/*
 * The new process takes the charge over; the old one drops its views and
 * descriptors and still reaches the data; whoever unmaps, and whatever is
 * mapped later, the count stays with the right process.
 */
TEST_F(handover, child_takes_charge)
{
	const uint64_t x = AT(8), y = AT(64), len = HO_LEN;
	struct charge me, it;
	struct mdev d2;
	uint32_t ioas2, id;
	int afd, f2;

	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, dev_add(self->fd, ioas2, 0, &d2));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd, 0, len, x));
	ASSERT_EQ(0, copy_at(self->fd, ioas2, y, self->ioas, x, len));
	charge_start(_metadata, &me, getpid());
	me.pin0 = self->pin0;
	me.lck0 = self->lck0;
	EXPECT_CHARGED(&me, len);

	ASSERT_EQ(0, servant_start(&self->s, self->fd, self->mfd));
	charge_start(_metadata, &it, self->s.pid);
	ASSERT_EQ(0, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, 0);
	EXPECT_CHARGED(&it, len);
	/* Moving the charge moved nothing else. */
	EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, x, len, self->view));
	EXPECT_EQ(0, dom_has(self->fd, d2.hwpt, y, len, self->view));
	EXPECT_EQ(0, check_refs(self->fd, self->view, len, 1));

	/* Both processes let go of the file in every way they held it. */
	ASSERT_EQ(0, ask(&self->s, DO_MUNMAP, 0, (uintptr_t)self->view, len,
			 0));
	ASSERT_EQ(0, munmap(self->view, len));
	self->view = NULL;
	ASSERT_EQ(0, close(self->mfd));
	self->mfd = -1;
	ASSERT_EQ(0, ask(&self->s, DO_CLOSE_FILE, 0, 0, 0, 0));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, len, 91, 0);
	iova_holds(_metadata, self->fd, afd, x + 5, 5, len - 10, 91, SLOW);
	iova_put(_metadata, self->fd, afd, x + 3 * PG, 3 * PG, PG, 92, 0);
	/* A pin of pages a domain pins already costs nobody anything. */
	ASSERT_EQ(0, acc_pin_flags(self->fd, afd, x, len, NULL, 0, &id));
	EXPECT_CHARGED(&me, 0);
	EXPECT_CHARGED(&it, len);
	ASSERT_EQ(0, acc_unpin(self->fd, afd, id));
	close(afd);
	ASSERT_EQ(0, acc_new(self->fd, ioas2, &afd));
	iova_holds(_metadata, self->fd, afd, y + 3 * PG, 3 * PG, PG, 92, 0);
	close(afd);

	/* Unmapped by the old process: the new one gets the pages back. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, NULL));
	EXPECT_CHARGED(&it, len);
	ASSERT_EQ(0, ioas_unmap(self->fd, ioas2, y, len, NULL));
	EXPECT_CHARGED(&me, 0);
	EXPECT_CHARGED(&it, 0);

	/* A later map is the mapper's, until the next move. */
	f2 = shm_new(8 * PG, 93, 0);
	ASSERT_LE(0, f2);
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, f2, 0, 8 * PG, x));
	close(f2);
	EXPECT_CHARGED(&me, 8 * PG);
	EXPECT_CHARGED(&it, 0);
	ASSERT_EQ(0, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, 0);
	EXPECT_CHARGED(&it, 8 * PG);

	/* The context lives on in the new process, and its close ends all. */
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_CHARGED(&it, 8 * PG);
	ASSERT_EQ(0, ask(&self->s, DO_CLOSE_CTX, 0, 0, 0, 0));
	EXPECT_CHARGED(&it, 0);
	EXPECT_CHARGED(&me, 0);
	EXPECT_EQ(0, servant_stop(&self->s));
}

/* Pages pinned only by an access, where no domain pins, move too. */
TEST_F(handover, access_pins_move)
{
	const uint64_t len = 8 * PG;
	struct charge me, it;
	uint32_t bare, id;
	int afd;

	ASSERT_EQ(0, ioas_alloc(self->fd, &bare));
	ASSERT_EQ(0, map_file_at(self->fd, bare, self->mfd, 0, len, MIB));
	charge_start(_metadata, &me, getpid());
	EXPECT_CHARGED(&me, 0);
	ASSERT_EQ(0, servant_start(&self->s, self->fd, self->mfd));
	charge_start(_metadata, &it, self->s.pid);
	ASSERT_EQ(0, acc_new(self->fd, bare, &afd));
	ASSERT_EQ(0, acc_pin_flags(self->fd, afd, MIB + PG, 4 * PG,
				   self->view + PG, 0, &id));
	EXPECT_CHARGED(&me, 4 * PG);
	ASSERT_EQ(0, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, 0);
	EXPECT_CHARGED(&it, 4 * PG);
	iova_holds(_metadata, self->fd, afd, MIB, 0, len, 91, 0);
	/* The pin ends where the charge now is. */
	ASSERT_EQ(0, acc_unpin(self->fd, afd, id));
	EXPECT_CHARGED(&me, 0);
	EXPECT_CHARGED(&it, 0);
	close(afd);
	EXPECT_EQ(0, servant_stop(&self->s));
	ASSERT_EQ(0, ioas_unmap(self->fd, bare, MIB, len, NULL));
}

/* The old process maps, the new one takes over, the old one exits. */
TEST_F(handover, old_owner_exits)
{
	const uint64_t x = AT(8), len = HO_LEN;
	struct charge me, it;
	uint64_t got = 0;
	int afd;

	charge_start(_metadata, &me, getpid());
	ASSERT_EQ(0, servant_start(&self->s, self->fd, self->mfd));
	charge_start(_metadata, &it, self->s.pid);
	ASSERT_EQ(0, ask(&self->s, DO_MAP_FILE, self->ioas, 0, len, x));
	EXPECT_CHARGED(&it, len);
	EXPECT_CHARGED(&me, 0);
	ASSERT_EQ(0, change_process(self->fd));
	EXPECT_CHARGED(&it, 0);
	EXPECT_CHARGED(&me, len);
	EXPECT_EQ(0, servant_stop(&self->s));

	EXPECT_CHARGED(&me, len);
	EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, x, len, self->view));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, len, 91, 0);
	iova_put(_metadata, self->fd, afd, x + 100, 100, 2 * PG, 94, SLOW);
	file_holds(_metadata, self->mfd, 100, 2 * PG, 94);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, &got));
	EXPECT_EQ(len, got);
	EXPECT_CHARGED(&me, 0);
}

/* The old process is gone before the new one takes over. */
TEST_F(handover, old_owner_gone_first)
{
	const uint64_t x = AT(8), len = HO_LEN;
	struct charge me;
	int afd;

	charge_start(_metadata, &me, getpid());
	ASSERT_EQ(0, servant_start(&self->s, self->fd, self->mfd));
	ASSERT_EQ(0, ask(&self->s, DO_MAP_FILE, self->ioas, 0, len, x));
	EXPECT_EQ(0, servant_stop(&self->s));
	EXPECT_CHARGED(&me, 0);
	ASSERT_EQ(0, change_process(self->fd));
	EXPECT_CHARGED(&me, len);
	EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, x, len, self->view));
	ASSERT_EQ(0, acc_new(self->fd, self->ioas, &afd));
	iova_holds(_metadata, self->fd, afd, x, 0, len, 91, 0);
	close(afd);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, NULL));
	EXPECT_CHARGED(&me, 0);
}

/* An address mapping anywhere in the context: no move, not even in part. */
TEST_F(handover, refused_for_user_va)
{
	const uint64_t x = AT(8), len = HO_LEN;
	unsigned char *buf = anon_mem(4 * PG, 0x66);
	struct charge me, it;
	uint32_t ioas2, ioas3;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas3));
	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd, 0, len, x));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, buf, 4 * PG, AT(64)));
	charge_start(_metadata, &me, getpid());
	me.pin0 = self->pin0;
	me.lck0 = self->lck0;
	EXPECT_CHARGED(&me, len + 4 * PG);
	ASSERT_EQ(0, servant_start(&self->s, self->fd, self->mfd));
	charge_start(_metadata, &it, self->s.pid);

	/* In the same IOAS as the file, pinned by its domain. */
	EXPECT_EQ(EINVAL, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, len + 4 * PG);
	EXPECT_CHARGED(&it, 0);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(64), 4 * PG, NULL));
	/* In another IOAS, pinned by nothing. */
	ASSERT_EQ(0, map_at(self->fd, ioas2, buf, 4 * PG, MIB));
	EXPECT_EQ(EINVAL, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, len);
	EXPECT_CHARGED(&it, 0);
	/* A copy of one, left after the original went. */
	ASSERT_EQ(0, copy_at(self->fd, ioas3, 2 * MIB, ioas2, MIB, 4 * PG));
	ASSERT_EQ(0, ioas_unmap(self->fd, ioas2, MIB, 4 * PG, NULL));
	EXPECT_EQ(EINVAL, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, len);
	EXPECT_CHARGED(&it, 0);
	/* None left: now it moves. */
	ASSERT_EQ(0, ioas_unmap(self->fd, ioas3, 2 * MIB, 4 * PG, NULL));
	ASSERT_EQ(0, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, 0);
	EXPECT_CHARGED(&it, len);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, x, len, NULL));
	EXPECT_CHARGED(&it, 0);
	EXPECT_EQ(0, servant_stop(&self->s));
	munmap(buf, 4 * PG);
}

/* The new process's own limit applies, and a refusal moves nothing. */
TEST_F(handover, over_new_rlimit)
{
	const uint64_t x = AT(8), len = HO_LEN;
	struct charge me, it;

	ASSERT_EQ(0, map_file_at(self->fd, self->ioas, self->mfd, 0, len, x));
	charge_start(_metadata, &me, getpid());
	me.pin0 = self->pin0;
	me.lck0 = self->lck0;
	ASSERT_EQ(0, servant_start(&self->s, self->fd, self->mfd));
	charge_start(_metadata, &it, self->s.pid);
	ASSERT_EQ(0, ask(&self->s, DO_LIMIT, 0, len / 2, 0, 0));
	EXPECT_EQ(ENOMEM, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, len);
	EXPECT_CHARGED(&it, 0);
	EXPECT_EQ(0, dom_has(self->fd, self->dev.hwpt, x, len, self->view));
	/* Room enough now (below the default hard limit of 8 MiB). */
	ASSERT_EQ(0, ask(&self->s, DO_LIMIT, 0, 4 * MIB, 0, 0));
	ASSERT_EQ(0, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, 0);
	EXPECT_CHARGED(&it, len);
	ASSERT_EQ(0, ask(&self->s, DO_UNMAP, self->ioas, x, len, 0));
	EXPECT_CHARGED(&it, 0);
	EXPECT_CHARGED(&me, 0);
	EXPECT_EQ(0, servant_stop(&self->s));
}

/* A process that never shared the context takes it with pidfd_getfd(). */
TEST_F(handover, context_taken_by_pidfd)
{
	const uint64_t x = AT(8), len = HO_LEN;
	struct charge me, it;
	int ctx;
	uint32_t ioas;
	struct mdev d;

	ASSERT_EQ(0, servant_start(&self->s, -1, -1));
	charge_start(_metadata, &it, self->s.pid);
	charge_start(_metadata, &me, getpid());

	/* A context born after the fork, the servant has no copy of it. */
	ctx = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, ctx);
	ASSERT_EQ(0, option_op(ctx, IOMMU_OPTION_RLIMIT_MODE,
			       IOMMU_OPTION_OP_SET, 0,
			       &(uint64_t){ variant->mode }));
	ASSERT_EQ(0, ioas_alloc(ctx, &ioas));
	ASSERT_EQ(0, dev_add(ctx, ioas, 0, &d));
	ASSERT_EQ(0, map_file_at(ctx, ioas, self->mfd, 0, len, x));
	EXPECT_CHARGED(&me, len);
	ASSERT_EQ(0, ask(&self->s, DO_TAKE_CTX, 0, getpid(), ctx, 0));
	ASSERT_EQ(0, ask(&self->s, DO_CHANGE, 0, 0, 0, 0));
	EXPECT_CHARGED(&me, 0);
	EXPECT_CHARGED(&it, len);
	EXPECT_EQ(0, dom_has(ctx, d.hwpt, x, len, self->view));
	ASSERT_EQ(0, close(ctx));
	EXPECT_CHARGED(&it, len);
	ASSERT_EQ(0, ask(&self->s, DO_CLOSE_CTX, 0, 0, 0, 0));
	EXPECT_CHARGED(&it, 0);
	EXPECT_CHARGED(&me, 0);
	EXPECT_EQ(0, servant_stop(&self->s));
}

TEST_HARNESS_MAIN
