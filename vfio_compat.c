// SPDX-License-Identifier: GPL-2.0-only
/*
 * The legacy VFIO container API (/dev/vfio/vfio) served on top of an IOAS.
 *
 * Not implemented yet: the container ioctls are unknown (ENOTTY) and the
 * helpers VFIO calls fail with -EOPNOTSUPP.
 */
#include <linux/module.h>

#include "iommufd_private.h"

long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			unsigned long arg)
{
	return -ENOTTY;
}

/**
 * iommufd_vfio_compat_ioas_get_id - the IOAS behind the compat container
 * @ictx: the context
 * @out_ioas_id: set to the IOAS ID on success
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for now.
 */
int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, u32 *out_ioas_id)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_ioas_get_id, IOMMUFD_VFIO);

/**
 * iommufd_vfio_compat_ioas_create - create the compat container's IOAS
 * @ictx: the context
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for now.
 */
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_ioas_create, IOMMUFD_VFIO);

/**
 * iommufd_vfio_compat_set_no_iommu - turn the container into no-IOMMU mode
 * @ictx: the context
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for now.
 */
int iommufd_vfio_compat_set_no_iommu(struct iommufd_ctx *ictx)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_set_no_iommu, IOMMUFD_VFIO);
