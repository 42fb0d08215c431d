// SPDX-License-Identifier: GPL-2.0-only
/*
 * Error paths under systematic fault injection. For each scenario a short
 * sequence of ioctls runs again and again with the N-th fault point of the
 * task failed (/proc/self/task/<tid>/fail-nth: slab and page allocations),
 * N = 1, 2, ... until a round reaches no fault point at all. Every round an
 * operation may fail, but only cleanly (ENOMEM or EFAULT), what failed must
 * leave no trace, and afterwards nothing is pinned or charged and a fresh
 * context still works. The kernel log is watched for splats by the lab.
 * The file scenarios but one fill their memfd before the fault is armed,
 * so that the faults land in iommufd rather than in shmem.
 */
#include <glob.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "lab_harness.h"
#include "lab_util.h"
#include "iommufd_test.h"

#define PG 4096UL
#define NPG 16UL
#define LEN (NPG * PG)
#define AT (1UL << 20)		/* where the scenarios map at a fixed IOVA */
#define HIGH (1UL << 32)	/* the allowed ranges start up here */
#define ROUNDS_MAX 4000
#define MAX_OPS 8
#define FILE_AT ((uint64_t)MOCK_APERTURE_START)	/* inside the mock's aperture */
#define HUGE2M (2UL << 20)
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

/* ---- fault injection control ------------------------------------------ */

static int put_knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * fail-nth overrides probability, interval, times and space, but the
 * per-kind filters still apply: let sleeping, highmem and order-0
 * allocations be failed too, keep the stack filter wide open, and keep
 * quiet (a verbose injection dumps a stack, which reads as a splat).
 */
static const char *configure_injection(void)
{
	static const char *const knobs[][2] = {
		{ "failslab/ignore-gfp-wait", "N" },
		{ "failslab/cache-filter", "N" },
		{ "fail_page_alloc/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "fail_page_alloc/min-order", "0" },
	};
	static const char *const wide_open[][2] = {
		{ "require-start", "0" },
		{ "require-end", "0xffffffffffffffff" },
		{ "reject-start", "0" },
		{ "reject-end", "0" },
	};
	static const char *const kinds[] = { "failslab", "fail_page_alloc" };
	char path[256];
	glob_t g;
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s",
			 knobs[i][0]);
		if (put_knob(path, knobs[i][1]))
			return knobs[i][0];
	}
	/* Present only with CONFIG_FAULT_INJECTION_STACKTRACE_FILTER. */
	for (k = 0; k < ARRAY_SIZE(kinds); k++)
		for (i = 0; i < ARRAY_SIZE(wide_open); i++) {
			snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s",
				 kinds[k], wide_open[i][0]);
			if (!access(path, F_OK))
				put_knob(path, wide_open[i][1]);
		}
	if (glob("/sys/kernel/debug/fail*/verbose", 0, NULL, &g))
		return "fail*/verbose";
	for (i = 0; i < g.gl_pathc; i++) {
		if (put_knob(g.gl_pathv[i], "0")) {
			globfree(&g);
			return "verbose";
		}
	}
	globfree(&g);
	return NULL;
}

/* Fail the @n-th fault point this thread reaches from now on. */
static int nth_arm(int nfd, unsigned int n)
{
	char num[16];
	int len = snprintf(num, sizeof(num), "%u", n);

	return pwrite(nfd, num, len, 0) == len ? 0 : -1;
}

/* Disarm; returns whether the armed fault was injected, -1 on error. */
static int nth_disarm(int nfd)
{
	char num[16] = "";
	ssize_t got;

	got = pread(nfd, num, sizeof(num) - 1, 0);
	if (pwrite(nfd, "0", 1, 0) != 1 || got <= 0)
		return -1;
	return strtoul(num, NULL, 10) == 0;
}

/*
 * Write to the stack the armed window will use, so that no page fault of
 * ours (a copy on write since the harness forked) eats the injection.
 */
static void __attribute_noinline__ touch_stack(void)
{
	char pad[64 * 1024];

	memset(pad, 1, sizeof(pad));
	asm volatile("" : : "r"(pad) : "memory");
}

/* ---- ioctl wrappers ---------------------------------------------------- */

static int tcmd(int fd, uint32_t op, uint32_t id, struct iommu_test_cmd *c)
{
	c->size = sizeof(*c);
	c->op = op;
	c->id = id;
	return ioctl_errno(fd, IOMMU_TEST_CMD, c);
}

static int unmap_all(int fd, uint32_t ioas, uint64_t *len)
{
	return ioas_unmap(fd, ioas, 0, UINT64_MAX, len);
}

static int reserve(int fd, uint32_t ioas, uint64_t start, uint64_t len)
{
	struct iommu_test_cmd c = {};

	c.add_reserved.start = start;
	c.add_reserved.length = len;
	return tcmd(fd, IOMMU_TEST_OP_ADD_RESERVED, ioas, &c);
}

static int pins_are(int fd, void *p, uint64_t len, uint32_t pins)
{
	struct iommu_test_cmd c = {};

	c.check_refs.uptr = (uintptr_t)p;
	c.check_refs.length = len;
	c.check_refs.refs = pins;
	return tcmd(fd, IOMMU_TEST_OP_MD_CHECK_REFS, 0, &c);
}

/* ---- one round --------------------------------------------------------- */

/*
 * All a round works on. The argument structs live here, written before
 * the fault is armed, so that the copies in and out do not fault pages in.
 */
struct round {
	unsigned char *buf;	/* LEN bytes, filled; shared by all rounds */
	int fd;
	uint32_t ioas, ioas2;
	int afd;
	uint32_t pin_id;
	uint64_t iova;

	struct iommu_ioas_map map;
	struct iommu_ioas_copy copy;
	struct iommu_ioas_unmap unmap;
	struct iommu_ioas_allow_iovas allow;
	struct iommu_ioas_iova_ranges ranges;
	struct iommu_iova_range want[3];
	struct iommu_iova_range got[8];
	struct iommu_test_cmd tc;
	unsigned char rw[512];
	/* the fault queue scenario */
	uint32_t stdev, idev, hwpt, fault_id;
	int ffd;
	struct iommu_fault_alloc falloc;
	struct iommu_hwpt_alloc halloc;
	struct iommu_hwpt_pgfault rec;
	struct iommu_hwpt_page_response resp;
	/* the file scenarios */
	int mfd;
	long pin_base;		/* VmPin before anything was mapped */
	struct iommu_ioas_map_file map_file;
	struct iommu_ioas_change_process change;

	/* the outcome of each operation, in order */
	unsigned int nops;
	const char *op[MAX_OPS];
	int rc[MAX_OPS];
};

/* Note an operation's result; true if it succeeded. */
static bool did(struct round *r, const char *what, int rc)
{
	if (r->nops < MAX_OPS) {
		r->op[r->nops] = what;
		r->rc[r->nops] = rc;
		r->nops++;
	}
	return !rc;
}

static int rc_of(const struct round *r, const char *what)
{
	unsigned int i;

	for (i = 0; i < r->nops; i++)
		if (!strcmp(r->op[i], what))
			return r->rc[i];
	return -1;	/* never ran */
}

static int open_ioas(struct round *r)
{
	r->fd = open(IOMMU_DEV, O_RDWR);
	if (r->fd < 0)
		return errno;
	return ioas_alloc(r->fd, &r->ioas);
}

static int map_at(struct round *r, uint32_t ioas, uint64_t iova)
{
	return ioas_map(r->fd, ioas, r->buf, LEN, &iova,
			MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
}

/*
 * The unmap of everything must find exactly what the operation left:
 * @len if it succeeded, nothing if it ran out of memory. EFAULT may come
 * from the answer's copy after the work was done, so either is fine then.
 */
static void expect_mapped(struct __test_metadata *_metadata, int fd,
			  uint32_t ioas, int rc, uint64_t len)
{
	uint64_t left = 1234;

	ASSERT_EQ(0, unmap_all(fd, ioas, &left));
	EXPECT_TRUE(left == (rc ? 0 : len) || (rc == EFAULT && left == len));
}

struct scenario {
	const char *name;
	int (*prepare)(struct round *r);	/* not under injection */
	void (*run)(struct round *r);		/* under injection */
	void (*check)(struct __test_metadata *_metadata, struct round *r);
	bool allocates;				/* must reach a fault point */
};

/* open + IOAS_ALLOC + close */

static int ctx_prepare(struct round *r)
{
	return 0;
}

static void ctx_run(struct round *r)
{
	r->fd = open(IOMMU_DEV, O_RDWR);
	if (!did(r, "open", r->fd < 0 ? errno : 0))
		return;
	did(r, "ioas_alloc", ioas_alloc(r->fd, &r->ioas));
	did(r, "close", close(r->fd) ? errno : 0);
	r->fd = -1;
}

static void ctx_check(struct __test_metadata *_metadata, struct round *r)
{
	if (!rc_of(r, "ioas_alloc"))
		EXPECT_EQ(1, r->ioas);
}

/* IOAS_MAP at a fixed IOVA and at one the kernel picks */

static int map_prepare(struct round *r)
{
	return open_ioas(r);
}

static void map_run(struct round *r)
{
	did(r, "map", ioctl_errno(r->fd, IOMMU_IOAS_MAP, &r->map));
}

static int map_fixed_prepare(struct round *r)
{
	r->map = (struct iommu_ioas_map){
		.size = sizeof(r->map),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.user_va = (uintptr_t)r->buf,
		.length = LEN,
		.iova = AT,
	};
	if (map_prepare(r))
		return -1;
	r->map.ioas_id = r->ioas;
	return 0;
}

static int map_auto_prepare(struct round *r)
{
	if (map_fixed_prepare(r))
		return -1;
	r->map.flags = MAP_RW;
	r->map.iova = 0;
	return 0;
}

static void map_check(struct __test_metadata *_metadata, struct round *r)
{
	int rc = rc_of(r, "map");

	if (!rc && !(r->map.flags & IOMMU_IOAS_MAP_FIXED_IOVA))
		EXPECT_NE(0, r->map.iova);
	expect_mapped(_metadata, r->fd, r->ioas, rc, LEN);
}

/* IOAS_COPY of a mapping into a second IOAS */

static int copy_prepare(struct round *r)
{
	if (open_ioas(r) || ioas_alloc(r->fd, &r->ioas2) ||
	    map_at(r, r->ioas, AT))
		return -1;
	r->copy = (struct iommu_ioas_copy){
		.size = sizeof(r->copy),
		.flags = IOMMU_IOAS_MAP_READABLE,
		.dst_ioas_id = r->ioas2,
		.src_ioas_id = r->ioas,
		.length = LEN - 2 * PG,
		.src_iova = AT + PG,
	};
	return 0;
}

static void copy_run(struct round *r)
{
	did(r, "copy", ioctl_errno(r->fd, IOMMU_IOAS_COPY, &r->copy));
}

static void copy_check(struct __test_metadata *_metadata, struct round *r)
{
	expect_mapped(_metadata, r->fd, r->ioas2, rc_of(r, "copy"),
		      LEN - 2 * PG);
	expect_mapped(_metadata, r->fd, r->ioas, 0, LEN);
}

/* IOAS_UNMAP of two areas, one of them pinned by an access */

static int unmap_prepare(struct round *r)
{
	uint64_t iova = AT + LEN / 2;

	if (open_ioas(r) ||
	    ioas_map(r->fd, r->ioas, r->buf, LEN / 2, &iova,
		     MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA))
		return -1;
	iova = AT;
	if (ioas_map(r->fd, r->ioas, r->buf + LEN / 2, LEN / 2, &iova,
		     MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA))
		return -1;
	r->tc = (struct iommu_test_cmd){};
	r->tc.create_access.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
	if (tcmd(r->fd, IOMMU_TEST_OP_CREATE_ACCESS, r->ioas, &r->tc))
		return -1;
	r->afd = r->tc.create_access.out_access_fd;
	r->tc = (struct iommu_test_cmd){};
	r->tc.access_pages.iova = AT + PG;
	r->tc.access_pages.length = 3 * PG;
	if (tcmd(r->fd, IOMMU_TEST_OP_ACCESS_PAGES, r->afd, &r->tc))
		return -1;
	r->pin_id = r->tc.access_pages.out_access_pages_id;
	r->unmap = (struct iommu_ioas_unmap){
		.size = sizeof(r->unmap),
		.ioas_id = r->ioas,
		.iova = AT,
		.length = LEN,
	};
	return 0;
}

static void unmap_run(struct round *r)
{
	did(r, "unmap", ioctl_errno(r->fd, IOMMU_IOAS_UNMAP, &r->unmap));
}

static void unmap_check(struct __test_metadata *_metadata, struct round *r)
{
	int rc = rc_of(r, "unmap");
	uint64_t left = 1234;

	if (!rc)
		EXPECT_EQ(LEN, r->unmap.length);
	/* The pin went with the unmap, or both are still there. */
	r->tc = (struct iommu_test_cmd){};
	r->tc.destroy_access_pages.access_pages_id = r->pin_id;
	EXPECT_EQ(rc ? 0 : ENOENT,
		  tcmd(r->fd, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, r->afd,
		       &r->tc));
	ASSERT_EQ(0, unmap_all(r->fd, r->ioas, &left));
	EXPECT_EQ(rc ? LEN : 0, left);
}

/* IOAS_ALLOW_IOVAS with three ranges */

static int allow_prepare(struct round *r)
{
	static const uint64_t starts[] = { HIGH, 3 * HIGH, 5 * HIGH };
	unsigned int i;

	if (open_ioas(r))
		return -1;
	for (i = 0; i < 3; i++) {
		r->want[i].start = starts[i];
		r->want[i].last = starts[i] + HIGH - 1;
	}
	r->allow = (struct iommu_ioas_allow_iovas){
		.size = sizeof(r->allow),
		.ioas_id = r->ioas,
		.num_iovas = 3,
		.allowed_iovas = (uintptr_t)r->want,
	};
	return 0;
}

static void allow_run(struct round *r)
{
	did(r, "allow_iovas",
	    ioctl_errno(r->fd, IOMMU_IOAS_ALLOW_IOVAS, &r->allow));
}

static void allow_check(struct __test_metadata *_metadata, struct round *r)
{
	uint64_t iova = 0, left;

	/* Automatic placement tells whether the ranges are in force. */
	ASSERT_EQ(0, ioas_map(r->fd, r->ioas, r->buf, PG, &iova, MAP_RW));
	EXPECT_TRUE(rc_of(r, "allow_iovas") ? iova < HIGH : iova == HIGH);
	ASSERT_EQ(0, unmap_all(r->fd, r->ioas, &left));
	EXPECT_EQ(PG, left);
}

/* IOAS_IOVA_RANGES around two reserved holes */

static int ranges_prepare(struct round *r)
{
	if (open_ioas(r) || reserve(r->fd, r->ioas, AT, PG) ||
	    reserve(r->fd, r->ioas, HIGH, HIGH))
		return -1;
	memset(r->got, 0, sizeof(r->got));
	r->ranges = (struct iommu_ioas_iova_ranges){
		.size = sizeof(r->ranges),
		.ioas_id = r->ioas,
		.num_iovas = ARRAY_SIZE(r->got),
		.allowed_iovas = (uintptr_t)r->got,
	};
	return 0;
}

static void ranges_run(struct round *r)
{
	did(r, "iova_ranges",
	    ioctl_errno(r->fd, IOMMU_IOAS_IOVA_RANGES, &r->ranges));
}

static void ranges_check(struct __test_metadata *_metadata, struct round *r)
{
	if (rc_of(r, "iova_ranges"))
		return;
	ASSERT_EQ(3, r->ranges.num_iovas);
	EXPECT_EQ(0, r->got[0].start);
	EXPECT_EQ(AT - 1, r->got[0].last);
	EXPECT_EQ(AT + PG, r->got[1].start);
	EXPECT_EQ(HIGH - 1, r->got[1].last);
	EXPECT_EQ(2 * HIGH, r->got[2].start);
	EXPECT_EQ(UINT64_MAX, r->got[2].last);
}

/* An access: create, pin 16 pages, read and write, unpin */

#define RW_AT (5 * PG - 100)

static int access_prepare(struct round *r)
{
	if (open_ioas(r) || map_at(r, r->ioas, AT))
		return -1;
	/* What the read must find, and so what the write puts back. */
	memcpy(r->rw, r->buf + RW_AT, sizeof(r->rw));
	return 0;
}

static void access_run(struct round *r)
{
	struct iommu_test_cmd *c = &r->tc;

	*c = (struct iommu_test_cmd){};
	c->create_access.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
	if (!did(r, "create_access",
		 tcmd(r->fd, IOMMU_TEST_OP_CREATE_ACCESS, r->ioas, c)))
		return;
	r->afd = c->create_access.out_access_fd;

	*c = (struct iommu_test_cmd){};
	c->access_pages.iova = AT;
	c->access_pages.length = LEN;
	c->access_pages.uptr = (uintptr_t)r->buf;
	c->access_pages.flags = MOCK_FLAGS_ACCESS_WRITE;
	if (!did(r, "access_pages",
		 tcmd(r->fd, IOMMU_TEST_OP_ACCESS_PAGES, r->afd, c)))
		return;
	r->pin_id = c->access_pages.out_access_pages_id;

	*c = (struct iommu_test_cmd){};
	c->access_rw.iova = AT + RW_AT;
	c->access_rw.length = sizeof(r->rw);
	c->access_rw.uptr = (uintptr_t)r->rw;
	did(r, "access_rw", tcmd(r->fd, IOMMU_TEST_OP_ACCESS_RW, r->afd, c));
	/* Write the same bytes back, through the address space. */
	c->access_rw.flags = MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH;
	c->access_rw.length = 64;
	did(r, "access_rw_slow",
	    tcmd(r->fd, IOMMU_TEST_OP_ACCESS_RW, r->afd, c));

	*c = (struct iommu_test_cmd){};
	c->destroy_access_pages.access_pages_id = r->pin_id;
	did(r, "unpin",
	    tcmd(r->fd, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, r->afd, c));
}

static void access_check(struct __test_metadata *_metadata, struct round *r)
{
	size_t i;

	EXPECT_EQ(0, memcmp(r->rw, r->buf + RW_AT, sizeof(r->rw)));
	for (i = 0; i < LEN; i++)
		if (r->buf[i] != i % 251)
			break;
	EXPECT_EQ(LEN, i);
	if (!rc_of(r, "access_pages"))
		EXPECT_EQ(0, rc_of(r, "unpin"));
	EXPECT_EQ(0, pins_are(r->fd, r->buf, LEN, 0));
	if (r->afd >= 0)
		EXPECT_EQ(0, close(r->afd));
	r->afd = -1;
	expect_mapped(_metadata, r->fd, r->ioas, 0, LEN);
}

/* The test op ADD_RESERVED */

static int reserved_prepare(struct round *r)
{
	if (open_ioas(r))
		return -1;
	r->tc = (struct iommu_test_cmd){};
	r->tc.add_reserved.start = AT;
	r->tc.add_reserved.length = 4 * PG;
	return 0;
}

static void reserved_run(struct round *r)
{
	did(r, "add_reserved",
	    tcmd(r->fd, IOMMU_TEST_OP_ADD_RESERVED, r->ioas, &r->tc));
}

static void reserved_check(struct __test_metadata *_metadata,
			   struct round *r)
{
	uint64_t iova = AT + PG;
	int rc = ioas_map(r->fd, r->ioas, r->buf, PG, &iova,
			  MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
	uint64_t left;

	/* In force exactly when the op said so. */
	EXPECT_EQ(rc_of(r, "add_reserved") ? 0 : EINVAL, rc);
	ASSERT_EQ(0, unmap_all(r->fd, r->ioas, &left));
	EXPECT_EQ(rc ? 0 : PG, left);
}

/*
 * I/O page faults: a queue, a page table reporting to it, a device moved
 * there and back, one fault read and answered. However the round went,
 * the fault was answered exactly once (by the user, the core, the handler
 * or the move back), and everything goes away.
 */

static int fq_move(struct round *r, uint32_t pt)
{
	struct iommu_test_cmd *c = &r->tc;

	*c = (struct iommu_test_cmd){};
	c->mock_domain_replace.pt_id = pt;
	return tcmd(r->fd, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, r->stdev, c);
}

static int fq_prepare(struct round *r)
{
	struct iommu_test_cmd *c = &r->tc;

	r->ffd = -1;
	r->hwpt = 0;
	r->fault_id = 0;
	if (open_ioas(r))
		return -1;
	*c = (struct iommu_test_cmd){};
	if (tcmd(r->fd, IOMMU_TEST_OP_MOCK_DOMAIN, r->ioas, c))
		return -1;
	r->stdev = c->mock_domain.out_stdev_id;
	r->idev = c->mock_domain.out_idev_id;
	r->falloc = (struct iommu_fault_alloc){ .size = sizeof(r->falloc) };
	r->halloc = (struct iommu_hwpt_alloc){
		.size = sizeof(r->halloc),
		.flags = IOMMU_HWPT_FAULT_ID_VALID,
		.dev_id = r->idev,
		.pt_id = r->ioas,
	};
	return 0;
}

static void fq_run(struct round *r)
{
	struct iommu_test_cmd *c = &r->tc;
	ssize_t got;

	if (!did(r, "fault_alloc", ioctl_errno(r->fd, IOMMU_FAULT_QUEUE_ALLOC,
					       &r->falloc)))
		return;
	r->fault_id = r->falloc.out_fault_id;
	r->ffd = r->falloc.out_fault_fd;
	r->halloc.fault_id = r->fault_id;
	if (!did(r, "hwpt_alloc",
		 ioctl_errno(r->fd, IOMMU_HWPT_ALLOC, &r->halloc)))
		return;
	r->hwpt = r->halloc.out_hwpt_id;
	if (!did(r, "move_to", fq_move(r, r->hwpt)))
		return;

	*c = (struct iommu_test_cmd){};
	c->trigger_iopf.dev_id = r->idev;
	c->trigger_iopf.grpid = 1;
	c->trigger_iopf.perm = IOMMU_PGFAULT_PERM_READ;
	did(r, "trigger", tcmd(r->fd, IOMMU_TEST_OP_TRIGGER_IOPF, 0, c));
	got = read(r->ffd, &r->rec, sizeof(r->rec));
	did(r, "read", got < 0 ? errno : 0);
	if (got == sizeof(r->rec)) {
		r->resp.cookie = r->rec.cookie;
		r->resp.code = IOMMUFD_PAGE_RESP_SUCCESS;
		got = write(r->ffd, &r->resp, sizeof(r->resp));
		did(r, "respond", got < 0 ? errno : 0);
	}
	did(r, "move_back", fq_move(r, r->ioas));
}

static void fq_check(struct __test_metadata *_metadata, struct round *r)
{
	struct iommu_test_cmd *c = &r->tc;
	uint32_t total;

	if (!rc_of(r, "move_to") && rc_of(r, "move_back"))
		ASSERT_EQ(0, fq_move(r, r->ioas));
	*c = (struct iommu_test_cmd){};
	ASSERT_EQ(0, tcmd(r->fd, IOMMU_TEST_OP_LAB_IOPF_ANSWERS, r->idev, c));
	total = c->lab_iopf_answers.out_success +
		c->lab_iopf_answers.out_invalid +
		c->lab_iopf_answers.out_failure;
	EXPECT_EQ(rc_of(r, "trigger") ? 0 : 1, total);
	if (!rc_of(r, "respond"))
		EXPECT_EQ(1, c->lab_iopf_answers.out_success);
	if (r->hwpt)
		EXPECT_EQ(0, obj_destroy(r->fd, r->hwpt));
	if (r->ffd >= 0)
		EXPECT_EQ(0, close(r->ffd));
	if (r->fault_id)
		EXPECT_EQ(0, obj_destroy(r->fd, r->fault_id));
	EXPECT_EQ(0, obj_destroy(r->fd, r->stdev));
}

/*
 * IOAS_MAP_FILE of a memfd under a mock domain, which pins at map time:
 * shmem filled beforehand, shmem left sparse (shmem allocates under the
 * injection too), and a 2 MiB hugetlbfs page.
 */

static int file_domain_prepare(struct round *r, uint64_t len)
{
	struct iommu_test_cmd *c = &r->tc;

	if (r->mfd < 0 || open_ioas(r))
		return -1;
	*c = (struct iommu_test_cmd){};
	if (tcmd(r->fd, IOMMU_TEST_OP_MOCK_DOMAIN, r->ioas, c))
		return -1;
	r->stdev = c->mock_domain.out_stdev_id;
	r->pin_base = proc_status_kb("VmPin");
	r->map_file = (struct iommu_ioas_map_file){
		.size = sizeof(r->map_file),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = r->ioas,
		.fd = r->mfd,
		.length = len,
		.iova = FILE_AT,
	};
	return 0;
}

static int shm_prepare(struct round *r)
{
	r->mfd = memfd_create("fail_nth", 0);
	if (r->mfd < 0 || pwrite(r->mfd, r->buf, LEN, 0) != LEN)
		return -1;
	return file_domain_prepare(r, LEN);
}

static int shm_sparse_prepare(struct round *r)
{
	r->mfd = memfd_create("fail_nth", 0);
	if (r->mfd < 0 || ftruncate(r->mfd, LEN))
		return -1;
	return file_domain_prepare(r, LEN);
}

static const char *no_hugetlb(void)
{
	int mfd = memfd_create("fail_nth", MFD_HUGETLB | MFD_HUGE_2MB);
	void *p;

	if (mfd < 0)
		return "no 2 MiB hugetlbfs memfd";
	p = mmap(NULL, HUGE2M, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	close(mfd);
	if (p == MAP_FAILED)
		return "no free 2 MiB huge page";
	munmap(p, HUGE2M);
	return NULL;
}

static int huge_prepare(struct round *r)
{
	unsigned char *p;
	size_t i;

	r->mfd = memfd_create("fail_nth", MFD_HUGETLB | MFD_HUGE_2MB);
	if (r->mfd < 0 || ftruncate(r->mfd, HUGE2M))
		return -1;
	p = mmap(NULL, HUGE2M, PROT_READ | PROT_WRITE, MAP_SHARED, r->mfd, 0);
	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < HUGE2M; i += LEN)
		memcpy(p + i, r->buf, LEN);
	munmap(p, HUGE2M);
	return file_domain_prepare(r, HUGE2M);
}

static void map_file_run(struct round *r)
{
	did(r, "map_file",
	    ioctl_errno(r->fd, IOMMU_IOAS_MAP_FILE, &r->map_file));
}

static void map_file_check(struct __test_metadata *_metadata,
			   struct round *r)
{
	const uint64_t len = r->map_file.length;

	expect_mapped(_metadata, r->fd, r->ioas, rc_of(r, "map_file"), len);
	EXPECT_EQ(r->pin_base, proc_status_kb("VmPin"));
	/* With nothing injected the file maps again, charged once. */
	ASSERT_EQ(0, ioctl_errno(r->fd, IOMMU_IOAS_MAP_FILE, &r->map_file));
	EXPECT_EQ(r->pin_base + (long)(len / 1024), proc_status_kb("VmPin"));
	expect_mapped(_metadata, r->fd, r->ioas, 0, len);
	EXPECT_EQ(0, obj_destroy(r->fd, r->stdev));
	EXPECT_EQ(0, close(r->mfd));
	r->mfd = -1;
}

/*
 * IOAS_CHANGE_PROCESS into the process that holds the charge: it walks a
 * file area and its copy in a second IOAS and charges them again; either
 * way nothing is lost or doubled, and the areas stay.
 */

static int change_prepare(struct round *r)
{
	if (shm_prepare(r) ||
	    ioctl_errno(r->fd, IOMMU_IOAS_MAP_FILE, &r->map_file) ||
	    ioas_alloc(r->fd, &r->ioas2))
		return -1;
	r->copy = (struct iommu_ioas_copy){
		.size = sizeof(r->copy),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.dst_ioas_id = r->ioas2,
		.src_ioas_id = r->ioas,
		.length = LEN,
		.dst_iova = FILE_AT,
		.src_iova = FILE_AT,
	};
	if (ioctl_errno(r->fd, IOMMU_IOAS_COPY, &r->copy))
		return -1;
	r->change = (struct iommu_ioas_change_process){
		.size = sizeof(r->change),
	};
	return 0;
}

static void change_run(struct round *r)
{
	did(r, "change_process",
	    ioctl_errno(r->fd, IOMMU_IOAS_CHANGE_PROCESS, &r->change));
}

static void change_check(struct __test_metadata *_metadata, struct round *r)
{
	const long charged = r->pin_base + (long)(LEN / 1024);

	EXPECT_EQ(charged, proc_status_kb("VmPin"));
	EXPECT_EQ(0, ioctl_errno(r->fd, IOMMU_IOAS_CHANGE_PROCESS, &r->change));
	EXPECT_EQ(charged, proc_status_kb("VmPin"));
	expect_mapped(_metadata, r->fd, r->ioas2, 0, LEN);
	EXPECT_EQ(charged, proc_status_kb("VmPin"));
	expect_mapped(_metadata, r->fd, r->ioas, 0, LEN);
	EXPECT_EQ(r->pin_base, proc_status_kb("VmPin"));
	/* And the file maps again. */
	ASSERT_EQ(0, ioctl_errno(r->fd, IOMMU_IOAS_MAP_FILE, &r->map_file));
	expect_mapped(_metadata, r->fd, r->ioas, 0, LEN);
	EXPECT_EQ(0, obj_destroy(r->fd, r->stdev));
	EXPECT_EQ(0, close(r->mfd));
	r->mfd = -1;
}

/* ---- the sweep ---------------------------------------------------------- */

static const struct scenario sc_open_alloc_close = {
	"open_alloc_close", ctx_prepare, ctx_run, ctx_check, true,
};

static const struct scenario sc_map_fixed = {
	"map_fixed", map_fixed_prepare, map_run, map_check, true,
};

static const struct scenario sc_map_auto = {
	"map_auto", map_auto_prepare, map_run, map_check, true,
};

static const struct scenario sc_copy = {
	"copy", copy_prepare, copy_run, copy_check, true,
};

static const struct scenario sc_unmap = {
	"unmap_pinned", unmap_prepare, unmap_run, unmap_check, false,
};

static const struct scenario sc_allow = {
	"allow_iovas", allow_prepare, allow_run, allow_check, true,
};

static const struct scenario sc_ranges = {
	"iova_ranges", ranges_prepare, ranges_run, ranges_check, false,
};

static const struct scenario sc_access = {
	"access", access_prepare, access_run, access_check, true,
};

static const struct scenario sc_reserved = {
	"add_reserved", reserved_prepare, reserved_run, reserved_check, true,
};

static const struct scenario sc_fault_queue = {
	"fault_queue", fq_prepare, fq_run, fq_check, true,
};

static const struct scenario sc_map_file_shmem = {
	"map_file_shmem", shm_prepare, map_file_run, map_file_check, true,
};

static const struct scenario sc_map_file_sparse = {
	"map_file_sparse", shm_sparse_prepare, map_file_run, map_file_check,
	true,
};

static const struct scenario sc_map_file_huge = {
	"map_file_hugetlb", huge_prepare, map_file_run, map_file_check, true,
};

static const struct scenario sc_change_process = {
	"change_process", change_prepare, change_run, change_check, false,
};

/* The rest of the world still works: map and unmap in a new context. */
static void still_works(struct __test_metadata *_metadata,
			unsigned char *buf)
{
	uint64_t iova = 0, len = 0;
	uint32_t ioas;
	int fd;

	fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pins_are(fd, buf, LEN, 0));
	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, ioas_map(fd, ioas, buf, LEN, &iova, MAP_RW));
	ASSERT_EQ(0, ioas_unmap(fd, ioas, iova, LEN, &len));
	EXPECT_EQ(LEN, len);
	EXPECT_EQ(0, close(fd));
}

struct sweep_env {
	int nfd;		/* this thread's fail-nth */
	unsigned char *buf;
	long vmpin;
};

/*
 * Round @n of @sc with the @n-th fault point failed, or none for @n 0.
 * Returns whether the fault was injected; counts in @failures the rounds
 * where an operation failed.
 */
static bool one_round(struct __test_metadata *_metadata,
		      const struct sweep_env *env, const struct scenario *sc,
		      unsigned int n, unsigned int *failures)
{
	struct round r = { .buf = env->buf, .fd = -1, .afd = -1, .mfd = -1 };
	bool all_ok = true;
	unsigned int i;
	int hit = 0;

	ASSERT_EQ(0, sc->prepare(&r)) TH_LOG("%s: set-up", sc->name);
	touch_stack();
	if (n) {
		ASSERT_EQ(0, nth_arm(env->nfd, n));
		sc->run(&r);
		hit = nth_disarm(env->nfd);
		ASSERT_LE(0, hit);
	} else {
		sc->run(&r);
	}

	for (i = 0; i < r.nops; i++) {
		if (!r.rc[i])
			continue;
		all_ok = false;
		EXPECT_TRUE(r.rc[i] == ENOMEM || r.rc[i] == EFAULT)
			TH_LOG("%s, fault %u: %s failed with %s", sc->name, n,
			       r.op[i], strerror(r.rc[i]));
	}
	/* Without an injected fault nothing may fail. */
	EXPECT_TRUE(hit || all_ok)
		TH_LOG("%s, round %u: failed with nothing injected", sc->name,
		       n);

	sc->check(_metadata, &r);
	if (r.afd >= 0)
		close(r.afd);
	if (r.mfd >= 0)
		close(r.mfd);
	if (r.fd >= 0)
		EXPECT_EQ(0, close(r.fd));
	EXPECT_EQ(env->vmpin, proc_status_kb("VmPin"))
		TH_LOG("%s, fault %u: VmPin", sc->name, n);
	still_works(_metadata, env->buf);
	*failures += !all_ok;
	return hit == 1;
}

FIXTURE(nth) {
	struct sweep_env env;
};

FIXTURE_VARIANT(nth) {
	const struct scenario *sc;
	const char *(*missing)(void);	/* why it cannot run here, or NULL */
};

FIXTURE_VARIANT_ADD(nth, open_alloc_close) { .sc = &sc_open_alloc_close };
FIXTURE_VARIANT_ADD(nth, map_fixed) { .sc = &sc_map_fixed };
FIXTURE_VARIANT_ADD(nth, map_auto) { .sc = &sc_map_auto };
FIXTURE_VARIANT_ADD(nth, copy) { .sc = &sc_copy };
FIXTURE_VARIANT_ADD(nth, unmap_pinned) { .sc = &sc_unmap };
FIXTURE_VARIANT_ADD(nth, allow_iovas) { .sc = &sc_allow };
FIXTURE_VARIANT_ADD(nth, iova_ranges) { .sc = &sc_ranges };
FIXTURE_VARIANT_ADD(nth, access) { .sc = &sc_access };
FIXTURE_VARIANT_ADD(nth, add_reserved) { .sc = &sc_reserved };
FIXTURE_VARIANT_ADD(nth, fault_queue) { .sc = &sc_fault_queue };
FIXTURE_VARIANT_ADD(nth, map_file_shmem) { .sc = &sc_map_file_shmem };
FIXTURE_VARIANT_ADD(nth, map_file_sparse) { .sc = &sc_map_file_sparse };
FIXTURE_VARIANT_ADD(nth, change_process) { .sc = &sc_change_process };
FIXTURE_VARIANT_ADD(nth, map_file_hugetlb) {
	.sc = &sc_map_file_huge,
	.missing = no_hugetlb,
};

FIXTURE_SETUP(nth)
{
	const char *bad;
	char path[64];
	size_t i;

	self->env.nfd = -1;
	if (variant->missing) {
		bad = variant->missing();
		if (bad)
			SKIP(return, "%s", bad);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	self->env.nfd = open(path, O_RDWR);
	if (self->env.nfd < 0)
		SKIP(return, "no %s", path);
	bad = configure_injection();
	if (bad)
		SKIP(return, "cannot set up %s", bad);
	self->env.buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->env.buf);
	ASSERT_EQ(0, madvise(self->env.buf, LEN, MADV_NOHUGEPAGE));
	for (i = 0; i < LEN; i++)
		self->env.buf[i] = i % 251;
	self->env.vmpin = proc_status_kb("VmPin");
	ASSERT_LE(0, self->env.vmpin);
}

FIXTURE_TEARDOWN(nth)
{
	if (self->env.nfd >= 0)
		close(self->env.nfd);
}

TEST_F_TIMEOUT(nth, sweep, 300)
{
	const struct scenario *sc = variant->sc;
	unsigned int n, failures = 0;

	/* Once without injection: the baseline, and every page faulted in. */
	one_round(_metadata, &self->env, sc, 0, &failures);
	ASSERT_EQ(0, _metadata->exit_code);

	/* Stop at the first round that reaches no fault, or goes wrong. */
	for (n = 1; one_round(_metadata, &self->env, sc, n, &failures); n++) {
		ASSERT_GT(ROUNDS_MAX, n) TH_LOG("%s: no end in sight",
						sc->name);
		if (_metadata->exit_code)
			break;
	}
	TH_LOG("%s: %u fault points, an operation failed in %u rounds",
	       sc->name, n - 1, failures);
	if (sc->allocates)
		EXPECT_LT(1, n) TH_LOG("%s: nothing was injected", sc->name);
}

TEST_HARNESS_MAIN
