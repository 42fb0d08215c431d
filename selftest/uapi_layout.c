// SPDX-License-Identifier: GPL-2.0-only
/*
 * Layout check of include/uapi/linux/iommufd.h against the Linux 6.12 ABI.
 *
 * Every number below was measured once on upstream's 6.12 header and is
 * written here as a literal, so a change of any struct size, field offset,
 * field width, ioctl request or constant breaks the build. A few of the
 * same facts are checked again at run time so the program also reports
 * KTAP results, plus the hw_info in/out type union of the selftest ABI.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>

/*
 * Under -Wextra the harness warns about parameters it never uses, both in
 * its own functions and in the wrapper every TEST() expands to; silence
 * that one warning for the whole file.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "lab_harness.h"

#define FIELD_SIZE(s, f) sizeof(((struct s *)0)->f)

#define CHECK_STRUCT(s, sz, al)						\
	_Static_assert(sizeof(struct s) == (sz) &&			\
		       _Alignof(struct s) == (al),			\
		       "size or alignment of struct " #s)

#define CHECK_FIELD(s, f, off, sz)					\
	_Static_assert(offsetof(struct s, f) == (off) &&		\
		       FIELD_SIZE(s, f) == (sz),			\
		       "offset or width of " #s "." #f)

#define CHECK_VAL(sym, v)						\
	_Static_assert((unsigned long)(sym) == (unsigned long)(v),	\
		       "value of " #sym)

/* ---- Struct layouts, field by field ---- */

CHECK_STRUCT(iommu_destroy, 8, 4);
CHECK_FIELD(iommu_destroy, size, 0, 4);
CHECK_FIELD(iommu_destroy, id, 4, 4);

CHECK_STRUCT(iommu_ioas_alloc, 12, 4);
CHECK_FIELD(iommu_ioas_alloc, size, 0, 4);
CHECK_FIELD(iommu_ioas_alloc, flags, 4, 4);
CHECK_FIELD(iommu_ioas_alloc, out_ioas_id, 8, 4);

CHECK_STRUCT(iommu_iova_range, 16, 8);
CHECK_FIELD(iommu_iova_range, start, 0, 8);
CHECK_FIELD(iommu_iova_range, last, 8, 8);

CHECK_STRUCT(iommu_ioas_iova_ranges, 32, 8);
CHECK_FIELD(iommu_ioas_iova_ranges, size, 0, 4);
CHECK_FIELD(iommu_ioas_iova_ranges, ioas_id, 4, 4);
CHECK_FIELD(iommu_ioas_iova_ranges, num_iovas, 8, 4);
CHECK_FIELD(iommu_ioas_iova_ranges, __reserved, 12, 4);
CHECK_FIELD(iommu_ioas_iova_ranges, allowed_iovas, 16, 8);
CHECK_FIELD(iommu_ioas_iova_ranges, out_iova_alignment, 24, 8);

CHECK_STRUCT(iommu_ioas_allow_iovas, 24, 8);
CHECK_FIELD(iommu_ioas_allow_iovas, size, 0, 4);
CHECK_FIELD(iommu_ioas_allow_iovas, ioas_id, 4, 4);
CHECK_FIELD(iommu_ioas_allow_iovas, num_iovas, 8, 4);
CHECK_FIELD(iommu_ioas_allow_iovas, __reserved, 12, 4);
CHECK_FIELD(iommu_ioas_allow_iovas, allowed_iovas, 16, 8);

CHECK_STRUCT(iommu_ioas_map, 40, 8);
CHECK_FIELD(iommu_ioas_map, size, 0, 4);
CHECK_FIELD(iommu_ioas_map, flags, 4, 4);
CHECK_FIELD(iommu_ioas_map, ioas_id, 8, 4);
CHECK_FIELD(iommu_ioas_map, __reserved, 12, 4);
CHECK_FIELD(iommu_ioas_map, user_va, 16, 8);
CHECK_FIELD(iommu_ioas_map, length, 24, 8);
CHECK_FIELD(iommu_ioas_map, iova, 32, 8);

CHECK_STRUCT(iommu_ioas_copy, 40, 8);
CHECK_FIELD(iommu_ioas_copy, size, 0, 4);
CHECK_FIELD(iommu_ioas_copy, flags, 4, 4);
CHECK_FIELD(iommu_ioas_copy, dst_ioas_id, 8, 4);
CHECK_FIELD(iommu_ioas_copy, src_ioas_id, 12, 4);
CHECK_FIELD(iommu_ioas_copy, length, 16, 8);
CHECK_FIELD(iommu_ioas_copy, dst_iova, 24, 8);
CHECK_FIELD(iommu_ioas_copy, src_iova, 32, 8);

CHECK_STRUCT(iommu_ioas_unmap, 24, 8);
CHECK_FIELD(iommu_ioas_unmap, size, 0, 4);
CHECK_FIELD(iommu_ioas_unmap, ioas_id, 4, 4);
CHECK_FIELD(iommu_ioas_unmap, iova, 8, 8);
CHECK_FIELD(iommu_ioas_unmap, length, 16, 8);

CHECK_STRUCT(iommu_option, 24, 8);
CHECK_FIELD(iommu_option, size, 0, 4);
CHECK_FIELD(iommu_option, option_id, 4, 4);
CHECK_FIELD(iommu_option, op, 8, 2);
CHECK_FIELD(iommu_option, __reserved, 10, 2);
CHECK_FIELD(iommu_option, object_id, 12, 4);
CHECK_FIELD(iommu_option, val64, 16, 8);

CHECK_STRUCT(iommu_vfio_ioas, 12, 4);
CHECK_FIELD(iommu_vfio_ioas, size, 0, 4);
CHECK_FIELD(iommu_vfio_ioas, ioas_id, 4, 4);
CHECK_FIELD(iommu_vfio_ioas, op, 8, 2);
CHECK_FIELD(iommu_vfio_ioas, __reserved, 10, 2);

CHECK_STRUCT(iommu_hwpt_vtd_s1, 24, 8);
CHECK_FIELD(iommu_hwpt_vtd_s1, flags, 0, 8);
CHECK_FIELD(iommu_hwpt_vtd_s1, pgtbl_addr, 8, 8);
CHECK_FIELD(iommu_hwpt_vtd_s1, addr_width, 16, 4);
CHECK_FIELD(iommu_hwpt_vtd_s1, __reserved, 20, 4);

CHECK_STRUCT(iommu_hwpt_alloc, 48, 8);
CHECK_FIELD(iommu_hwpt_alloc, size, 0, 4);
CHECK_FIELD(iommu_hwpt_alloc, flags, 4, 4);
CHECK_FIELD(iommu_hwpt_alloc, dev_id, 8, 4);
CHECK_FIELD(iommu_hwpt_alloc, pt_id, 12, 4);
CHECK_FIELD(iommu_hwpt_alloc, out_hwpt_id, 16, 4);
CHECK_FIELD(iommu_hwpt_alloc, __reserved, 20, 4);
CHECK_FIELD(iommu_hwpt_alloc, data_type, 24, 4);
CHECK_FIELD(iommu_hwpt_alloc, data_len, 28, 4);
CHECK_FIELD(iommu_hwpt_alloc, data_uptr, 32, 8);
CHECK_FIELD(iommu_hwpt_alloc, fault_id, 40, 4);
CHECK_FIELD(iommu_hwpt_alloc, __reserved2, 44, 4);

CHECK_STRUCT(iommu_hw_info_vtd, 24, 8);
CHECK_FIELD(iommu_hw_info_vtd, flags, 0, 4);
CHECK_FIELD(iommu_hw_info_vtd, __reserved, 4, 4);
CHECK_FIELD(iommu_hw_info_vtd, cap_reg, 8, 8);
CHECK_FIELD(iommu_hw_info_vtd, ecap_reg, 16, 8);

CHECK_STRUCT(iommu_hw_info, 40, 8);
CHECK_FIELD(iommu_hw_info, size, 0, 4);
CHECK_FIELD(iommu_hw_info, flags, 4, 4);
CHECK_FIELD(iommu_hw_info, dev_id, 8, 4);
CHECK_FIELD(iommu_hw_info, data_len, 12, 4);
CHECK_FIELD(iommu_hw_info, data_uptr, 16, 8);
CHECK_FIELD(iommu_hw_info, in_data_type, 24, 4);
CHECK_FIELD(iommu_hw_info, out_data_type, 24, 4);
CHECK_FIELD(iommu_hw_info, out_max_pasid_log2, 28, 1);
CHECK_FIELD(iommu_hw_info, __reserved, 29, 3);
CHECK_FIELD(iommu_hw_info, out_capabilities, 32, 8);

CHECK_STRUCT(iommu_hwpt_set_dirty_tracking, 16, 4);
CHECK_FIELD(iommu_hwpt_set_dirty_tracking, size, 0, 4);
CHECK_FIELD(iommu_hwpt_set_dirty_tracking, flags, 4, 4);
CHECK_FIELD(iommu_hwpt_set_dirty_tracking, hwpt_id, 8, 4);
CHECK_FIELD(iommu_hwpt_set_dirty_tracking, __reserved, 12, 4);

CHECK_STRUCT(iommu_hwpt_get_dirty_bitmap, 48, 8);
CHECK_FIELD(iommu_hwpt_get_dirty_bitmap, size, 0, 4);
CHECK_FIELD(iommu_hwpt_get_dirty_bitmap, hwpt_id, 4, 4);
CHECK_FIELD(iommu_hwpt_get_dirty_bitmap, flags, 8, 4);
CHECK_FIELD(iommu_hwpt_get_dirty_bitmap, __reserved, 12, 4);
CHECK_FIELD(iommu_hwpt_get_dirty_bitmap, iova, 16, 8);
CHECK_FIELD(iommu_hwpt_get_dirty_bitmap, length, 24, 8);
CHECK_FIELD(iommu_hwpt_get_dirty_bitmap, page_size, 32, 8);
CHECK_FIELD(iommu_hwpt_get_dirty_bitmap, data, 40, 8);

CHECK_STRUCT(iommu_hwpt_vtd_s1_invalidate, 24, 8);
CHECK_FIELD(iommu_hwpt_vtd_s1_invalidate, addr, 0, 8);
CHECK_FIELD(iommu_hwpt_vtd_s1_invalidate, npages, 8, 8);
CHECK_FIELD(iommu_hwpt_vtd_s1_invalidate, flags, 16, 4);
CHECK_FIELD(iommu_hwpt_vtd_s1_invalidate, __reserved, 20, 4);

CHECK_STRUCT(iommu_hwpt_invalidate, 32, 8);
CHECK_FIELD(iommu_hwpt_invalidate, size, 0, 4);
CHECK_FIELD(iommu_hwpt_invalidate, hwpt_id, 4, 4);
CHECK_FIELD(iommu_hwpt_invalidate, data_uptr, 8, 8);
CHECK_FIELD(iommu_hwpt_invalidate, data_type, 16, 4);
CHECK_FIELD(iommu_hwpt_invalidate, entry_len, 20, 4);
CHECK_FIELD(iommu_hwpt_invalidate, entry_num, 24, 4);
CHECK_FIELD(iommu_hwpt_invalidate, __reserved, 28, 4);

CHECK_STRUCT(iommu_hwpt_pgfault, 40, 8);
CHECK_FIELD(iommu_hwpt_pgfault, flags, 0, 4);
CHECK_FIELD(iommu_hwpt_pgfault, dev_id, 4, 4);
CHECK_FIELD(iommu_hwpt_pgfault, pasid, 8, 4);
CHECK_FIELD(iommu_hwpt_pgfault, grpid, 12, 4);
CHECK_FIELD(iommu_hwpt_pgfault, perm, 16, 4);
CHECK_FIELD(iommu_hwpt_pgfault, __reserved, 20, 4);
CHECK_FIELD(iommu_hwpt_pgfault, addr, 24, 8);
CHECK_FIELD(iommu_hwpt_pgfault, length, 32, 4);
CHECK_FIELD(iommu_hwpt_pgfault, cookie, 36, 4);

CHECK_STRUCT(iommu_hwpt_page_response, 8, 4);
CHECK_FIELD(iommu_hwpt_page_response, cookie, 0, 4);
CHECK_FIELD(iommu_hwpt_page_response, code, 4, 4);

CHECK_STRUCT(iommu_fault_alloc, 16, 4);
CHECK_FIELD(iommu_fault_alloc, size, 0, 4);
CHECK_FIELD(iommu_fault_alloc, flags, 4, 4);
CHECK_FIELD(iommu_fault_alloc, out_fault_id, 8, 4);
CHECK_FIELD(iommu_fault_alloc, out_fault_fd, 12, 4);

/* Ours beyond 6.12, in the layout of later kernels. */
CHECK_STRUCT(iommu_ioas_map_file, 40, 8);
CHECK_FIELD(iommu_ioas_map_file, size, 0, 4);
CHECK_FIELD(iommu_ioas_map_file, flags, 4, 4);
CHECK_FIELD(iommu_ioas_map_file, ioas_id, 8, 4);
CHECK_FIELD(iommu_ioas_map_file, fd, 12, 4);
CHECK_FIELD(iommu_ioas_map_file, start, 16, 8);
CHECK_FIELD(iommu_ioas_map_file, length, 24, 8);
CHECK_FIELD(iommu_ioas_map_file, iova, 32, 8);

CHECK_STRUCT(iommu_ioas_change_process, 8, 4);
CHECK_FIELD(iommu_ioas_change_process, size, 0, 4);
CHECK_FIELD(iommu_ioas_change_process, __reserved, 4, 4);

/* ---- Numbers ---- */

/* Command numbers (the nr field of every ioctl). */
CHECK_VAL(IOMMUFD_CMD_BASE, 0x80);
CHECK_VAL(IOMMUFD_CMD_DESTROY, 0x80);
CHECK_VAL(IOMMUFD_CMD_IOAS_ALLOC, 0x81);
CHECK_VAL(IOMMUFD_CMD_IOAS_ALLOW_IOVAS, 0x82);
CHECK_VAL(IOMMUFD_CMD_IOAS_COPY, 0x83);
CHECK_VAL(IOMMUFD_CMD_IOAS_IOVA_RANGES, 0x84);
CHECK_VAL(IOMMUFD_CMD_IOAS_MAP, 0x85);
CHECK_VAL(IOMMUFD_CMD_IOAS_UNMAP, 0x86);
CHECK_VAL(IOMMUFD_CMD_OPTION, 0x87);
CHECK_VAL(IOMMUFD_CMD_VFIO_IOAS, 0x88);
CHECK_VAL(IOMMUFD_CMD_HWPT_ALLOC, 0x89);
CHECK_VAL(IOMMUFD_CMD_GET_HW_INFO, 0x8a);
CHECK_VAL(IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING, 0x8b);
CHECK_VAL(IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP, 0x8c);
CHECK_VAL(IOMMUFD_CMD_HWPT_INVALIDATE, 0x8d);
CHECK_VAL(IOMMUFD_CMD_FAULT_QUEUE_ALLOC, 0x8e);
CHECK_VAL(IOMMUFD_CMD_IOAS_MAP_FILE, 0x8f);
/* 0x90 and 0x91 stay free: later kernels' vIOMMU and vDEVICE. */
CHECK_VAL(IOMMUFD_CMD_IOAS_CHANGE_PROCESS, 0x92);

/* Full ioctl request values: _IO(';', nr), no direction and no size bits. */
CHECK_VAL(IOMMUFD_TYPE, 0x3b);
CHECK_VAL(IOMMU_DESTROY, 0x3b80);
CHECK_VAL(IOMMU_IOAS_ALLOC, 0x3b81);
CHECK_VAL(IOMMU_IOAS_ALLOW_IOVAS, 0x3b82);
CHECK_VAL(IOMMU_IOAS_COPY, 0x3b83);
CHECK_VAL(IOMMU_IOAS_IOVA_RANGES, 0x3b84);
CHECK_VAL(IOMMU_IOAS_MAP, 0x3b85);
CHECK_VAL(IOMMU_IOAS_UNMAP, 0x3b86);
CHECK_VAL(IOMMU_OPTION, 0x3b87);
CHECK_VAL(IOMMU_VFIO_IOAS, 0x3b88);
CHECK_VAL(IOMMU_HWPT_ALLOC, 0x3b89);
CHECK_VAL(IOMMU_GET_HW_INFO, 0x3b8a);
CHECK_VAL(IOMMU_HWPT_SET_DIRTY_TRACKING, 0x3b8b);
CHECK_VAL(IOMMU_HWPT_GET_DIRTY_BITMAP, 0x3b8c);
CHECK_VAL(IOMMU_HWPT_INVALIDATE, 0x3b8d);
CHECK_VAL(IOMMU_FAULT_QUEUE_ALLOC, 0x3b8e);
CHECK_VAL(IOMMU_IOAS_MAP_FILE, 0x3b8f);
CHECK_VAL(IOMMU_IOAS_CHANGE_PROCESS, 0x3b92);

/* Flags, enumerations and other constants. */
CHECK_VAL(IOMMUFD_PAGE_RESP_SUCCESS, 0);
CHECK_VAL(IOMMUFD_PAGE_RESP_INVALID, 1);
CHECK_VAL(IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 2);
CHECK_VAL(IOMMU_HWPT_ALLOC_NEST_PARENT, 1);
CHECK_VAL(IOMMU_HWPT_DATA_NONE, 0);
CHECK_VAL(IOMMU_HWPT_DATA_VTD_S1, 1);
CHECK_VAL(IOMMU_HWPT_DIRTY_TRACKING_ENABLE, 1);
CHECK_VAL(IOMMU_HWPT_FAULT_ID_VALID, 4);
CHECK_VAL(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, 1);
CHECK_VAL(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0);
CHECK_VAL(IOMMU_HW_CAP_DIRTY_TRACKING, 1);
CHECK_VAL(IOMMU_HW_CAP_PCI_PASID_EXEC, 2);
CHECK_VAL(IOMMU_HW_CAP_PCI_PASID_PRIV, 4);
CHECK_VAL(IOMMU_HW_INFO_TYPE_NONE, 0);
CHECK_VAL(IOMMU_HW_INFO_TYPE_INTEL_VTD, 1);
CHECK_VAL(IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17, 1);
CHECK_VAL(IOMMU_IOAS_MAP_WRITEABLE, 2);
CHECK_VAL(IOMMU_IOAS_MAP_READABLE, 4);
CHECK_VAL(IOMMU_IOAS_MAP_FIXED_IOVA, 1);
CHECK_VAL(IOMMU_OPTION_HUGE_PAGES, 1);
CHECK_VAL(IOMMU_OPTION_OP_SET, 0);
CHECK_VAL(IOMMU_OPTION_OP_GET, 1);
CHECK_VAL(IOMMU_OPTION_RLIMIT_MODE, 0);
CHECK_VAL(IOMMU_PGFAULT_FLAGS_LAST_PAGE, 2);
CHECK_VAL(IOMMU_PGFAULT_FLAGS_PASID_VALID, 1);
CHECK_VAL(IOMMU_PGFAULT_PERM_READ, 1);
CHECK_VAL(IOMMU_PGFAULT_PERM_WRITE, 2);
CHECK_VAL(IOMMU_PGFAULT_PERM_EXEC, 4);
CHECK_VAL(IOMMU_PGFAULT_PERM_PRIV, 8);
CHECK_VAL(IOMMU_VFIO_IOAS_GET, 0);
CHECK_VAL(IOMMU_VFIO_IOAS_SET, 1);
CHECK_VAL(IOMMU_VFIO_IOAS_CLEAR, 2);
CHECK_VAL(IOMMU_VTD_INV_FLAGS_LEAF, 1);
CHECK_VAL(IOMMU_VTD_S1_SRE, 1);
CHECK_VAL(IOMMU_VTD_S1_EAFE, 2);
CHECK_VAL(IOMMU_VTD_S1_WPE, 4);

/* Selftest extension: one slot carries the requested and reported type. */
CHECK_VAL(IOMMU_HW_INFO_TYPE_DEFAULT, 0);
CHECK_VAL(IOMMU_HW_INFO_FLAG_INPUT_TYPE, 1);

/* ---- Run-time checks ---- */

struct ioctl_expect {
	const char *name;
	unsigned long request;
	unsigned int nr;
};

#define IOCTL_EXPECT(n, cmd) { #n, n, cmd }

static const struct ioctl_expect ioctls[] = {
	IOCTL_EXPECT(IOMMU_DESTROY, 0x80),
	IOCTL_EXPECT(IOMMU_IOAS_ALLOC, 0x81),
	IOCTL_EXPECT(IOMMU_IOAS_ALLOW_IOVAS, 0x82),
	IOCTL_EXPECT(IOMMU_IOAS_COPY, 0x83),
	IOCTL_EXPECT(IOMMU_IOAS_IOVA_RANGES, 0x84),
	IOCTL_EXPECT(IOMMU_IOAS_MAP, 0x85),
	IOCTL_EXPECT(IOMMU_IOAS_UNMAP, 0x86),
	IOCTL_EXPECT(IOMMU_OPTION, 0x87),
	IOCTL_EXPECT(IOMMU_VFIO_IOAS, 0x88),
	IOCTL_EXPECT(IOMMU_HWPT_ALLOC, 0x89),
	IOCTL_EXPECT(IOMMU_GET_HW_INFO, 0x8a),
	IOCTL_EXPECT(IOMMU_HWPT_SET_DIRTY_TRACKING, 0x8b),
	IOCTL_EXPECT(IOMMU_HWPT_GET_DIRTY_BITMAP, 0x8c),
	IOCTL_EXPECT(IOMMU_HWPT_INVALIDATE, 0x8d),
	IOCTL_EXPECT(IOMMU_FAULT_QUEUE_ALLOC, 0x8e),
	IOCTL_EXPECT(IOMMU_IOAS_MAP_FILE, 0x8f),
	IOCTL_EXPECT(IOMMU_IOAS_CHANGE_PROCESS, 0x92),
};

/* Numbers inside the table's span that no command of ours takes. */
static const unsigned int unused_nrs[] = { 0x90, 0x91 };

static int nr_unused(unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(unused_nrs); i++)
		if (unused_nrs[i] == nr)
			return 1;
	return 0;
}

/* Each request decodes to type ';', its own nr, no direction, no size. */
TEST(ioctl_requests)
{
	unsigned long next = 0x80;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ioctls); i++) {
		const struct ioctl_expect *e = &ioctls[i];

		EXPECT_EQ(0x3bUL, (unsigned long)_IOC_TYPE(e->request))
			TH_LOG("%s = %#lx", e->name, e->request);
		EXPECT_EQ((unsigned long)e->nr,
			  (unsigned long)_IOC_NR(e->request))
			TH_LOG("%s = %#lx", e->name, e->request);
		EXPECT_EQ((unsigned long)_IOC_NONE,
			  (unsigned long)_IOC_DIR(e->request))
			TH_LOG("%s = %#lx", e->name, e->request);
		EXPECT_EQ(0UL, (unsigned long)_IOC_SIZE(e->request))
			TH_LOG("%s = %#lx", e->name, e->request);
		/*
		 * Numbers are dense but for the unused ones: the table
		 * order is the nr order.
		 */
		while (nr_unused(next))
			next++;
		EXPECT_EQ(next, (unsigned long)e->nr)
			TH_LOG("%s is out of order", e->name);
		next++;
	}
}

/*
 * The unused numbers inside the table, and the first past its end, are
 * no command: ENOTTY, whatever the argument.
 */
TEST(unused_numbers_not_commands)
{
	const unsigned int past_end = IOMMUFD_CMD_IOAS_CHANGE_PROCESS + 1;
	unsigned char buf[64] = { 0 };
	unsigned int i;
	int fd;

	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0)
		SKIP(return, "no /dev/iommu");
	*(uint32_t *)buf = sizeof(buf);
	for (i = 0; i < ARRAY_SIZE(unused_nrs); i++) {
		EXPECT_EQ(-1, ioctl(fd, _IO(IOMMUFD_TYPE, unused_nrs[i]), buf));
		EXPECT_EQ(ENOTTY, errno) TH_LOG("nr %#x", unused_nrs[i]);
		*(uint32_t *)buf = 8;
		EXPECT_EQ(-1, ioctl(fd, _IO(IOMMUFD_TYPE, unused_nrs[i]), buf));
		EXPECT_EQ(ENOTTY, errno) TH_LOG("nr %#x", unused_nrs[i]);
		*(uint32_t *)buf = sizeof(buf);
	}
	EXPECT_EQ(-1, ioctl(fd, _IO(IOMMUFD_TYPE, past_end), buf));
	EXPECT_EQ(ENOTTY, errno) TH_LOG("nr %#x", past_end);
	/* The new numbers themselves are commands. */
	EXPECT_EQ(-1, ioctl(fd, IOMMU_IOAS_MAP_FILE, buf));
	EXPECT_NE(ENOTTY, errno);
	close(fd);
}

struct size_expect {
	const char *name;
	size_t size;
	size_t expect;
};

#define SIZE_EXPECT(s, n) { #s, sizeof(struct s), n }

static const struct size_expect sizes[] = {
	SIZE_EXPECT(iommu_destroy, 8),
	SIZE_EXPECT(iommu_ioas_alloc, 12),
	SIZE_EXPECT(iommu_iova_range, 16),
	SIZE_EXPECT(iommu_ioas_iova_ranges, 32),
	SIZE_EXPECT(iommu_ioas_allow_iovas, 24),
	SIZE_EXPECT(iommu_ioas_map, 40),
	SIZE_EXPECT(iommu_ioas_copy, 40),
	SIZE_EXPECT(iommu_ioas_unmap, 24),
	SIZE_EXPECT(iommu_option, 24),
	SIZE_EXPECT(iommu_vfio_ioas, 12),
	SIZE_EXPECT(iommu_hwpt_vtd_s1, 24),
	SIZE_EXPECT(iommu_hwpt_alloc, 48),
	SIZE_EXPECT(iommu_hw_info_vtd, 24),
	SIZE_EXPECT(iommu_hw_info, 40),
	SIZE_EXPECT(iommu_hwpt_set_dirty_tracking, 16),
	SIZE_EXPECT(iommu_hwpt_get_dirty_bitmap, 48),
	SIZE_EXPECT(iommu_hwpt_vtd_s1_invalidate, 24),
	SIZE_EXPECT(iommu_hwpt_invalidate, 32),
	SIZE_EXPECT(iommu_hwpt_pgfault, 40),
	SIZE_EXPECT(iommu_hwpt_page_response, 8),
	SIZE_EXPECT(iommu_fault_alloc, 16),
	SIZE_EXPECT(iommu_ioas_map_file, 40),
	SIZE_EXPECT(iommu_ioas_change_process, 8),
};

TEST(struct_sizes)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(sizes[i].expect, sizes[i].size)
			TH_LOG("struct %s is %zu bytes", sizes[i].name,
			       sizes[i].size);
	}
}

/* Every ioctl argument starts with its own __u32 size. */
TEST(size_field_first)
{
	EXPECT_EQ(0UL, offsetof(struct iommu_destroy, size));
	EXPECT_EQ(0UL, offsetof(struct iommu_ioas_alloc, size));
	EXPECT_EQ(0UL, offsetof(struct iommu_ioas_map, size));
	EXPECT_EQ(0UL, offsetof(struct iommu_option, size));
	EXPECT_EQ(0UL, offsetof(struct iommu_hw_info, size));
	EXPECT_EQ(0UL, offsetof(struct iommu_hwpt_alloc, size));
	EXPECT_EQ(0UL, offsetof(struct iommu_fault_alloc, size));
	EXPECT_EQ(0UL, offsetof(struct iommu_ioas_map_file, size));
	EXPECT_EQ(0UL, offsetof(struct iommu_ioas_change_process, size));
	EXPECT_EQ(4UL, FIELD_SIZE(iommu_hwpt_invalidate, size));
}

/* in_data_type and out_data_type are two names for the same four bytes. */
TEST(hw_info_type_union)
{
	struct iommu_hw_info info = {
		.size = sizeof(info),
		.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE,
		.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD,
	};

	EXPECT_EQ(24UL, offsetof(struct iommu_hw_info, in_data_type));
	EXPECT_EQ(offsetof(struct iommu_hw_info, out_data_type),
		  offsetof(struct iommu_hw_info, in_data_type));
	EXPECT_EQ((__u32)IOMMU_HW_INFO_TYPE_INTEL_VTD, info.out_data_type);
	info.out_data_type = IOMMU_HW_INFO_TYPE_NONE;
	EXPECT_EQ((__u32)IOMMU_HW_INFO_TYPE_DEFAULT, info.in_data_type);
	EXPECT_EQ(28UL, offsetof(struct iommu_hw_info, out_max_pasid_log2));
	EXPECT_EQ(32UL, offsetof(struct iommu_hw_info, out_capabilities));
}

/* A few option and map constants the core ioctls depend on. */
TEST(core_constants)
{
	EXPECT_EQ(0x80, IOMMUFD_CMD_BASE);
	EXPECT_EQ(IOMMUFD_CMD_BASE, IOMMUFD_CMD_DESTROY);
	EXPECT_EQ(0, IOMMU_OPTION_RLIMIT_MODE);
	EXPECT_EQ(1, IOMMU_OPTION_HUGE_PAGES);
	EXPECT_EQ(0, IOMMU_OPTION_OP_SET);
	EXPECT_EQ(1, IOMMU_OPTION_OP_GET);
	EXPECT_EQ(7, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
		     IOMMU_IOAS_MAP_READABLE);
}

TEST_HARNESS_MAIN
