// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mock IOMMU driver of CONFIG_IOMMUFD_TEST.
 *
 * A bus of its own ("iommufd_mock") carries software devices. One IOMMU
 * instance, registered against that bus only, probes them: each gets its own
 * iommu_group (generic_device_group()), or with MOCK_FLAGS_DEVICE_SHARED_GROUP
 * joins the one group such devices share, and starts out in the blocking
 * domain. Paging domains keep their translation in an xarray indexed by IO
 * page number, so the tests can check what the core mapped and play the
 * device side of dirty tracking.
 *
 * The instance has a fwnode of its own, and every mock device gets an
 * iommu_fwspec naming it before device_add(). The core resolves a device
 * without a fwspec to the first IOMMU registered without a fwnode; when a
 * hardware IOMMU such as Intel VT-d is active that is the hardware driver,
 * which would then be asked to probe the mock devices. With the fwspec the
 * core always picks the mock ops for them, and never for anything else.
 * dev->iommu may only be set up under the core's iommu_probe_device_lock,
 * which is not exported: a modular iommufd leaves the fwnode out and falls
 * back to the core's guess, which works with no other IOMMU present.
 *
 * Page table entries: the xarray value of IO page N (IOVA N * IO page size)
 * is the physical address in IO pages, shifted left over MOCK_PTE_FLAG_BITS
 * flag bits: the first and the last IO page of each map_pages() call, the
 * dirty bit, and a mark for IO pages of a large page mapping.
 *
 * Locking:
 *  - A domain's xarray lock is the only lock of its page table, and it is
 *    never held across calls: each insert, erase or compare-and-exchange of
 *    an entry is atomic on its own. map_pages() and unmap_pages() may run
 *    concurrently on disjoint ranges, which is all the core does. Changes of
 *    flag bits (dirty) are compare-and-exchange loops on a single entry, so
 *    they may race with each other and with unmap_pages().
 *  - mock_paging.track_dirty is only written by set_dirty_tracking(), which
 *    the core runs with the IOAS's iova_rwsem held for write, excluding
 *    maps, unmaps and dirty reads; the test op reads it with READ_ONCE().
 *  - map_pages() allocates with the gfp it is given; everything else that
 *    allocates may sleep, and none of it holds a lock of this file.
 *  - mock_dev_create() holds iommu_probe_device_lock only around
 *    iommu_fwspec_init(), as dev_iommu_get() requires. The probe runs from
 *    the bus notifier inside device_add(), under the core's own locks.
 *  - mock_shared_group_lock covers mock_shared_group while it is made.
 *  - mock_dev.attach_rwsem plays the device's side of the core's rule that
 *    no fault is reported while a group's domain changes: test_cmd.c holds
 *    it for write around every attach, replace and detach of the device,
 *    the fault trigger for read. mock_dev.iopf_on is written by the IOPF
 *    feature ops, which run only inside such an attachment change.
 *  - mock_dev.answers_lock covers the page responses the device received.
 *  - mock_iommu_init() and mock_iommu_exit() run once, at module init and
 *    exit, with no mock device alive at exit.
 */
#include <linux/device.h>
#include <linux/fwnode.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/property.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>

#include "../../iommu-priv.h"
#include "iommufd_test.h"
#include "mock_iommu.h"

/* IO pages in one MOCK_HUGE_PAGE_SIZE mapping */
#define MOCK_HUGE_IO_PAGES	(MOCK_HUGE_PAGE_SIZE >> MOCK_IO_PAGE_SHIFT)

/* Flag bits at the bottom of a page table entry */
#define MOCK_PTE_HEAD		BIT(0)	/* first IO page of a map_pages() */
#define MOCK_PTE_TAIL		BIT(1)	/* last IO page of a map_pages() */
#define MOCK_PTE_DIRTY		BIT(2)	/* written since last read and clear */
#define MOCK_PTE_HUGE		BIT(3)	/* part of a MOCK_HUGE_PAGE_SIZE map */
#define MOCK_PTE_FLAG_BITS	4
/* Largest physical IO page number an xarray value can hold with the flags */
#define MOCK_PTE_PFN_MAX	(LONG_MAX >> MOCK_PTE_FLAG_BITS)

/* Bits IOMMU_TEST_OP_DIRTY accepts in one call (a 16 MiB bitmap) */
#define MOCK_DIRTY_MAX_BITS	(SZ_16M * BITS_PER_BYTE)

#define MOCK_DEV_FLAGS		(MOCK_FLAGS_DEVICE_NO_DIRTY | \
				 MOCK_FLAGS_DEVICE_HUGE_IOVA | \
				 MOCK_FLAGS_DEVICE_PASID | \
				 MOCK_FLAGS_DEVICE_SHARED_GROUP | \
				 MOCK_FLAGS_DEVICE_LATE_FINISH | \
				 MOCK_FLAGS_DEVICE_SW_MSI | \
				 MOCK_FLAGS_DEVICE_NO_COHERENCY)
#define MOCK_ALLOC_FLAGS	(IOMMU_HWPT_ALLOC_NEST_PARENT | \
				 IOMMU_HWPT_ALLOC_DIRTY_TRACKING)

struct mock_dev {
	struct device dev;
	unsigned int flags;		/* MOCK_FLAGS_DEVICE_* */
	struct fwnode_handle *props;	/* software node with pasid-num-bits */
	struct rw_semaphore attach_rwsem;
	bool iopf_on;			/* in the IOPF queue, page requests on */
	spinlock_t answers_lock;
	struct iommu_test_lab_iopf_answers answers;
};

/*
 * A paging domain; the page table is @ptes. A domain made for a
 * MOCK_FLAGS_DEVICE_LATE_FINISH device is @unfinished until its first
 * attach.
 */
struct mock_paging {
	struct iommu_domain domain;
	struct xarray ptes;
	bool track_dirty;
	bool unfinished;
};

/*
 * A nested domain over a mock paging one: it translates nothing itself,
 * but keeps an IOTLB of tags the user sets at allocation and clears with
 * invalidations, which the tests read back.
 */
struct mock_nested {
	struct iommu_domain domain;
	struct mock_paging *parent;
	u32 iotlb[MOCK_NESTED_DOMAIN_IOTLB_NUM];
};

static const struct bus_type mock_bus = {
	.name = "iommufd_mock",
	.dev_name = "iommufd_mock",
};

static struct iommu_device mock_iommu;
static struct notifier_block mock_bus_nb;
/* The group of MOCK_FLAGS_DEVICE_SHARED_GROUP devices, made on first use */
static struct iommu_group *mock_shared_group;
static DEFINE_MUTEX(mock_shared_group_lock);
static struct fwnode_handle mock_iommu_fwnode;
static DEFINE_IDA(mock_dev_ids);
/* Where the core keeps the page requests of devices with IOPF on */
static struct iopf_queue *mock_iopf_queue;

static const struct iommu_ops mock_iommu_ops;

/* The mock device behind @dev, or NULL if @dev is on another bus */
static struct mock_dev *mock_dev_of(struct device *dev)
{
	if (!dev || dev->bus != &mock_bus)
		return NULL;
	return container_of(dev, struct mock_dev, dev);
}

static struct mock_paging *to_mock_paging(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_paging, domain);
}

static void *mock_pte_make(phys_addr_t phys, unsigned long flags)
{
	unsigned long pfn = phys >> MOCK_IO_PAGE_SHIFT;

	return xa_mk_value(pfn << MOCK_PTE_FLAG_BITS | flags);
}

static phys_addr_t mock_pte_phys(void *pte)
{
	phys_addr_t pfn = xa_to_value(pte) >> MOCK_PTE_FLAG_BITS;

	return pfn << MOCK_IO_PAGE_SHIFT;
}

/*
 * Atomically rewrite the entry of IO page @idx as (entry & ~@clear) | @set.
 * Return: the entry's value before, or 0 if the IO page is not mapped.
 */
static unsigned long mock_pte_update(struct mock_paging *mp, unsigned long idx,
				     unsigned long clear, unsigned long set)
{
	void *cur = xa_load(&mp->ptes, idx);

	while (cur) {
		unsigned long before = xa_to_value(cur);
		unsigned long after = (before & ~clear) | set;
		void *seen;

		if (after == before)
			return before;
		/* Replacing a present entry never allocates */
		seen = xa_cmpxchg(&mp->ptes, idx, cur, xa_mk_value(after),
				  GFP_NOWAIT);
		if (seen == cur)
			return before;
		if (WARN_ON_ONCE(xa_is_err(seen)))
			return 0;
		cur = seen;
	}
	return 0;
}

/* Domain ops */

/*
 * The first attach of a LATE_FINISH domain settles what it translates.
 * The core maps nothing before (map_pages() refuses), so no one reads the
 * fields meanwhile.
 */
static void mock_paging_finish(struct mock_paging *mp)
{
	mp->domain.pgsize_bitmap = PAGE_SIZE;
	mp->domain.geometry.aperture_start = MOCK_APERTURE_START;
	mp->domain.geometry.aperture_end = MOCK_APERTURE_LAST;
	WRITE_ONCE(mp->unfinished, false);
}

static int mock_paging_attach(struct iommu_domain *domain, struct device *dev)
{
	struct mock_dev *mdev = mock_dev_of(dev);

	if (!mdev)
		return -ENODEV;
	/* A domain made for dirty tracking wants devices able to log */
	if (domain->dirty_ops && (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return -EINVAL;
	if (to_mock_paging(domain)->unfinished)
		mock_paging_finish(to_mock_paging(domain));
	return 0;
}

/* Drop the entries of IO pages [first, end) that map_pages() just added */
static void mock_paging_erase(struct mock_paging *mp, unsigned long first,
			      unsigned long end)
{
	for (; first != end; first++)
		xa_erase(&mp->ptes, first);
}

static int mock_paging_map(struct iommu_domain *domain, unsigned long iova,
			   phys_addr_t paddr, size_t pgsize, size_t pgcount,
			   int prot, gfp_t gfp, size_t *mapped)
{
	struct mock_paging *mp = to_mock_paging(domain);
	unsigned long first = iova >> MOCK_IO_PAGE_SHIFT;
	unsigned long extra = 0, n, i;
	size_t len;

	/* Not finished, it has no page table format to map into yet */
	if (READ_ONCE(mp->unfinished))
		return -ENODEV;
	if (WARN_ON_ONCE(!(pgsize & domain->pgsize_bitmap) ||
			 !is_power_of_2(pgsize) || !pgcount ||
			 ((iova | paddr) & (pgsize - 1))))
		return -EINVAL;
	if (check_mul_overflow(pgsize, pgcount, &len) ||
	    iova < domain->geometry.aperture_start ||
	    iova - domain->geometry.aperture_start >
	    domain->geometry.aperture_end - domain->geometry.aperture_start ||
	    len - 1 > domain->geometry.aperture_end - iova)
		return -EINVAL;
	if (WARN_ON_ONCE((paddr + len - 1) >> MOCK_IO_PAGE_SHIFT >
			 MOCK_PTE_PFN_MAX))
		return -EINVAL;

	if (pgsize == MOCK_HUGE_PAGE_SIZE)
		extra = MOCK_PTE_HUGE;
	n = len >> MOCK_IO_PAGE_SHIFT;
	for (i = 0; i != n; i++) {
		unsigned long flags = extra;
		int rc;

		if (i == 0)
			flags |= MOCK_PTE_HEAD;
		if (i == n - 1)
			flags |= MOCK_PTE_TAIL;
		rc = xa_insert(&mp->ptes, first + i,
			       mock_pte_make(paddr + (i << MOCK_IO_PAGE_SHIFT),
					     flags), gfp);
		if (rc) {
			/* The core never maps over a mapping */
			if (WARN_ON_ONCE(rc == -EBUSY))
				rc = -EEXIST;
			mock_paging_erase(mp, first, first + i);
			return rc;
		}
	}
	*mapped += len;
	return 0;
}

static size_t mock_paging_unmap(struct iommu_domain *domain, unsigned long iova,
				size_t pgsize, size_t pgcount,
				struct iommu_iotlb_gather *gather)
{
	struct mock_paging *mp = to_mock_paging(domain);
	unsigned long first = iova >> MOCK_IO_PAGE_SHIFT;
	unsigned long n = (pgsize * pgcount) >> MOCK_IO_PAGE_SHIFT, i;
	/*
	 * The core unmaps whole map calls, never part of one. With two page
	 * sizes it picks the size per aligned chunk though, on unmap as on map,
	 * so a chunk may start or end inside what one call mapped: check only
	 * domains with a single page size.
	 */
	bool strict = domain->pgsize_bitmap == MOCK_IO_PAGE_SIZE;

	WARN_ON_ONCE((iova | pgsize) & (MOCK_IO_PAGE_SIZE - 1));
	for (i = 0; i != n; i++) {
		void *pte = xa_erase(&mp->ptes, first + i);
		unsigned long val;

		if (!pte)
			break;
		val = xa_to_value(pte);
		if (strict && i == 0)
			WARN_ON_ONCE(!(val & MOCK_PTE_HEAD));
		if (strict && i == n - 1)
			WARN_ON_ONCE(!(val & MOCK_PTE_TAIL));
	}
	return i << MOCK_IO_PAGE_SHIFT;
}

static phys_addr_t mock_paging_iova_to_phys(struct iommu_domain *domain,
					    dma_addr_t iova)
{
	struct mock_paging *mp = to_mock_paging(domain);
	void *pte = xa_load(&mp->ptes, iova >> MOCK_IO_PAGE_SHIFT);

	if (!pte)
		return 0;
	return mock_pte_phys(pte) + (iova & (MOCK_IO_PAGE_SIZE - 1));
}

static bool mock_paging_enforce_coherency(struct iommu_domain *domain)
{
	return true;
}

static void mock_paging_free(struct iommu_domain *domain)
{
	struct mock_paging *mp = to_mock_paging(domain);

	/* The core unmaps everything before it lets a domain go */
	WARN_ON_ONCE(!xa_empty(&mp->ptes));
	xa_destroy(&mp->ptes);
	kfree(mp);
}

static const struct iommu_domain_ops mock_paging_ops = {
	.attach_dev = mock_paging_attach,
	.map_pages = mock_paging_map,
	.unmap_pages = mock_paging_unmap,
	.iova_to_phys = mock_paging_iova_to_phys,
	.enforce_cache_coherency = mock_paging_enforce_coherency,
	.free = mock_paging_free,
};

/* Nested domains */

static struct mock_nested *to_mock_nested(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_nested, domain);
}

static int mock_nested_attach(struct iommu_domain *domain, struct device *dev)
{
	return mock_dev_of(dev) ? 0 : -ENODEV;
}

static void mock_nested_free(struct iommu_domain *domain)
{
	kfree(to_mock_nested(domain));
}

/* One entry of an invalidation array: all of the IOTLB, or one tag */
static int mock_nested_invalidate_one(struct mock_nested *mn,
				      const struct iommu_hwpt_invalidate_selftest *inv)
{
	unsigned int i;

	if (inv->flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL)
		return -EOPNOTSUPP;
	if (inv->flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) {
		for (i = 0; i != MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
			WRITE_ONCE(mn->iotlb[i], 0);
		return 0;
	}
	if (inv->iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX)
		return -EINVAL;
	WRITE_ONCE(mn->iotlb[inv->iotlb_id], 0);
	return 0;
}

static int mock_nested_invalidate(struct iommu_domain *domain,
				  struct iommu_user_data_array *array)
{
	struct iommu_hwpt_invalidate_selftest inv;
	unsigned int i;
	int rc = 0;

	/* The type is checked even for an empty array, as drivers do */
	if (array->type != IOMMU_HWPT_INVALIDATE_DATA_SELFTEST) {
		array->entry_num = 0;
		return -EINVAL;
	}
	for (i = 0; i != array->entry_num; i++) {
		rc = iommu_copy_struct_from_user_array(&inv, array,
						       IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
						       i, iotlb_id);
		if (!rc)
			rc = mock_nested_invalidate_one(to_mock_nested(domain),
							&inv);
		if (rc)
			break;
		cond_resched();
	}
	array->entry_num = i;
	return rc;
}

static const struct iommu_domain_ops mock_nested_ops = {
	.attach_dev = mock_nested_attach,
	.free = mock_nested_free,
	.cache_invalidate_user = mock_nested_invalidate,
};

static struct iommu_domain *
mock_nested_new(struct iommu_domain *parent,
		const struct iommu_user_data *user_data)
{
	struct iommu_hwpt_selftest data;
	struct mock_nested *mn;
	unsigned int i;
	int rc;

	if (!mock_domain_is_ours(parent))
		return ERR_PTR(-EINVAL);
	if (user_data->type != IOMMU_HWPT_DATA_SELFTEST)
		return ERR_PTR(-EOPNOTSUPP);
	rc = iommu_copy_struct_from_user(&data, user_data,
					 IOMMU_HWPT_DATA_SELFTEST, iotlb);
	if (rc)
		return ERR_PTR(rc);

	mn = kzalloc(sizeof(*mn), GFP_KERNEL);
	if (!mn)
		return ERR_PTR(-ENOMEM);
	mn->domain.type = IOMMU_DOMAIN_NESTED;
	mn->domain.ops = &mock_nested_ops;
	mn->parent = to_mock_paging(parent);
	for (i = 0; i != MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
		mn->iotlb[i] = data.iotlb;
	return &mn->domain;
}

/* Dirty tracking */

static int mock_dirty_enable(struct iommu_domain *domain, bool enable)
{
	/*
	 * Like VT-d and AMD hardware, keep the dirty bits of earlier rounds:
	 * clearing them is the core's job.
	 */
	WRITE_ONCE(to_mock_paging(domain)->track_dirty, enable);
	return 0;
}

static int mock_dirty_read(struct iommu_domain *domain, unsigned long iova,
			   size_t size, unsigned long flags,
			   struct iommu_dirty_bitmap *dirty)
{
	struct mock_paging *mp = to_mock_paging(domain);
	unsigned long last = (iova + size - 1) >> MOCK_IO_PAGE_SHIFT;
	unsigned long run_iova = 0, run_len = 0, idx;
	void *pte;

	/* Like hardware: nothing is logged unless tracking is on */
	if (!READ_ONCE(mp->track_dirty) && dirty->bitmap)
		return -EINVAL;
	if (!size)
		return 0;

	xa_for_each_range(&mp->ptes, idx, pte, iova >> MOCK_IO_PAGE_SHIFT,
			  last) {
		unsigned long val = xa_to_value(pte);
		unsigned long at = idx << MOCK_IO_PAGE_SHIFT;

		if (!(val & MOCK_PTE_DIRTY))
			continue;
		if (!(flags & IOMMU_DIRTY_NO_CLEAR))
			val = mock_pte_update(mp, idx, MOCK_PTE_DIRTY, 0);
		if (!(val & MOCK_PTE_DIRTY))
			continue;

		/* Report runs of dirty IO pages in one go */
		if (run_len && run_iova + run_len == at) {
			run_len += MOCK_IO_PAGE_SIZE;
			continue;
		}
		if (run_len)
			iommu_dirty_bitmap_record(dirty, run_iova, run_len);
		run_iova = at;
		run_len = MOCK_IO_PAGE_SIZE;
		cond_resched();
	}
	if (run_len)
		iommu_dirty_bitmap_record(dirty, run_iova, run_len);
	return 0;
}

static const struct iommu_dirty_ops mock_dirty_ops = {
	.set_dirty_tracking = mock_dirty_enable,
	.read_and_clear_dirty = mock_dirty_read,
};

/* The blocking domain, also the default domain of every mock device */

static int mock_blocked_attach(struct iommu_domain *domain, struct device *dev)
{
	return 0;
}

static const struct iommu_domain_ops mock_blocked_ops = {
	.attach_dev = mock_blocked_attach,
};

static struct iommu_domain mock_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &mock_blocked_ops,
};

/* IOMMU ops */

static struct mock_paging *mock_paging_new(struct mock_dev *mdev, bool dirty)
{
	struct mock_paging *mp = kzalloc(sizeof(*mp), GFP_KERNEL);

	if (!mp)
		return NULL;
	xa_init(&mp->ptes);
	mp->domain.type = IOMMU_DOMAIN_UNMANAGED;
	mp->domain.ops = &mock_paging_ops;
	mp->domain.owner = &mock_iommu_ops;
	mp->domain.pgsize_bitmap = MOCK_IO_PAGE_SIZE;
	if (mdev && (mdev->flags & MOCK_FLAGS_DEVICE_LATE_FINISH)) {
		/* No aperture yet; mock_paging_finish() gives it one */
		mp->unfinished = true;
	} else {
		if (mdev && (mdev->flags & MOCK_FLAGS_DEVICE_HUGE_IOVA))
			mp->domain.pgsize_bitmap |= MOCK_HUGE_PAGE_SIZE;
		mp->domain.geometry.aperture_start = MOCK_APERTURE_START;
		mp->domain.geometry.aperture_end = MOCK_APERTURE_LAST;
		mp->domain.geometry.force_aperture = true;
	}
	if (dirty)
		mp->domain.dirty_ops = &mock_dirty_ops;
	return mp;
}

static struct iommu_domain *mock_alloc_paging(struct device *dev)
{
	struct mock_paging *mp = mock_paging_new(mock_dev_of(dev), false);

	return mp ? &mp->domain : ERR_PTR(-ENOMEM);
}

static struct iommu_domain *
mock_alloc_user(struct device *dev, u32 flags, struct iommu_domain *parent,
		const struct iommu_user_data *user_data)
{
	struct mock_dev *mdev = mock_dev_of(dev);
	bool dirty = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	struct mock_paging *mp;

	if (!mdev)
		return ERR_PTR(-ENODEV);
	if (parent) {
		if (flags || !user_data)
			return ERR_PTR(-EOPNOTSUPP);
		return mock_nested_new(parent, user_data);
	}
	/* A nest parent is a plain paging domain; paging takes no data */
	if (user_data || (flags & ~MOCK_ALLOC_FLAGS))
		return ERR_PTR(-EOPNOTSUPP);
	if (dirty && (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return ERR_PTR(-EOPNOTSUPP);
	mp = mock_paging_new(mdev, dirty);
	return mp ? &mp->domain : ERR_PTR(-ENOMEM);
}

static bool mock_capable(struct device *dev, enum iommu_cap cap)
{
	struct mock_dev *mdev = mock_dev_of(dev);

	if (!mdev)
		return false;
	if (cap == IOMMU_CAP_CACHE_COHERENCY)
		return !(mdev->flags & MOCK_FLAGS_DEVICE_NO_COHERENCY);
	if (cap == IOMMU_CAP_DIRTY_TRACKING)
		return !(mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY);
	return false;
}

static void *mock_hw_info(struct device *dev, u32 *length, u32 *type)
{
	struct iommu_test_hw_info *info = kzalloc(sizeof(*info), GFP_KERNEL);

	if (!info)
		return ERR_PTR(-ENOMEM);
	info->test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL;
	*length = sizeof(*info);
	*type = IOMMU_HW_INFO_TYPE_SELFTEST;
	return info;
}

static struct iommu_device *mock_probe(struct device *dev)
{
	if (!mock_dev_of(dev))
		return ERR_PTR(-ENODEV);
	return &mock_iommu;
}

/* Alone, or in the group all SHARED_GROUP devices share */
static struct iommu_group *mock_device_group(struct device *dev)
{
	struct iommu_group *group;

	if (!(mock_dev_of(dev)->flags & MOCK_FLAGS_DEVICE_SHARED_GROUP))
		return generic_device_group(dev);
	mutex_lock(&mock_shared_group_lock);
	if (!mock_shared_group) {
		/* Our reference keeps it, empty or not, until exit */
		group = iommu_group_alloc();
		if (IS_ERR(group))
			goto out_unlock;
		mock_shared_group = group;
	}
	group = iommu_group_ref_get(mock_shared_group);
out_unlock:
	mutex_unlock(&mock_shared_group_lock);
	return group;
}

static void mock_get_resv_regions(struct device *dev, struct list_head *head)
{
	struct iommu_resv_region *msi;

	if (!(mock_dev_of(dev)->flags & MOCK_FLAGS_DEVICE_SW_MSI))
		return;
	msi = iommu_alloc_resv_region(MOCK_SW_MSI_BASE, MOCK_SW_MSI_LENGTH,
				      IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO,
				      IOMMU_RESV_SW_MSI, GFP_KERNEL);
	if (msi)
		list_add_tail(&msi->list, head);
}

/* I/O page faults */

static int mock_enable_feat(struct device *dev, enum iommu_dev_features feat)
{
	struct mock_dev *mdev = mock_dev_of(dev);
	int rc;

	if (!mdev || feat != IOMMU_DEV_FEAT_IOPF)
		return -ENODEV;
	lockdep_assert_held_write(&mdev->attach_rwsem);
	/* Like VT-d: enabling twice is a caller's bug. */
	if (mdev->iopf_on)
		return -EBUSY;
	rc = iopf_queue_add_device(mock_iopf_queue, dev);
	if (!rc)
		mdev->iopf_on = true;
	return rc;
}

static int mock_disable_feat(struct device *dev, enum iommu_dev_features feat)
{
	struct mock_dev *mdev = mock_dev_of(dev);

	if (!mdev || feat != IOMMU_DEV_FEAT_IOPF)
		return -ENODEV;
	lockdep_assert_held_write(&mdev->attach_rwsem);
	if (!mdev->iopf_on)
		return -EINVAL;
	/* The core answers what it still holds for the device. */
	iopf_queue_remove_device(mock_iopf_queue, dev);
	mdev->iopf_on = false;
	return 0;
}

/* The device's end of a page response: count it for the tests. */
static void mock_page_response(struct device *dev, struct iopf_fault *evt,
			       struct iommu_page_response *msg)
{
	struct mock_dev *mdev = mock_dev_of(dev);

	spin_lock(&mdev->answers_lock);
	if (msg->code == IOMMU_PAGE_RESP_SUCCESS)
		mdev->answers.out_success++;
	else if (msg->code == IOMMU_PAGE_RESP_INVALID)
		mdev->answers.out_invalid++;
	else
		mdev->answers.out_failure++;
	mdev->answers.out_last_grpid = msg->grpid;
	spin_unlock(&mdev->answers_lock);
}

static const struct iommu_ops mock_iommu_ops = {
	.capable = mock_capable,
	.hw_info = mock_hw_info,
	.domain_alloc_user = mock_alloc_user,
	.domain_alloc_paging = mock_alloc_paging,
	.probe_device = mock_probe,
	.device_group = mock_device_group,
	.get_resv_regions = mock_get_resv_regions,
	.dev_enable_feat = mock_enable_feat,
	.dev_disable_feat = mock_disable_feat,
	.page_response = mock_page_response,
	/* A PASID fault finds the RID's nested domain: its guest owns PASIDs */
	.user_pasid_table = true,
	.default_domain_ops = &mock_paging_ops,
	.pgsize_bitmap = MOCK_IO_PAGE_SIZE,
	.owner = THIS_MODULE,
	.blocked_domain = &mock_blocked_domain,
	/* BLOCKED is 0, so def_domain_type() cannot ask for it: declare it */
	.default_domain = &mock_blocked_domain,
};

/* Devices */

#if IS_BUILTIN(CONFIG_IOMMUFD)
/* Point the core's probe at the mock instance, before device_add() */
static int mock_dev_set_fwspec(struct device *dev)
{
	int rc;

	mutex_lock(&iommu_probe_device_lock);
	rc = iommu_fwspec_init(dev, &mock_iommu_fwnode);
	mutex_unlock(&iommu_probe_device_lock);
	return rc;
}

/* dev->iommu outlives the device only if device_add() failed early */
static void mock_dev_put_fwspec(struct device *dev)
{
	if (dev->iommu)
		dev_iommu_free(dev);
}
#else
static int mock_dev_set_fwspec(struct device *dev)
{
	return 0;
}

static void mock_dev_put_fwspec(struct device *dev)
{
}
#endif

static void mock_dev_release(struct device *dev)
{
	struct mock_dev *mdev = container_of(dev, struct mock_dev, dev);

	mock_dev_put_fwspec(dev);
	if (mdev->props)
		fwnode_remove_software_node(mdev->props);
	ida_free(&mock_dev_ids, dev->id);
	kfree(mdev);
}

/* Give the device the firmware property that sizes its PASID space */
static int mock_dev_add_pasid(struct mock_dev *mdev)
{
	const struct property_entry props[] = {
		PROPERTY_ENTRY_U32("pasid-num-bits", MOCK_PASID_WIDTH),
		{ }
	};
	struct fwnode_handle *node;

	node = fwnode_create_software_node(props, NULL);
	if (IS_ERR(node))
		return PTR_ERR(node);
	mdev->props = node;
	device_set_node(&mdev->dev, node);
	return 0;
}

struct mock_dev *mock_dev_create(unsigned int dev_flags)
{
	struct mock_dev *mdev;
	int id, rc;

	if (dev_flags & ~MOCK_DEV_FLAGS)
		return ERR_PTR(-EINVAL);
	id = ida_alloc(&mock_dev_ids, GFP_KERNEL);
	if (id < 0)
		return ERR_PTR(id);
	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL);
	if (!mdev) {
		ida_free(&mock_dev_ids, id);
		return ERR_PTR(-ENOMEM);
	}
	mdev->flags = dev_flags;
	init_rwsem(&mdev->attach_rwsem);
	spin_lock_init(&mdev->answers_lock);
	device_initialize(&mdev->dev);
	/* From here on the release function frees everything */
	mdev->dev.release = mock_dev_release;
	mdev->dev.bus = &mock_bus;
	mdev->dev.id = id;	/* named iommufd_mock<id> by device_add() */

	if (dev_flags & MOCK_FLAGS_DEVICE_PASID) {
		rc = mock_dev_add_pasid(mdev);
		if (rc)
			goto err_put;
	}
	rc = mock_dev_set_fwspec(&mdev->dev);
	if (rc)
		goto err_put;
	rc = device_add(&mdev->dev);
	if (rc)
		goto err_put;
	/* A failed probe does not fail device_add() */
	if (!mdev->dev.iommu_group) {
		device_unregister(&mdev->dev);
		return ERR_PTR(-ENODEV);
	}
	return mdev;

err_put:
	put_device(&mdev->dev);
	return ERR_PTR(rc);
}

void mock_dev_destroy(struct mock_dev *mdev)
{
	/* iommufd turns IOPF off with the last detach */
	WARN_ON(mdev->iopf_on);
	device_unregister(&mdev->dev);
}

void mock_dev_attach_begin(struct mock_dev *mdev)
{
	down_write(&mdev->attach_rwsem);
}

void mock_dev_attach_end(struct mock_dev *mdev)
{
	up_write(&mdev->attach_rwsem);
}

int mock_dev_raise_iopf(struct device *dev,
			const struct iommu_test_trigger_iopf *req, bool last)
{
	struct mock_dev *mdev = mock_dev_of(dev);
	struct iopf_fault evt = {
		.fault = {
			.type = IOMMU_FAULT_PAGE_REQ,
			.prm = {
				.pasid = req->pasid,
				.grpid = req->grpid,
				.perm = req->perm,
				.addr = req->addr,
			},
		},
	};
	int rc = 0;

	if (!mdev)
		return -EINVAL;
	if (req->pasid != IOMMU_NO_PASID)
		evt.fault.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID;
	if (last)
		evt.fault.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;

	down_read(&mdev->attach_rwsem);
	/* With page requests off the device cannot send one. */
	if (!mdev->iopf_on)
		rc = -EOPNOTSUPP;
	else
		iommu_report_device_fault(dev, &evt);
	up_read(&mdev->attach_rwsem);
	return rc;
}

int mock_dev_iopf_answers(struct device *dev,
			  struct iommu_test_lab_iopf_answers *out)
{
	struct mock_dev *mdev = mock_dev_of(dev);

	if (!mdev)
		return -EINVAL;
	spin_lock(&mdev->answers_lock);
	*out = mdev->answers;
	spin_unlock(&mdev->answers_lock);
	return 0;
}

struct device *mock_dev_to_dev(struct mock_dev *mdev)
{
	return &mdev->dev;
}

/* The test ops */

bool mock_domain_is_ours(struct iommu_domain *domain)
{
	return domain && domain->ops == &mock_paging_ops;
}

int mock_nested_check_iotlb(struct iommu_domain *domain, unsigned int id,
			    u32 iotlb)
{
	if (!domain || domain->ops != &mock_nested_ops ||
	    id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX)
		return -EINVAL;
	return READ_ONCE(to_mock_nested(domain)->iotlb[id]) == iotlb ? 0 :
								       -EINVAL;
}

int mock_domain_check_map(struct iommu_domain *domain, unsigned long iova,
			  unsigned long length, unsigned long uptr)
{
	struct mock_paging *mp;

	if (!mock_domain_is_ours(domain) || !length ||
	    ((iova | length | uptr) & (MOCK_IO_PAGE_SIZE - 1)) ||
	    iova + length - 1 < iova)
		return -EINVAL;
	mp = to_mock_paging(domain);

	while (length) {
		unsigned long in_page = offset_in_page(uptr);
		unsigned long span = min(length, PAGE_SIZE - in_page);
		unsigned long done;
		struct page *page;
		phys_addr_t phys;

		if (get_user_pages_fast(uptr - in_page, 1, 0, &page) != 1)
			return -EFAULT;
		phys = page_to_phys(page) + in_page;
		put_page(page);

		for (done = 0; done != span; done += MOCK_IO_PAGE_SIZE) {
			void *pte = xa_load(&mp->ptes,
					    (iova + done) >> MOCK_IO_PAGE_SHIFT);

			if (!pte || mock_pte_phys(pte) != phys + done)
				return -EIO;
		}
		iova += span;
		uptr += span;
		length -= span;
		cond_resched();
	}
	return 0;
}

/*
 * Mark the mapped IO pages of [start, start + len) dirty, all of a large page
 * for any of it. Return: whether any was mapped.
 */
static bool mock_mark_dirty(struct mock_paging *mp, unsigned long start,
			    unsigned long len)
{
	unsigned long last = (start + len - 1) >> MOCK_IO_PAGE_SHIFT;
	unsigned long idx, skip_to = 0;
	bool hit = false;
	void *pte;

	xa_for_each_range(&mp->ptes, idx, pte, start >> MOCK_IO_PAGE_SHIFT,
			  last) {
		hit = true;
		if (idx < skip_to)
			continue;
		if (xa_to_value(pte) & MOCK_PTE_HUGE) {
			unsigned long j = ALIGN_DOWN(idx, MOCK_HUGE_IO_PAGES);

			skip_to = j + MOCK_HUGE_IO_PAGES;
			for (; j != skip_to; j++)
				mock_pte_update(mp, j, 0, MOCK_PTE_DIRTY);
		} else {
			mock_pte_update(mp, idx, 0, MOCK_PTE_DIRTY);
		}
	}
	return hit;
}

int mock_domain_set_dirty(struct iommu_domain *domain, unsigned long iova,
			  unsigned long length, unsigned long page_size,
			  u64 __user *uptr, u64 *nr_dirty)
{
	const u8 __user *ubits = (const u8 __user *)uptr;
	unsigned long nbits, nbytes, pos;
	struct mock_paging *mp;
	u64 count = 0;
	u8 buf[256];

	if (!mock_domain_is_ours(domain) || !page_size || !length ||
	    iova % page_size || length % page_size)
		return -EINVAL;
	if (iova + length - 1 < iova)
		return -EOVERFLOW;
	nbits = length / page_size;
	if (nbits > MOCK_DIRTY_MAX_BITS)
		return -EOVERFLOW;
	mp = to_mock_paging(domain);
	if (!READ_ONCE(mp->track_dirty))
		return -EINVAL;

	nbytes = DIV_ROUND_UP(nbits, BITS_PER_BYTE);
	for (pos = 0; pos < nbytes; pos += sizeof(buf)) {
		unsigned long chunk = min_t(unsigned long, nbytes - pos,
					    sizeof(buf));
		unsigned long i;

		if (copy_from_user(buf, ubits + pos, chunk))
			return -EFAULT;
		for (i = 0; i != chunk; i++) {
			unsigned long base = (pos + i) * BITS_PER_BYTE;
			unsigned int byte = buf[i];

			/* Bits past the end of the bitmap do not count */
			if (nbits - base < BITS_PER_BYTE)
				byte &= (1U << (nbits - base)) - 1;
			while (byte) {
				unsigned long bit = base + __ffs(byte);

				byte &= byte - 1;
				if (mock_mark_dirty(mp, iova + bit * page_size,
						    page_size))
					count++;
			}
		}
		cond_resched();
	}
	*nr_dirty = count;
	return 0;
}

/* Registration */

int mock_iommu_init(void)
{
	int rc;

	mock_iopf_queue = iopf_queue_alloc("iommufd_mock");
	if (!mock_iopf_queue)
		return -ENOMEM;
	rc = bus_register(&mock_bus);
	if (rc)
		goto err_queue;
	rc = iommu_device_sysfs_add(&mock_iommu, NULL, NULL,
				    "iommufd_mock_iommu");
	if (rc)
		goto err_bus;

	fwnode_init(&mock_iommu_fwnode, NULL);
	if (IS_BUILTIN(CONFIG_IOMMUFD))
		mock_iommu.fwnode = &mock_iommu_fwnode;
	mock_iommu.max_pasids = 1U << MOCK_PASID_WIDTH;
	rc = iommu_device_register_bus(&mock_iommu, &mock_iommu_ops, &mock_bus,
				       &mock_bus_nb);
	if (rc)
		goto err_sysfs;
	return 0;

err_sysfs:
	iommu_device_sysfs_remove(&mock_iommu);
err_bus:
	bus_unregister(&mock_bus);
err_queue:
	iopf_queue_free(mock_iopf_queue);
	return rc;
}

void mock_iommu_exit(void)
{
	if (mock_shared_group)
		iommu_group_put(mock_shared_group);
	iommu_device_unregister_bus(&mock_iommu, &mock_bus, &mock_bus_nb);
	iommu_device_sysfs_remove(&mock_iommu);
	bus_unregister(&mock_bus);
	iopf_queue_free(mock_iopf_queue);
}
