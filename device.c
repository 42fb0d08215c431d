// SPDX-License-Identifier: GPL-2.0-only
/*
 * Devices bound by external drivers (VFIO, VDPA) and their attachment to
 * I/O page tables.
 *
 * Binding claims DMA ownership of the device's iommu_group for the context,
 * so the group's devices can only be reached through it. The devices of
 * one group bound to a context share one struct iommufd_group, and one
 * attachment: the first device to attach puts the whole group behind the
 * page table, the last one to leave takes it back to the blocking domain.
 * Each attached device holds its page table and keeps its reserved IOVA
 * regions reserved in the page table's IOAS.
 *
 * A device attached to a page table with a fault queue has its I/O page
 * faults turned on; fault_queue.c does that, and every domain change, so
 * that the core finds the fault handler.
 *
 * Locking: ictx->attach_lock serializes binds, unbinds, attaches,
 * replaces and detaches of the context, and covers the iommufd_group
 * fields. It is taken outside the io_pagetable locks.
 */
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "../iommu-priv.h"
#include "iommufd_private.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Bind devices whose MSIs the platform cannot isolate; a device can then forge interrupts");

MODULE_IMPORT_NS(IOMMUFD_INTERNAL);

/* The context's iommufd_group for @group, made on first use. */
static struct iommufd_group *iommufd_group_get(struct iommufd_ctx *ictx,
					       struct iommu_group *group)
{
	unsigned int id = iommu_group_id(group);
	struct iommufd_group *igroup;
	int rc;

	lockdep_assert_held(&ictx->attach_lock);
	igroup = xa_load(&ictx->groups, id);
	if (igroup) {
		igroup->users++;
		return igroup;
	}
	igroup = kzalloc(sizeof(*igroup), GFP_KERNEL_ACCOUNT);
	if (!igroup)
		return ERR_PTR(-ENOMEM);
	igroup->ictx = ictx;
	igroup->group = group;
	igroup->users = 1;
	INIT_LIST_HEAD(&igroup->devices);
	rc = xa_insert(&ictx->groups, id, igroup, GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(igroup);
		return ERR_PTR(rc);
	}
	iommu_group_ref_get(group);
	return igroup;
}

static void iommufd_group_put(struct iommufd_group *igroup)
{
	lockdep_assert_held(&igroup->ictx->attach_lock);
	if (--igroup->users)
		return;
	WARN_ON(igroup->hwpt || !list_empty(&igroup->devices));
	xa_erase(&igroup->ictx->groups, iommu_group_id(igroup->group));
	iommu_group_put(igroup->group);
	kfree(igroup);
}

static void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev =
		container_of(obj, struct iommufd_device, obj);
	struct iommufd_ctx *ictx = idev->ictx;

	atomic_dec(&idev->igroup->owned);
	iommu_device_release_dma_owner(idev->dev);
	mutex_lock(&ictx->attach_lock);
	iommufd_group_put(idev->igroup);
	mutex_unlock(&ictx->attach_lock);
	/* Last: this may drop the final reference to the context's file. */
	if (idev->holds_ctx)
		iommufd_ctx_put(ictx);
}

const struct iommufd_object_type_ops iommufd_device_type = {
	.name = "device",
	.destroy = iommufd_device_destroy,
};

/**
 * __iommufd_device_bind - iommufd_device_bind(), or the test driver's bind
 * @ictx: the context
 * @dev: the device
 * @id: set to the device object's ID
 * @real: a real device: it keeps the context open and needs isolated MSIs.
 *        The test driver's mock devices go away with the context and have
 *        no interrupts at all.
 *
 * Return: the device or an ERR_PTR, see iommufd_device_bind().
 */
struct iommufd_device *__iommufd_device_bind(struct iommufd_ctx *ictx,
					     struct device *dev, u32 *id,
					     bool real)
{
	struct iommufd_group *igroup;
	struct iommufd_device *idev;
	struct iommu_group *group;
	int rc;

	/* Every mapping gets IOMMU_CACHE: there is no way to ask otherwise. */
	if (!device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY))
		return ERR_PTR(-EINVAL);
	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	/* A device that can forge MSIs could reach other devices' vectors. */
	if (real && !iommu_group_has_isolated_msi(group) &&
	    !allow_unsafe_interrupts) {
		dev_warn(dev, "iommufd: MSIs of this device are not isolated; see the allow_unsafe_interrupts parameter\n");
		rc = -EPERM;
		goto out_group;
	}

	mutex_lock(&ictx->attach_lock);
	igroup = iommufd_group_get(ictx, group);
	mutex_unlock(&ictx->attach_lock);
	if (IS_ERR(igroup)) {
		rc = PTR_ERR(igroup);
		goto out_group;
	}

	rc = iommu_device_claim_dma_owner(dev, ictx);
	if (rc)
		goto out_igroup;

	idev = iommufd_object_new(ictx, struct iommufd_device, obj,
				  IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(idev)) {
		rc = PTR_ERR(idev);
		goto out_owner;
	}
	/* Only now does the context own the group's DMA. */
	atomic_inc(&igroup->owned);
	idev->ictx = ictx;
	idev->igroup = igroup;
	idev->dev = dev;
	INIT_LIST_HEAD(&idev->group_link);
	idev->enforce_cache_coherency =
		device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
	idev->holds_ctx = real;
	if (real)
		iommufd_ctx_get(ictx);
	/* The driver's hold until unbind: the user cannot destroy it. */
	iommufd_object_hold(&idev->obj);
	iommufd_object_publish(ictx, &idev->obj);
	iommu_group_put(group);
	*id = idev->obj.id;
	return idev;

out_owner:
	iommu_device_release_dma_owner(dev);
out_igroup:
	mutex_lock(&ictx->attach_lock);
	iommufd_group_put(igroup);
	mutex_unlock(&ictx->attach_lock);
out_group:
	iommu_group_put(group);
	return ERR_PTR(rc);
}

/**
 * iommufd_device_bind - make a device part of a context
 * @ictx: the context
 * @dev: the device; its driver must have set driver_managed_dma
 * @id: set to the device object's ID on success
 *
 * DMA ownership of the device's group goes to the context: the group's
 * devices are blocked from DMA until attached to a page table. The device
 * keeps the context open until iommufd_device_unbind().
 *
 * Return: the device, or ERR_PTR(-ENODEV) without an IOMMU group,
 * ERR_PTR(-EINVAL) when its IOMMU cannot keep DMA cache coherent,
 * ERR_PTR(-EPERM) for unisolated MSIs or a group owned elsewhere,
 * ERR_PTR(-EBUSY), ERR_PTR(-ENOMEM).
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *id)
{
	return __iommufd_device_bind(ictx, dev, id, true);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_bind, IOMMUFD);

/**
 * iommufd_device_to_id - the object ID of a bound device
 * @idev: the device
 *
 * Return: the ID.
 */
u32 iommufd_device_to_id(struct iommufd_device *idev)
{
	return idev->obj.id;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_id, IOMMUFD);

/* Reserve @idev's reserved regions in @iopt, owned by @idev. */
static int iommufd_device_reserve(struct iommufd_device *idev,
				  struct io_pagetable *iopt)
{
	struct iommu_resv_region *resv;
	LIST_HEAD(regions);
	int rc = 0;

	iommu_get_resv_regions(idev->dev, &regions);
	list_for_each_entry(resv, &regions, list) {
		/* Relaxable direct maps may be given up for user mappings. */
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE || !resv->length)
			continue;
		rc = iopt_reserve_iova(iopt, resv->start,
				       resv->start + resv->length - 1, idev);
		if (rc)
			break;
	}
	iommu_put_resv_regions(idev->dev, &regions);
	if (rc)
		iopt_unreserve_owner(iopt, idev);
	return rc;
}

/* The start of @idev's software MSI window, PHYS_ADDR_MAX without one. */
static phys_addr_t iommufd_device_sw_msi(struct iommufd_device *idev)
{
	phys_addr_t start = PHYS_ADDR_MAX;
	struct iommu_resv_region *resv;
	LIST_HEAD(regions);

	iommu_get_resv_regions(idev->dev, &regions);
	list_for_each_entry(resv, &regions, list)
		if (resv->type == IOMMU_RESV_SW_MSI)
			start = resv->start;
	iommu_put_resv_regions(idev->dev, &regions);
	return start;
}

static bool iommufd_device_attached(struct iommufd_device *idev)
{
	return !list_empty(&idev->group_link);
}

/*
 * Whether @idev may use @hwpt at all: the domain must come from the
 * device's own IOMMU driver (the core does not check it on replace, and a
 * driver handed a foreign domain or device crashes), and keep DMA coherent
 * if the page table insists.
 */
static bool iommufd_hwpt_suits(struct iommufd_hwpt *hwpt,
			       struct iommufd_device *idev)
{
	if (hwpt->domain->owner != dev_iommu_ops(idev->dev))
		return false;
	return !hwpt->enforce_cache_coherency || idev->enforce_cache_coherency;
}

/*
 * A device with a software MSI window (IOMMU_RESV_SW_MSI) needs the
 * domain to map its MSI doorbells there; the domain gets that cookie once,
 * before the first such device starts using it.
 */
static int iommufd_hwpt_msi(struct iommufd_hwpt *hwpt,
			    struct iommufd_device *idev)
{
	/* Under a nested table the doorbells are mapped in the parent. */
	struct iommufd_hwpt *paging = iommufd_hwpt_paging(hwpt);
	phys_addr_t sw_msi;
	int rc;

	if (paging->msi_cookie)
		return 0;
	sw_msi = iommufd_device_sw_msi(idev);
	if (sw_msi == PHYS_ADDR_MAX)
		return 0;
	rc = iommu_get_msi_cookie(paging->domain, sw_msi);
	if (rc)
		return rc;
	paging->msi_cookie = true;
	return 0;
}

/*
 * The group of @idev was just put behind @hwpt for the first time: a new
 * page table starts mirroring its IOAS now, and one that mirrors it
 * already follows what the driver may have finished at attach.
 */
static int iommufd_hwpt_attached(struct iommufd_hwpt *hwpt)
{
	/* A nested table maps nothing of ours; its parent does. */
	if (hwpt->parent)
		return 0;
	if (!hwpt->filled)
		return iommufd_hwpt_fill(hwpt);
	return iopt_refresh_domain(&hwpt->ioas->iopt, hwpt->domain);
}

static int iommufd_device_attach_hwpt(struct iommufd_device *idev,
				      struct iommufd_hwpt *hwpt)
{
	struct iommufd_group *igroup = idev->igroup;
	int rc;

	lockdep_assert_held(&idev->ictx->attach_lock);
	if (hwpt->dying)
		return -ENOENT;
	if (iommufd_device_attached(idev) ||
	    (igroup->hwpt && igroup->hwpt != hwpt) ||
	    !iommufd_hwpt_suits(hwpt, idev))
		return -EINVAL;

	rc = iommufd_device_reserve(idev, &hwpt->ioas->iopt);
	if (rc)
		return rc;
	rc = iommufd_hwpt_msi(hwpt, idev);
	if (rc)
		goto err_unreserve;
	rc = iommufd_fault_dev_enter(idev, hwpt);
	if (rc)
		goto err_unreserve;
	if (!igroup->hwpt) {
		rc = iommufd_fault_group_attach(hwpt, igroup->group);
		if (rc)
			goto err_leave;
		rc = iommufd_hwpt_attached(hwpt);
		if (rc) {
			iommufd_fault_group_detach(hwpt, igroup->group);
			goto err_leave;
		}
		igroup->hwpt = hwpt;
	}
	list_add_tail(&idev->group_link, &igroup->devices);
	iommufd_object_hold(&hwpt->obj);
	return 0;

err_leave:
	iommufd_fault_dev_leave(idev, hwpt, NULL);
err_unreserve:
	iopt_unreserve_owner(&hwpt->ioas->iopt, idev);
	return rc;
}

/*
 * An automatic page table goes when only the kernel's hold is left. It is
 * marked dying under attach_lock and removed by the caller after dropping
 * the lock: a concurrent attach may be borrowing it while it waits for the
 * lock, and the removal waits for such borrows to end.
 */
static struct iommufd_hwpt *iommufd_hwpt_put_auto(struct iommufd_hwpt *hwpt)
{
	lockdep_assert_held(&hwpt->ictx->attach_lock);
	if (!hwpt->auto_domain || atomic_read(&hwpt->obj.holders) != 1)
		return NULL;
	list_del_init(&hwpt->auto_link);
	hwpt->dying = true;
	return hwpt;
}

/* The second half of iommufd_hwpt_put_auto(), without attach_lock. */
static void iommufd_hwpt_remove_auto(struct iommufd_hwpt *hwpt)
{
	if (hwpt)
		iommufd_object_remove(hwpt->ictx, &hwpt->obj, 0,
				      IOMMUFD_REMOVE_OWNER);
}

static struct iommufd_hwpt *
iommufd_device_detach_hwpt(struct iommufd_device *idev)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hwpt *hwpt = igroup->hwpt;

	lockdep_assert_held(&idev->ictx->attach_lock);
	list_del_init(&idev->group_link);
	if (list_empty(&igroup->devices)) {
		iommufd_fault_group_detach(hwpt, igroup->group);
		igroup->hwpt = NULL;
	}
	iommufd_fault_dev_leave(idev, hwpt, NULL);
	iopt_unreserve_owner(&hwpt->ioas->iopt, idev);
	iommufd_object_release(&hwpt->obj);
	return iommufd_hwpt_put_auto(hwpt);
}

/* Move the whole group of @idev to @hwpt in one step. */
static int iommufd_device_replace_hwpt(struct iommufd_device *idev,
				       struct iommufd_hwpt *hwpt,
				       struct iommufd_hwpt **gone)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hwpt *old = igroup->hwpt;
	bool other_ioas = old && old->ioas != hwpt->ioas;
	struct iommufd_device *cur;
	int rc = 0;

	lockdep_assert_held(&idev->ictx->attach_lock);
	if (hwpt->dying)
		return -ENOENT;
	if (!iommufd_device_attached(idev))
		return -EINVAL;
	if (old == hwpt)
		return 0;
	list_for_each_entry(cur, &igroup->devices, group_link)
		if (!iommufd_hwpt_suits(hwpt, cur))
			return -EINVAL;

	/* The regions stay where they are when the IOAS does not change. */
	list_for_each_entry(cur, &igroup->devices, group_link) {
		if (other_ioas)
			rc = iommufd_device_reserve(cur, &hwpt->ioas->iopt);
		if (!rc)
			rc = iommufd_hwpt_msi(hwpt, cur);
		if (!rc)
			rc = iommufd_fault_dev_enter(cur, hwpt);
		if (rc)
			break;
	}
	/* A new automatic page table mirrors the IOAS before DMA moves. */
	if (!rc && !hwpt->filled && !hwpt->parent)
		rc = iommufd_hwpt_fill(hwpt);
	if (!rc)
		rc = iommufd_fault_group_replace(igroup->group, old, hwpt);
	/* The driver may have finished the domain just now. */
	if (!rc && !hwpt->parent) {
		rc = iopt_refresh_domain(&hwpt->ioas->iopt, hwpt->domain);
		if (rc && iommufd_fault_group_replace(igroup->group, hwpt, old))
			dev_err(idev->dev, "iommufd: cannot return to the page table it left\n");
	}
	if (rc) {
		list_for_each_entry(cur, &igroup->devices, group_link) {
			iommufd_fault_dev_leave(cur, hwpt, old);
			if (other_ioas)
				iopt_unreserve_owner(&hwpt->ioas->iopt, cur);
		}
		return rc;
	}

	igroup->hwpt = hwpt;
	list_for_each_entry(cur, &igroup->devices, group_link) {
		iommufd_fault_dev_leave(cur, old, hwpt);
		iommufd_object_hold(&hwpt->obj);
		iommufd_object_release(&old->obj);
		if (other_ioas)
			iopt_unreserve_owner(&old->ioas->iopt, cur);
	}
	*gone = iommufd_hwpt_put_auto(old);
	return 0;
}

/*
 * Attach (or with @replace, move) to an automatic page table of @ioas: the
 * one the device's group already uses, one that exists if the device can
 * use it, else a new one.
 */
static struct iommufd_hwpt *
iommufd_device_attach_ioas(struct iommufd_device *idev,
			   struct iommufd_ioas *ioas, bool replace,
			   struct iommufd_hwpt **gone)
{
	struct iommufd_hwpt *hwpt = idev->igroup->hwpt;
	int rc;

	if (replace && !iommufd_device_attached(idev))
		return ERR_PTR(-EINVAL);
	if (!replace && iommufd_device_attached(idev))
		return ERR_PTR(-EINVAL);
	/* Another device of the group is attached: join it, on this IOAS. */
	if (!replace && hwpt) {
		if (hwpt->ioas != ioas)
			return ERR_PTR(-EINVAL);
		rc = iommufd_device_attach_hwpt(idev, hwpt);
		return rc ? ERR_PTR(rc) : hwpt;
	}

	list_for_each_entry(hwpt, &ioas->auto_hwpts, auto_link) {
		rc = replace ? iommufd_device_replace_hwpt(idev, hwpt, gone) :
			       iommufd_device_attach_hwpt(idev, hwpt);
		if (!rc)
			return hwpt;
		/* -EINVAL: this domain does not suit the device, try more. */
		if (rc != -EINVAL)
			return ERR_PTR(rc);
	}

	hwpt = iommufd_hwpt_new(idev->ictx, ioas, idev, 0, true);
	if (IS_ERR(hwpt))
		return hwpt;
	rc = replace ? iommufd_device_replace_hwpt(idev, hwpt, gone) :
		       iommufd_device_attach_hwpt(idev, hwpt);
	if (rc) {
		iommufd_object_release(&hwpt->obj);
		iommufd_object_discard_destroy(idev->ictx, &hwpt->obj);
		return ERR_PTR(rc);
	}
	list_add_tail(&hwpt->auto_link, &ioas->auto_hwpts);
	iommufd_object_publish(idev->ictx, &hwpt->obj);
	return hwpt;
}

static int iommufd_device_change(struct iommufd_device *idev, u32 *pt_id,
				 bool replace)
{
	struct iommufd_ctx *ictx = idev->ictx;
	struct iommufd_hwpt *hwpt, *gone = NULL;
	struct iommufd_object *pt;
	struct iommufd_ioas *ioas;
	int rc = 0;

	pt = iommufd_object_get(ictx, *pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt))
		return PTR_ERR(pt);

	mutex_lock(&ictx->attach_lock);
	switch (pt->type) {
	case IOMMUFD_OBJ_HWPT:
		hwpt = container_of(pt, struct iommufd_hwpt, obj);
		rc = replace ? iommufd_device_replace_hwpt(idev, hwpt, &gone) :
			       iommufd_device_attach_hwpt(idev, hwpt);
		break;
	case IOMMUFD_OBJ_IOAS:
		ioas = container_of(pt, struct iommufd_ioas, obj);
		hwpt = iommufd_device_attach_ioas(idev, ioas, replace, &gone);
		rc = PTR_ERR_OR_ZERO(hwpt);
		break;
	default:
		rc = -EINVAL;
	}
	if (!rc)
		*pt_id = hwpt->obj.id;
	mutex_unlock(&ictx->attach_lock);
	iommufd_object_put(ictx, pt);
	iommufd_hwpt_remove_auto(gone);
	return rc;
}

/**
 * iommufd_device_attach - attach a bound device to an IOAS or HW_PAGETABLE
 * @idev: the device
 * @pt_id: the IOAS or page table ID; on success, the page table used
 *
 * Given an IOAS, the device goes behind an automatic page table of it:
 * one that exists already if the device can use it, else a new one. The
 * whole group of the device is attached with its first device.
 *
 * Return: 0; -EINVAL when already attached, for an unsuitable page table
 * or an ID of another kind; -ENOENT; -EADDRINUSE when the device's
 * reserved regions meet mappings; errors of the IOMMU driver.
 */
int iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id)
{
	return iommufd_device_change(idev, pt_id, false);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_attach, IOMMUFD);

/**
 * iommufd_device_to_ictx - the context a device is bound to
 * @idev: the device
 *
 * Return: the context.
 */
struct iommufd_ctx *iommufd_device_to_ictx(struct iommufd_device *idev)
{
	return idev->ictx;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_ictx, IOMMUFD);

/**
 * iommufd_device_replace - move an attached device to another page table
 * @idev: the device
 * @pt_id: as for iommufd_device_attach()
 *
 * The group switches page tables without passing through a blocked state;
 * on failure it stays where it was.
 *
 * Return: 0, or as iommufd_device_attach() (-EINVAL if not attached).
 */
int iommufd_device_replace(struct iommufd_device *idev, u32 *pt_id)
{
	return iommufd_device_change(idev, pt_id, true);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_replace, IOMMUFD);

/**
 * iommufd_device_detach - undo iommufd_device_attach()
 * @idev: the device; nothing happens if it is not attached
 */
void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_hwpt *gone = NULL;

	mutex_lock(&idev->ictx->attach_lock);
	if (iommufd_device_attached(idev))
		gone = iommufd_device_detach_hwpt(idev);
	mutex_unlock(&idev->ictx->attach_lock);
	iommufd_hwpt_remove_auto(gone);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_detach, IOMMUFD);

/**
 * iommufd_device_unbind - undo iommufd_device_bind()
 * @idev: the device, detached here if the driver did not do it
 */
void iommufd_device_unbind(struct iommufd_device *idev)
{
	iommufd_device_detach(idev);
	iommufd_object_remove(idev->ictx, &idev->obj, 0, IOMMUFD_REMOVE_OWNER);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_unbind, IOMMUFD);

/**
 * iommufd_ctx_has_group - whether a context has a device of a group bound
 * @ictx: the context
 * @group: the group
 *
 * Only a device whose bind took the group's DMA ownership counts: VFIO's
 * hot reset trusts the answer as proof that the context owns the group.
 *
 * Return: true if a device of @group is bound to @ictx.
 */
bool iommufd_ctx_has_group(struct iommufd_ctx *ictx, struct iommu_group *group)
{
	struct iommufd_group *igroup;
	bool found;

	if (!ictx || !group)
		return false;
	/* The xarray's lock keeps the entry from being freed meanwhile. */
	xa_lock(&ictx->groups);
	igroup = xa_load(&ictx->groups, iommu_group_id(group));
	found = igroup && atomic_read(&igroup->owned);
	xa_unlock(&ictx->groups);
	return found;
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_has_group, IOMMUFD);

int iommufd_get_hw_info_ioctl(struct iommufd_call *call)
{
	struct iommu_hw_info *cmd = call->cmd;
	void __user *udata = u64_to_user_ptr(cmd->data_uptr);
	const struct iommu_ops *ops;
	struct iommufd_device *idev;
	u32 len = 0, type = IOMMU_HW_INFO_TYPE_NONE;
	void *data = NULL;
	int rc = 0;

	if ((cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) ||
	    memchr_inv(cmd->__reserved, 0, sizeof(cmd->__reserved)))
		return -EOPNOTSUPP;
	idev = iommufd_device_get(call->ictx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	ops = dev_iommu_ops(idev->dev);
	if (ops->hw_info) {
		data = ops->hw_info(idev->dev, &len, &type);
		if (IS_ERR(data)) {
			rc = PTR_ERR(data);
			goto out_put;
		}
	}
	/* A caller asking for one type gets that one or nothing. */
	if ((cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE) &&
	    cmd->in_data_type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    cmd->in_data_type != type) {
		rc = -EOPNOTSUPP;
		goto out_free;
	}

	if (cmd->data_len) {
		size_t copy = min_t(size_t, len, cmd->data_len);

		if (copy_to_user(udata, data, copy) ||
		    clear_user(udata + copy, cmd->data_len - copy)) {
			rc = -EFAULT;
			goto out_free;
		}
	}
	cmd->data_len = len;
	cmd->out_data_type = type;
	cmd->out_capabilities = 0;
	cmd->out_max_pasid_log2 = 0;
	if (idev->dev->iommu && idev->dev->iommu->max_pasids)
		cmd->out_max_pasid_log2 = ilog2(idev->dev->iommu->max_pasids);
	if (device_iommu_capable(idev->dev, IOMMU_CAP_DIRTY_TRACKING))
		cmd->out_capabilities |= IOMMU_HW_CAP_DIRTY_TRACKING;
	rc = iommufd_call_reply(call, sizeof(*cmd));
out_free:
	kfree(data);
out_put:
	iommufd_object_put(call->ictx, &idev->obj);
	return rc;
}
