// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory named by a file, with a device that really does DMA: QEMU's edu
 * behind the emulated VT-d, through its VFIO cdev bound to iommufd.
 *
 * IOMMU_IOAS_MAP_FILE takes the pages of a memfd from its page cache, so
 * what the device reads and writes is the file: the process's own view of
 * it may be gone, and pread() must show every byte the device wrote, at
 * the file offset that IOMMU_IOAS_MAP_FILE's @start says. Both a shmem
 * memfd (4 KiB pages) and a hugetlbfs one (2 MiB pages) are checked.
 *
 * IOMMU_IOAS_CHANGE_PROCESS is the live update of a VMM: an old process
 * maps, hands its iommufd, its VFIO device file and the memfd to a new
 * process, which takes over the charge of the pinned pages (VmPin, and
 * VmLck in the mm accounting mode) and keeps the device going after the
 * old one has exited. Here the new process is the test itself and the old
 * one a child it forks before anything is opened, so that the hand-off is
 * the only way the files get across: by pidfd_getfd(), since the lab
 * kernel has no sockets for SCM_RIGHTS. A refused hand-off (a mapping by
 * address somewhere in the context, or a charge over the new process's
 * RLIMIT_MEMLOCK) must leave every charge where it was.
 *
 * Every transfer stays below 4 KiB (QEMU 7.2 aborts on one that covers the
 * whole buffer of the edu), and every check compares whole buffers, or the
 * whole file, byte by byte against a model of what they must hold.
 */
#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_util.h"
#include "lab_vfio.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)	/* log2 of the page size, shifted */
#endif
#ifndef MFD_HUGE_1GB
#define MFD_HUGE_1GB (30U << 26)
#endif

#define PG 4096UL
#define MIB (1UL << 20)
#define KB(bytes) ((long)((bytes) / 1024))

/* IOVAs the edu can reach (below 2^28), 2 MiB aligned, apart. */
#define FILE_IOVA 0x400000UL		/* the file, or its first window */
#define FILE_IOVA2 0x1000000UL		/* vfio_file's second window */
#define VA_IOVA 0x2000000UL		/* memory mapped by address */
#define VA_SIZE (2 * PG)

#define XFER 1536U			/* bytes per transfer */
#define MARK 0xa5			/* file bytes no DMA wrote */
#define VA_MARK 0x3c			/* the same, in the VA buffers */
#define MAP_FIXED_RW (MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA)

/* ---- patterns and models ------------------------------------------------- */

/* Never MARK nor VA_MARK, so that no byte of a pattern looks untouched. */
static uint8_t pattern(unsigned int seed, unsigned int i)
{
	uint32_t x = seed * 2654435761u + i * 40503u;
	uint8_t b = x ^ (x >> 11) ^ (x >> 19);

	return (b == MARK || b == VA_MARK) ? b ^ 0x80 : b;
}

static void pat_fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern(seed, i);
}

/* The first offset at which @got differs from @want, or @len. */
static size_t first_diff(const uint8_t *got, const uint8_t *want, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (got[i] != want[i])
			break;
	return i;
}

/* ---- memfds -------------------------------------------------------------- */

/*
 * A memfd of @size bytes (MFD_HUGETLB in @flags: on hugetlbfs, its pages
 * allocated now), every byte MARK, written through the MAP_SHARED view that
 * comes back in *@view. 0 or the errno; ENOSPC or ENOMEM from hugetlbfs
 * mean it has no free huge pages.
 */
static int memfd_new(unsigned int flags, size_t size, int *out,
		     uint8_t **view)
{
	int fd = memfd_create("t_vfio_file", MFD_CLOEXEC | flags);
	int rc;

	if (fd < 0)
		return errno;
	if (ftruncate(fd, size) ||
	    ((flags & MFD_HUGETLB) && fallocate(fd, 0, 0, size))) {
		rc = errno;
		close(fd);
		return rc;
	}
	*view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*view == MAP_FAILED) {
		rc = errno;
		close(fd);
		return rc;
	}
	memset(*view, MARK, size);
	*out = fd;
	return 0;
}

/*
 * Write @len bytes at @off through a view of just the pages (of @page
 * bytes) around them, dropped again: hugetlbfs has no write().
 */
static int file_write(int fd, size_t page, size_t off, const void *data,
		      size_t len)
{
	size_t lo = off & ~(page - 1);
	size_t hi = (off + len + page - 1) & ~(page - 1);
	uint8_t *view = mmap(NULL, hi - lo, PROT_READ | PROT_WRITE, MAP_SHARED,
			     fd, lo);

	if (view == MAP_FAILED)
		return errno;
	memcpy(view + (off - lo), data, len);
	return munmap(view, hi - lo) ? errno : 0;
}

/*
 * The first offset at which the file differs from @want, read with
 * pread(); @len when none does, (size_t)-1 when it cannot be read.
 */
static size_t file_diff(int fd, const uint8_t *want, size_t len)
{
	static uint8_t chunk[64 * 1024];
	size_t off = 0, at;
	ssize_t n;

	while (off < len) {
		n = pread(fd, chunk, len - off < sizeof(chunk) ?
				     len - off : sizeof(chunk), off);
		if (n <= 0)
			return (size_t)-1;
		at = first_diff(chunk, want + off, n);
		if (at < (size_t)n)
			return off + at;
		off += n;
	}
	return len;
}

/*
 * A new pattern written into the file at @src goes through the device and
 * back into the file at @dst, both through a mapping of the whole file at
 * FILE_IOVA; @model takes both. 0, or the step that failed: 1 the write, 2
 * the DMA, 3 the pattern did not arrive.
 */
static int file_copy(struct edu *edu, int memfd, size_t page, uint8_t *model,
		     size_t src, size_t dst, unsigned int seed)
{
	uint8_t pat[XFER], got[XFER];

	pat_fill(pat, XFER, seed);
	if (file_write(memfd, page, src, pat, XFER))
		return 1;
	memcpy(model + src, pat, XFER);
	if (to_device(edu, FILE_IOVA + src, 0, XFER) ||
	    to_ram(edu, 0, FILE_IOVA + dst, XFER))
		return 2;
	memcpy(model + dst, pat, XFER);
	if (pread(memfd, got, XFER, dst) != XFER || memcmp(got, pat, XFER))
		return 3;
	return 0;
}

/* ---- a mapped memfd and the edu, in one process -------------------------- */

FIXTURE(vfio_file) {
	char bdf[64];
	int iommufd;
	int devfd;
	int memfd;
	uint32_t ioas;
	struct edu edu;
	uint8_t *buf;		/* VA_SIZE bytes, mapped by address */
	uint8_t *model;		/* what the file must hold */
	size_t half;		/* bytes of each window */
	long pin0;
};

/*
 * The file is mapped in two windows: its first half at FILE_IOVA, its
 * second (@start = half) at FILE_IOVA2. Each window is two pages or more,
 * so that a transfer can cross a page boundary inside one.
 */
FIXTURE_VARIANT(vfio_file) {
	unsigned int memfd_flags;
	size_t page;
	size_t size;
};

FIXTURE_VARIANT_ADD(vfio_file, shmem_4k) {
	.memfd_flags = 0,
	.page = PG,
	.size = MIB,
};

FIXTURE_VARIANT_ADD(vfio_file, hugetlb_2m) {
	.memfd_flags = MFD_HUGETLB | MFD_HUGE_2MB,
	.page = 2 * MIB,
	.size = 8 * MIB,
};

typedef FIXTURE_DATA(vfio_file) file_fixture;

/* VmPin with the buffer and @file bytes of the file pinned. */
static long file_pinned(file_fixture *self, size_t file)
{
	return self->pin0 + KB(VA_SIZE) + KB(file);
}

FIXTURE_SETUP(vfio_file)
{
	uint64_t iova = VA_IOVA;
	char path[PATH_MAX];
	uint8_t *view;
	uint32_t hwpt;
	int rc;

	self->iommufd = -1;
	self->devfd = -1;
	self->memfd = -1;
	self->edu.bar = NULL;
	self->buf = MAP_FAILED;
	self->half = variant->size / 2;
	self->pin0 = proc_status_kb("VmPin");
	ASSERT_LE(0, self->pin0);
	self->model = malloc(variant->size);
	ASSERT_NE(NULL, self->model);
	memset(self->model, MARK, variant->size);
	self->buf = mmap(NULL, VA_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, VA_MARK, VA_SIZE);

	if (edu_find(self->bdf, sizeof(self->bdf)))
		SKIP(return, "no edu device (QEMU -device edu)");
	ASSERT_EQ(0, bind_vfio_pci(self->bdf));
	rc = memfd_new(variant->memfd_flags, variant->size, &self->memfd,
		       &view);
	if ((variant->memfd_flags & MFD_HUGETLB) &&
	    (rc == ENOSPC || rc == ENOMEM))
		SKIP(return, "no %zu free 2 MiB huge pages (hugepages=)",
		     variant->size / (2 * MIB));
	ASSERT_EQ(0, rc);

	self->iommufd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &self->ioas));
	ASSERT_EQ(0, cdev_open(self->bdf, path, sizeof(path), &self->devfd));
	ASSERT_EQ(0, vfio_bind(self->devfd, self->iommufd, NULL));
	hwpt = self->ioas;
	ASSERT_EQ(0, vfio_attach(self->devfd, &hwpt));
	ASSERT_NE(self->ioas, hwpt);
	ASSERT_EQ(0, edu_open(&self->edu, self->devfd));
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas, self->buf, VA_SIZE,
			      &iova, MAP_FIXED_RW));

	iova = FILE_IOVA;
	ASSERT_EQ(0, ioas_map_file(self->iommufd, self->ioas, self->memfd, 0,
				   self->half, &iova, MAP_FIXED_RW));
	ASSERT_EQ(FILE_IOVA, iova);
	iova = FILE_IOVA2;
	ASSERT_EQ(0, ioas_map_file(self->iommufd, self->ioas, self->memfd,
				   self->half, self->half, &iova, MAP_FIXED_RW));
	ASSERT_EQ(FILE_IOVA2, iova);
	/* Pinned at map time, behind the VT-d domain, counted in 4 KiB. */
	EXPECT_EQ(file_pinned(self, variant->size), proc_status_kb("VmPin"));

	/* From here on no process maps the file. */
	ASSERT_EQ(0, munmap(view, variant->size));
	EXPECT_EQ(file_pinned(self, variant->size), proc_status_kb("VmPin"));
}

FIXTURE_TEARDOWN(vfio_file)
{
	edu_close(&self->edu);
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->memfd >= 0)
		close(self->memfd);
	/* Nothing stays pinned once every file is closed. */
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	if (self->buf != MAP_FAILED)
		munmap(self->buf, VA_SIZE);
	free(self->model);
}

/* The whole file must hold what the model says. */
#define EXPECT_FILE(self, size) \
	EXPECT_EQ((size), file_diff((self)->memfd, (self)->model, (size)))

/*
 * Memory mapped by address goes through the device into the file: one
 * pattern across the first page boundary of the first window, one at the
 * start of the second, which is the middle of the file, and both together
 * across the first page boundary of the second window.
 */
TEST_F_TIMEOUT(vfio_file, device_writes_file, 300)
{
	size_t page = variant->page, half = self->half;
	uint8_t a[XFER], b[XFER], want[VA_SIZE];

	pat_fill(a, XFER, 1);
	pat_fill(b, XFER, 2);
	memcpy(self->buf, a, XFER);
	memcpy(self->buf + PG, b, XFER);
	memcpy(want, self->buf, VA_SIZE);
	ASSERT_EQ(0, to_device(&self->edu, VA_IOVA, 0, XFER));
	ASSERT_EQ(0, to_device(&self->edu, VA_IOVA + PG, XFER, XFER));

	ASSERT_EQ(0, to_ram(&self->edu, 0, FILE_IOVA + page - 512, XFER));
	memcpy(self->model + page - 512, a, XFER);
	EXPECT_FILE(self, variant->size);

	ASSERT_EQ(0, to_ram(&self->edu, XFER, FILE_IOVA2 + 100, XFER));
	memcpy(self->model + half + 100, b, XFER);
	EXPECT_FILE(self, variant->size);

	ASSERT_EQ(0, to_ram(&self->edu, 0, FILE_IOVA2 + page - 1000,
			    2 * XFER));
	memcpy(self->model + half + page - 1000, a, XFER);
	memcpy(self->model + half + page - 1000 + XFER, b, XFER);
	EXPECT_FILE(self, variant->size);

	/* The source is as it was. */
	EXPECT_EQ(VA_SIZE, first_diff(self->buf, want, VA_SIZE));
	EXPECT_EQ(file_pinned(self, variant->size), proc_status_kb("VmPin"));
}

/*
 * The file goes through the device into memory mapped by address: one
 * pattern from across the first page boundary of the second window and one
 * from near the start of the file come back side by side, across the page
 * boundary of the buffer. The file is only read.
 */
TEST_F_TIMEOUT(vfio_file, device_reads_file, 300)
{
	size_t page = variant->page, half = self->half;
	size_t c_off = half + page - 768, d_off = 200;
	uint8_t c[XFER], d[XFER], want[VA_SIZE];

	pat_fill(c, XFER, 3);
	pat_fill(d, XFER, 4);
	ASSERT_EQ(0, file_write(self->memfd, page, c_off, c, XFER));
	ASSERT_EQ(0, file_write(self->memfd, page, d_off, d, XFER));
	memcpy(self->model + c_off, c, XFER);
	memcpy(self->model + d_off, d, XFER);

	ASSERT_EQ(0, to_device(&self->edu, FILE_IOVA2 + page - 768, 0, XFER));
	ASSERT_EQ(0, to_device(&self->edu, FILE_IOVA + d_off, XFER, XFER));
	ASSERT_EQ(0, to_ram(&self->edu, 0, VA_IOVA + PG - 1500, 2 * XFER));

	memset(want, VA_MARK, VA_SIZE);
	memcpy(want + PG - 1500, c, XFER);
	memcpy(want + PG - 1500 + XFER, d, XFER);
	EXPECT_EQ(VA_SIZE, first_diff(self->buf, want, VA_SIZE));
	EXPECT_FILE(self, variant->size);
}

/*
 * Unmapping a window unpins its half of the file and the device can no
 * longer write there; the other window still works. Mapped again while no
 * process maps the file, it is reachable again.
 */
TEST_F_TIMEOUT(vfio_file, unmap_file_stops_dma, 300)
{
	size_t page = variant->page, half = self->half;
	uint64_t iova, len;
	uint8_t e[XFER];

	ASSERT_EQ(0, ioas_unmap(self->iommufd, self->ioas, FILE_IOVA, half,
				&len));
	EXPECT_EQ(half, len);
	EXPECT_EQ(file_pinned(self, half), proc_status_kb("VmPin"));

	pat_fill(e, XFER, 5);
	memcpy(self->buf, e, XFER);
	ASSERT_EQ(0, to_device(&self->edu, VA_IOVA, 0, XFER));
	/* The write to the old IOVA goes nowhere: VT-d faults it. */
	ASSERT_EQ(0, to_ram(&self->edu, 0, FILE_IOVA + page - 512, XFER));
	EXPECT_FILE(self, variant->size);

	ASSERT_EQ(0, to_ram(&self->edu, 0, FILE_IOVA2 + 300, XFER));
	memcpy(self->model + half + 300, e, XFER);
	EXPECT_FILE(self, variant->size);

	iova = FILE_IOVA;
	ASSERT_EQ(0, ioas_map_file(self->iommufd, self->ioas, self->memfd, 0, half,
				   &iova, MAP_FIXED_RW));
	EXPECT_EQ(file_pinned(self, variant->size), proc_status_kb("VmPin"));
	ASSERT_EQ(0, to_ram(&self->edu, 0, FILE_IOVA + page - 512, XFER));
	memcpy(self->model + page - 512, e, XFER);
	EXPECT_FILE(self, variant->size);
}

/* ---- a 1 GiB page, when the guest has one ------------------------------- */

FIXTURE(vfio_file_gigantic) {
	char bdf[64];
	int iommufd;
	int devfd;
	int memfd;
	uint32_t ioas;
	struct edu edu;
};

FIXTURE_SETUP(vfio_file_gigantic)
{
	char path[PATH_MAX];
	uint32_t hwpt;

	self->iommufd = -1;
	self->devfd = -1;
	self->memfd = -1;
	self->edu.bar = NULL;
	if (edu_find(self->bdf, sizeof(self->bdf)))
		SKIP(return, "no edu device (QEMU -device edu)");
	ASSERT_EQ(0, bind_vfio_pci(self->bdf));
	self->iommufd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &self->ioas));
	ASSERT_EQ(0, cdev_open(self->bdf, path, sizeof(path), &self->devfd));
	ASSERT_EQ(0, vfio_bind(self->devfd, self->iommufd, NULL));
	hwpt = self->ioas;
	ASSERT_EQ(0, vfio_attach(self->devfd, &hwpt));
	ASSERT_EQ(0, edu_open(&self->edu, self->devfd));
}

FIXTURE_TEARDOWN(vfio_file_gigantic)
{
	edu_close(&self->edu);
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->memfd >= 0)
		close(self->memfd);
}

/*
 * Two windows into the two ends of one 1 GiB page: the folio is pinned
 * once for both, stays pinned and mapped while either is, and the device
 * reaches the file through each.
 */
TEST_F_TIMEOUT(vfio_file_gigantic, two_windows_one_folio, 300)
{
	const size_t size = 1UL << 30, win = MIB, far = size - win;
	uint8_t pat[XFER], got[XFER];
	uint64_t iova, done;
	long pin0 = proc_status_kb("VmPin");
	uint8_t *view;
	int rc;

	rc = memfd_new(MFD_HUGETLB | MFD_HUGE_1GB, size, &self->memfd, &view);
	if (rc == ENOSPC || rc == ENOMEM || rc == EINVAL)
		SKIP(return, "no free 1 GiB huge page (hugepagesz=1G)");
	ASSERT_EQ(0, rc);
	iova = FILE_IOVA;
	ASSERT_EQ(0, ioas_map_file(self->iommufd, self->ioas, self->memfd, 0, win,
				   &iova, MAP_FIXED_RW));
	iova = FILE_IOVA2;
	ASSERT_EQ(0, ioas_map_file(self->iommufd, self->ioas, self->memfd, far, win,
				   &iova, MAP_FIXED_RW));
	EXPECT_EQ(pin0 + 2 * KB(win), proc_status_kb("VmPin"));
	ASSERT_EQ(0, munmap(view, size));

	/* From the start of the page, through the device, to its end. */
	pat_fill(pat, XFER, 7);
	ASSERT_EQ(0, file_write(self->memfd, size, 100, pat, XFER));
	ASSERT_EQ(0, to_device(&self->edu, FILE_IOVA + 100, 0, XFER));
	ASSERT_EQ(0, to_ram(&self->edu, 0, FILE_IOVA2 + win - XFER, XFER));
	ASSERT_EQ(XFER, pread(self->memfd, got, XFER, size - XFER));
	EXPECT_EQ(XFER, first_diff(got, pat, XFER));

	/* One window gone: the other still reaches the same folio. */
	ASSERT_EQ(0, ioas_unmap(self->iommufd, self->ioas, FILE_IOVA, win,
				&done));
	EXPECT_EQ(win, done);
	EXPECT_EQ(pin0 + KB(win), proc_status_kb("VmPin"));
	pat_fill(pat, XFER, 8);
	ASSERT_EQ(0, file_write(self->memfd, size, far + 300, pat, XFER));
	ASSERT_EQ(0, to_device(&self->edu, FILE_IOVA2 + 300, 0, XFER));
	ASSERT_EQ(0, to_ram(&self->edu, 0, FILE_IOVA2 + 4 * XFER, XFER));
	ASSERT_EQ(XFER, pread(self->memfd, got, XFER, far + 4 * XFER));
	EXPECT_EQ(XFER, first_diff(got, pat, XFER));
	ASSERT_EQ(0, ioas_unmap(self->iommufd, self->ioas, FILE_IOVA2, win,
				&done));
	EXPECT_EQ(pin0, proc_status_kb("VmPin"));
}

/* ---- the live update: an old process hands its files to a new one -------- */

#define HO_SIZE MIB			/* the memfd, on shmem */
#define HO_HALF (HO_SIZE / 2)
#define OLD_SRC (5 * PG - 300)		/* the old process's transfer */
#define OLD_DST (9 * PG - 700)
#define NEW_SRC (20 * PG - 100)		/* the new process's, after it */
#define NEW_DST (HO_HALF - 600)		/* across the two areas */
#define NEW_UID 4242			/* a user nothing else runs as */

/* What the old process does; the step that went wrong is its exit status. */
enum old_step {
	OLD_OK,
	OLD_OPEN,
	OLD_MODE,
	OLD_IOAS,
	OLD_CDEV,
	OLD_BIND,
	OLD_ATTACH,
	OLD_EDU,
	OLD_MEMFD,
	OLD_MAP_FILE,
	OLD_MAP_VA,
	OLD_DMA,
	OLD_REPORT,
	OLD_WAIT_EXIT,
};

static const char *const old_step_name[] = {
	"ok", "open /dev/iommu", "set the accounting mode", "IOAS_ALLOC",
	"open the VFIO cdev", "bind", "attach", "map BAR0", "memfd",
	"IOAS_MAP_FILE", "IOAS_MAP", "its own DMA", "report", "send the files",
	"wait for the word to exit",
};

enum { FD_IOMMU, FD_DEV, FD_MEM, NR_FDS };

/* What the old process tells the new one once it is ready. */
struct old_report {
	int fds[NR_FDS];	/* its descriptor numbers */
	uint32_t ioas;
	uint64_t va;		/* its VA_SIZE buffer at VA_IOVA, or 0 */
	long pin_base;		/* its VmPin and VmLck before anything */
	long lck_base;
};

struct old_cfg {
	const char *bdf;
	bool account_mm;	/* IOMMU_OPTION_RLIMIT_MODE 1: VmLck too */
	bool with_va;		/* also a buffer mapped by address */
};

static bool say(int fd, char c)
{
	return write(fd, &c, 1) == 1;
}

static bool hear(int fd, char want)
{
	char c;

	return read(fd, &c, 1) == 1 && c == want;
}

/* Duplicate the descriptors @theirs of process @pid into @ours. */
static int take_fds(pid_t pid, const int *theirs, int *ours, int n)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	int i, rc = 0;

	if (pidfd < 0)
		return errno;
	for (i = 0; i < n && !rc; i++) {
		ours[i] = syscall(SYS_pidfd_getfd, pidfd, theirs[i], 0);
		if (ours[i] < 0)
			rc = errno;
	}
	close(pidfd);
	return rc;
}

/* Read @len bytes of the memory of process @pid at @addr. */
static int peer_read(pid_t pid, uint64_t addr, void *out, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	n = pread(fd, out, len, addr);
	close(fd);
	return n == (ssize_t)len ? 0 : (n < 0 ? errno : EIO);
}

/*
 * The old process: a context with the edu attached to an IOAS that maps
 * the whole memfd in two areas (its halves, at FILE_IOVA and right after),
 * and, @with_va, a buffer mapped by address at VA_IOVA; one transfer of
 * its own within the file; then the report, the files left for
 * pidfd_getfd(); then it waits for the word to exit.
 */
static int old_process(const struct old_cfg *cfg, int up, int down)
{
	struct old_report rep = {
		.pin_base = proc_status_kb("VmPin"),
		.lck_base = proc_status_kb("VmLck"),
	};
	uint8_t *model = malloc(HO_SIZE), *view, *buf;
	uint64_t iova, mode = 1;
	char path[PATH_MAX];
	struct edu edu;
	uint32_t hwpt;
	int *fd = rep.fds;

	if (!model)
		return OLD_MEMFD;
	fd[FD_IOMMU] = open(IOMMU_DEV, O_RDWR);
	if (fd[FD_IOMMU] < 0)
		return OLD_OPEN;
	if (cfg->account_mm &&
	    option_op(fd[FD_IOMMU], IOMMU_OPTION_RLIMIT_MODE,
		      IOMMU_OPTION_OP_SET, 0, &mode))
		return OLD_MODE;
	if (ioas_alloc(fd[FD_IOMMU], &rep.ioas))
		return OLD_IOAS;
	if (cdev_open(cfg->bdf, path, sizeof(path), &fd[FD_DEV]))
		return OLD_CDEV;
	if (vfio_bind(fd[FD_DEV], fd[FD_IOMMU], NULL))
		return OLD_BIND;
	hwpt = rep.ioas;
	if (vfio_attach(fd[FD_DEV], &hwpt))
		return OLD_ATTACH;
	if (edu_open(&edu, fd[FD_DEV]))
		return OLD_EDU;

	if (memfd_new(0, HO_SIZE, &fd[FD_MEM], &view))
		return OLD_MEMFD;
	iova = FILE_IOVA;
	if (ioas_map_file(fd[FD_IOMMU], rep.ioas, fd[FD_MEM], 0, HO_HALF, &iova,
			  MAP_FIXED_RW))
		return OLD_MAP_FILE;
	iova = FILE_IOVA + HO_HALF;
	if (ioas_map_file(fd[FD_IOMMU], rep.ioas, fd[FD_MEM], HO_HALF, HO_HALF,
			  &iova, MAP_FIXED_RW))
		return OLD_MAP_FILE;
	munmap(view, HO_SIZE);
	if (cfg->with_va) {
		buf = mmap(NULL, VA_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			return OLD_MAP_VA;
		memset(buf, VA_MARK, VA_SIZE);
		rep.va = (uintptr_t)buf;
		iova = VA_IOVA;
		if (ioas_map(fd[FD_IOMMU], rep.ioas, buf, VA_SIZE, &iova,
			     MAP_FIXED_RW))
			return OLD_MAP_VA;
	}
	if (file_copy(&edu, fd[FD_MEM], PG, model, OLD_SRC, OLD_DST, 1))
		return OLD_DMA;
	edu_close(&edu);
	free(model);

	if (write(up, &rep, sizeof(rep)) != sizeof(rep))
		return OLD_REPORT;
	/* Exiting closes every file: only the new process's copies remain. */
	return hear(down, 'x') ? OLD_OK : OLD_WAIT_EXIT;
}

FIXTURE(vfio_handoff) {
	char bdf[64];
	pid_t old;		/* the old process, 0 once reaped */
	int up;			/* its report */
	int down;		/* our word to it */
	int fds[NR_FDS];	/* our copies of its files */
	struct old_report rep;
	struct edu edu;
	uint8_t *model;		/* what the memfd must hold */
	long pin0;		/* our VmPin and VmLck at the start */
	long lck0;
};

FIXTURE_VARIANT(vfio_handoff) {
	bool account_mm;	/* charged to mm->locked_vm, not the user's */
};

FIXTURE_VARIANT_ADD(vfio_handoff, pidfd) {
	.account_mm = false,
};

FIXTURE_VARIANT_ADD(vfio_handoff, pidfd_mm) {
	.account_mm = true,
};

typedef FIXTURE_DATA(vfio_handoff) handoff_fixture;

FIXTURE_SETUP(vfio_handoff)
{
	int i;

	self->old = 0;
	self->up = -1;
	self->down = -1;
	for (i = 0; i < NR_FDS; i++)
		self->fds[i] = -1;
	self->edu.bar = NULL;
	self->pin0 = proc_status_kb("VmPin");
	self->lck0 = proc_status_kb("VmLck");
	ASSERT_LE(0, self->pin0);
	ASSERT_LE(0, self->lck0);
	self->model = malloc(HO_SIZE);
	ASSERT_NE(NULL, self->model);
	/* A word to an old process that died must fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	if (edu_find(self->bdf, sizeof(self->bdf)))
		SKIP(return, "no edu device (QEMU -device edu)");
	ASSERT_EQ(0, bind_vfio_pci(self->bdf));
}

FIXTURE_TEARDOWN(vfio_handoff)
{
	int i;

	edu_close(&self->edu);
	/* An old process still waiting hears the end of the pipe and exits. */
	if (self->down >= 0)
		close(self->down);
	if (self->old > 0)
		waitpid(self->old, NULL, 0);
	if (self->up >= 0)
		close(self->up);
	for (i = NR_FDS - 1; i >= 0; i--)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	EXPECT_EQ(self->lck0, proc_status_kb("VmLck"));
	free(self->model);
}

/* The exit status of the old process into the log, if it says a step. */
static void old_log(struct __test_metadata *_metadata, int status)
{
	int step = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	if (step < 0)
		TH_LOG("the old process died of signal %d", WTERMSIG(status));
	else if (step && step < (int)(sizeof(old_step_name) /
				      sizeof(old_step_name[0])))
		TH_LOG("the old process failed at: %s", old_step_name[step]);
}

/*
 * Fork the old process before anything is open, wait for its report and
 * take its files over: ours are in self->fds. The model gets the old
 * process's own transfer.
 */
static void handoff_start(struct __test_metadata *_metadata,
			  handoff_fixture *self, bool account_mm,
			  bool with_va)
{
	struct old_cfg cfg = {
		.bdf = self->bdf,
		.account_mm = account_mm,
		.with_va = with_va,
	};
	int up[2], down[2], status, rc;
	uint8_t pat[XFER];

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	self->old = fork();
	ASSERT_LE(0, self->old);
	if (!self->old) {
		close(up[0]);
		close(down[1]);
		_exit(old_process(&cfg, up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);
	self->up = up[0];
	self->down = down[1];

	if (read(self->up, &self->rep, sizeof(self->rep)) !=
	    sizeof(self->rep)) {
		ASSERT_EQ(self->old, waitpid(self->old, &status, 0));
		self->old = 0;
		old_log(_metadata, status);
		ASSERT_TRUE(false);
	}
	rc = take_fds(self->old, self->rep.fds, self->fds, NR_FDS);
	ASSERT_EQ(0, rc);

	memset(self->model, MARK, HO_SIZE);
	pat_fill(pat, XFER, 1);
	memcpy(self->model + OLD_SRC, pat, XFER);
	memcpy(self->model + OLD_DST, pat, XFER);
}

/* Tell the old process to exit and reap it: it must have had no trouble. */
static void old_exit(struct __test_metadata *_metadata, handoff_fixture *self)
{
	int status;

	ASSERT_TRUE(say(self->down, 'x'));
	ASSERT_EQ(self->old, waitpid(self->old, &status, 0));
	self->old = 0;
	old_log(_metadata, status);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(OLD_OK, WEXITSTATUS(status));
}

/*
 * The old process is charged @on_old kB over its start, we @on_new kB over
 * ours: VmPin always, VmLck too in the mm accounting mode. @on_old < 0:
 * the old process is gone.
 */
static void charges_are(struct __test_metadata *_metadata,
			handoff_fixture *self, bool account_mm, long on_old,
			long on_new)
{
	if (on_old >= 0) {
		EXPECT_EQ(self->rep.pin_base + on_old,
			  pid_status_kb(self->old, "VmPin"));
		EXPECT_EQ(self->rep.lck_base + (account_mm ? on_old : 0),
			  pid_status_kb(self->old, "VmLck"));
	}
	EXPECT_EQ(self->pin0 + on_new, proc_status_kb("VmPin"));
	EXPECT_EQ(self->lck0 + (account_mm ? on_new : 0),
		  proc_status_kb("VmLck"));
}

/* Our own transfer through the file, then the whole file checked. */
static void new_copy(struct __test_metadata *_metadata, handoff_fixture *self,
		     size_t src, size_t dst, unsigned int seed)
{
	EXPECT_EQ(0, file_copy(&self->edu, self->fds[FD_MEM], PG, self->model,
			       src, dst, seed));
	EXPECT_EQ(HO_SIZE, file_diff(self->fds[FD_MEM], self->model, HO_SIZE));
}

/* Close the device and the context: nothing of them stays charged to us. */
static void new_close(struct __test_metadata *_metadata,
		      handoff_fixture *self)
{
	edu_close(&self->edu);
	EXPECT_EQ(0, close(self->fds[FD_DEV]));
	self->fds[FD_DEV] = -1;
	EXPECT_EQ(0, close(self->fds[FD_IOMMU]));
	self->fds[FD_IOMMU] = -1;
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	EXPECT_EQ(self->lck0, proc_status_kb("VmLck"));
}

/*
 * The whole hand-off: the charge moves from the old process to us, once
 * (a second call finds it ours already), stays with us when the old one
 * exits, and the device keeps working on the file for us.
 */
TEST_F_TIMEOUT(vfio_handoff, dma_after_old_exits, 300)
{
	bool mm = variant->account_mm;

	handoff_start(_metadata, self, mm, false);
	/* The old process's transfer is in the file we now hold. */
	EXPECT_EQ(HO_SIZE, file_diff(self->fds[FD_MEM], self->model, HO_SIZE));
	charges_are(_metadata, self, mm, KB(HO_SIZE), 0);

	ASSERT_EQ(0, change_process(self->fds[FD_IOMMU]));
	charges_are(_metadata, self, mm, 0, KB(HO_SIZE));
	ASSERT_EQ(0, change_process(self->fds[FD_IOMMU]));
	charges_are(_metadata, self, mm, 0, KB(HO_SIZE));

	old_exit(_metadata, self);
	charges_are(_metadata, self, mm, -1, KB(HO_SIZE));

	ASSERT_EQ(0, edu_open(&self->edu, self->fds[FD_DEV]));
	new_copy(_metadata, self, NEW_SRC, NEW_DST, 2);
	new_close(_metadata, self);
	/* The file outlives the context with everything in it. */
	EXPECT_EQ(HO_SIZE, file_diff(self->fds[FD_MEM], self->model, HO_SIZE));
}

/*
 * A mapping by address anywhere in the context refuses the hand-off with
 * EINVAL and moves nothing: the old process's buffer, pinned for the
 * device, and then, once that is unmapped, a buffer of our own in another
 * IOAS that nothing pins. Meanwhile the device works through both kinds of
 * mapping. Without them the hand-off goes through.
 */
TEST_F_TIMEOUT(vfio_handoff, refused_with_va_area, 300)
{
	bool mm = variant->account_mm;
	int iommufd;
	uint8_t got[VA_SIZE], want[VA_SIZE], pat[XFER], *mine;
	uint64_t iova = VA_IOVA, len;
	uint32_t ioas2;

	handoff_start(_metadata, self, mm, true);
	iommufd = self->fds[FD_IOMMU];
	charges_are(_metadata, self, mm, KB(HO_SIZE) + KB(VA_SIZE), 0);
	EXPECT_EQ(EINVAL, change_process(iommufd));
	charges_are(_metadata, self, mm, KB(HO_SIZE) + KB(VA_SIZE), 0);

	/* From the file into the old process's buffer, and back to the file. */
	ASSERT_EQ(0, edu_open(&self->edu, self->fds[FD_DEV]));
	pat_fill(pat, XFER, 3);
	ASSERT_EQ(0, file_write(self->fds[FD_MEM], PG, NEW_SRC, pat, XFER));
	memcpy(self->model + NEW_SRC, pat, XFER);
	ASSERT_EQ(0, to_device(&self->edu, FILE_IOVA + NEW_SRC, 0, XFER));
	ASSERT_EQ(0, to_ram(&self->edu, 0, VA_IOVA + PG - 400, XFER));
	ASSERT_EQ(0, peer_read(self->old, self->rep.va, got, VA_SIZE));
	memset(want, VA_MARK, VA_SIZE);
	memcpy(want + PG - 400, pat, XFER);
	EXPECT_EQ(VA_SIZE, first_diff(got, want, VA_SIZE));
	ASSERT_EQ(0, to_device(&self->edu, VA_IOVA + PG - 400, XFER, XFER));
	ASSERT_EQ(0, to_ram(&self->edu, XFER, FILE_IOVA + NEW_DST, XFER));
	memcpy(self->model + NEW_DST, pat, XFER);
	EXPECT_EQ(HO_SIZE, file_diff(self->fds[FD_MEM], self->model, HO_SIZE));

	ASSERT_EQ(0, ioas_unmap(iommufd, self->rep.ioas, VA_IOVA, VA_SIZE,
				&len));
	EXPECT_EQ(VA_SIZE, len);
	charges_are(_metadata, self, mm, KB(HO_SIZE), 0);

	mine = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mine);
	ASSERT_EQ(0, ioas_alloc(iommufd, &ioas2));
	ASSERT_EQ(0, ioas_map(iommufd, ioas2, mine, PG, &iova, MAP_FIXED_RW));
	charges_are(_metadata, self, mm, KB(HO_SIZE), 0);
	EXPECT_EQ(EINVAL, change_process(iommufd));
	charges_are(_metadata, self, mm, KB(HO_SIZE), 0);

	/* An IOAS left empty is no obstacle. */
	ASSERT_EQ(0, ioas_unmap(iommufd, ioas2, VA_IOVA, PG, &len));
	EXPECT_EQ(PG, len);
	ASSERT_EQ(0, change_process(iommufd));
	charges_are(_metadata, self, mm, 0, KB(HO_SIZE));

	old_exit(_metadata, self);
	new_copy(_metadata, self, 30 * PG - 50, 40 * PG - 900, 4);
	new_close(_metadata, self);
	munmap(mine, PG);
}

/*
 * A new process of another user, without CAP_IPC_LOCK, whose
 * RLIMIT_MEMLOCK is below the charge gets ENOMEM, and nothing moves: not
 * even the first of the two areas, which alone would fit. At exactly the
 * charge the hand-off goes through.
 */
TEST_F_TIMEOUT(vfio_handoff, refused_over_memlock, 300)
{
	bool mm = variant->account_mm;
	struct rlimit lim;
	rlim_t base;
	int iommufd;

	handoff_start(_metadata, self, mm, false);
	iommufd = self->fds[FD_IOMMU];
	charges_are(_metadata, self, mm, KB(HO_SIZE), 0);

	/*
	 * Another user, so that user accounting charges someone new; the
	 * change of uid takes every capability away.
	 */
	/* In the mm mode our own mm's locked_vm counts against it too. */
	base = mm ? self->lck0 * 1024 : 0;
	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &lim));
	if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < base + HO_SIZE)
		SKIP(return, "hard RLIMIT_MEMLOCK below %lu", base + HO_SIZE);
	ASSERT_EQ(0, setresgid(NEW_UID, NEW_UID, NEW_UID));
	ASSERT_EQ(0, setresuid(NEW_UID, NEW_UID, NEW_UID));

	lim.rlim_cur = base + HO_HALF + HO_HALF / 2;
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	EXPECT_EQ(ENOMEM, change_process(iommufd));
	charges_are(_metadata, self, mm, KB(HO_SIZE), 0);

	lim.rlim_cur = base + HO_SIZE - PG;
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	EXPECT_EQ(ENOMEM, change_process(iommufd));
	charges_are(_metadata, self, mm, KB(HO_SIZE), 0);

	lim.rlim_cur = base + HO_SIZE;
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	ASSERT_EQ(0, change_process(iommufd));
	charges_are(_metadata, self, mm, 0, KB(HO_SIZE));

	old_exit(_metadata, self);
	ASSERT_EQ(0, edu_open(&self->edu, self->fds[FD_DEV]));
	new_copy(_metadata, self, NEW_SRC, NEW_DST, 5);
	new_close(_metadata, self);
}

TEST_HARNESS_MAIN
