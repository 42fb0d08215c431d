/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mock IOMMU of CONFIG_IOMMUFD_TEST: a software IOMMU driver with its own
 * bus and devices, which IOMMU_TEST_CMD binds to iommufd like real hardware.
 */
#ifndef __IOMMUFD_MOCK_IOMMU_H
#define __IOMMUFD_MOCK_IOMMU_H

#include <linux/bits.h>
#include <linux/types.h>
#include <asm/page.h>

struct device;
struct iommu_domain;
struct iommu_test_lab_iopf_answers;
struct iommu_test_trigger_iopf;
struct mock_dev;

/* The IO page of every mock domain: half a CPU page, as the kselftests expect */
#define MOCK_IO_PAGE_SHIFT	(PAGE_SHIFT - 1)
#define MOCK_IO_PAGE_SIZE	BIT(MOCK_IO_PAGE_SHIFT)
/* The large page of domains made for MOCK_FLAGS_DEVICE_HUGE_IOVA devices */
#define MOCK_HUGE_PAGE_SIZE	(512 * MOCK_IO_PAGE_SIZE)

/**
 * mock_iommu_init() - register the mock bus and the mock IOMMU instance
 *
 * Called once from iommufd's module init. Nothing else here may be called
 * unless it succeeded.
 *
 * Return: 0, or a negative errno with nothing left registered.
 */
int mock_iommu_init(void);

/**
 * mock_iommu_exit() - undo mock_iommu_init()
 *
 * Every mock device must have been destroyed first.
 */
void mock_iommu_exit(void);

/**
 * mock_dev_create() - add a device to the mock bus
 * @dev_flags: MOCK_FLAGS_DEVICE_* of iommufd_test.h
 *
 * The device is probed by the mock IOMMU as it is added, and ends up alone in
 * a new iommu_group (or with MOCK_FLAGS_DEVICE_SHARED_GROUP in the shared
 * one), attached to the mock blocking domain.
 *
 * Return: the device, ERR_PTR(-EINVAL) for an unknown flag, or another
 * ERR_PTR if it could not be added or probed.
 */
struct mock_dev *mock_dev_create(unsigned int dev_flags);

/**
 * mock_dev_destroy() - remove a device made by mock_dev_create()
 * @mdev: the device; nothing may own its DMA any more
 *
 * Unregisters the device, which takes its iommu_group away with it. The memory
 * goes when the last reference to the struct device is put.
 */
void mock_dev_destroy(struct mock_dev *mdev);

/**
 * mock_dev_to_dev() - the struct device of a mock device
 * @mdev: the mock device
 *
 * Return: the device, for binding it to iommufd.
 */
struct device *mock_dev_to_dev(struct mock_dev *mdev);

/**
 * mock_dev_attach_begin() - the device's attachment is about to change
 * @mdev: the mock device
 *
 * Waits for the page requests the device is sending and holds off new ones
 * until mock_dev_attach_end(), as the core asks of an IOMMU driver while a
 * group's domain changes. Every iommufd attach, replace and detach of the
 * device must be inside such a section; it sleeps.
 */
void mock_dev_attach_begin(struct mock_dev *mdev);

/**
 * mock_dev_attach_end() - end the section mock_dev_attach_begin() opened
 * @mdev: the mock device
 */
void mock_dev_attach_end(struct mock_dev *mdev);

/**
 * mock_dev_raise_iopf() - play a mock device sending a page request
 * @dev: the device, a mock one
 * @req: the request: PASID (IOMMU_NO_PASID for none), group, permissions
 *       and address; @req->dev_id is not looked at
 * @last: the request ends its page request group; the core holds the
 *        others until that one comes
 *
 * The request goes through the core's fault path (iommu_report_device_fault())
 * to the handler of the domain the device is attached to, or is refused by
 * the core with a page response. Returns at once either way.
 *
 * Return: 0; -EINVAL if @dev is not a mock device, -EOPNOTSUPP if its I/O
 * page faults are off (it cannot send page requests then).
 */
int mock_dev_raise_iopf(struct device *dev,
			const struct iommu_test_trigger_iopf *req, bool last);

/**
 * mock_dev_iopf_answers() - the page responses a mock device received
 * @dev: the device
 * @out: filled with the counts since the device was made, by code, and the
 *       group of the last one
 *
 * Return: 0, or -EINVAL if @dev is not a mock device.
 */
int mock_dev_iopf_answers(struct device *dev,
			  struct iommu_test_lab_iopf_answers *out);

/**
 * mock_domain_is_ours() - tell a mock paging domain from any other domain
 * @domain: any domain, or NULL
 *
 * Return: true if @domain is a paging domain the mock IOMMU allocated.
 */
bool mock_domain_is_ours(struct iommu_domain *domain);

/**
 * mock_nested_check_iotlb() - IOMMU_TEST_OP_MD_CHECK_IOTLB
 * @domain: any domain
 * @id: an IOTLB entry, up to MOCK_NESTED_DOMAIN_IOTLB_ID_MAX
 * @iotlb: the value the entry should hold
 *
 * Return: 0 if @domain is a nested mock domain whose entry @id holds
 * @iotlb; -EINVAL otherwise.
 */
int mock_nested_check_iotlb(struct iommu_domain *domain, unsigned int id,
			    u32 iotlb);

/**
 * mock_domain_check_map() - IOMMU_TEST_OP_MD_CHECK_MAP
 * @domain: a domain for which mock_domain_is_ours() holds
 * @iova: start of the range, a multiple of MOCK_IO_PAGE_SIZE
 * @length: bytes in the range, a non-zero multiple of MOCK_IO_PAGE_SIZE
 * @uptr: user address in current->mm, a multiple of MOCK_IO_PAGE_SIZE
 *
 * Checks that each IO page of [@iova, @iova + @length) is mapped, and to the
 * physical address backing the same offset from @uptr.
 *
 * Return: 0 if all of them are; -EINVAL for a bad argument, -EFAULT if the
 * user memory cannot be looked up, -EIO for an unmapped or misdirected page.
 */
int mock_domain_check_map(struct iommu_domain *domain, unsigned long iova,
			  unsigned long length, unsigned long uptr);

/**
 * mock_domain_set_dirty() - IOMMU_TEST_OP_DIRTY: play a device writing
 * @domain: a domain for which mock_domain_is_ours() holds
 * @iova: start of the range, a multiple of @page_size
 * @length: bytes in the range, a non-zero multiple of @page_size
 * @page_size: the span of IOVA one bit of the bitmap stands for
 * @uptr: user bitmap of @length / @page_size bits, in the bit order of a
 *        little-endian array of u64 (bit i is bit i % 8 of byte i / 8)
 * @nr_dirty: output, the number of set bits that had a mapped IO page
 *
 * For every bit set, the mapped IO pages in the @page_size span it stands
 * for are marked dirty; an IO page of a MOCK_HUGE_PAGE_SIZE mapping marks
 * the whole large page, as hardware keeps one dirty bit per page table entry.
 *
 * Return: 0; -EINVAL for a bad argument or when dirty tracking is not
 * enabled on @domain, -EOVERFLOW for a range or bitmap too large, -EFAULT if
 * the bitmap cannot be read.
 */
int mock_domain_set_dirty(struct iommu_domain *domain, unsigned long iova,
			  unsigned long length, unsigned long page_size,
			  u64 __user *uptr, u64 *nr_dirty);

#endif
