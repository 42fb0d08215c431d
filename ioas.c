// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOAS objects: the I/O address spaces a user fills with mappings of their
 * memory, and the ioctls that work on them.
 */
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/slab.h>

#include "iommufd_private.h"

static void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = container_of(obj, struct iommufd_ioas, obj);

	iommufd_vfio_compat_forget(ioas);
	iopt_destroy(&ioas->iopt);
}

const struct iommufd_object_type_ops iommufd_ioas_type = {
	.name = "ioas",
	.destroy = iommufd_ioas_destroy,
};

int iommufd_ioas_alloc_ioctl(struct iommufd_call *call)
{
	struct iommu_ioas_alloc *cmd = call->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioas = iommufd_object_new(call->ictx, struct iommufd_ioas, obj,
				  IOMMUFD_OBJ_IOAS);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	ioas->ictx = call->ictx;
	INIT_LIST_HEAD(&ioas->auto_hwpts);
	rc = iopt_init(&ioas->iopt);
	if (rc) {
		iommufd_object_discard(call->ictx, &ioas->obj);
		return rc;
	}

	/* Answer before publishing: a failed reply leaves nothing behind. */
	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_call_reply(call, sizeof(*cmd));
	if (rc) {
		iommufd_object_discard_destroy(call->ictx, &ioas->obj);
		return rc;
	}
	iommufd_object_publish(call->ictx, &ioas->obj);
	return 0;
}

int iommufd_ioas_option(struct iommufd_call *call)
{
	struct iommu_option *cmd = call->cmd;
	struct iommufd_ioas *ioas;
	int rc = 0;

	ioas = iommufd_ioas_get(call->ictx, cmd->object_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	switch (cmd->op) {
	case IOMMU_OPTION_OP_GET:
		cmd->val64 = !READ_ONCE(ioas->iopt.no_huge_pages);
		break;
	case IOMMU_OPTION_OP_SET:
		if (cmd->val64 > 1)
			rc = -EINVAL;
		else
			rc = iopt_set_huge_pages(&ioas->iopt, cmd->val64);
		break;
	default:
		rc = -EOPNOTSUPP;
	}
	iommufd_object_put(call->ictx, &ioas->obj);
	return rc;
}

#define IOAS_MAP_FLAGS	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | \
			 IOMMU_IOAS_MAP_READABLE)

/*
 * The IOMMU protection of a mapping. IOMMU_CACHE always: user space has no
 * way to flush CPU caches for a device, so only coherent DMA is offered.
 */
static int iommufd_map_prot(u32 flags)
{
	int prot = IOMMU_CACHE;

	if (flags & IOMMU_IOAS_MAP_READABLE)
		prot |= IOMMU_READ;
	if (flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOMMU_WRITE;
	return prot;
}

/*
 * The checks IOAS_MAP, IOAS_MAP_FILE and IOAS_COPY share, in the order of
 * their errnos: the flags, the IOVA and length, a direction.
 */
static int iommufd_map_check(u32 flags, u64 iova, u64 length)
{
	if (flags & ~IOAS_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (iova >= ULONG_MAX || length >= ULONG_MAX)
		return -EOVERFLOW;
	if (!(flags & (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)))
		return -EINVAL;
	return 0;
}

int iommufd_ioas_map_ioctl(struct iommufd_call *call)
{
	struct iommu_ioas_map *cmd = call->cmd;
	unsigned long iova = cmd->iova;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	rc = iommufd_map_check(cmd->flags, cmd->iova, cmd->length);
	if (rc)
		return rc;

	ioas = iommufd_ioas_get(call->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_map_user(call->ictx, &ioas->iopt, &iova, cmd->user_va,
			   cmd->length, iommufd_map_prot(cmd->flags),
			   cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	if (!rc) {
		cmd->iova = iova;
		rc = iommufd_call_reply(call, sizeof(*cmd));
	}
	iommufd_object_put(call->ictx, &ioas->obj);
	return rc;
}

int iommufd_ioas_map_file_ioctl(struct iommufd_call *call)
{
	struct iommu_ioas_map_file *cmd = call->cmd;
	unsigned long iova = cmd->iova;
	struct iommufd_ioas *ioas;
	struct file *file;
	int rc;

	rc = iommufd_map_check(cmd->flags, cmd->iova, cmd->length);
	if (rc)
		return rc;

	ioas = iommufd_ioas_get(call->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	file = fget(cmd->fd);
	if (!file) {
		rc = -EBADF;
		goto out_put;
	}
	rc = iopt_map_file(call->ictx, &ioas->iopt, &iova, file, cmd->start,
			   cmd->length, iommufd_map_prot(cmd->flags),
			   cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	fput(file);
	if (!rc) {
		cmd->iova = iova;
		rc = iommufd_call_reply(call, sizeof(*cmd));
	}
out_put:
	iommufd_object_put(call->ictx, &ioas->obj);
	return rc;
}

int iommufd_ioas_copy_ioctl(struct iommufd_call *call)
{
	struct iommu_ioas_copy *cmd = call->cmd;
	unsigned long iova = cmd->dst_iova;
	struct iommufd_ioas *src, *dst;
	int rc;

	/* Either IOVA too large is EOVERFLOW: check the larger. */
	rc = iommufd_map_check(cmd->flags, max(cmd->src_iova, cmd->dst_iova),
			       cmd->length);
	if (rc)
		return rc;

	src = iommufd_ioas_get(call->ictx, cmd->src_ioas_id);
	if (IS_ERR(src))
		return PTR_ERR(src);
	dst = iommufd_ioas_get(call->ictx, cmd->dst_ioas_id);
	if (IS_ERR(dst)) {
		rc = PTR_ERR(dst);
		goto out_src;
	}
	rc = iopt_copy(&dst->iopt, &src->iopt, &iova, cmd->src_iova,
		       cmd->length, iommufd_map_prot(cmd->flags),
		       cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA);
	if (!rc) {
		cmd->dst_iova = iova;
		rc = iommufd_call_reply(call, sizeof(*cmd));
	}
	iommufd_object_put(call->ictx, &dst->obj);
out_src:
	iommufd_object_put(call->ictx, &src->obj);
	return rc;
}

int iommufd_ioas_unmap_ioctl(struct iommufd_call *call)
{
	struct iommu_ioas_unmap *cmd = call->cmd;
	unsigned long last, unmapped = 0;
	struct iommufd_ioas *ioas;
	bool all = !cmd->iova && cmd->length == U64_MAX;
	int rc;

	if (!all) {
		if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX)
			return -EOVERFLOW;
		if (!cmd->length)
			return -EINVAL;
		if (check_add_overflow((unsigned long)cmd->iova,
				       (unsigned long)cmd->length - 1, &last))
			return -EOVERFLOW;
	}

	ioas = iommufd_ioas_get(call->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (all)
		rc = iopt_unmap(&ioas->iopt, 0, ULONG_MAX, &unmapped);
	else
		rc = iopt_unmap(&ioas->iopt, cmd->iova, last, &unmapped);
	/* Unmapping everything of an empty IOAS is fine, a range is not. */
	if (!rc && !unmapped && !all)
		rc = -ENOENT;
	if (!rc) {
		cmd->length = unmapped;
		rc = iommufd_call_reply(call, sizeof(*cmd));
	}
	iommufd_object_put(call->ictx, &ioas->obj);
	return rc;
}

struct iommufd_ranges_out {
	struct iommu_iova_range __user *ubuf;
	u32 room;
	u32 count;
};

/* Store one usable range if the user gave room for it, count it anyway. */
static int iommufd_range_emit(void *arg, unsigned long start,
			      unsigned long last)
{
	struct iommufd_ranges_out *out = arg;
	struct iommu_iova_range range = { .start = start, .last = last };

	if (out->count < out->room &&
	    copy_to_user(out->ubuf + out->count, &range, sizeof(range)))
		return -EFAULT;
	out->count++;
	return 0;
}

int iommufd_ioas_iova_ranges_ioctl(struct iommufd_call *call)
{
	struct iommu_ioas_iova_ranges *cmd = call->cmd;
	struct iommufd_ranges_out out = {
		.ubuf = u64_to_user_ptr(cmd->allowed_iovas),
		.room = cmd->num_iovas,
	};
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_ioas_get(call->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	rc = iopt_each_usable(&ioas->iopt, iommufd_range_emit, &out);
	if (!rc) {
		cmd->num_iovas = out.count;
		cmd->out_iova_alignment = READ_ONCE(ioas->iopt.iova_alignment);
		rc = iommufd_call_reply(call, sizeof(*cmd));
	}
	/* Too little room: the count tells the user how much to give. */
	if (!rc && out.count > out.room)
		rc = -EMSGSIZE;
	iommufd_object_put(call->ictx, &ioas->obj);
	return rc;
}

/* Read the user's ranges into @tree: each non-empty, none overlapping. */
static int iommufd_ranges_load(struct rb_root_cached *tree,
			       struct iommu_iova_range __user *uranges,
			       u32 count)
{
	struct iommu_iova_range range;
	struct iopt_range *node;
	u32 i;

	for (i = 0; i != count; i++) {
		if (copy_from_user(&range, uranges + i, sizeof(range)))
			return -EFAULT;
		if (range.start >= range.last || range.last > ULONG_MAX)
			return -EINVAL;
		if (interval_tree_iter_first(tree, range.start, range.last))
			return -EINVAL;
		node = kzalloc(sizeof(*node), GFP_KERNEL_ACCOUNT);
		if (!node)
			return -ENOMEM;
		node->node.start = range.start;
		node->node.last = range.last;
		interval_tree_insert(&node->node, tree);
		cond_resched();
	}
	return 0;
}

int iommufd_ioas_allow_iovas_ioctl(struct iommufd_call *call)
{
	struct iommu_ioas_allow_iovas *cmd = call->cmd;
	struct rb_root_cached tree = RB_ROOT_CACHED;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_ioas_get(call->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iommufd_ranges_load(&tree, u64_to_user_ptr(cmd->allowed_iovas),
				 cmd->num_iovas);
	if (!rc)
		rc = iopt_set_allowed(&ioas->iopt, &tree);
	/* Either the rejected new ranges or the replaced old ones. */
	iopt_ranges_free(&tree);
	iommufd_object_put(call->ictx, &ioas->obj);
	return rc;
}

/* Borrow every IOAS of @ictx into @held, by ID. */
static int iommufd_ioas_borrow_all(struct iommufd_ctx *ictx,
				   struct xarray *held)
{
	struct iommufd_ioas *ioas;
	unsigned long id;
	void *entry;
	int rc;

	xa_for_each(&ictx->objects, id, entry) {
		ioas = iommufd_ioas_get(ictx, id);
		if (IS_ERR(ioas))
			continue;	/* another kind, or going away */
		rc = xa_err(xa_store(held, id, ioas, GFP_KERNEL));
		if (rc) {
			iommufd_object_put(ictx, &ioas->obj);
			return rc;
		}
	}
	return 0;
}

/*
 * IOMMU_IOAS_CHANGE_PROCESS. Every IOAS of the context is locked for
 * writing at once, under attach_lock, so that the check that all areas
 * are file mappings and the moves see the same areas. Each iopt_pages
 * moves whole under its mutex; a failure gives back what moved.
 */
int iommufd_ioas_change_process_ioctl(struct iommufd_call *call)
{
	struct iommu_ioas_change_process *cmd = call->cmd;
	struct iommufd_ctx *ictx = call->ictx;
	struct iommufd_ioas *ioas;
	LIST_HEAD(moved);
	struct xarray held;
	unsigned long id;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	xa_init(&held);
	rc = iommufd_ioas_borrow_all(ictx, &held);
	if (rc)
		goto out_put;

	mutex_lock(&ictx->attach_lock);
	/* domains_rwsem too: no map may be filling an area meanwhile */
	xa_for_each(&held, id, ioas)
		down_write_nest_lock(&ioas->iopt.domains_rwsem,
				     &ictx->attach_lock);
	xa_for_each(&held, id, ioas)
		down_write_nest_lock(&ioas->iopt.iova_rwsem, &ictx->attach_lock);
	xa_for_each(&held, id, ioas) {
		if (!iopt_only_files(&ioas->iopt)) {
			rc = -EINVAL;
			goto out_unlock;
		}
	}
	xa_for_each(&held, id, ioas) {
		rc = iopt_change_process(&ioas->iopt, &moved);
		if (rc)
			break;
	}
	iopt_moved_finish(&moved, rc);
out_unlock:
	xa_for_each(&held, id, ioas) {
		up_write(&ioas->iopt.iova_rwsem);
		up_write(&ioas->iopt.domains_rwsem);
	}
	mutex_unlock(&ictx->attach_lock);
out_put:
	xa_for_each(&held, id, ioas)
		iommufd_object_put(ictx, &ioas->obj);
	xa_destroy(&held);
	return rc;
}
