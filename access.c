// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel accesses: drivers without an IOMMU of their own (mediated
 * devices) read, write and pin user memory by IOVA through an IOAS.
 *
 * Not implemented yet: creation fails with -EOPNOTSUPP, so no other call
 * can receive a valid handle.
 */
#include <linux/module.h>

#include "iommufd_private.h"

/**
 * iommufd_access_create - create an in-kernel access in a context
 * @ictx: the context
 * @ops: the driver's callbacks
 * @data: passed back to @ops
 * @id: set to the access object's ID on success
 *
 * Return: the access or an ERR_PTR; -EOPNOTSUPP for now.
 */
struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data, u32 *id)
{
	return ERR_PTR(-EOPNOTSUPP);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_create, IOMMUFD);

/**
 * iommufd_access_destroy - undo iommufd_access_create()
 * @access: the access
 */
void iommufd_access_destroy(struct iommufd_access *access)
{
	WARN_ON_ONCE(access);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_destroy, IOMMUFD);

/**
 * iommufd_access_attach - connect an access to an IOAS
 * @access: the access
 * @ioas_id: the IOAS
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for now.
 */
int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_attach, IOMMUFD);

/**
 * iommufd_access_replace - move an access to another IOAS
 * @access: the access
 * @ioas_id: the new IOAS
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for now.
 */
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_replace, IOMMUFD);

/**
 * iommufd_access_detach - disconnect an access from its IOAS
 * @access: the access
 */
void iommufd_access_detach(struct iommufd_access *access)
{
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_detach, IOMMUFD);

/**
 * iommufd_access_pin_pages - pin the pages behind a range of IOVA
 * @access: the access
 * @iova: start of the range
 * @length: its length
 * @out_pages: one entry per page of the range
 * @flags: IOMMUFD_ACCESS_RW_WRITE to pin for writing
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for now.
 */
int iommufd_access_pin_pages(struct iommufd_access *access, unsigned long iova,
			     unsigned long length, struct page **out_pages,
			     unsigned int flags)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_pin_pages, IOMMUFD);

/**
 * iommufd_access_unpin_pages - undo iommufd_access_pin_pages()
 * @access: the access
 * @iova: the same start as was pinned
 * @length: the same length
 */
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length)
{
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_unpin_pages, IOMMUFD);

/**
 * iommufd_access_rw - copy between a kernel buffer and memory at an IOVA
 * @access: the access
 * @iova: where in the IOAS
 * @data: the kernel buffer
 * @len: bytes to copy
 * @flags: IOMMUFD_ACCESS_RW_* flags
 *
 * Return: 0 or a negative errno; -EOPNOTSUPP for now.
 */
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t len, unsigned int flags)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_rw, IOMMUFD);
