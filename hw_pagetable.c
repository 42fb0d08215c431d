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
 * Nesting: a user's paging page table made with NEST_PARENT may carry
 * nested ones, each a stage-1 table in the user's memory and in a format
 * of the IOMMU driver (data_type), translated through the parent's
 * mappings. A nested page table holds its parent; the IOAS stays the
 * parent's concern. The user keeps the nested table's caches in step with
 * its memory through IOMMU_HWPT_INVALIDATE, which the driver carries out.
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
	if (hwpt->parent)
		iommufd_object_release(&hwpt->parent->obj);
	else
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
	hwpt->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;

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
 * @hwpt: a page table from iommufd_hwpt_new(), not filled yet; under
 *        ictx->attach_lock, unless nobody else can see it yet
 *
 * Everything the IOAS maps is mapped into the domain, and every later map
 * and unmap reaches it, until the page table is destroyed.
 *
 * Return: 0, or as iopt_add_domain().
 */
int iommufd_hwpt_fill(struct iommufd_hwpt *hwpt)
{
	int rc;

	rc = iopt_add_domain(&hwpt->ioas->iopt, hwpt->domain);
	if (!rc)
		hwpt->filled = true;
	return rc;
}

#define HWPT_ALLOC_FLAGS	(IOMMU_HWPT_ALLOC_NEST_PARENT | \
				 IOMMU_HWPT_ALLOC_DIRTY_TRACKING)

/*
 * A nested page table on @parent for @idev, from the driver's @data.
 * Returned unpublished.
 */
static struct iommufd_hwpt *
iommufd_hwpt_nested_new(struct iommufd_ctx *ictx, struct iommufd_hwpt *parent,
			struct iommufd_device *idev, u32 flags,
			const struct iommu_user_data *data)
{
	const struct iommu_ops *ops = dev_iommu_ops(idev->dev);
	struct iommu_domain *domain;
	struct iommufd_hwpt *hwpt;
	int rc;

	if (flags || !data->len || !ops->domain_alloc_user)
		return ERR_PTR(-EOPNOTSUPP);
	/* Only a user's paging table made for it, of the device's driver */
	if (parent->parent || parent->auto_domain || !parent->nest_parent ||
	    parent->domain->owner != ops)
		return ERR_PTR(-EINVAL);

	hwpt = iommufd_object_new(ictx, struct iommufd_hwpt, obj,
				  IOMMUFD_OBJ_HWPT);
	if (IS_ERR(hwpt))
		return hwpt;
	hwpt->ictx = ictx;
	hwpt->ioas = parent->ioas;
	hwpt->parent = parent;
	iommufd_object_hold(&parent->obj);
	INIT_LIST_HEAD(&hwpt->auto_link);
	hwpt->enforce_cache_coherency = parent->enforce_cache_coherency;

	domain = ops->domain_alloc_user(idev->dev, 0, parent->domain, data);
	if (IS_ERR_OR_NULL(domain)) {
		rc = domain ? PTR_ERR(domain) : -ENOMEM;
		goto err;
	}
	domain->owner = ops;
	hwpt->domain = domain;
	/* A driver's nested domain without invalidation is no use to us. */
	if (WARN_ON_ONCE(domain->type != IOMMU_DOMAIN_NESTED ||
			 !domain->ops->cache_invalidate_user)) {
		rc = -EINVAL;
		goto err;
	}
	return hwpt;
err:
	iommufd_object_discard_destroy(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

/* A paging page table on @ioas for @idev. Returned unpublished, filled. */
static struct iommufd_hwpt *
iommufd_hwpt_paging_new(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			struct iommufd_device *idev, u32 flags,
			const struct iommu_user_data *data)
{
	struct iommufd_hwpt *hwpt;
	int rc;

	/* No driver takes data for a paging domain in 6.12. */
	if (data->type != IOMMU_HWPT_DATA_NONE || (flags & ~HWPT_ALLOC_FLAGS))
		return ERR_PTR(-EOPNOTSUPP);
	hwpt = iommufd_hwpt_new(ictx, ioas, idev, flags, false);
	if (IS_ERR(hwpt))
		return hwpt;
	/*
	 * Unpublished, nobody else can reach it: filling, which pins the
	 * whole IOAS, holds up no attach of the context.
	 */
	rc = iommufd_hwpt_fill(hwpt);
	if (rc) {
		iommufd_object_discard_destroy(ictx, &hwpt->obj);
		return ERR_PTR(rc);
	}
	return hwpt;
}

int iommufd_hwpt_alloc_ioctl(struct iommufd_call *call)
{
	struct iommu_hwpt_alloc *cmd = call->cmd;
	const struct iommu_user_data data = {
		.type = cmd->data_type,
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.len = cmd->data_len,
	};
	struct iommufd_hwpt *hwpt, *parent;
	struct iommufd_object *pt;
	struct iommufd_device *idev;
	struct iommufd_ioas *ioas;
	bool typed;
	u32 flags;
	int rc;

	if (cmd->flags & ~(HWPT_ALLOC_FLAGS | IOMMU_HWPT_FAULT_ID_VALID) ||
	    cmd->__reserved || cmd->__reserved2)
		return -EOPNOTSUPP;
	/* Driver data and its type come together or not at all. */
	typed = cmd->data_type != IOMMU_HWPT_DATA_NONE;
	if (typed != !!cmd->data_len)
		return -EINVAL;
	/* Where faults go is ours to handle, not the driver's. */
	flags = cmd->flags & ~IOMMU_HWPT_FAULT_ID_VALID;

	idev = iommufd_device_get(call->ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	pt = iommufd_object_get(call->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt)) {
		/* Unlike other IDs, a missing parent is EINVAL (upstream ABI). */
		rc = -EINVAL;
		goto out_idev;
	}
	if (pt->type == IOMMUFD_OBJ_IOAS) {
		ioas = container_of(pt, struct iommufd_ioas, obj);
		/* As 6.12: a nest parent takes no faults, its nested ones do. */
		if ((cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) &&
		    (cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT))
			hwpt = ERR_PTR(-EOPNOTSUPP);
		else
			hwpt = iommufd_hwpt_paging_new(call->ictx, ioas, idev,
						       flags, &data);
	} else if (pt->type == IOMMUFD_OBJ_HWPT) {
		parent = container_of(pt, struct iommufd_hwpt, obj);
		hwpt = iommufd_hwpt_nested_new(call->ictx, parent, idev, flags,
					       &data);
	} else {
		hwpt = ERR_PTR(-EINVAL);
	}
	rc = PTR_ERR_OR_ZERO(hwpt);
	if (rc)
		goto out_pt;
	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		rc = iommufd_fault_bind(hwpt, cmd->fault_id);
		if (rc) {
			iommufd_object_discard_destroy(call->ictx, &hwpt->obj);
			goto out_pt;
		}
	}

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
	/* Dirty bits live in paging tables: a nested one is no such ID. */
	if (hwpt->parent)
		rc = -ENOENT;
	else if (!ops)
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
	if (walk.hwpt->parent || !walk.hwpt->domain->dirty_ops) {
		rc = walk.hwpt->parent ? -ENOENT : -EOPNOTSUPP;
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

/*
 * Bounds on one IOMMU_HWPT_INVALIDATE, so no user value makes a driver
 * loop or scan without limit: the entries are a page each at most (the
 * size check of a longer one reads its tail), and half a million of them.
 */
#define HWPT_INVALIDATE_ENTRY_LEN_MAX	PAGE_SIZE
#define HWPT_INVALIDATE_ENTRY_NUM_MAX	BIT(19)

int iommufd_hwpt_invalidate_ioctl(struct iommufd_call *call)
{
	struct iommu_hwpt_invalidate *cmd = call->cmd;
	struct iommu_user_data_array array = {
		.type = cmd->data_type,
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.entry_len = cmd->entry_len,
		.entry_num = cmd->entry_num,
	};
	struct iommufd_hwpt *hwpt;
	u32 done = 0;
	int rc;

	if (cmd->__reserved) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num &&
	    (!cmd->data_uptr || !cmd->entry_len ||
	     cmd->entry_len > HWPT_INVALIDATE_ENTRY_LEN_MAX ||
	     cmd->entry_num > HWPT_INVALIDATE_ENTRY_NUM_MAX)) {
		rc = -EINVAL;
		goto out;
	}
	hwpt = iommufd_hwpt_get(call->ictx, cmd->hwpt_id);
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		goto out;
	}
	/* Only the user's own tables have caches for the user to keep. */
	if (!hwpt->parent) {
		rc = -ENOENT;
	} else {
		/* The driver sets entry_num to the entries it carried out. */
		rc = hwpt->domain->ops->cache_invalidate_user(hwpt->domain,
							      &array);
		done = array.entry_num;
	}
	iommufd_object_put(call->ictx, &hwpt->obj);
out:
	/* How many entries took effect, failed or not. */
	cmd->entry_num = done;
	if (iommufd_call_reply(call, sizeof(*cmd)))
		return -EFAULT;
	return rc;
}
