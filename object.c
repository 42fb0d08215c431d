// SPDX-License-Identifier: GPL-2.0-only
/*
 * Life cycle of the objects a context names by ID. The rules (holders,
 * transient borrows, who may sleep where) are in iommufd_private.h.
 */
#include <linux/slab.h>

#include "iommufd_private.h"

/* How often a kernel removal says it is still waiting for borrowers. */
#define IOMMUFD_DRAIN_WARN	(60 * HZ)

static const struct iommufd_object_type_ops *const iommufd_types[] = {
	[IOMMUFD_OBJ_IOAS] = &iommufd_ioas_type,
	[IOMMUFD_OBJ_HWPT] = &iommufd_hwpt_type,
	[IOMMUFD_OBJ_DEVICE] = &iommufd_device_type,
	[IOMMUFD_OBJ_FAULT] = &iommufd_fault_type,
	[IOMMUFD_OBJ_ACCESS] = &iommufd_access_type,
#ifdef CONFIG_IOMMUFD_TEST
	[IOMMUFD_OBJ_SELFTEST] = &iommufd_selftest_type,
#endif
};

static void iommufd_object_free(struct iommufd_object *obj)
{
	const struct iommufd_object_type_ops *ops = iommufd_types[obj->type];

	if (ops && ops->destroy)
		ops->destroy(obj);
	kfree(obj);
}

struct iommufd_object *__iommufd_object_new(struct iommufd_ctx *ictx,
					    size_t size,
					    enum iommufd_object_type type)
{
	struct iommufd_object *obj;
	int rc;

	if (WARN_ON(type >= ARRAY_SIZE(iommufd_types) || !iommufd_types[type]))
		return ERR_PTR(-EINVAL);

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;

	/* Storing NULL only reserves the ID; lookups find nothing there. */
	rc = xa_alloc(&ictx->objects, &obj->id, NULL, xa_limit_31b,
		      GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(obj);
		return ERR_PTR(rc);
	}
	return obj;
}

/* Make a fully built object reachable through its ID. */
void iommufd_object_publish(struct iommufd_ctx *ictx,
			    struct iommufd_object *obj)
{
	void *old;

	old = xa_store(&ictx->objects, obj->id, obj, GFP_KERNEL);
	WARN_ON(old);
}

/* Give up an object that was never published, nothing to undo. */
void iommufd_object_discard(struct iommufd_ctx *ictx,
			    struct iommufd_object *obj)
{
	xa_erase(&ictx->objects, obj->id);
	kfree(obj);
}

/* Give up an object that was never published, undoing its type's setup. */
void iommufd_object_discard_destroy(struct iommufd_ctx *ictx,
				    struct iommufd_object *obj)
{
	xa_erase(&ictx->objects, obj->id);
	iommufd_object_free(obj);
}

struct iommufd_object *iommufd_object_get(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, id);
	if (obj && (type == IOMMUFD_OBJ_ANY || obj->type == type))
		atomic_inc(&obj->transient);
	else
		obj = ERR_PTR(-ENOENT);
	xa_unlock(&ictx->objects);
	return obj;
}

void iommufd_object_put(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	/* Once the count is zero @obj may be gone; only @ictx is touched. */
	if (atomic_dec_and_test(&obj->transient))
		wake_up(&ictx->drain_wq);
}

static bool iommufd_object_drained(struct iommufd_object *obj)
{
	return atomic_read_acquire(&obj->transient) == 0;
}

/**
 * iommufd_object_remove - withdraw an object's ID and destroy it
 * @ictx: the context that names the object
 * @obj: the object, or NULL to find it by @id
 * @id: the ID to look up when @obj is NULL
 * @flags: IOMMUFD_REMOVE_USER for a user's IOMMU_DESTROY,
 *         IOMMUFD_REMOVE_OWNER for the kernel owner that held it since
 *         it was made
 *
 * A user's removal fails at once with EBUSY while other objects hold @obj
 * or an ioctl is using it; the object then stays as it was. A kernel
 * removal waits for the ioctls using the object to finish, however long
 * that takes: they may be using what the owner hands back once this
 * returns (the device of a driver), so giving up would leave them with
 * freed memory. It waits in TASK_IDLE, not counted as blocked, and says so
 * every minute.
 *
 * Return: 0 on success, -ENOENT when the ID names no object, -EBUSY.
 */
int iommufd_object_remove(struct iommufd_ctx *ictx, struct iommufd_object *obj,
			  u32 id, unsigned int flags)
{
	bool user = flags & IOMMUFD_REMOVE_USER;
	struct iommufd_object *found;

	if (obj)
		id = obj->id;

	xa_lock(&ictx->objects);
	found = xa_load(&ictx->objects, id);
	if (!found || (obj && found != obj)) {
		xa_unlock(&ictx->objects);
		return -ENOENT;
	}
	if (flags & IOMMUFD_REMOVE_OWNER)
		atomic_dec(&found->holders);
	/* Borrows start under this lock too, so the check is exact. */
	if (user && (atomic_read(&found->holders) ||
		     atomic_read(&found->transient))) {
		xa_unlock(&ictx->objects);
		return -EBUSY;
	}
	/* Keep the ID reserved but unreachable while the borrowers drain. */
	__xa_store(&ictx->objects, id, NULL, 0);
	xa_unlock(&ictx->objects);

	while (!wait_event_idle_timeout(ictx->drain_wq,
					iommufd_object_drained(found),
					IOMMUFD_DRAIN_WARN))
		pr_warn("iommufd: removing %s %u waits for an ioctl using it\n",
			iommufd_types[found->type]->name, id);
	WARN_ON(atomic_read(&found->holders));

	xa_erase(&ictx->objects, id);
	iommufd_object_free(found);
	return 0;
}

/*
 * The context is closing and no ioctl can be running. Objects that nothing
 * holds go first; each pass releases what they held, until none is left.
 */
void iommufd_objects_destroy_all(struct iommufd_ctx *ictx)
{
	struct iommufd_object *obj;
	unsigned long index;
	bool progress;

	do {
		progress = false;
		xa_for_each(&ictx->objects, index, obj) {
			if (atomic_read(&obj->holders))
				continue;
			xa_erase(&ictx->objects, index);
			iommufd_object_free(obj);
			progress = true;
		}
	} while (progress);

	WARN(!xa_empty(&ictx->objects), "iommufd: objects left at close\n");
	xa_destroy(&ictx->objects);
}
