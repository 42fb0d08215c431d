// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whose memory is it? The pages of a mapping stay those of the process
 * that called IOMMU_IOAS_MAP, whoever pins or copies them later: a forked
 * child working on the shared context reaches its parent's memory, memory
 * of a process that is gone (or of an address range unmapped since) faults,
 * and pins taken earlier keep their pages alive. Every test leaves VmPin
 * as it found it.
 */
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "lab_harness.h"
#include "lab_util.h"
#include "iommufd_test.h"

#define PG 4096UL
#define NPG 16UL
#define LEN (NPG * PG)
#define FIXED_IOVA (64UL * PG)

/* Everything of IOMMU_TEST_CMD goes through here. */
static int tcmd(int fd, uint32_t op, uint32_t id, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	cmd->op = op;
	cmd->id = id;
	return ioctl_errno(fd, IOMMU_TEST_CMD, cmd);
}

static int new_access(int fd, uint32_t ioas, bool pins, int *out)
{
	struct iommu_test_cmd c = {};
	int rc;

	c.create_access.flags = pins ? MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES :
				       0;
	rc = tcmd(fd, IOMMU_TEST_OP_CREATE_ACCESS, ioas, &c);
	if (!rc)
		*out = c.create_access.out_access_fd;
	return rc;
}

/* Pin through access @afd; @cmp is the memory to compare with, or NULL. */
static int pin(int fd, int afd, uint64_t iova, uint64_t len, void *cmp,
	       bool write, uint32_t *id)
{
	struct iommu_test_cmd c = {};
	int rc;

	c.access_pages.iova = iova;
	c.access_pages.length = len;
	c.access_pages.uptr = (uintptr_t)cmp;
	c.access_pages.flags = write ? MOCK_FLAGS_ACCESS_WRITE : 0;
	rc = tcmd(fd, IOMMU_TEST_OP_ACCESS_PAGES, afd, &c);
	if (!rc && id)
		*id = c.access_pages.out_access_pages_id;
	return rc;
}

static int unpin(int fd, int afd, uint32_t id)
{
	struct iommu_test_cmd c = {};

	c.destroy_access_pages.access_pages_id = id;
	return tcmd(fd, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, afd, &c);
}

/* Copy through the access; @flags are MOCK_ACCESS_RW_*. */
static int xfer(int fd, int afd, uint64_t iova, void *ubuf, uint64_t len,
		uint32_t flags)
{
	struct iommu_test_cmd c = {};

	c.access_rw.iova = iova;
	c.access_rw.length = len;
	c.access_rw.uptr = (uintptr_t)ubuf;
	c.access_rw.flags = flags;
	return tcmd(fd, IOMMU_TEST_OP_ACCESS_RW, afd, &c);
}

/* Does every small page of [p, p + len) carry @pins pins? */
static int pins_are(int fd, void *p, uint64_t len, uint32_t pins)
{
	struct iommu_test_cmd c = {};

	c.check_refs.uptr = (uintptr_t)p;
	c.check_refs.length = len;
	c.check_refs.refs = pins;
	return tcmd(fd, IOMMU_TEST_OP_MD_CHECK_REFS, 0, &c);
}

static long vm_pin(void)
{
	return proc_status_kb("VmPin");
}

/* VmPin of another process, in kB, or -1. */
static long vm_pin_of(pid_t pid)
{
	char path[64], line[128];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A recognisable byte for offset @i of a buffer filled with @seed. */
static unsigned char pat(size_t i, unsigned int seed)
{
	return (unsigned char)((i >> 12) * 13 + i * seed + seed);
}

static void pat_fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(i, seed);
}

static bool pat_holds(const unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(i, seed))
			return false;
	return true;
}

/* Anonymous private memory in small pages, @seed written to it. */
static unsigned char *anon_buf(unsigned int seed)
{
	unsigned char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, LEN, MADV_NOHUGEPAGE);
	pat_fill(p, LEN, seed);
	return p;
}

/* One byte each way between parent and child. */
static bool say(int wfd, char what)
{
	return write(wfd, &what, 1) == 1;
}

static bool hear(int rfd, char what)
{
	char got;

	return read(rfd, &got, 1) == 1 && got == what;
}

FIXTURE(mm) {
	int fd;
	uint32_t ioas;
	long vmpin;
};

FIXTURE_SETUP(mm)
{
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	self->vmpin = vm_pin();
	ASSERT_LE(0, self->vmpin);
}

FIXTURE_TEARDOWN(mm)
{
	EXPECT_EQ(0, close(self->fd));
	EXPECT_EQ(self->vmpin, vm_pin());
}

/*
 * What the forked child does; the step that went wrong is its exit status.
 * @down carries the parent's word to the child, @up the child's to the
 * parent.
 */
enum child_step {
	CHILD_OK,
	CHILD_ACCESS,
	CHILD_WAIT_GO,
	CHILD_READ_FAST,
	CHILD_READ_SLOW,
	CHILD_OWN_COPY,
	CHILD_WRITE,
	CHILD_PIN,
	CHILD_TELL_PINNED,
	CHILD_WAIT_CHECKED,
	CHILD_READ_PINNED,
	CHILD_UNPIN,
	CHILD_TELL_DONE,
};

static const char *const child_step_name[] = {
	"ok", "create access", "wait for parent", "fast read",
	"slow-path read", "own copy changed", "write", "pin",
	"report pin", "wait for parent's check", "read while pinned",
	"unpin", "report done",
};

static int fork_child(int fd, uint32_t ioas, unsigned char *mine, int down,
		      int up)
{
	unsigned char *tmp = malloc(LEN);
	uint32_t id;
	int afd;

	if (!tmp)
		return CHILD_READ_FAST;
	if (new_access(fd, ioas, true, &afd))
		return CHILD_ACCESS;
	if (!hear(down, 'g'))
		return CHILD_WAIT_GO;

	/* The parent has written seed 2 since the fork; our copy has 1. */
	memset(tmp, 0, LEN);
	if (xfer(fd, afd, FIXED_IOVA, tmp, LEN, 0) || !pat_holds(tmp, LEN, 2))
		return CHILD_READ_FAST;
	memset(tmp, 0, LEN);
	if (xfer(fd, afd, FIXED_IOVA, tmp, LEN, MOCK_ACCESS_RW_SLOW_PATH) ||
	    !pat_holds(tmp, LEN, 2))
		return CHILD_READ_SLOW;
	if (!pat_holds(mine, LEN, 1))
		return CHILD_OWN_COPY;

	/* Seed 3 into the parent, half of it each way. */
	pat_fill(tmp, LEN, 3);
	if (xfer(fd, afd, FIXED_IOVA, tmp, LEN / 2, MOCK_ACCESS_RW_WRITE) ||
	    xfer(fd, afd, FIXED_IOVA + LEN / 2, tmp + LEN / 2, LEN / 2,
		 MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH))
		return CHILD_WRITE;
	if (!pat_holds(mine, LEN, 1))
		return CHILD_OWN_COPY;

	/* Our pages are not the parent's: no comparison (uptr 0). */
	if (pin(fd, afd, FIXED_IOVA, LEN, NULL, true, &id))
		return CHILD_PIN;
	if (!say(up, 'p'))
		return CHILD_TELL_PINNED;
	if (!hear(down, 'c'))
		return CHILD_WAIT_CHECKED;
	memset(tmp, 0, LEN);
	if (xfer(fd, afd, FIXED_IOVA, tmp, LEN, 0) || !pat_holds(tmp, LEN, 3))
		return CHILD_READ_PINNED;
	if (unpin(fd, afd, id))
		return CHILD_UNPIN;
	close(afd);
	free(tmp);
	return say(up, 'd') ? CHILD_OK : CHILD_TELL_DONE;
}

TEST_F(mm, forked_child_reaches_parent_memory)
{
	uint64_t iova = FIXED_IOVA;
	int down[2], up[2], status;
	unsigned char *buf;
	pid_t pid;

	buf = anon_buf(1);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, buf, LEN, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	ASSERT_EQ(0, pipe(down));
	ASSERT_EQ(0, pipe(up));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(down[1]);
		close(up[0]);
		_exit(fork_child(self->fd, self->ioas, buf, down[0], up[1]));
	}
	close(down[0]);
	close(up[1]);

	/* Copy on write: from here on the child's buffer is its own. */
	pat_fill(buf, LEN, 2);
	ASSERT_TRUE(say(down[1], 'g'));

	/* The child's pin is on our pages and charged to us. */
	if (hear(up[0], 'p')) {
		EXPECT_EQ(self->vmpin + LEN / 1024, vm_pin());
		EXPECT_EQ(0, pins_are(self->fd, buf, LEN, 1));
		EXPECT_TRUE(say(down[1], 'c'));
		EXPECT_TRUE(hear(up[0], 'd'));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) &&
	    WEXITSTATUS(status) < ARRAY_SIZE(child_step_name))
		TH_LOG("child failed at: %s",
		       child_step_name[WEXITSTATUS(status)]);
	ASSERT_EQ(CHILD_OK, WEXITSTATUS(status));

	/* What the child wrote landed in our buffer. */
	EXPECT_TRUE(pat_holds(buf, LEN, 3));
	EXPECT_EQ(0, pins_are(self->fd, buf, LEN, 0));
	EXPECT_EQ(self->vmpin, vm_pin());
	close(down[1]);
	close(up[0]);
	munmap(buf, LEN);
}

TEST_F(mm, memory_of_exited_process)
{
	uint64_t iova = 0, unmapped = 0;
	unsigned char tmp[256];
	int link[2], status, afd;
	uint32_t id;
	pid_t pid;

	ASSERT_EQ(0, pipe(link));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		unsigned char *mine = anon_buf(7);

		close(link[0]);
		if (!mine || ioas_map(self->fd, self->ioas, mine, LEN, &iova,
				      MAP_RW))
			_exit(1);
		/* Gone without unmapping anything. */
		_exit(write(link[1], &iova, sizeof(iova)) == sizeof(iova) ?
			      0 : 2);
	}
	close(link[1]);
	ASSERT_EQ(sizeof(iova), read(link[0], &iova, sizeof(iova)));
	close(link[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_NE(0, iova);

	ASSERT_EQ(0, new_access(self->fd, self->ioas, true, &afd));
	EXPECT_EQ(EFAULT, pin(self->fd, afd, iova, LEN, NULL, false, &id));
	EXPECT_EQ(EFAULT, pin(self->fd, afd, iova + PG, PG, NULL, true, &id));
	EXPECT_EQ(self->vmpin, vm_pin());
	EXPECT_EQ(EFAULT, xfer(self->fd, afd, iova, tmp, sizeof(tmp), 0));
	EXPECT_EQ(EFAULT, xfer(self->fd, afd, iova, tmp, sizeof(tmp),
			       MOCK_ACCESS_RW_SLOW_PATH));
	memset(tmp, 0xa5, sizeof(tmp));
	EXPECT_EQ(EFAULT, xfer(self->fd, afd, iova + 3 * PG, tmp, sizeof(tmp),
			       MOCK_ACCESS_RW_WRITE));
	EXPECT_EQ(self->vmpin, vm_pin());

	/* The mapping itself is still there, whole, and can go. */
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, LEN, &unmapped));
	EXPECT_EQ(LEN, unmapped);
	EXPECT_EQ(ENOENT, xfer(self->fd, afd, iova, tmp, 1, 0));
	close(afd);
	EXPECT_EQ(self->vmpin, vm_pin());
}

/*
 * The child maps its own memory and stays: the parent, whose memory it is
 * not, reads and writes it through the child's address space, and a pin
 * is charged to the child, not to the parent.
 */
TEST_F(mm, live_child_memory)
{
	uint64_t iova = 0, unmapped = 0;
	int link[2], back[2], status, rafd, pafd;
	unsigned char *tmp;
	long child_pin;
	uint32_t id;
	pid_t pid;

	ASSERT_EQ(0, pipe(link));
	ASSERT_EQ(0, pipe(back));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		unsigned char *mine = anon_buf(9);
		unsigned char *want = malloc(LEN);

		close(link[0]);
		close(back[1]);
		if (!mine || !want ||
		    ioas_map(self->fd, self->ioas, mine, LEN, &iova, MAP_RW) ||
		    write(link[1], &iova, sizeof(iova)) != sizeof(iova))
			_exit(1);
		if (!hear(back[0], 'w'))
			_exit(2);
		/* The parent wrote seed 10 over pages 2 to 5. */
		pat_fill(want, LEN, 9);
		pat_fill(want + 2 * PG, 4 * PG, 10);
		_exit(memcmp(mine, want, LEN) ? 3 : 0);
	}
	close(link[1]);
	close(back[0]);
	ASSERT_EQ(sizeof(iova), read(link[0], &iova, sizeof(iova)));
	close(link[0]);

	tmp = malloc(LEN);
	ASSERT_NE(NULL, tmp);
	ASSERT_EQ(0, new_access(self->fd, self->ioas, false, &rafd));
	ASSERT_EQ(0, new_access(self->fd, self->ioas, true, &pafd));
	memset(tmp, 0, LEN);
	ASSERT_EQ(0, xfer(self->fd, rafd, iova, tmp, LEN, 0));
	EXPECT_TRUE(pat_holds(tmp, LEN, 9));

	/* Pinned in the child's memory: its VmPin moves, ours does not. */
	child_pin = vm_pin_of(pid);
	ASSERT_LE(0, child_pin);
	ASSERT_EQ(0, pin(self->fd, pafd, iova + 2 * PG, 2 * PG, NULL, true,
			 &id));
	EXPECT_EQ(self->vmpin, vm_pin());
	EXPECT_EQ(child_pin + 2 * PG / 1024, vm_pin_of(pid));
	pat_fill(tmp, 4 * PG, 10);
	/* Two pages through the pins, two through the address space. */
	ASSERT_EQ(0, xfer(self->fd, pafd, iova + 2 * PG, tmp, 4 * PG,
			  MOCK_ACCESS_RW_WRITE));
	ASSERT_EQ(0, unpin(self->fd, pafd, id));
	EXPECT_EQ(child_pin, vm_pin_of(pid));
	ASSERT_TRUE(say(back[1], 'w'));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(back[1]);

	/* Gone now: nothing more to read. */
	EXPECT_EQ(EFAULT, xfer(self->fd, rafd, iova, tmp, 32, 0));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, LEN, &unmapped));
	EXPECT_EQ(LEN, unmapped);
	close(pafd);
	close(rafd);
	free(tmp);
	EXPECT_EQ(self->vmpin, vm_pin());
}

TEST_F(mm, mapping_outlives_munmap)
{
	uint64_t iova = 0, unmapped = 0;
	unsigned char tmp[64];
	unsigned char *buf;
	uint32_t id;
	int afd;

	ASSERT_EQ(0, new_access(self->fd, self->ioas, true, &afd));
	buf = anon_buf(4);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, buf, LEN, &iova, MAP_RW));
	ASSERT_EQ(0, munmap(buf, LEN));

	/* Nothing was pinned by the map, and now nothing is left to pin. */
	EXPECT_EQ(EFAULT, pin(self->fd, afd, iova, LEN, NULL, false, &id));
	EXPECT_EQ(EFAULT, pin(self->fd, afd, iova + 5 * PG, 2 * PG, NULL,
			      true, &id));
	EXPECT_EQ(EFAULT, xfer(self->fd, afd, iova + 9, tmp, sizeof(tmp), 0));
	EXPECT_EQ(EFAULT, xfer(self->fd, afd, iova + 9, tmp, sizeof(tmp),
			       MOCK_ACCESS_RW_SLOW_PATH));
	EXPECT_EQ(EFAULT, xfer(self->fd, afd, iova, tmp, sizeof(tmp),
			       MOCK_ACCESS_RW_WRITE));
	EXPECT_EQ(self->vmpin, vm_pin());

	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, LEN, &unmapped));
	EXPECT_EQ(LEN, unmapped);
	close(afd);
}

TEST_F(mm, pin_keeps_page_after_munmap)
{
	uint64_t iova = 0, unmapped = 0;
	unsigned char *buf, *tmp, *back;
	uint32_t id;
	int afd;

	tmp = malloc(LEN);
	back = malloc(LEN);
	ASSERT_NE(NULL, tmp);
	ASSERT_NE(NULL, back);
	buf = anon_buf(5);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, buf, LEN, &iova, MAP_RW));
	ASSERT_EQ(0, new_access(self->fd, self->ioas, true, &afd));
	ASSERT_EQ(0, pin(self->fd, afd, iova, LEN, buf, false, &id));
	EXPECT_EQ(0, pins_are(self->fd, buf, LEN, 1));
	EXPECT_EQ(self->vmpin + LEN / 1024, vm_pin());

	ASSERT_EQ(0, munmap(buf, LEN));

	/* The pinned pages are still there for the kernel to copy. */
	memset(back, 0, LEN);
	ASSERT_EQ(0, xfer(self->fd, afd, iova, back, LEN, 0));
	EXPECT_TRUE(pat_holds(back, LEN, 5));
	/* The slow path goes through the address space, which has a hole. */
	EXPECT_EQ(EFAULT, xfer(self->fd, afd, iova, back, PG,
			       MOCK_ACCESS_RW_SLOW_PATH));
	/* Writes land in the pinned pages, and read back from there. */
	pat_fill(tmp, LEN, 6);
	ASSERT_EQ(0, xfer(self->fd, afd, iova + PG + 100, tmp, 2 * PG,
			  MOCK_ACCESS_RW_WRITE));
	memset(back, 0, LEN);
	ASSERT_EQ(0, xfer(self->fd, afd, iova, back, LEN, 0));
	EXPECT_TRUE(pat_holds(back, PG + 100, 5));
	EXPECT_EQ(0, memcmp(back + PG + 100, tmp, 2 * PG));
	EXPECT_EQ(back[3 * PG + 100], pat(3 * PG + 100, 5));
	EXPECT_EQ(self->vmpin + LEN / 1024, vm_pin());

	ASSERT_EQ(0, unpin(self->fd, afd, id));
	EXPECT_EQ(self->vmpin, vm_pin());
	/* Unpinned, the data has nowhere left to come from. */
	EXPECT_EQ(EFAULT, xfer(self->fd, afd, iova, back, 16, 0));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, LEN, &unmapped));
	EXPECT_EQ(LEN, unmapped);
	close(afd);
	free(back);
	free(tmp);
}

TEST_F(mm, read_only_memory)
{
	uint64_t iova = 0, wiova = 0, unmapped = 0;
	unsigned char *buf, *ro, tmp[128];
	uint32_t id;
	int afd;

	ASSERT_EQ(0, new_access(self->fd, self->ioas, true, &afd));

	/* Read-only memory with data in it, mapped read-only. */
	buf = anon_buf(8);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, mprotect(buf, LEN, PROT_READ));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, buf, LEN, &iova,
			      IOMMU_IOAS_MAP_READABLE));
	ASSERT_EQ(0, pin(self->fd, afd, iova, LEN, buf, false, &id));
	EXPECT_EQ(0, pins_are(self->fd, buf, LEN, 1));
	EXPECT_EQ(self->vmpin + LEN / 1024, vm_pin());
	EXPECT_EQ(EPERM, pin(self->fd, afd, iova, PG, NULL, true, NULL));
	ASSERT_EQ(0, xfer(self->fd, afd, iova + 2 * PG - 64, tmp, sizeof(tmp),
			  0));
	EXPECT_EQ(0, memcmp(tmp, buf + 2 * PG - 64, sizeof(tmp)));
	EXPECT_EQ(EPERM, xfer(self->fd, afd, iova, tmp, sizeof(tmp),
			      MOCK_ACCESS_RW_WRITE));
	EXPECT_EQ(EPERM, xfer(self->fd, afd, iova, tmp, sizeof(tmp),
			      MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH));
	ASSERT_EQ(0, unpin(self->fd, afd, id));
	EXPECT_EQ(0, pins_are(self->fd, buf, LEN, 0));
	EXPECT_EQ(self->vmpin, vm_pin());
	EXPECT_TRUE(pat_holds(buf, LEN, 8));

	/* Mapped writable: fine until something wants the pages. */
	ro = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas, ro, LEN, &wiova, MAP_RW));
	EXPECT_EQ(self->vmpin, vm_pin());
	EXPECT_EQ(EFAULT, pin(self->fd, afd, wiova, LEN, NULL, false, &id));
	EXPECT_EQ(EFAULT, pin(self->fd, afd, wiova, PG, NULL, true, &id));
	EXPECT_EQ(self->vmpin, vm_pin());
	memset(tmp, 0x3c, sizeof(tmp));
	EXPECT_EQ(EFAULT, xfer(self->fd, afd, wiova, tmp, sizeof(tmp),
			       MOCK_ACCESS_RW_WRITE));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, wiova, LEN, &unmapped));
	EXPECT_EQ(LEN, unmapped);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, iova, LEN, &unmapped));
	EXPECT_EQ(LEN, unmapped);
	close(afd);
	munmap(ro, LEN);
	munmap(buf, LEN);
}

TEST_HARNESS_MAIN
