// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel accesses: drivers without an IOMMU of their own (mediated
 * devices) read, write and pin user memory by IOVA through an IOAS.
 *
 * An access is an object of its context, owned by the driver that made it:
 * the user cannot destroy it, and it keeps the context open. It is attached
 * to at most one IOAS at a time, which it holds. Before it leaves an IOAS
 * (detach, replace, destroy) its unmap callback is asked to drop every pin,
 * so pins never cross from one IOAS to another. The lock order is in
 * io_pagetable.c.
 */
#include <linux/module.h>
#include <linux/slab.h>

#include "iommufd_private.h"

static void iommufd_access_free(struct iommufd_object *obj)
{
	struct iommufd_access *access =
		container_of(obj, struct iommufd_access, obj);

	mutex_destroy(&access->ioas_lock);
	mutex_destroy(&access->attach_lock);
	/* Last: this may drop the final reference to the context's file. */
	iommufd_ctx_put(access->ictx);
}

const struct iommufd_object_type_ops iommufd_access_type = {
	.name = "access",
	.destroy = iommufd_access_free,
};

/**
 * iommufd_access_create - create an in-kernel access in a context
 * @ictx: the context
 * @ops: the driver's callbacks; @ops->unmap is required to pin pages
 * @data: passed back to @ops
 * @id: set to the access object's ID on success
 *
 * The access starts detached; see iommufd_access_attach().
 *
 * Return: the access, or ERR_PTR(-ENOMEM) / ERR_PTR(-EINVAL).
 */
struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data, u32 *id)
{
	struct iommufd_access *access;

	if (ops->needs_pin_pages && !ops->unmap)
		return ERR_PTR(-EINVAL);

	access = iommufd_object_new(ictx, struct iommufd_access, obj,
				    IOMMUFD_OBJ_ACCESS);
	if (IS_ERR(access))
		return access;
	access->ictx = ictx;
	iommufd_ctx_get(ictx);
	access->ops = ops;
	access->data = data;
	access->iova_alignment = ops->needs_pin_pages ? PAGE_SIZE : 1;
	mutex_init(&access->attach_lock);
	mutex_init(&access->ioas_lock);
	/* The driver's own hold: a user's DESTROY gets EBUSY. */
	iommufd_object_hold(&access->obj);
	iommufd_object_publish(ictx, &access->obj);
	*id = access->obj.id;
	return access;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_create, IOMMUFD);

/*
 * Move @access to the IOAS @ioas_id, or away from any with @detach. On
 * failure it stays where it was.
 */
static int iommufd_access_move(struct iommufd_access *access, u32 ioas_id,
			       bool detach)
{
	struct iommufd_ioas *old = access->ioas_unpin, *new = NULL;
	u32 old_id = access->iopt_id, new_id = 0;
	int rc;

	lockdep_assert_held(&access->attach_lock);

	if (!detach) {
		new = iommufd_ioas_get(access->ictx, ioas_id);
		if (IS_ERR(new))
			return PTR_ERR(new);
		if (new == old) {
			iommufd_object_put(access->ictx, &new->obj);
			return 0;
		}
		rc = iopt_add_access(&new->iopt, access);
		if (rc) {
			iommufd_object_put(access->ictx, &new->obj);
			return rc;
		}
		new_id = access->iopt_id;
		iommufd_object_hold(&new->obj);
		iommufd_object_put(access->ictx, &new->obj);
	}

	/* No new pin or read through the old IOAS from here on. */
	mutex_lock(&access->ioas_lock);
	access->ioas = NULL;
	mutex_unlock(&access->ioas_lock);

	if (old) {
		if (access->ops->unmap)
			access->ops->unmap(access->data, 0, ULONG_MAX);
		/* A driver that kept pins would unpin in the wrong IOAS. */
		WARN_ON(atomic_read(&access->npins));
		iopt_remove_access(&old->iopt, access, old_id);
		iommufd_object_release(&old->obj);
	}

	mutex_lock(&access->ioas_lock);
	access->ioas = new;
	access->ioas_unpin = new;
	access->iopt_id = new_id;
	mutex_unlock(&access->ioas_lock);
	return 0;
}

/**
 * iommufd_access_attach - connect a detached access to an IOAS
 * @access: the access
 * @ioas_id: the IOAS
 *
 * Return: 0, -EINVAL if already attached, -ENOENT for no such IOAS,
 * -EADDRINUSE if a pinning access meets mappings not page aligned.
 */
int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id)
{
	int rc = -EINVAL;

	mutex_lock(&access->attach_lock);
	if (!access->ioas_unpin)
		rc = iommufd_access_move(access, ioas_id, false);
	mutex_unlock(&access->attach_lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_attach, IOMMUFD);

/**
 * iommufd_access_replace - move an attached access to another IOAS
 * @access: the access
 * @ioas_id: the new IOAS
 *
 * The driver's unmap callback is asked to drop all its pins first. On
 * failure the access stays on its current IOAS.
 *
 * Return: as iommufd_access_attach(), -EINVAL if not attached.
 */
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id)
{
	int rc = -EINVAL;

	mutex_lock(&access->attach_lock);
	if (access->ioas_unpin)
		rc = iommufd_access_move(access, ioas_id, false);
	mutex_unlock(&access->attach_lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_replace, IOMMUFD);

/**
 * iommufd_access_detach - disconnect an access from its IOAS
 * @access: the access
 *
 * The driver's unmap callback is asked to drop all its pins first.
 */
void iommufd_access_detach(struct iommufd_access *access)
{
	mutex_lock(&access->attach_lock);
	iommufd_access_move(access, 0, true);
	mutex_unlock(&access->attach_lock);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_detach, IOMMUFD);

/**
 * iommufd_access_destroy - undo iommufd_access_create()
 * @access: the access; detached here if it still is attached
 */
void iommufd_access_destroy(struct iommufd_access *access)
{
	iommufd_access_detach(access);
	iommufd_object_remove(access->ictx, &access->obj, 0,
			      IOMMUFD_REMOVE_OWNER);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_destroy, IOMMUFD);

/* [iova, iova + length) must be a non-empty range that does not wrap. */
static int iommufd_access_range_check(unsigned long iova,
				      unsigned long length)
{
	unsigned long last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return 0;
}

/**
 * iommufd_access_pin_pages - pin the pages behind a range of IOVA
 * @access: an access created with ops->needs_pin_pages
 * @iova: start of the range
 * @length: its length
 * @out_pages: one entry per page the range touches
 * @flags: IOMMUFD_ACCESS_RW_WRITE to pin for writing
 *
 * The pages stay pinned until iommufd_access_unpin_pages() with the same
 * range, which the driver must call from its unmap callback at the latest.
 *
 * Return: 0, -EINVAL, -EOVERFLOW, -ENOENT (not mapped, or no IOAS),
 * -EPERM (write to a read-only mapping), -ENOMEM, -EFAULT.
 */
int iommufd_access_pin_pages(struct iommufd_access *access, unsigned long iova,
			     unsigned long length, struct page **out_pages,
			     unsigned int flags)
{
	unsigned int pieces;
	int rc;

	if (!access->ops->needs_pin_pages ||
	    (flags & ~IOMMUFD_ACCESS_RW_WRITE))
		return -EINVAL;
	rc = iommufd_access_range_check(iova, length);
	if (rc)
		return rc;

	mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		rc = -ENOENT;
	} else {
		rc = iopt_access_pin(&access->ioas->iopt, iova, length,
				     out_pages,
				     flags & IOMMUFD_ACCESS_RW_WRITE, &pieces);
		if (!rc)
			atomic_add(pieces, &access->npins);
	}
	mutex_unlock(&access->ioas_lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_pin_pages, IOMMUFD);

/**
 * iommufd_access_unpin_pages - undo iommufd_access_pin_pages()
 * @access: the access
 * @iova: the start of a range that was pinned
 * @length: its length
 *
 * Undoes the pin of exactly this range, or else every pin lying wholly
 * inside it: drivers that pin page by page may unpin the run at once.
 */
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length)
{
	/*
	 * Not under ioas_lock: this runs from the unmap callback while a
	 * detach waits. ioas_unpin cannot change while pins are out.
	 */
	struct iommufd_ioas *ioas = READ_ONCE(access->ioas_unpin);

	if (WARN_ON(!ioas || iommufd_access_range_check(iova, length)))
		return;
	atomic_sub(iopt_access_unpin(&ioas->iopt, iova, length),
		   &access->npins);
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
 * Pages the access pinned are copied through the kernel's mapping, others
 * through the owner's address space, from a kernel thread too.
 *
 * Return: 0, -EINVAL, -EOVERFLOW, -ENOENT, -EPERM, -EFAULT.
 */
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t len, unsigned int flags)
{
	int rc;

	if (flags & ~(IOMMUFD_ACCESS_RW_WRITE | IOMMUFD_ACCESS_RW_KTHREAD |
		      __IOMMUFD_ACCESS_RW_SLOW_PATH))
		return -EINVAL;
	rc = iommufd_access_range_check(iova, len);
	if (rc)
		return rc;

	mutex_lock(&access->ioas_lock);
	if (access->ioas)
		rc = iopt_access_rw(&access->ioas->iopt, iova, data, len,
				    flags);
	else
		rc = -ENOENT;
	mutex_unlock(&access->ioas_lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_rw, IOMMUFD);
