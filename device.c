// SPDX-License-Identifier: GPL-2.0-only
/*
 * Devices bound by external drivers (VFIO, VDPA) and their attachment to
 * I/O page tables.
 *
 * Not implemented yet: every call fails with -EOPNOTSUPP, so a driver that
 * tries sees a clean error rather than a device that seems bound.
 */
#include <linux/module.h>

#include "iommufd_private.h"

/**
 * iommufd_device_bind - make a device part of a context
 * @ictx: the context
 * @dev: the device; its driver must have set driver_managed_dma
 * @id: set to the device object's ID on success
 *
 * Return: the device handle or an ERR_PTR; -EOPNOTSUPP for now.
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *id)
{
	return ERR_PTR(-EOPNOTSUPP);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_bind, IOMMUFD);

/**
 * iommufd_device_unbind - undo iommufd_device_bind()
 * @idev: a handle iommufd_device_bind() returned
 */
void iommufd_device_unbind(struct iommufd_device *idev)
{
	WARN_ON_ONCE(idev);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_unbind, IOMMUFD);

/**
 * iommufd_device_attach - attach a bound device to an IOAS or HW_PAGETABLE
 * @idev: the device
 * @pt_id: the IOAS or page table ID; on success, the page table used
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for now.
 */
int iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_attach, IOMMUFD);

/**
 * iommufd_device_replace - move an attached device to another page table
 * @idev: the device
 * @pt_id: as for iommufd_device_attach()
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for now.
 */
int iommufd_device_replace(struct iommufd_device *idev, u32 *pt_id)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_replace, IOMMUFD);

/**
 * iommufd_device_detach - undo iommufd_device_attach()
 * @idev: the device
 */
void iommufd_device_detach(struct iommufd_device *idev)
{
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_detach, IOMMUFD);

/**
 * iommufd_device_to_ictx - the context a device is bound to
 * @idev: the device
 *
 * Return: the context, or NULL while binding is not implemented.
 */
struct iommufd_ctx *iommufd_device_to_ictx(struct iommufd_device *idev)
{
	return NULL;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_ictx, IOMMUFD);

/**
 * iommufd_device_to_id - the object ID of a bound device
 * @idev: the device
 *
 * Return: the ID, or 0 (never a valid ID) while binding is not implemented.
 */
u32 iommufd_device_to_id(struct iommufd_device *idev)
{
	return 0;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_id, IOMMUFD);

/**
 * iommufd_ctx_has_group - whether a context has a device of a group bound
 * @ictx: the context
 * @group: the group
 *
 * Return: true if a device of @group is bound to @ictx; as binding is not
 * implemented yet, always false.
 */
bool iommufd_ctx_has_group(struct iommufd_ctx *ictx, struct iommu_group *group)
{
	return false;
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_has_group, IOMMUFD);
