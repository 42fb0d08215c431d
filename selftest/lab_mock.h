/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Wrappers of the test ops and ioctls that the tests against mock domains
 * share: mock devices, page tables, maps, IOVA ranges and test accesses.
 */
#ifndef __IOMMUFD_LAB_MOCK_H
#define __IOMMUFD_LAB_MOCK_H

#include <stdbool.h>
#include <sys/mman.h>

#include "lab_util.h"
#include "iommufd_test.h"

#define PG 4096UL
#define IOPG 2048UL			/* the mock's IO page */
#define MIB (1UL << 20)
#define KB(bytes) ((long)((bytes) / 1024))
#define AP_LO ((uint64_t)MOCK_APERTURE_START)
#define AP_HI ((uint64_t)MOCK_APERTURE_LAST)
#define AT(mb) (AP_LO + (uint64_t)(mb) * MIB)	/* inside the aperture */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- small wrappers ------------------------------------------------------ */

struct mdev {
	uint32_t stdev;
	uint32_t hwpt;
	uint32_t idev;
};

static inline int test_op(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl_errno(fd, IOMMU_TEST_CMD, cmd);
}

/* A new mock device, bound and attached to @pt (IOAS or page table). */
static inline int dev_add(int fd, uint32_t pt, uint32_t dev_flags,
			  struct mdev *out)
{
	struct iommu_test_cmd cmd = { .id = pt };
	int rc;

	if (dev_flags) {
		cmd.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS;
		cmd.mock_domain_flags.dev_flags = dev_flags;
	} else {
		cmd.op = IOMMU_TEST_OP_MOCK_DOMAIN;
	}
	rc = test_op(fd, &cmd);
	if (!rc) {
		out->stdev = cmd.mock_domain.out_stdev_id;
		out->hwpt = cmd.mock_domain.out_hwpt_id;
		out->idev = cmd.mock_domain.out_idev_id;
	}
	return rc;
}

/* Move the mock device @stdev to *@pt; the page table used comes back. */
static inline int dev_move(int fd, uint32_t stdev, uint32_t *pt)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev,
		.mock_domain_replace = { .pt_id = *pt },
	};
	int rc = test_op(fd, &cmd);

	if (!rc)
		*pt = cmd.mock_domain_replace.pt_id;
	return rc;
}

/* 0 when the mock domain of @hwpt translates [iova, +len) to @va. */
static inline int dom_has(int fd, uint32_t hwpt, uint64_t iova, uint64_t len,
			  const void *va)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)va,
		},
	};

	return test_op(fd, &cmd);
}

/* Whether ID @id names an object now (LAB_BORROW for no time at all). */
static inline bool obj_exists(int fd, uint32_t id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_LAB_BORROW,
		.id = id,
	};

	return test_op(fd, &cmd) == 0;
}

/* How many of the IDs 1..@last name an object. */
static inline unsigned int obj_count(int fd, uint32_t last)
{
	unsigned int n = 0;
	uint32_t id;

	for (id = 1; id <= last; id++)
		n += obj_exists(fd, id);
	return n;
}

/*
 * IOMMU_HWPT_ALLOC with everything it takes: @fault_id counts only with
 * IOMMU_HWPT_FAULT_ID_VALID, @data of @len bytes of @type for nesting.
 */
static inline int hwpt_alloc_full(int fd, uint32_t idev, uint32_t pt,
				  uint32_t flags, uint32_t fault_id,
				  uint32_t type, const void *data, uint32_t len,
				  uint32_t *hwpt)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = idev,
		.pt_id = pt,
		.fault_id = fault_id,
		.data_type = type,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};
	int rc = ioctl_errno(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc)
		*hwpt = cmd.out_hwpt_id;
	return rc;
}

static inline int pt_alloc(int fd, uint32_t idev, uint32_t pt, uint32_t flags,
			   uint32_t *hwpt)
{
	return hwpt_alloc_full(fd, idev, pt, flags, 0, IOMMU_HWPT_DATA_NONE,
			       NULL, 0, hwpt);
}

/* A fault queue: its object ID and its file. */
static inline int fault_alloc(int fd, uint32_t *id, int *ffd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	int rc = ioctl_errno(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd);

	if (!rc) {
		*id = cmd.out_fault_id;
		*ffd = cmd.out_fault_fd;
	}
	return rc;
}

/* IOMMU_HWPT_ALLOC reporting to fault queue @fault_id, given FAULT_ID_VALID */
static inline int pt_alloc_fault(int fd, uint32_t idev, uint32_t pt,
				 uint32_t flags, uint32_t fault_id,
				 uint32_t *hwpt)
{
	return hwpt_alloc_full(fd, idev, pt, flags, fault_id,
			       IOMMU_HWPT_DATA_NONE, NULL, 0, hwpt);
}

static inline int map_at(int fd, uint32_t ioas, const void *va, uint64_t len,
			 uint64_t iova)
{
	return ioas_map(fd, ioas, (void *)va, len, &iova,
			MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
}

static inline int map_file_at(int fd, uint32_t ioas, int mfd, uint64_t start,
			      uint64_t len, uint64_t iova)
{
	return ioas_map_file(fd, ioas, mfd, start, len, &iova,
			     MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
}

static inline int copy_at(int fd, uint32_t dst, uint64_t dst_iova, uint32_t src,
			  uint64_t src_iova, uint64_t len)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = dst_iova,
		.src_iova = src_iova,
	};

	return ioctl_errno(fd, IOMMU_IOAS_COPY, &cmd);
}

static inline int iova_info(int fd, uint32_t ioas, struct iommu_iova_range *r,
			    uint32_t *num, uint64_t *align)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = *num,
		.allowed_iovas = (uintptr_t)r,
	};
	int rc = ioctl_errno(fd, IOMMU_IOAS_IOVA_RANGES, &cmd);

	if (!rc) {
		*num = cmd.num_iovas;
		*align = cmd.out_iova_alignment;
	}
	return rc;
}

static inline uint64_t alignment_of(int fd, uint32_t ioas)
{
	struct iommu_iova_range r[8];
	uint32_t num = NELEM(r);
	uint64_t align = 0;

	if (iova_info(fd, ioas, r, &num, &align))
		return 0;
	return align;
}

static inline int allow(int fd, uint32_t ioas, const struct iommu_iova_range *r,
			uint32_t n)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.num_iovas = n,
		.allowed_iovas = (uintptr_t)r,
	};

	return ioctl_errno(fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

static inline long pinned_kb(void)
{
	return proc_status_kb("VmPin");
}

/* @len bytes of fresh anonymous memory, every byte @fill; MAP_FAILED if not */
static inline void *anon_mem(size_t len, int fill)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, fill, len);
	return p;
}

/* Pin counts of @va seen from a context of its own. */
static inline int refs_fresh(const void *va, uint64_t len)
{
	int fd = open(IOMMU_DEV, O_RDWR);
	int rc;

	if (fd < 0)
		return errno;
	rc = check_refs(fd, va, len, 0);
	close(fd);
	return rc;
}

static inline int acc_new(int fd, uint32_t ioas, int *afd)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = {
			.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
		},
	};
	int rc = test_op(fd, &cmd);

	if (!rc)
		*afd = cmd.create_access.out_access_fd;
	return rc;
}

static inline int acc_pin(int fd, int afd, uint64_t iova, uint64_t len,
			  const void *va, uint32_t *id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = afd,
		.access_pages = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)va,
		},
	};
	int rc = test_op(fd, &cmd);

	if (!rc)
		*id = cmd.access_pages.out_access_pages_id;
	return rc;
}

static inline int acc_unpin(int fd, int afd, uint32_t id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
		.id = afd,
		.destroy_access_pages = { .access_pages_id = id },
	};

	return test_op(fd, &cmd);
}

static inline int tracking(int fd, uint32_t hwpt, uint32_t flags)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.hwpt_id = hwpt,
	};

	return ioctl_errno(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd);
}

/* The device writes: every page of @psz whose bit is set goes dirty. */
static inline int poke(int fd, uint32_t hwpt, uint64_t iova, uint64_t len,
		       uint64_t psz, const void *bits, uint64_t *nr)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_DIRTY,
		.id = hwpt,
		.dirty = {
			.iova = iova,
			.length = len,
			.page_size = psz,
			.uptr = (uintptr_t)bits,
		},
	};
	int rc = ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);

	if (!rc && nr)
		*nr = cmd.dirty.out_nr_dirty;
	return rc;
}

static inline int harvest(int fd, uint32_t hwpt, uint64_t iova,
			  uint64_t len, uint64_t psz, void *data, uint32_t flags)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt,
		.flags = flags,
		.iova = iova,
		.length = len,
		.page_size = psz,
		.data = (uintptr_t)data,
	};

	return ioctl_errno(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd);
}

#endif
