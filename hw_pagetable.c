// SPDX-License-Identifier: GPL-2.0-only
/*
 * HW_PAGETABLE objects: one iommu_domain each, kept a mirror of the IOAS it
 * was made on (io_pagetable.c does the mirroring).
 *
 * A page table is automatic when an attach to an IOAS made it: the kernel
 * owns it (a user's DESTROY gets EBUSY) and destroys it when its last
 * device leaves. The user's own, from IOMMU_HWPT_ALLOC, live until the user
 * destroys them, which attached devices prevent (EBUSY).
 *
 * A page table made with IOMMU_HWPT_FAULT_ID_VALID holds a fault queue and
 * reports its domain's I/O page faults there (fault_queue.c).
 *
 * Locking: ictx->attach_lock covers attachments and the list of automatic
 * page tables of each IOAS; the domain's own mappings follow the locking
 * of io_pagetable.c.
 */
#include <linux/iommu.h>
#include <linux/iova_bitmap.h>

#include "../iommu-priv.h"
#include "iommufd_private.h"

static void iommufd_hwpt_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt *hwpt = container_of(obj, struct iommufd_hwpt, obj);

	/* Automatic ones left ioas->auto_hwpts under attach_lock already. */
	if (hwpt->filled)
		iopt_remove_domain(&hwpt->ioas->iopt, hwpt->domain);
	if (hwpt->domain)
		iommu_domain_free(hwpt->domain);
	iommufd_fault_unbind(hwpt);
	iommufd_object_release(&hwpt->ioas->obj);
}

const struct iommufd_object_type_ops iommufd_hwpt_type = {
	.name = "hw_pagetable",
	.destroy = iommufd_hwpt_destroy,
};

/* A paging domain for @dev; @flags are IOMMU_HWPT_ALLOC_* */
static struct iommu_domain *iommufd_domain_alloc(struct device *dev, u32 flags)
{
	const struct iommu_ops *ops = dev_iommu_ops(dev);
	struct iommu_domain *domain;

	if ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
	    !device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING))
		return ERR_PTR(-EOPNOTSUPP);

	if (ops->domain_alloc_user) {
		domain = ops->domain_alloc_user(dev, flags, NULL, NULL);
		if (!domain)
			return ERR_PTR(-ENOMEM);
		if (!IS_ERR(domain))
			domain->owner = ops;
		return domain;
	}
	if (flags)
		return ERR_PTR(-EOPNOTSUPP);
	return iommu_paging_domain_alloc(dev);
}

/**
 * iommufd_hwpt_new - a page table for a device, on an IOAS
 * @ictx: the context
 * @ioas: the IOAS, borrowed by the caller; the page table holds it
 * @idev: the device the domain must suit
 * @flags: IOMMU_HWPT_ALLOC_* flags
 * @auto_domain: made by an attach, owned by the kernel
 *
 * The page table is returned unpublished and empty: iommufd_hwpt_fill()
 * makes it mirror the IOAS. Some drivers finish a domain only when a
 * device attaches to it, so an automatic page table is filled after its
 * first attach.
 *
 * Return: the page table or an ERR_PTR.
 */
struct iommufd_hwpt *iommufd_hwpt_new(struct iommufd_ctx *ictx,
				      struct iommufd_ioas *ioas,
				      struct iommufd_device *idev, u32 flags,
				      bool auto_domain)
{
	struct iommu_domain *domain;
	struct iommufd_hwpt *hwpt;
	int rc;

	hwpt = iommufd_object_new(ictx, struct iommufd_hwpt, obj,
				  IOMMUFD_OBJ_HWPT);
	if (IS_ERR(hwpt))
		return hwpt;
	hwpt->ictx = ictx;
	hwpt->ioas = ioas;
	iommufd_object_hold(&ioas->obj);
	INIT_LIST_HEAD(&hwpt->auto_link);
	hwpt->auto_domain = auto_domain;

	domain = iommufd_domain_alloc(idev->dev, flags);
	if (IS_ERR(domain)) {
		rc = PTR_ERR(domain);
		goto err;
	}
	hwpt->domain = domain;
	if (domain->type != IOMMU_DOMAIN_UNMANAGED || !domain->pgsize_bitmap) {
		rc = -EOPNOTSUPP;
		goto err;
	}

	/* Devices that can keep DMA coherent get a domain that insists. */
	if (idev->enforce_cache_coherency) {
		hwpt->enforce_cache_coherency =
			domain->ops->enforce_cache_coherency &&
			domain->ops->enforce_cache_coherency(domain);
		if (!hwpt->enforce_cache_coherency) {
			rc = -EINVAL;
			goto err;
		}
	}
	if (auto_domain)
		iommufd_object_hold(&hwpt->obj);	/* the kernel's own */
	return hwpt;
err:
	iommufd_object_discard_destroy(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

/**
 * iommufd_hwpt_fill - make a new page table mirror its IOAS
 * @hwpt: a page table from iommufd_hwpt_new(), not filled yet
 *
 * Everything the IOAS maps is mapped into the domain, and every later map
 * and unmap reaches it, until the page table is destroyed.
 *
 * Return: 0, or as iopt_add_domain().
 */
int iommufd_hwpt_fill(struct iommufd_hwpt *hwpt)
{
	int rc;

	lockdep_assert_held(&hwpt->ictx->attach_lock);
	rc = iopt_add_domain(&hwpt->ioas->iopt, hwpt->domain);
	if (!rc)
		hwpt->filled = true;
	return rc;
}

#define HWPT_ALLOC_FLAGS	(IOMMU_HWPT_ALLOC_NEST_PARENT | \
				 IOMMU_HWPT_ALLOC_DIRTY_TRACKING)

int iommufd_hwpt_alloc_ioctl(struct iommufd_call *call)
{
	struct iommu_hwpt_alloc *cmd = call->cmd;
	struct iommufd_object *pt;
	bool typed;
	struct iommufd_device *idev;
	struct iommufd_hwpt *hwpt;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags & ~(HWPT_ALLOC_FLAGS | IOMMU_HWPT_FAULT_ID_VALID) ||
	    cmd->__reserved || cmd->__reserved2)
		return -EOPNOTSUPP;
	/* Driver data and its type come together or not at all. */
	typed = cmd->data_type != IOMMU_HWPT_DATA_NONE;
	if (typed != !!cmd->data_len)
		return -EINVAL;
	/* Nested page tables are not offered. */
	if (cmd->data_type != IOMMU_HWPT_DATA_NONE)
		return -EOPNOTSUPP;

	idev = iommufd_device_get(call->ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	pt = iommufd_object_get(call->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt)) {
		/* Unlike other IDs, a missing parent is EINVAL (upstream ABI). */
		rc = -EINVAL;
		goto out_idev;
	}
	if (pt->type != IOMMUFD_OBJ_IOAS) {
		/* On a page table it would be a nested one. */
		rc = pt->type == IOMMUFD_OBJ_HWPT ? -EOPNOTSUPP : -EINVAL;
		goto out_pt;
	}
	ioas = container_of(pt, struct iommufd_ioas, obj);
	/* As 6.12: a nest parent does not take faults, the nested one does. */
	if ((cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) &&
	    (cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
		rc = -EOPNOTSUPP;
		goto out_pt;
	}

	mutex_lock(&call->ictx->attach_lock);
	/* Where faults go is ours to handle, not the driver's. */
	hwpt = iommufd_hwpt_new(call->ictx, ioas, idev,
				cmd->flags & ~IOMMU_HWPT_FAULT_ID_VALID, false);
	rc = PTR_ERR_OR_ZERO(hwpt);
	if (!rc) {
		rc = iommufd_hwpt_fill(hwpt);
		if (!rc && (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID))
			rc = iommufd_fault_bind(hwpt, cmd->fault_id);
		if (rc)
			iommufd_object_discard_destroy(call->ictx, &hwpt->obj);
	}
	mutex_unlock(&call->ictx->attach_lock);
	if (rc)
		goto out_pt;
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_call_reply(call, sizeof(*cmd));
	if (rc)
		iommufd_object_discard_destroy(call->ictx, &hwpt->obj);
	else
		iommufd_object_publish(call->ictx, &hwpt->obj);
out_pt:
	iommufd_object_put(call->ictx, pt);
out_idev:
	iommufd_object_put(call->ictx, &idev->obj);
	return rc;
}

int iommufd_hwpt_set_dirty_ioctl(struct iommufd_call *call)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = call->cmd;
	const struct iommu_dirty_ops *ops;
	struct iommufd_hwpt *hwpt;
	int rc;

	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE || cmd->__reserved)
		return -EOPNOTSUPP;
	hwpt = iommufd_hwpt_get(call->ictx, cmd->hwpt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	ops = hwpt->domain->dirty_ops;
	if (!ops)
		rc = -EOPNOTSUPP;
	else
		rc = iopt_set_dirty_tracking(&hwpt->ioas->iopt, hwpt->domain,
					     cmd->flags &
					     IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	iommufd_object_put(call->ictx, &hwpt->obj);
	return rc;
}

struct iommufd_dirty_walk {
	struct iommufd_hwpt *hwpt;
	unsigned long flags;
	struct iommu_iotlb_gather gather;
};

/* One chunk of the bitmap: ask the IOMMU for the dirty bits it covers. */
static int iommufd_dirty_chunk(struct iova_bitmap *bitmap, unsigned long iova,
			       size_t length, void *opaque)
{
	struct iommufd_dirty_walk *walk = opaque;
	struct iommu_domain *domain = walk->hwpt->domain;
	struct iommu_dirty_bitmap dirty;

	iommu_dirty_bitmap_init(&dirty, bitmap, &walk->gather);
	return domain->dirty_ops->read_and_clear_dirty(domain, iova, length,
						       walk->flags, &dirty);
}

int iommufd_hwpt_get_dirty_ioctl(struct iommufd_call *call)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = call->cmd;
	struct iommufd_dirty_walk walk = {};
	struct io_pagetable *iopt;
	struct iova_bitmap *bitmap;
	unsigned long last;
	int rc;

	if (cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX)
		return -EOVERFLOW;
	if (!cmd->length || !cmd->page_size ||
	    !is_power_of_2(cmd->page_size) ||
	    ((cmd->iova | cmd->length) & (cmd->page_size - 1)))
		return -EINVAL;
	if (check_add_overflow((unsigned long)cmd->iova,
			       (unsigned long)cmd->length - 1, &last))
		return -EOVERFLOW;

	walk.hwpt = iommufd_hwpt_get(call->ictx, cmd->hwpt_id);
	if (IS_ERR(walk.hwpt))
		return PTR_ERR(walk.hwpt);
	if (!walk.hwpt->domain->dirty_ops) {
		rc = -EOPNOTSUPP;
		goto out_put;
	}
	iopt = &walk.hwpt->ioas->iopt;
	if (cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR)
		walk.flags = IOMMU_DIRTY_NO_CLEAR;
	iommu_iotlb_gather_init(&walk.gather);

	down_read(&iopt->iova_rwsem);
	rc = -EINVAL;
	if (!((cmd->iova | cmd->length) & (iopt->iova_alignment - 1)) &&
	    iopt_is_mapped(iopt, cmd->iova, last)) {
		bitmap = iova_bitmap_alloc(cmd->iova, cmd->length,
					   cmd->page_size,
					   u64_to_user_ptr(cmd->data));
		rc = PTR_ERR_OR_ZERO(bitmap);
		if (!rc) {
			rc = iova_bitmap_for_each(bitmap, &walk,
						  iommufd_dirty_chunk);
			iova_bitmap_free(bitmap);
		}
		/* Cleared bits must reach the IOTLB before we report. */
		iommu_iotlb_sync(walk.hwpt->domain, &walk.gather);
	}
	up_read(&iopt->iova_rwsem);
out_put:
	iommufd_object_put(call->ictx, &walk.hwpt->obj);
	return rc;
}

int iommufd_hwpt_invalidate_ioctl(struct iommufd_call *call)
{
	struct iommu_hwpt_invalidate *cmd = call->cmd;
	struct iommufd_hwpt *hwpt;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len))
		return -EINVAL;
	/* Only nested page tables take invalidations, and none exist here. */
	hwpt = iommufd_hwpt_get(call->ictx, cmd->hwpt_id);
	if (!IS_ERR(hwpt))
		iommufd_object_put(call->ictx, &hwpt->obj);
	rc = -ENOENT;
	cmd->entry_num = 0;
	if (iommufd_call_reply(call, sizeof(*cmd)))
		return -EFAULT;
	return rc;
}
