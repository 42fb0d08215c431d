// SPDX-License-Identifier: GPL-2.0-only
/*
 * I/O page faults: IOMMU_FAULT_QUEUE_ALLOC, page tables made with
 * IOMMU_HWPT_FAULT_ID_VALID, and the queue's file (read, write, poll,
 * close). Mock devices send page requests through the core's fault path
 * (IOMMU_TEST_OP_TRIGGER_IOPF, and LAB_IOPF_PARTIAL for the requests before
 * the last of a group); LAB_IOPF_ANSWERS tells what each device was
 * answered, so every test can check that no request was left hanging and
 * none was answered twice.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_mock.h"

#define REC sizeof(struct iommu_hwpt_pgfault)
#define RW (IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE)
#define LAST IOMMU_PGFAULT_FLAGS_LAST_PAGE
#define OK IOMMUFD_PAGE_RESP_SUCCESS
#define BAD IOMMUFD_PAGE_RESP_INVALID
#define GRP MOCK_FLAGS_DEVICE_SHARED_GROUP
/* Object IDs the tests look through for leftovers */
#define ID_SCAN 64

/* ---- wrappers ------------------------------------------------------------ */

static int request(int fd, uint32_t op, uint32_t idev, uint32_t pasid,
		   uint32_t grpid, uint32_t perm, uint64_t addr)
{
	struct iommu_test_cmd cmd = {
		.op = op,
		.trigger_iopf = {
			.dev_id = idev,
			.pasid = pasid,
			.grpid = grpid,
			.perm = perm,
			.addr = addr,
		},
	};

	return test_op(fd, &cmd);
}

/* The last (or only) request of group @grpid, without a PASID. */
static int fault_last(int fd, uint32_t idev, uint32_t grpid, uint64_t addr)
{
	return request(fd, IOMMU_TEST_OP_TRIGGER_IOPF, idev, 0, grpid, RW,
		       addr);
}

/* A request of group @grpid that more will follow. */
static int fault_part(int fd, uint32_t idev, uint32_t grpid, uint64_t addr)
{
	return request(fd, IOMMU_TEST_OP_LAB_IOPF_PARTIAL, idev, 0, grpid, RW,
		       addr);
}

static int answers(int fd, uint32_t idev,
		   struct iommu_test_lab_iopf_answers *a)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_LAB_IOPF_ANSWERS,
		.id = idev,
	};
	int rc = test_op(fd, &cmd);

	if (!rc)
		*a = cmd.lab_iopf_answers;
	return rc;
}

/* Answers so far: a device's total, or -1 if it cannot be asked. */
static long answered(int fd, uint32_t idev)
{
	struct iommu_test_lab_iopf_answers a;

	if (answers(fd, idev, &a))
		return -1;
	return (long)a.out_success + a.out_invalid + a.out_failure;
}

/* Bytes read into room for @n records, or -errno. */
static ssize_t fq_read(int ffd, struct iommu_hwpt_pgfault *recs, size_t n)
{
	ssize_t got = read(ffd, recs, n * REC);

	return got < 0 ? -errno : got;
}

/* 0, the errno of the write, or -1 for a short one. */
static int respond(int ffd, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response r = { .cookie = cookie, .code = code };
	ssize_t n = write(ffd, &r, sizeof(r));

	if (n < 0)
		return errno;
	return n == sizeof(r) ? 0 : -1;
}

/* Read exactly one group of @n records and answer it with @code. */
static int take_group(int ffd, size_t n, uint32_t code)
{
	struct iommu_hwpt_pgfault recs[8];

	if (n > NELEM(recs) || fq_read(ffd, recs, n) != (ssize_t)(n * REC))
		return -1;
	return respond(ffd, recs[n - 1].cookie, code);
}

static short poll_now(int ffd)
{
	struct pollfd p = { .fd = ffd, .events = POLLIN | POLLOUT };

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

/* An address with no memory behind it. */
static void *hole(void)
{
	void *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		munmap(p, PG);
	return p;
}

/* The lowest descriptor number free now. */
static int next_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* ---- fixture: an IOAS, a device on it, a queue, a page table with it ---- */

FIXTURE(fq) {
	int fd;
	uint32_t ioas;
	struct mdev base;	/* on the IOAS, for IOMMU_HWPT_ALLOC */
	uint32_t fault_id;
	int ffd;
	uint32_t hwpt;		/* on the IOAS, reports to the queue */
	long pin0;
	int fd0;
};

FIXTURE_SETUP(fq)
{
	self->pin0 = pinned_kb();
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->fd0 = next_fd();
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	ASSERT_EQ(0, dev_add(self->fd, self->ioas, 0, &self->base));
	ASSERT_EQ(0, fault_alloc(self->fd, &self->fault_id, &self->ffd));
	ASSERT_EQ(0, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
				    IOMMU_HWPT_FAULT_ID_VALID, self->fault_id,
				    &self->hwpt));
}

/* Tests that take a fixture object down themselves set its field to 0. */
FIXTURE_TEARDOWN(fq)
{
	if (self->ffd >= 0)
		EXPECT_EQ(0, close(self->ffd));
	if (self->hwpt)
		EXPECT_EQ(0, obj_destroy(self->fd, self->hwpt));
	if (self->fault_id)
		EXPECT_EQ(0, obj_destroy(self->fd, self->fault_id));
	if (self->base.stdev)
		EXPECT_EQ(0, obj_destroy(self->fd, self->base.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->ioas));
	/* Nothing else the test made is left: no object, no descriptor. */
	EXPECT_EQ(0, obj_count(self->fd, ID_SCAN));
	EXPECT_EQ(self->fd0, next_fd());
	close(self->fd);
	EXPECT_EQ(self->pin0, pinned_kb());
}

/* ---- IOMMU_FAULT_QUEUE_ALLOC --------------------------------------------- */

TEST_F(fq, alloc_gives_id_and_fd)
{
	char path[64], link[64];
	uint32_t id2;
	ssize_t n;
	int ffd2;

	EXPECT_NE(0, self->fault_id);
	EXPECT_EQ(self->fd0, self->ffd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->ffd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(self->ffd, F_GETFL) & O_ACCMODE);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->ffd);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	EXPECT_STREQ("anon_inode:[iommufd-pgfault]", link);
	/* A queue is not a seekable file. */
	EXPECT_EQ(-1, lseek(self->ffd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);

	/* A second one is another object and another file. */
	ASSERT_EQ(0, fault_alloc(self->fd, &id2, &ffd2));
	EXPECT_NE(self->fault_id, id2);
	EXPECT_NE(self->ffd, ffd2);
	/* Its file holds it: IOMMU_DESTROY waits for the close. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, id2));
	EXPECT_EQ(0, close(ffd2));
	EXPECT_EQ(0, obj_destroy(self->fd, id2));
	EXPECT_EQ(ENOENT, obj_destroy(self->fd, id2));
	/* The fixture's is held by its page table as well. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->fault_id));
}

TEST_F(fq, alloc_rejects)
{
	unsigned char buf[64];
	struct iommu_fault_alloc cmd;
	unsigned int objs = obj_count(self->fd, ID_SCAN);
	int fd_before = next_fd();
	uint32_t size;

	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.flags = 1;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_FAULT_QUEUE_ALLOC,
					  &cmd));
	cmd.flags = 1u << 31;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_FAULT_QUEUE_ALLOC,
					  &cmd));
	/* Every field is mandatory. */
	for (size = 0; size < sizeof(cmd); size += 4) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &size, sizeof(size));
		EXPECT_EQ(EINVAL, ioctl_errno(self->fd,
					      IOMMU_FAULT_QUEUE_ALLOC, buf));
	}
	/* A longer struct from a newer program: its tail must be zero. */
	memset(buf, 0, sizeof(buf));
	size = sizeof(cmd) + 8;
	memcpy(buf, &size, sizeof(size));
	buf[sizeof(cmd) + 3] = 1;
	EXPECT_EQ(E2BIG, ioctl_errno(self->fd, IOMMU_FAULT_QUEUE_ALLOC, buf));
	/* None of that made an object or a descriptor. */
	EXPECT_EQ(objs, obj_count(self->fd, ID_SCAN));
	EXPECT_EQ(fd_before, next_fd());

	buf[sizeof(cmd) + 3] = 0;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_FAULT_QUEUE_ALLOC, buf));
	memcpy(&cmd, buf, sizeof(cmd));
	EXPECT_EQ(fd_before, (int)cmd.out_fault_fd);
	EXPECT_EQ(0, close(cmd.out_fault_fd));
	EXPECT_EQ(0, obj_destroy(self->fd, cmd.out_fault_id));
}

/* ---- IOMMU_HWPT_ALLOC with a fault queue --------------------------------- */

TEST_F(fq, hwpt_alloc_fault_id_errnos)
{
	const uint32_t valid = IOMMU_HWPT_FAULT_ID_VALID;
	unsigned int objs = obj_count(self->fd, ID_SCAN);
	uint32_t h, gone_id;
	int gone_fd;

	/* IDs of nothing, or of something that is not a fault queue. */
	EXPECT_EQ(ENOENT, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
					 valid, UINT32_MAX, &h));
	EXPECT_EQ(ENOENT, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
					 valid, 0, &h));
	EXPECT_EQ(ENOENT, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
					 valid, self->ioas, &h));
	EXPECT_EQ(ENOENT, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
					 valid, self->base.idev, &h));
	EXPECT_EQ(ENOENT, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
					 valid, self->hwpt, &h));
	EXPECT_EQ(ENOENT, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
					 valid, self->base.stdev, &h));
	ASSERT_EQ(0, fault_alloc(self->fd, &gone_id, &gone_fd));
	ASSERT_EQ(0, close(gone_fd));
	ASSERT_EQ(0, obj_destroy(self->fd, gone_id));
	EXPECT_EQ(ENOENT, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
					 valid, gone_id, &h));
	/* As 6.12: a nest parent takes no faults. */
	EXPECT_EQ(EOPNOTSUPP,
		  pt_alloc_fault(self->fd, self->base.idev, self->ioas,
				 valid | IOMMU_HWPT_ALLOC_NEST_PARENT,
				 self->fault_id, &h));
	/* The other checks still come first. */
	EXPECT_EQ(ENOENT, pt_alloc_fault(self->fd, 9999, self->ioas, valid,
					 self->fault_id, &h));
	EXPECT_EQ(EOPNOTSUPP, pt_alloc_fault(self->fd, self->base.idev,
					     self->ioas, valid | 1u << 7,
					     self->fault_id, &h));
	EXPECT_EQ(EINVAL, pt_alloc_fault(self->fd, self->base.idev, 9999,
					 valid, self->fault_id, &h));
	EXPECT_EQ(objs, obj_count(self->fd, ID_SCAN));
}

TEST_F(fq, hwpt_alloc_fault_id_kinds)
{
	uint32_t plain, dirty, second;
	struct mdev d;

	/* Without the flag fault_id is not looked at. */
	ASSERT_EQ(0, pt_alloc_fault(self->fd, self->base.idev, self->ioas, 0,
				    UINT32_MAX, &plain));
	ASSERT_EQ(0, dev_add(self->fd, plain, 0, &d));
	EXPECT_EQ(EOPNOTSUPP, fault_last(self->fd, d.idev, 1, 0x1000));
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, plain));

	/* Faults and dirty tracking together. */
	ASSERT_EQ(0, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
				    IOMMU_HWPT_FAULT_ID_VALID |
					    IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				    self->fault_id, &dirty));
	EXPECT_EQ(0, tracking(self->fd, dirty,
			      IOMMU_HWPT_DIRTY_TRACKING_ENABLE));

	/* One queue, two page tables: it goes after both. */
	ASSERT_EQ(0, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
				    IOMMU_HWPT_FAULT_ID_VALID, self->fault_id,
				    &second));
	EXPECT_EQ(0, close(self->ffd));
	self->ffd = -1;
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->fault_id));
	EXPECT_EQ(0, obj_destroy(self->fd, self->hwpt));
	self->hwpt = 0;
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->fault_id));
	EXPECT_EQ(0, obj_destroy(self->fd, dirty));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->fault_id));
	EXPECT_EQ(0, obj_destroy(self->fd, second));
	EXPECT_EQ(0, obj_destroy(self->fd, self->fault_id));
	self->fault_id = 0;
}

TEST_F(fq, hwpt_with_queue_mirrors_ioas)
{
	const size_t len = 16 * PG;
	unsigned char *mem;
	struct mdev d;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0x5a, len);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, mem, len, AT(2)));
	EXPECT_EQ(0, dom_has(self->fd, self->hwpt, AT(2), len, mem));
	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	EXPECT_EQ(self->hwpt, d.hwpt);
	/* Attached, it cannot go. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->hwpt));
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
	EXPECT_EQ(0, ioas_unmap(self->fd, self->ioas, AT(2), len, NULL));
	munmap(mem, len);
}

/* ---- delivery: records, groups, answers ---------------------------------- */

TEST_F(fq, record_fields_and_answer)
{
	struct iommu_test_lab_iopf_answers a;
	struct iommu_hwpt_pgfault recs[4];
	uint32_t cookie;
	struct mdev d;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	EXPECT_EQ(POLLOUT, poll_now(self->ffd));
	EXPECT_EQ(0, fq_read(self->ffd, recs, 4));

	ASSERT_EQ(0, fault_last(self->fd, d.idev, 0x12, 0xdeadb000));
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(self->ffd));
	memset(recs, 0xff, sizeof(recs));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 4));
	EXPECT_EQ(LAST, recs[0].flags);
	EXPECT_EQ(d.idev, recs[0].dev_id);
	EXPECT_EQ(0, recs[0].pasid);
	EXPECT_EQ(0x12, recs[0].grpid);
	EXPECT_EQ(RW, recs[0].perm);
	EXPECT_EQ(0, recs[0].__reserved);
	EXPECT_EQ(0xdeadb000, recs[0].addr);
	EXPECT_EQ(0, recs[0].length);
	EXPECT_NE(0, recs[0].cookie);
	/* Only one record was written. */
	EXPECT_EQ(0xffffffff, recs[1].flags);
	cookie = recs[0].cookie;
	/* Read, not answered: nothing more to read, nothing answered yet. */
	EXPECT_EQ(POLLOUT, poll_now(self->ffd));
	EXPECT_EQ(0, fq_read(self->ffd, recs, 4));
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(0, a.out_success + a.out_invalid + a.out_failure);

	EXPECT_EQ(0, respond(self->ffd, cookie, OK));
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(1, a.out_success);
	EXPECT_EQ(0, a.out_invalid);
	EXPECT_EQ(0x12, a.out_last_grpid);
	/* Once only. */
	EXPECT_EQ(EINVAL, respond(self->ffd, cookie, OK));

	/* Permissions pass through, known bits only; cookies are not reused. */
	ASSERT_EQ(0, request(self->fd, IOMMU_TEST_OP_TRIGGER_IOPF, d.idev, 0,
			     0x13, 0xf0 | IOMMU_PGFAULT_PERM_EXEC |
				     IOMMU_PGFAULT_PERM_PRIV, 0x2000));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 1));
	EXPECT_EQ(IOMMU_PGFAULT_PERM_EXEC | IOMMU_PGFAULT_PERM_PRIV,
		  recs[0].perm);
	EXPECT_NE(cookie, recs[0].cookie);
	EXPECT_EQ(0, respond(self->ffd, recs[0].cookie, BAD));
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(1, a.out_success);
	EXPECT_EQ(1, a.out_invalid);
	EXPECT_EQ(0, a.out_failure);
	EXPECT_EQ(0x13, a.out_last_grpid);
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
}

TEST_F(fq, groups_of_several_requests)
{
	struct iommu_hwpt_pgfault recs[8];
	struct iommu_test_lab_iopf_answers a;
	struct mdev d;
	int i;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	/* Two groups in the making, interleaved; the core holds them. */
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 3, 0xa1000));
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 5, 0xb1000));
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 3, 0xa2000));
	EXPECT_EQ(0, fq_read(self->ffd, recs, 8));
	EXPECT_EQ(POLLOUT, poll_now(self->ffd));
	EXPECT_EQ(0, answered(self->fd, d.idev));

	/* The last request brings its group, in the order it was sent. */
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 3, 0xa3000));
	ASSERT_EQ((ssize_t)(3 * REC), fq_read(self->ffd, recs, 8));
	for (i = 0; i != 3; i++) {
		EXPECT_EQ(3, recs[i].grpid);
		EXPECT_EQ(d.idev, recs[i].dev_id);
		EXPECT_EQ(0xa1000 + i * 0x1000, recs[i].addr);
		EXPECT_EQ(recs[0].cookie, recs[i].cookie);
		EXPECT_EQ(i == 2 ? LAST : 0, recs[i].flags);
	}
	EXPECT_EQ(0, respond(self->ffd, recs[2].cookie, OK));

	ASSERT_EQ(0, fault_last(self->fd, d.idev, 5, 0xb2000));
	ASSERT_EQ((ssize_t)(2 * REC), fq_read(self->ffd, recs, 8));
	EXPECT_EQ(0xb1000, recs[0].addr);
	EXPECT_EQ(0, recs[0].flags);
	EXPECT_EQ(0xb2000, recs[1].addr);
	EXPECT_EQ(LAST, recs[1].flags);
	EXPECT_EQ(recs[0].cookie, recs[1].cookie);
	EXPECT_EQ(0, respond(self->ffd, recs[1].cookie, BAD));

	/* One answer per group. */
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(1, a.out_success);
	EXPECT_EQ(1, a.out_invalid);
	EXPECT_EQ(5, a.out_last_grpid);
	/* A group that never completes goes with the device, unanswered. */
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 9, 0xc1000));
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
}

TEST_F(fq, reads_take_whole_groups)
{
	struct iommu_hwpt_pgfault recs[4];
	unsigned char *pages;
	struct mdev d;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	/* G1 of two requests, G2 of one. */
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 1, 0x1000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 1, 0x2000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 2, 0x3000));

	/* Sizes that are not whole records, and offsets. */
	EXPECT_EQ(-1, read(self->ffd, recs, REC - 1));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, read(self->ffd, recs, REC + 1));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, read(self->ffd, recs, 2 * REC + 8));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, pread(self->ffd, recs, REC, REC));
	EXPECT_EQ(ESPIPE, errno);
	/* Room for less than the first group. */
	EXPECT_EQ(-EINVAL, fq_read(self->ffd, recs, 0));
	EXPECT_EQ(-EINVAL, fq_read(self->ffd, recs, 1));
	/* A buffer that is not there. */
	EXPECT_EQ(-EFAULT, fq_read(self->ffd, hole(), 4));
	/* None of that took anything: G1 whole, then G2. */
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(self->ffd));
	ASSERT_EQ((ssize_t)(2 * REC), fq_read(self->ffd, recs, 2));
	EXPECT_EQ(1, recs[0].grpid);
	EXPECT_EQ(0x1000, recs[0].addr);
	EXPECT_EQ(LAST, recs[1].flags);
	EXPECT_EQ(0, respond(self->ffd, recs[1].cookie, OK));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 2));
	EXPECT_EQ(2, recs[0].grpid);
	EXPECT_EQ(0, respond(self->ffd, recs[0].cookie, OK));
	EXPECT_EQ(0, fq_read(self->ffd, recs, 4));

	/* As many groups as fit, and no part of the next one. */
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 3, 0x4000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 3, 0x5000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 4, 0x6000));
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 5, 0x7000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 5, 0x8000));
	ASSERT_EQ((ssize_t)(3 * REC), fq_read(self->ffd, recs, 4));
	EXPECT_EQ(3, recs[0].grpid);
	EXPECT_EQ(4, recs[2].grpid);
	EXPECT_EQ(0, respond(self->ffd, recs[1].cookie, OK));
	EXPECT_EQ(0, respond(self->ffd, recs[2].cookie, OK));
	EXPECT_EQ(0, take_group(self->ffd, 2, OK));

	/* A buffer that ends in the middle: what fits before the hole. */
	pages = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, munmap(pages + PG, PG));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 6, 0x9000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 7, 0xa000));
	EXPECT_EQ((ssize_t)REC,
		  fq_read(self->ffd, (void *)(pages + PG - REC), 2));
	memcpy(recs, pages + PG - REC, REC);
	EXPECT_EQ(6, recs[0].grpid);
	EXPECT_EQ(0, respond(self->ffd, recs[0].cookie, OK));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 1));
	EXPECT_EQ(7, recs[0].grpid);
	EXPECT_EQ(0, respond(self->ffd, recs[0].cookie, OK));
	munmap(pages, PG);

	EXPECT_EQ(7, answered(self->fd, d.idev));
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
}

TEST_F(fq, bad_responses)
{
	struct iommu_hwpt_page_response two[2];
	struct iommu_test_lab_iopf_answers a;
	struct iommu_hwpt_pgfault recs[3];
	uint32_t id2;
	struct mdev d;
	int ffd2;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 1, 0x1000));
	/* Not read yet: it has no cookie to answer by. */
	EXPECT_EQ(EINVAL, respond(self->ffd, 1, OK));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 2, 0x2000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 3, 0x3000));
	ASSERT_EQ((ssize_t)(3 * REC), fq_read(self->ffd, recs, 3));

	/* Sizes that are not whole responses, and offsets. */
	EXPECT_EQ(-1, write(self->ffd, two, sizeof(two[0]) - 1));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, write(self->ffd, two, sizeof(two[0]) + 1));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, pwrite(self->ffd, two, sizeof(two[0]), 8));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(0, write(self->ffd, two, 0));
	EXPECT_EQ(-1, write(self->ffd, hole(), sizeof(two[0])));
	EXPECT_EQ(EFAULT, errno);
	/* Codes user space may not give, and cookies nobody was given. */
	EXPECT_EQ(EINVAL, respond(self->ffd, recs[0].cookie, 2));
	EXPECT_EQ(EINVAL, respond(self->ffd, recs[0].cookie, 99));
	EXPECT_EQ(EINVAL, respond(self->ffd, 0, OK));
	EXPECT_EQ(EINVAL, respond(self->ffd, recs[2].cookie + 1000, OK));
	EXPECT_EQ(0, answered(self->fd, d.idev));

	/* A batch stops at its first bad answer, the good ones count. */
	two[0] = (struct iommu_hwpt_page_response){ recs[0].cookie, OK };
	two[1] = (struct iommu_hwpt_page_response){ recs[0].cookie, OK };
	EXPECT_EQ((ssize_t)sizeof(two[0]),
		  write(self->ffd, two, sizeof(two)));
	EXPECT_EQ(1, answered(self->fd, d.idev));
	two[0] = (struct iommu_hwpt_page_response){ recs[1].cookie, OK };
	two[1] = (struct iommu_hwpt_page_response){ recs[2].cookie, BAD };
	EXPECT_EQ((ssize_t)sizeof(two), write(self->ffd, two, sizeof(two)));
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(2, a.out_success);
	EXPECT_EQ(1, a.out_invalid);
	EXPECT_EQ(0, a.out_failure);

	/* A cookie means something to its own queue only. */
	ASSERT_EQ(0, fault_alloc(self->fd, &id2, &ffd2));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 4, 0x4000));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 1));
	EXPECT_EQ(EINVAL, respond(ffd2, recs[0].cookie, OK));
	EXPECT_EQ(0, respond(self->ffd, recs[0].cookie, OK));
	EXPECT_EQ(0, close(ffd2));
	EXPECT_EQ(0, obj_destroy(self->fd, id2));
	EXPECT_EQ(4, answered(self->fd, d.idev));
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
}

/* ---- poll ---------------------------------------------------------------- */

struct poller {
	int ffd;
	short revents;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->ffd, .events = POLLIN };

	/* Long enough to never be the reason it returns. */
	if (poll(&pfd, 1, 300 * 1000) == 1)
		p->revents = pfd.revents;
	return NULL;
}

TEST_F(fq, poll_and_epoll)
{
	struct poller p = { .ffd = self->ffd };
	struct epoll_event ev = { .events = EPOLLIN }, got;
	pthread_t th;
	struct mdev d;
	int ep;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	/* Always writable, readable only with something queued. */
	EXPECT_EQ(POLLOUT, poll_now(self->ffd));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->ffd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));

	/* A sleeping poller is woken by the fault, whenever it started. */
	ASSERT_EQ(0, pthread_create(&th, NULL, poll_thread, &p));
	usleep(100 * 1000);
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 1, 0x1000));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(POLLIN, p.revents);
	EXPECT_EQ(1, epoll_wait(ep, &got, 1, 0));
	EXPECT_EQ(EPOLLIN, got.events);

	/* Read, the queue is empty again though the group is not answered. */
	ASSERT_EQ(0, take_group(self->ffd, 1, OK));
	EXPECT_EQ(POLLOUT, poll_now(self->ffd));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	close(ep);
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
}

/* ---- every request is answered once, whatever happens -------------------- */

TEST_F(fq, close_answers_everything)
{
	struct iommu_hwpt_pgfault recs[1];
	struct iommu_test_lab_iopf_answers a;
	struct mdev d;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 1, 0x1000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 2, 0x2000));
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 3, 0x3000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 3, 0x4000));
	/* One group read and not answered, two not read. */
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 1));
	EXPECT_EQ(0, answered(self->fd, d.idev));

	EXPECT_EQ(0, close(self->ffd));
	self->ffd = -1;
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(3, a.out_invalid);
	EXPECT_EQ(0, a.out_success + a.out_failure);
	/* Nobody can read any more: a new fault is answered at once. */
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 4, 0x5000));
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(4, a.out_invalid);
	EXPECT_EQ(4, a.out_last_grpid);

	/* The page table still holds the queue, and is busy. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->fault_id));
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->hwpt));
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, self->hwpt));
	self->hwpt = 0;
	EXPECT_EQ(0, obj_destroy(self->fd, self->fault_id));
	self->fault_id = 0;
}

TEST_F(fq, replace_away_answers_device)
{
	struct iommu_hwpt_pgfault recs[2];
	struct iommu_test_lab_iopf_answers a;
	uint32_t pt, cookie;
	struct mdev d;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 1, 0x1000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 2, 0x2000));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 1));
	cookie = recs[0].cookie;
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 3, 0x3000));

	/* To a page table without a queue: answered, and faults go off. */
	pt = self->ioas;
	ASSERT_EQ(0, dev_move(self->fd, d.stdev, &pt));
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(2, a.out_invalid);
	EXPECT_EQ(0, a.out_success + a.out_failure);
	EXPECT_EQ(0, fq_read(self->ffd, recs, 2));
	EXPECT_EQ(EINVAL, respond(self->ffd, cookie, OK));
	EXPECT_EQ(EOPNOTSUPP, fault_last(self->fd, d.idev, 3, 0x4000));
	EXPECT_EQ(2, answered(self->fd, d.idev));

	/* And back: on again, and the old partial request is long gone. */
	pt = self->hwpt;
	ASSERT_EQ(0, dev_move(self->fd, d.stdev, &pt));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 3, 0x5000));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 2));
	EXPECT_EQ(0x5000, recs[0].addr);
	EXPECT_EQ(0, respond(self->ffd, recs[0].cookie, OK));
	EXPECT_EQ(3, answered(self->fd, d.idev));

	/* Destroyed with requests in every state: nothing stays behind. */
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 4, 0x6000));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 5, 0x7000));
	ASSERT_EQ(0, fault_part(self->fd, d.idev, 6, 0x8000));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 1));
	cookie = recs[0].cookie;
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
	EXPECT_EQ(0, fq_read(self->ffd, recs, 2));
	EXPECT_EQ(EINVAL, respond(self->ffd, cookie, OK));
	EXPECT_EQ(POLLOUT, poll_now(self->ffd));
}

TEST_F(fq, replace_between_queues)
{
	struct iommu_hwpt_pgfault recs[2];
	uint32_t id2, hwpt2, hwpt3, pt;
	struct mdev d;
	int ffd2;

	ASSERT_EQ(0, fault_alloc(self->fd, &id2, &ffd2));
	ASSERT_EQ(0, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
				    IOMMU_HWPT_FAULT_ID_VALID, id2, &hwpt2));
	ASSERT_EQ(0, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
				    IOMMU_HWPT_FAULT_ID_VALID, id2, &hwpt3));
	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 1, 0x1000));

	/* To another queue: the old one's request is answered there. */
	pt = hwpt2;
	ASSERT_EQ(0, dev_move(self->fd, d.stdev, &pt));
	EXPECT_EQ(1, answered(self->fd, d.idev));
	EXPECT_EQ(0, fq_read(self->ffd, recs, 2));
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 2, 0x2000));
	EXPECT_EQ(0, fq_read(self->ffd, recs, 2));
	ASSERT_EQ((ssize_t)REC, fq_read(ffd2, recs, 2));
	EXPECT_EQ(2, recs[0].grpid);
	EXPECT_EQ(d.idev, recs[0].dev_id);

	/* Same queue, other page table: still answered, read or not. */
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 3, 0x3000));
	pt = hwpt3;
	ASSERT_EQ(0, dev_move(self->fd, d.stdev, &pt));
	EXPECT_EQ(3, answered(self->fd, d.idev));
	EXPECT_EQ(EINVAL, respond(ffd2, recs[0].cookie, OK));
	EXPECT_EQ(0, fq_read(ffd2, recs, 2));
	/* What comes now is hwpt3's. */
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 4, 0x4000));
	EXPECT_EQ(0, take_group(ffd2, 1, OK));
	EXPECT_EQ(4, answered(self->fd, d.idev));

	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, hwpt2));
	EXPECT_EQ(0, obj_destroy(self->fd, hwpt3));
	EXPECT_EQ(0, close(ffd2));
	EXPECT_EQ(0, obj_destroy(self->fd, id2));
}

TEST_F(fq, shared_group_devices)
{
	struct iommu_hwpt_pgfault recs[2];
	struct mdev a, b;
	uint32_t pt;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, GRP, &a));
	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, GRP, &b));
	EXPECT_EQ(self->hwpt, b.hwpt);
	/* Each device's faults carry its own ID. */
	ASSERT_EQ(0, fault_last(self->fd, a.idev, 1, 0x1000));
	ASSERT_EQ(0, fault_last(self->fd, b.idev, 2, 0x2000));
	ASSERT_EQ((ssize_t)(2 * REC), fq_read(self->ffd, recs, 2));
	EXPECT_EQ(a.idev, recs[0].dev_id);
	EXPECT_EQ(b.idev, recs[1].dev_id);
	EXPECT_EQ(0, respond(self->ffd, recs[0].cookie, OK));
	EXPECT_EQ(0, respond(self->ffd, recs[1].cookie, OK));

	/* One leaving takes its own faults, the other's stay. */
	ASSERT_EQ(0, fault_last(self->fd, a.idev, 3, 0x3000));
	ASSERT_EQ(0, fault_last(self->fd, b.idev, 4, 0x4000));
	EXPECT_EQ(0, obj_destroy(self->fd, a.stdev));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 2));
	EXPECT_EQ(b.idev, recs[0].dev_id);
	EXPECT_EQ(4, recs[0].grpid);
	EXPECT_EQ(0, respond(self->ffd, recs[0].cookie, OK));
	EXPECT_EQ(2, answered(self->fd, b.idev));

	/* The group moves whole; faults go off with the queue. */
	ASSERT_EQ(0, fault_last(self->fd, b.idev, 5, 0x5000));
	pt = self->ioas;
	ASSERT_EQ(0, dev_move(self->fd, b.stdev, &pt));
	EXPECT_EQ(3, answered(self->fd, b.idev));
	EXPECT_EQ(EOPNOTSUPP, fault_last(self->fd, b.idev, 6, 0x6000));
	EXPECT_EQ(0, obj_destroy(self->fd, b.stdev));
}

TEST_F(fq, pasid_requests)
{
	struct iommu_hw_info info = { .size = sizeof(info) };
	struct iommu_test_lab_iopf_answers a;
	struct iommu_hwpt_pgfault recs[1];
	struct mdev d;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, MOCK_FLAGS_DEVICE_PASID,
			     &d));
	info.dev_id = d.idev;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_GET_HW_INFO, &info));
	EXPECT_EQ(MOCK_PASID_WIDTH, info.out_max_pasid_log2);
	info = (struct iommu_hw_info){ .size = sizeof(info),
				       .dev_id = self->base.idev };
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_GET_HW_INFO, &info));
	EXPECT_EQ(0, info.out_max_pasid_log2);

	/*
	 * Nothing is attached to PASID 7, and the RID's page table is not a
	 * nested one: the core answers the request itself.
	 */
	ASSERT_EQ(0, request(self->fd, IOMMU_TEST_OP_TRIGGER_IOPF, d.idev, 7,
			     8, RW, 0x1000));
	EXPECT_EQ(0, fq_read(self->ffd, recs, 1));
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(1, a.out_invalid);
	EXPECT_EQ(8, a.out_last_grpid);
	/* Without a PASID it is the page table's. */
	ASSERT_EQ(0, fault_last(self->fd, d.idev, 9, 0x2000));
	ASSERT_EQ((ssize_t)REC, fq_read(self->ffd, recs, 1));
	EXPECT_EQ(LAST, recs[0].flags);
	EXPECT_EQ(0, respond(self->ffd, recs[0].cookie, OK));
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
}

TEST_F(fq, trigger_rejects)
{
	struct iommu_test_lab_iopf_answers a;

	EXPECT_EQ(ENOENT, fault_last(self->fd, 9999, 1, 0x1000));
	EXPECT_EQ(ENOENT, fault_last(self->fd, self->ioas, 1, 0x1000));
	EXPECT_EQ(ENOENT, fault_last(self->fd, self->base.stdev, 1, 0x1000));
	/* On a page table without a queue a device sends no page request. */
	EXPECT_EQ(EOPNOTSUPP, fault_last(self->fd, self->base.idev, 1, 0x1000));
	EXPECT_EQ(EOPNOTSUPP, fault_part(self->fd, self->base.idev, 1, 0x1000));
	EXPECT_EQ(ENOENT, answers(self->fd, self->ioas, &a));
	ASSERT_EQ(0, answers(self->fd, self->base.idev, &a));
	EXPECT_EQ(0, a.out_success + a.out_invalid + a.out_failure);
}

TEST_F(fq, queue_outlives_context_fd)
{
	struct iommu_hwpt_pgfault recs[2];
	uint32_t ioas, fid, hwpt;
	struct mdev base, d;
	int fd, ffd;

	/* A context of its own, closed while its queue's file is open. */
	fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, dev_add(fd, ioas, 0, &base));
	ASSERT_EQ(0, fault_alloc(fd, &fid, &ffd));
	ASSERT_EQ(0, pt_alloc_fault(fd, base.idev, ioas,
				    IOMMU_HWPT_FAULT_ID_VALID, fid, &hwpt));
	ASSERT_EQ(0, dev_add(fd, hwpt, 0, &d));
	ASSERT_EQ(0, fault_last(fd, d.idev, 1, 0x1000));
	ASSERT_EQ(0, fault_last(fd, d.idev, 2, 0x2000));
	ASSERT_EQ(0, fault_last(fd, d.idev, 3, 0x3000));
	ASSERT_EQ(0, close(fd));

	/* The queue's file keeps the context: still read and answered. */
	ASSERT_EQ((ssize_t)REC, fq_read(ffd, recs, 1));
	EXPECT_EQ(d.idev, recs[0].dev_id);
	EXPECT_EQ(0, respond(ffd, recs[0].cookie, OK));
	ASSERT_EQ((ssize_t)REC, fq_read(ffd, recs, 1));
	/* One read, one not: its close takes everything down. */
	EXPECT_EQ(0, close(ffd));
}

/* ---- a model run: three threads, every request answered exactly once ---- */

struct model {
	int fd, ffd;
	uint32_t idev, stdev;
	uint32_t pts[3];	/* two page tables on the queue, one without */
	int stop;		/* __atomic builtins from here on */
	int sent;		/* requests the device got through */
	int bad;		/* an errno nobody expected */
};

static void *model_device(void *arg)
{
	struct model *m = arg;
	int i, rc;

	for (i = 0; i != 400; i++) {
		rc = fault_last(m->fd, m->idev, i % 256, 0x1000 * i);
		if (!rc)
			__atomic_add_fetch(&m->sent, 1, __ATOMIC_RELAXED);
		else if (rc != EOPNOTSUPP)
			__atomic_store_n(&m->bad, rc, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&m->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *model_vmm(void *arg)
{
	struct iommu_hwpt_pgfault recs[4];
	struct model *m = arg;
	ssize_t got, i;
	int rc;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		got = fq_read(m->ffd, recs, NELEM(recs));
		if (got < 0) {
			__atomic_store_n(&m->bad, (int)-got, __ATOMIC_RELAXED);
			break;
		}
		/* Faults of a device that moved on are answered already. */
		for (i = 0; i < got / (ssize_t)REC; i++) {
			rc = respond(m->ffd, recs[i].cookie,
				     i % 2 ? BAD : OK);
			if (rc && rc != EINVAL)
				__atomic_store_n(&m->bad, rc,
						 __ATOMIC_RELAXED);
		}
		if (!got)
			sched_yield();
	}
	return NULL;
}

TEST_F_TIMEOUT(fq, model_every_request_answered_once, 600)
{
	struct model m = { .fd = self->fd, .ffd = self->ffd };
	struct iommu_test_lab_iopf_answers a;
	pthread_t dev_th, vmm_th;
	struct mdev d;
	uint32_t pt;
	int i = 0;

	ASSERT_EQ(0, dev_add(self->fd, self->hwpt, 0, &d));
	m.idev = d.idev;
	m.pts[0] = self->hwpt;
	ASSERT_EQ(0, pt_alloc_fault(self->fd, self->base.idev, self->ioas,
				    IOMMU_HWPT_FAULT_ID_VALID, self->fault_id,
				    &m.pts[1]));
	ASSERT_EQ(0, pt_alloc(self->fd, self->base.idev, self->ioas, 0,
			      &m.pts[2]));
	ASSERT_EQ(0, pthread_create(&dev_th, NULL, model_device, &m));
	ASSERT_EQ(0, pthread_create(&vmm_th, NULL, model_vmm, &m));
	/* The device moves between the page tables while it faults. */
	while (!__atomic_load_n(&m.stop, __ATOMIC_ACQUIRE)) {
		pt = m.pts[i++ % 3];
		ASSERT_EQ(0, dev_move(self->fd, d.stdev, &pt));
		usleep(1000);
	}
	ASSERT_EQ(0, pthread_join(dev_th, NULL));
	ASSERT_EQ(0, pthread_join(vmm_th, NULL));
	EXPECT_EQ(0, m.bad);
	EXPECT_LT(0, m.sent);
	/* Off the queue, what was still pending is answered too. */
	pt = m.pts[2];
	ASSERT_EQ(0, dev_move(self->fd, d.stdev, &pt));
	ASSERT_EQ(0, answers(self->fd, d.idev, &a));
	EXPECT_EQ(m.sent, (int)(a.out_success + a.out_invalid));
	EXPECT_EQ(0, a.out_failure);
	EXPECT_EQ(0, obj_destroy(self->fd, d.stdev));
	EXPECT_EQ(0, obj_destroy(self->fd, m.pts[1]));
	EXPECT_EQ(0, obj_destroy(self->fd, m.pts[2]));
}

TEST_HARNESS_MAIN
