/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IOMMU_TEST_CMD: the test-only ioctl of CONFIG_IOMMUFD_TEST, shared by the
 * kernel's test driver (selftest/ C files) and the kselftests that drive it. The
 * numbers and layouts are ABI with upstream's tools/testing/selftests/iommu.
 *
 * Each op has its own argument struct below; struct iommu_test_cmd at the end
 * carries one of them in its union, chosen by the op.
 */
#ifndef _UAPI_IOMMUFD_TEST_H
#define _UAPI_IOMMUFD_TEST_H

#include <linux/iommufd.h>
#include <linux/types.h>

#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/* Values of iommu_test_cmd.op; the numbers are ABI, hence spelled out */
enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1,
	IOMMU_TEST_OP_MOCK_DOMAIN = 2,
	IOMMU_TEST_OP_MD_CHECK_MAP = 3,
	IOMMU_TEST_OP_MD_CHECK_REFS = 4,
	IOMMU_TEST_OP_CREATE_ACCESS = 5,
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES = 6,
	IOMMU_TEST_OP_ACCESS_PAGES = 7,
	IOMMU_TEST_OP_ACCESS_RW = 8,
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT = 9,
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS = 11,
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS = 12,
	IOMMU_TEST_OP_DIRTY = 13,
	IOMMU_TEST_OP_MD_CHECK_IOTLB = 14,
	IOMMU_TEST_OP_TRIGGER_IOPF = 15,
	/* The lab's own, numbered clear of upstream's present and future */
	IOMMU_TEST_OP_LAB_MSI_COOKIE = 0x100,
	IOMMU_TEST_OP_LAB_ACCESS_UNPIN = 0x101,
	IOMMU_TEST_OP_LAB_BORROW = 0x102,
	IOMMU_TEST_OP_LAB_IOPF_PARTIAL = 0x103,
	IOMMU_TEST_OP_LAB_IOPF_ANSWERS = 0x104,
	IOMMU_TEST_OP_LAB_GUP_FLOOR = 0x105,
};

/* The IOVA window every mock domain translates */
enum {
	MOCK_APERTURE_START = 1UL << 24,
	MOCK_APERTURE_LAST = (1UL << 31) - 1,
};

/* The IOTLB of a nested mock domain, and what its entries start out as */
enum {
	MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	MOCK_NESTED_DOMAIN_IOTLB_NUM = 4,
};

#define IOMMU_TEST_IOTLB_DEFAULT 0xbadbeef

/*
 * Flag words. A mock device made by IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS takes
 * MOCK_FLAGS_DEVICE_* in dev_flags; with MOCK_FLAGS_DEVICE_PASID it supports
 * PASIDs of MOCK_PASID_WIDTH bits.
 */
enum {
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	MOCK_FLAGS_DEVICE_HUGE_IOVA = 1 << 1,
	MOCK_FLAGS_DEVICE_PASID = 1 << 2,
	/*
	 * The lab's own, clear of upstream's. SHARED_GROUP: the device joins
	 * the one iommu_group all such devices share, as functions behind a
	 * conventional PCI bridge do. LATE_FINISH: its domains have no
	 * aperture, 2 KiB pages and refuse maps until the first attach, which
	 * gives them MOCK_APERTURE_* without force_aperture and 4 KiB pages,
	 * as drivers that finish a domain at attach do. SW_MSI: it reports
	 * an IOMMU_RESV_SW_MSI window at MOCK_SW_MSI_BASE. NO_COHERENCY: its
	 * IOMMU lacks IOMMU_CAP_CACHE_COHERENCY.
	 */
	MOCK_FLAGS_DEVICE_SHARED_GROUP = 1 << 8,
	MOCK_FLAGS_DEVICE_LATE_FINISH = 1 << 9,
	MOCK_FLAGS_DEVICE_SW_MSI = 1 << 10,
	MOCK_FLAGS_DEVICE_NO_COHERENCY = 1 << 11,
};

#define MOCK_PASID_WIDTH 20

/* The software MSI window of MOCK_FLAGS_DEVICE_SW_MSI devices */
#define MOCK_SW_MSI_BASE	0x8000000UL
#define MOCK_SW_MSI_LENGTH	0x100000UL

/*
 * iommu_test_access_pages.flags. MOCK_FLAGS_ACCESS_LAB_BOUNCE is the lab's
 * own: when the core takes such a pin of [iova, iova + length) back, the
 * test access pins the neighbouring range of the same length instead (the
 * one above if iova / length is even, else the one below), as a driver
 * that moves its buffer when told to let go of it.
 */
enum {
	MOCK_FLAGS_ACCESS_WRITE = 1 << 0,
	MOCK_FLAGS_ACCESS_LAB_BOUNCE = 1 << 8,
	MOCK_FLAGS_ACCESS_SYZ = 1 << 16,
};

/* iommu_hwpt_invalidate_selftest.flags */
#define IOMMU_TEST_INVALIDATE_FLAG_ALL	(1 << 0)

/* iommu_test_create_access.flags */
enum {
	MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0,
};

/* iommu_test_access_rw.flags, the same bits as IOMMUFD_ACCESS_RW_* */
enum {
	MOCK_ACCESS_RW_WRITE = 1 << 0,
	MOCK_ACCESS_RW_SLOW_PATH = 1 << 2,
};

/* IOMMU_GET_HW_INFO of a mock device */
#define IOMMU_HW_INFO_TYPE_SELFTEST	0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL	0xdeadbeef

/* A data type no real driver uses, for nested mock domains */
#define IOMMU_HWPT_DATA_SELFTEST 0xdead

/* Invalidation data types of nested mock domains, valid and not */
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/**
 * struct iommu_hwpt_invalidate_selftest - one invalidation of a mock
 * nested domain (IOMMU_HWPT_INVALIDATE_DATA_SELFTEST)
 * @flags: IOMMU_TEST_INVALIDATE_FLAG_ALL to clear every entry
 * @iotlb_id: the entry to clear otherwise
 */
struct iommu_hwpt_invalidate_selftest {
	__u32 flags;
	__u32 iotlb_id;
};

/**
 * struct iommu_hwpt_selftest - user data of a nested mock domain
 * @iotlb: initial value of every IOTLB entry (IOMMU_TEST_IOTLB_DEFAULT)
 */
struct iommu_hwpt_selftest {
	__u32 iotlb;
};

/**
 * struct iommu_test_hw_info - what IOMMU_GET_HW_INFO reports for a mock
 * @flags: always 0
 * @test_reg: IOMMU_HW_INFO_SELFTEST_REGVAL
 */
struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg;
};

/*
 * Arguments of the ops on an IOAS
 */

/**
 * struct iommu_test_add_reserved - IOMMU_TEST_OP_ADD_RESERVED
 * @start: first IOVA to reserve in the IOAS iommu_test_cmd.id
 * @length: bytes to reserve from @start
 */
struct iommu_test_add_reserved {
	__aligned_u64 start;
	__aligned_u64 length;
};

/**
 * struct iommu_test_memory_limit - IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT
 * @limit: cap on the temporary memory of one pinning batch
 */
struct iommu_test_memory_limit {
	__u32 limit;
};

/*
 * Arguments of the ops on mock devices and mock domains
 */

/**
 * struct iommu_test_mock_domain - IOMMU_TEST_OP_MOCK_DOMAIN, which makes a
 * mock device, binds it and attaches it to the page table iommu_test_cmd.id
 * @out_stdev_id: the selftest object of the mock device
 * @out_hwpt_id: the page table the device ended up attached to
 * @out_idev_id: the iommufd_device made by the bind
 */
struct iommu_test_mock_domain {
	__u32 out_stdev_id;
	__u32 out_hwpt_id;
	__u32 out_idev_id;
};

/**
 * struct iommu_test_mock_domain_flags - IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, the
 * same as struct iommu_test_mock_domain with a flags word on the end
 * @out_stdev_id: the selftest object of the mock device
 * @out_hwpt_id: the page table the device ended up attached to
 * @out_idev_id: the iommufd_device made by the bind
 * @dev_flags: MOCK_FLAGS_DEVICE_*
 */
struct iommu_test_mock_domain_flags {
	__u32 out_stdev_id;
	__u32 out_hwpt_id;
	__u32 out_idev_id;
	__u32 dev_flags;
};

/**
 * struct iommu_test_mock_domain_replace - IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE
 * @pt_id: the page table to move the mock device iommu_test_cmd.id to
 */
struct iommu_test_mock_domain_replace {
	__u32 pt_id;
};

/**
 * struct iommu_test_check_map - IOMMU_TEST_OP_MD_CHECK_MAP, to check the mock
 * domain iommu_test_cmd.id translates an IOVA range to the pages behind @uptr
 * @iova: start of the range
 * @length: bytes in the range
 * @uptr: user memory the range should be backed by
 */
struct iommu_test_check_map {
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr;
};

/**
 * struct iommu_test_check_refs - IOMMU_TEST_OP_MD_CHECK_REFS
 * @length: bytes of user memory to look at
 * @uptr: that memory
 * @refs: the pin count every small page of it should have
 */
struct iommu_test_check_refs {
	__aligned_u64 length;
	__aligned_u64 uptr;
	__u32 refs;
};

/**
 * struct iommu_test_dirty - IOMMU_TEST_OP_DIRTY, marks IOVA pages dirty in the
 * mock domain iommu_test_cmd.id
 * @flags: must be 0
 * @iova: start of the range
 * @length: bytes in the range
 * @page_size: granule the bitmap at @uptr counts in
 * @uptr: bitmap with a set bit for each page to dirty
 * @out_nr_dirty: how many pages were marked
 */
struct iommu_test_dirty {
	__u32 flags;		/* 4 bytes of padding follow */
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 uptr;
	__aligned_u64 out_nr_dirty;
};

/**
 * struct iommu_test_check_iotlb - IOMMU_TEST_OP_MD_CHECK_IOTLB, compares one
 * IOTLB entry of the nested mock domain iommu_test_cmd.id
 * @id: the entry, up to MOCK_NESTED_DOMAIN_IOTLB_ID_MAX
 * @iotlb: the value it should hold
 */
struct iommu_test_check_iotlb {
	__u32 id;
	__u32 iotlb;
};

/**
 * struct iommu_test_trigger_iopf - IOMMU_TEST_OP_TRIGGER_IOPF, raises an I/O
 * page fault from a mock device
 * @dev_id: the iommufd device of the mock device
 * @pasid: PASID of the fault; 0 for a request without one
 * @grpid: page request group of the fault
 * @perm: IOMMU_PGFAULT_PERM_* access of the fault
 * @addr: faulting address
 *
 * The request is the last of its group. IOMMU_TEST_OP_LAB_IOPF_PARTIAL takes
 * the same struct and sends one that is not: the core keeps it until the
 * last request of the group arrives. Both fail with EOPNOTSUPP while the
 * device's I/O page faults are off (it is not attached to a page table with
 * a fault queue).
 */
struct iommu_test_trigger_iopf {
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u64 addr;
};

/*
 * Arguments of the ops on in-kernel accesses; iommu_test_cmd.id is the file
 * descriptor IOMMU_TEST_OP_CREATE_ACCESS returned
 */

/**
 * struct iommu_test_create_access - IOMMU_TEST_OP_CREATE_ACCESS, makes an
 * in-kernel access to the IOAS iommu_test_cmd.id
 * @out_access_fd: the access, as a file descriptor
 * @flags: MOCK_FLAGS_ACCESS_CREATE_*
 */
struct iommu_test_create_access {
	__u32 out_access_fd;
	__u32 flags;
};

/**
 * struct iommu_test_access_replace_ioas - IOMMU_TEST_OP_ACCESS_REPLACE_IOAS
 * @ioas_id: the IOAS the access moves to
 */
struct iommu_test_access_replace_ioas {
	__u32 ioas_id;
};

/**
 * struct iommu_test_access_pages - IOMMU_TEST_OP_ACCESS_PAGES, pins an IOVA
 * range through the access
 * @flags: MOCK_FLAGS_ACCESS_*
 * @out_access_pages_id: names the pinned range for DESTROY_ACCESS_PAGES
 * @iova: start of the range
 * @length: bytes in the range
 * @uptr: user memory the pinned pages should be, unless 0
 */
struct iommu_test_access_pages {
	__u32 flags;
	__u32 out_access_pages_id;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr;
};

/**
 * struct iommu_test_destroy_access_pages - IOMMU_TEST_OP_DESTROY_ACCESS_PAGES
 * @access_pages_id: what IOMMU_TEST_OP_ACCESS_PAGES returned, to unpin
 */
struct iommu_test_destroy_access_pages {
	__u32 access_pages_id;
};

/**
 * struct iommu_test_access_rw - IOMMU_TEST_OP_ACCESS_RW, copies between user
 * memory and IOVA through the access
 * @iova: start of the range
 * @length: bytes to copy
 * @uptr: the user memory
 * @flags: MOCK_ACCESS_RW_*
 */
struct iommu_test_access_rw {
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr;
	__u32 flags;
};

/**
 * struct iommu_test_lab_msi_cookie - IOMMU_TEST_OP_LAB_MSI_COOKIE
 * @out_cookie: 1 if the domain of page table iommu_test_cmd.id has its
 *              software MSI cookie, else 0
 *
 * IOMMU_TEST_OP_LAB_ACCESS_UNPIN has no struct of its own: it unpins
 * access_pages.iova and .length on the access of iommu_test_cmd.id
 * without looking at what the test access pinned, as a buggy driver
 * could.
 */
struct iommu_test_lab_msi_cookie {
	__u32 out_cookie;
};

/**
 * struct iommu_test_lab_iopf_answers - IOMMU_TEST_OP_LAB_IOPF_ANSWERS: the
 * page responses the mock device of iommufd device iommu_test_cmd.id got
 * @out_success: how many said IOMMU_PAGE_RESP_SUCCESS (the device retries)
 * @out_invalid: IOMMU_PAGE_RESP_INVALID (the access fails)
 * @out_failure: IOMMU_PAGE_RESP_FAILURE (PRI stops)
 * @out_last_grpid: the group the last response answered
 */
struct iommu_test_lab_iopf_answers {
	__u32 out_success;
	__u32 out_invalid;
	__u32 out_failure;
	__u32 out_last_grpid;
};

/**
 * struct iommu_test_lab_borrow - IOMMU_TEST_OP_LAB_BORROW
 * @ms: how long to keep object iommu_test_cmd.id borrowed, as an ioctl
 *      stuck in user memory would; a signal ends it early
 */
struct iommu_test_lab_borrow {
	__u32 ms;
};

/**
 * struct iommu_test_lab_gup_floor - IOMMU_TEST_OP_LAB_GUP_FLOOR
 * @uptr: page aligned start of the caller's memory
 * @length: page aligned bytes, at most 1 GiB
 * @out_pin_ns: time to pin it all, long-term and writable, in the chunks a
 *              domain is filled in, with nothing else done
 * @out_unpin_ns: time to unpin it all again, in the same chunks
 *
 * What pinning costs by itself: the floor the benchmark compares IOAS_MAP
 * and IOAS_UNMAP with. Nothing is charged and nothing stays pinned.
 */
struct iommu_test_lab_gup_floor {
	__aligned_u64 uptr;
	__aligned_u64 length;
	__aligned_u64 out_pin_ns;
	__aligned_u64 out_unpin_ns;
};

/**
 * struct iommu_test_cmd - argument of IOMMU_TEST_CMD
 * @size: sizeof(struct iommu_test_cmd)
 * @op: IOMMU_TEST_OP_*, selects the member of the union
 * @id: the object the op works on: an IOAS, a mock domain, a device, or
 *      for the access ops the file descriptor CREATE_ACCESS returned
 * @__reserved: must be 0
 * @add_reserved: for IOMMU_TEST_OP_ADD_RESERVED
 * @memory_limit: for IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT
 * @mock_domain: for IOMMU_TEST_OP_MOCK_DOMAIN
 * @mock_domain_flags: for IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS
 * @mock_domain_replace: for IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE
 * @check_map: for IOMMU_TEST_OP_MD_CHECK_MAP
 * @check_refs: for IOMMU_TEST_OP_MD_CHECK_REFS
 * @dirty: for IOMMU_TEST_OP_DIRTY
 * @check_iotlb: for IOMMU_TEST_OP_MD_CHECK_IOTLB
 * @trigger_iopf: for IOMMU_TEST_OP_TRIGGER_IOPF
 * @create_access: for IOMMU_TEST_OP_CREATE_ACCESS
 * @access_replace_ioas: for IOMMU_TEST_OP_ACCESS_REPLACE_IOAS
 * @access_pages: for IOMMU_TEST_OP_ACCESS_PAGES
 * @destroy_access_pages: for IOMMU_TEST_OP_DESTROY_ACCESS_PAGES
 * @access_rw: for IOMMU_TEST_OP_ACCESS_RW
 * @lab_msi_cookie: for IOMMU_TEST_OP_LAB_MSI_COOKIE
 * @lab_borrow: for IOMMU_TEST_OP_LAB_BORROW
 * @lab_iopf_answers: for IOMMU_TEST_OP_LAB_IOPF_ANSWERS
 * @lab_gup_floor: for IOMMU_TEST_OP_LAB_GUP_FLOOR
 * @last: marks the end of the mandatory part of the struct
 */
struct iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	union {			/* the member IOMMU_TEST_OP_* names */
		struct iommu_test_add_reserved add_reserved;
		struct iommu_test_memory_limit memory_limit;
		struct iommu_test_mock_domain mock_domain;
		struct iommu_test_mock_domain_flags mock_domain_flags;
		struct iommu_test_mock_domain_replace mock_domain_replace;
		struct iommu_test_check_map check_map;
		struct iommu_test_check_refs check_refs;
		struct iommu_test_dirty dirty;
		struct iommu_test_check_iotlb check_iotlb;
		struct iommu_test_trigger_iopf trigger_iopf;
		struct iommu_test_create_access create_access;
		struct iommu_test_access_replace_ioas access_replace_ioas;
		struct iommu_test_access_pages access_pages;
		struct iommu_test_destroy_access_pages destroy_access_pages;
		struct iommu_test_access_rw access_rw;
		struct iommu_test_lab_msi_cookie lab_msi_cookie;
		struct iommu_test_lab_borrow lab_borrow;
		struct iommu_test_lab_iopf_answers lab_iopf_answers;
		struct iommu_test_lab_gup_floor lab_gup_floor;
	};
	__u32 last;
};

#endif
