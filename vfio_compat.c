// SPDX-License-Identifier: GPL-2.0-only
/*
 * The legacy VFIO container API served on top of an IOAS.
 *
 * A VFIO container is one I/O address space that every group put in it
 * shares. Here that is one IOAS per context, the "compat IOAS": the
 * container ioctls (VFIO_SET_IOMMU, VFIO_IOMMU_MAP_DMA, ...) carry no IOAS
 * ID and always work on it. It is an ordinary IOAS that user space can
 * name: IOMMU_VFIO_IOAS picks it or reports it, and VFIO makes one on the
 * fly when a group joins a container that has none.
 *
 * The context points at the compat IOAS without holding it, so the user
 * may still destroy it: its destroy step clears the pointer (see
 * iommufd_vfio_compat_forget()), and until then a lookup through the ID
 * fails as for any IOAS on its way out. The pointer can therefore be
 * followed under compat_lock only, and only to borrow the IOAS by its ID.
 *
 * Only the type1 flavours are emulated. TYPE1 (v1) may unmap part of a
 * mapping: it turns huge IOPTEs off for the IOAS so that every mapping can
 * be cut at any page.
 */
#include <linux/capability.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <uapi/linux/vfio.h>

#include "iommufd_private.h"

/* The compat IOAS, borrowed; NULL if there is none or it is going away. */
static struct iommufd_ioas *compat_borrow_locked(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *want = ictx->compat_ioas;
	struct iommufd_ioas *got;

	lockdep_assert_held(&ictx->compat_lock);
	if (!want)
		return NULL;
	got = iommufd_ioas_get(ictx, want->obj.id);
	if (IS_ERR(got))
		return NULL;
	/* The ID may have been reused by now, after a destroy. */
	if (got != want) {
		iommufd_object_put(ictx, &got->obj);
		return NULL;
	}
	return got;
}

/* The compat IOAS, borrowed for iommufd_object_put(), or ERR_PTR(-ENODEV). */
static struct iommufd_ioas *compat_borrow(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	mutex_lock(&ictx->compat_lock);
	ioas = compat_borrow_locked(ictx);
	mutex_unlock(&ictx->compat_lock);
	return ioas ?: ERR_PTR(-ENODEV);
}

/**
 * iommufd_vfio_compat_forget - an IOAS is being destroyed
 * @ioas: the IOAS, unreachable by now
 *
 * Called from the IOAS's destroy step: stop using it as the compat IOAS.
 */
void iommufd_vfio_compat_forget(struct iommufd_ioas *ioas)
{
	struct iommufd_ctx *ictx = ioas->ictx;

	mutex_lock(&ictx->compat_lock);
	if (ictx->compat_ioas == ioas)
		ictx->compat_ioas = NULL;
	mutex_unlock(&ictx->compat_lock);
}

/**
 * iommufd_vfio_compat_ioas_get_id - the IOAS behind the compat container
 * @ictx: the context
 * @out_ioas_id: set to the IOAS ID on success
 *
 * VFIO attaches the devices of a group joined to a container to this IOAS.
 * The ID can go stale at once if the user destroys the IOAS; whoever uses
 * it looks it up again and fails then.
 *
 * Return: 0, or -ENODEV when the context has no compat IOAS.
 */
int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, u32 *out_ioas_id)
{
	struct iommufd_ioas *ioas = compat_borrow(ictx);

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	*out_ioas_id = ioas->obj.id;
	iommufd_object_put(ictx, &ioas->obj);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_ioas_get_id, IOMMUFD_VFIO);

/**
 * iommufd_vfio_compat_ioas_create - make sure the compat IOAS exists
 * @ictx: the context
 *
 * VFIO calls this when a group joins a container served by @ictx. If the
 * context has no compat IOAS, a new IOAS becomes it; an existing one, made
 * here or chosen with IOMMU_VFIO_IOAS, is left as it is. The new IOAS is
 * the user's like any other: IOMMU_VFIO_IOAS_GET reports its ID, and it is
 * destroyed with the context unless the user destroys it first.
 *
 * Return: 0; -EINVAL when the container is in no-IOMMU mode; -ENOMEM.
 */
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;
	int rc = 0;

	mutex_lock(&ictx->compat_lock);
	/* VFIO never mixes no-IOMMU groups with translated ones. */
	if (ictx->compat_no_iommu) {
		rc = -EINVAL;
		goto out_unlock;
	}
	ioas = compat_borrow_locked(ictx);
	if (ioas) {
		iommufd_object_put(ictx, &ioas->obj);
		goto out_unlock;
	}

	/*
	 * Built as by IOMMU_IOAS_ALLOC. iommufd_object_discard() runs no
	 * destroy step, so it does not take compat_lock again.
	 */
	ioas = iommufd_object_new(ictx, struct iommufd_ioas, obj,
				  IOMMUFD_OBJ_IOAS);
	if (IS_ERR(ioas)) {
		rc = PTR_ERR(ioas);
		goto out_unlock;
	}
	ioas->ictx = ictx;
	INIT_LIST_HEAD(&ioas->auto_hwpts);
	rc = iopt_init(&ioas->iopt);
	if (rc) {
		iommufd_object_discard(ictx, &ioas->obj);
		goto out_unlock;
	}
	ictx->compat_ioas = ioas;
	iommufd_object_publish(ictx, &ioas->obj);
out_unlock:
	mutex_unlock(&ictx->compat_lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_ioas_create, IOMMUFD_VFIO);

/**
 * iommufd_vfio_compat_set_no_iommu - put the container in no-IOMMU mode
 * @ictx: the context
 *
 * VFIO calls this when a no-IOMMU group joins a container served by @ictx.
 * From then on VFIO_SET_IOMMU accepts VFIO_NOIOMMU_IOMMU only, and no
 * compat IOAS can be created.
 *
 * Return: 0, or -EINVAL when the context already has a compat IOAS.
 */
int iommufd_vfio_compat_set_no_iommu(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;
	int rc = 0;

	mutex_lock(&ictx->compat_lock);
	ioas = compat_borrow_locked(ictx);
	if (ioas) {
		iommufd_object_put(ictx, &ioas->obj);
		rc = -EINVAL;
	} else {
		WRITE_ONCE(ictx->compat_no_iommu, true);
	}
	mutex_unlock(&ictx->compat_lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_vfio_compat_set_no_iommu, IOMMUFD_VFIO);

/* IOMMU_VFIO_IOAS */
int iommufd_vfio_ioas(struct iommufd_call *call)
{
	struct iommu_vfio_ioas *cmd = call->cmd;
	struct iommufd_ctx *ictx = call->ictx;
	struct iommufd_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	if (cmd->op == IOMMU_VFIO_IOAS_GET) {
		ioas = compat_borrow(ictx);
		if (IS_ERR(ioas))
			return PTR_ERR(ioas);
		cmd->ioas_id = ioas->obj.id;
		iommufd_object_put(ictx, &ioas->obj);
		return iommufd_call_reply(call, sizeof(*cmd));
	}
	if (cmd->op == IOMMU_VFIO_IOAS_SET) {
		ioas = iommufd_ioas_get(ictx, cmd->ioas_id);
		if (IS_ERR(ioas))
			return PTR_ERR(ioas);
		/* Alive while borrowed: its destroy step has not run yet. */
		mutex_lock(&ictx->compat_lock);
		ictx->compat_ioas = ioas;
		mutex_unlock(&ictx->compat_lock);
		iommufd_object_put(ictx, &ioas->obj);
		return 0;
	}
	if (cmd->op == IOMMU_VFIO_IOAS_CLEAR) {
		mutex_lock(&ictx->compat_lock);
		ictx->compat_ioas = NULL;
		mutex_unlock(&ictx->compat_lock);
		return 0;
	}
	return -EOPNOTSUPP;
}

/* A __u64 of the type1 ABI that an unsigned long can carry. */
static bool compat_ulong_ok(u64 val)
{
	return val == (unsigned long)val;
}

#define COMPAT_MAP_FLAGS	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* VFIO_IOMMU_MAP_DMA: always at the IOVA the user gives. */
static int compat_map_dma(struct iommufd_ctx *ictx, void __user *uarg)
{
	const size_t need = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map req;
	struct iommufd_ioas *ioas;
	unsigned long iova;
	int prot = IOMMU_CACHE;
	int rc;

	if (copy_from_user(&req, uarg, need))
		return -EFAULT;
	/* VFIO_DMA_MAP_FLAG_VADDR is not emulated: an unknown flag here. */
	if (req.argsz < need || (req.flags & ~COMPAT_MAP_FLAGS))
		return -EINVAL;
	/* A mapping no device may use is refused, as by type1 itself. */
	if (!(req.flags & COMPAT_MAP_FLAGS))
		return -EINVAL;
	if (!compat_ulong_ok(req.iova) || !compat_ulong_ok(req.vaddr) ||
	    !compat_ulong_ok(req.size))
		return -EOVERFLOW;
	if (req.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (req.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;

	ioas = compat_borrow(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	iova = req.iova;
	rc = iopt_map_user(ictx, &ioas->iopt, &iova, req.vaddr, req.size, prot,
			   true);
	iommufd_object_put(ictx, &ioas->obj);
	return rc;
}

/*
 * Check the range [iova, iova + size) of an unmap and return its last
 * IOVA. With page by page IOPTEs (type1 v1) the mappings that stick out
 * of it are cut at its ends first.
 */
static int compat_unmap_prepare(struct io_pagetable *iopt, u64 iova, u64 size,
				unsigned long *last)
{
	if (!size)
		return -EINVAL;
	if (!compat_ulong_ok(iova) || !compat_ulong_ok(size) ||
	    check_add_overflow((unsigned long)iova, (unsigned long)size - 1,
			       last))
		return -EOVERFLOW;
	if (!READ_ONCE(iopt->no_huge_pages))
		return 0;
	return iopt_split_range(iopt, iova, *last);
}

/*
 * VFIO_IOMMU_UNMAP_DMA. Mappings must lie wholly inside the range, unless
 * cut to fit; a range with nothing in it unmaps nothing and succeeds. Once
 * the unmap is tried, its byte count goes back in @size, failed or not.
 */
static int compat_unmap_dma(struct iommufd_ctx *ictx, void __user *uarg)
{
	const size_t need = offsetofend(struct vfio_iommu_type1_dma_unmap,
					size);
	struct vfio_iommu_type1_dma_unmap req;
	unsigned long first = 0, last = ULONG_MAX, unmapped = 0;
	struct iommufd_ioas *ioas;
	int rc;

	if (copy_from_user(&req, uarg, need))
		return -EFAULT;
	/* Dirty bitmaps and VADDR are not emulated: unknown flags here. */
	if (req.argsz < need || (req.flags & ~VFIO_DMA_UNMAP_FLAG_ALL))
		return -EINVAL;

	ioas = compat_borrow(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (req.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		rc = (req.iova || req.size) ? -EINVAL : 0;
	} else {
		first = req.iova;
		rc = compat_unmap_prepare(&ioas->iopt, req.iova, req.size,
					  &last);
	}
	if (rc)
		goto out_put;

	rc = iopt_unmap(&ioas->iopt, first, last, &unmapped);
	req.size = unmapped;
	if (copy_to_user(uarg, &req, need))
		rc = -EFAULT;
out_put:
	iommufd_object_put(ictx, &ioas->obj);
	return rc;
}

/* The IOVA ranges of the IOAS as the type1 capability lists them. */
struct compat_iova_cap {
	struct vfio_iommu_type1_info_cap_iova_range *cap;
	u32 room;
};

static int compat_iova_cap_add(void *arg, unsigned long start,
			       unsigned long last)
{
	struct compat_iova_cap *out = arg;
	struct vfio_iommu_type1_info_cap_iova_range *grown;
	u32 n = out->cap ? out->cap->nr_iovas : 0;

	if (n == out->room) {
		grown = krealloc(out->cap,
				 struct_size(grown, iova_ranges, n + 8),
				 GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!grown)
			return -ENOMEM;
		out->cap = grown;
		out->room = n + 8;
	}
	out->cap->iova_ranges[n].start = start;
	out->cap->iova_ranges[n].end = last;
	out->cap->nr_iovas = n + 1;
	return 0;
}

/*
 * Page sizes the container offers: those every domain of the IOAS has,
 * none below a CPU page (a smaller IOMMU page makes PAGE_SIZE usable, as
 * in VFIO) nor below the IOAS's alignment.
 */
static u64 compat_iova_pgsizes(struct io_pagetable *iopt)
{
	unsigned long sizes = ULONG_MAX, floor, index;
	struct iommu_domain *domain;

	down_read(&iopt->domains_rwsem);
	xa_for_each(&iopt->domains, index, domain)
		sizes &= domain->pgsize_bitmap;
	floor = max_t(unsigned long, READ_ONCE(iopt->iova_alignment),
		      PAGE_SIZE);
	up_read(&iopt->domains_rwsem);

	if (sizes & ~PAGE_MASK)
		sizes = (sizes & PAGE_MASK) | PAGE_SIZE;
	sizes &= ~(floor - 1);
	return sizes ?: floor;
}

/* Room a capability takes in the chain: each one starts 8 byte aligned. */
#define COMPAT_CAP_ROOM(len)	ALIGN(len, sizeof(u64))

/*
 * VFIO_IOMMU_GET_INFO. The capability chain (the DMA mapping limit, then
 * the usable IOVA ranges) follows the fixed part, and only comes when all
 * of it fits in argsz; argsz returns the size that does fit it all.
 */
static int compat_iommu_get_info(struct iommufd_ctx *ictx,
				 void __user *uarg)
{
	const size_t need = offsetofend(struct vfio_iommu_type1_info,
					iova_pgsizes);
	struct vfio_iommu_type1_info_dma_avail avail = {
		.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
		.header.version = 1,
		/*
		 * Mappings are only limited by the memory cgroup. VFIO's
		 * default is U16_MAX; some users (QEMU on s390) need more.
		 */
		.avail = U32_MAX,
	};
	struct vfio_iommu_type1_info info = {};
	struct compat_iova_cap iovas = {};
	size_t avail_off, iova_off, iova_len, user_len;
	struct iommufd_ioas *ioas;
	int rc;

	if (copy_from_user(&info, uarg, need))
		return -EFAULT;
	if (info.argsz < need)
		return -EINVAL;
	user_len = info.argsz;

	ioas = compat_borrow(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	info.iova_pgsizes = compat_iova_pgsizes(&ioas->iopt);
	rc = iopt_each_usable(&ioas->iopt, compat_iova_cap_add, &iovas);
	iommufd_object_put(ictx, &ioas->obj);
	/* An IOAS with nothing usable still gets an (empty) range list. */
	if (!rc && !iovas.cap)
		iovas.cap = kzalloc(sizeof(*iovas.cap), GFP_KERNEL_ACCOUNT);
	if (!rc && !iovas.cap)
		rc = -ENOMEM;
	if (rc)
		goto out_free;

	iovas.cap->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	iovas.cap->header.version = 1;
	iova_len = struct_size(iovas.cap, iova_ranges, iovas.cap->nr_iovas);
	avail_off = sizeof(info);
	iova_off = avail_off + COMPAT_CAP_ROOM(sizeof(avail));
	avail.header.next = iova_off;

	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.argsz = iova_off + COMPAT_CAP_ROOM(iova_len);
	if (user_len >= info.argsz) {
		if (copy_to_user(uarg + avail_off, &avail, sizeof(avail)) ||
		    copy_to_user(uarg + iova_off, iovas.cap, iova_len)) {
			rc = -EFAULT;
			goto out_free;
		}
		info.cap_offset = avail_off;
	}
	if (copy_to_user(uarg, &info, min(user_len, sizeof(info))))
		rc = -EFAULT;
out_free:
	kfree(iovas.cap);
	return rc;
}

/* VFIO_CHECK_EXTENSION(VFIO_DMA_CC_IOMMU): are all page tables coherent? */
static int compat_dma_coherent(struct iommufd_ctx *ictx)
{
	struct iommufd_object *obj;
	struct iommufd_hwpt *hwpt;
	struct iommufd_ioas *ioas;
	unsigned long index;
	int coherent = 1;

	ioas = compat_borrow(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	/* Published objects are not freed while the xarray is locked. */
	xa_lock(&ictx->objects);
	xa_for_each(&ictx->objects, index, obj) {
		if (obj->type != IOMMUFD_OBJ_HWPT)
			continue;
		hwpt = container_of(obj, struct iommufd_hwpt, obj);
		if (hwpt->ioas == ioas && !hwpt->enforce_cache_coherency) {
			coherent = 0;
			break;
		}
	}
	xa_unlock(&ictx->objects);
	iommufd_object_put(ictx, &ioas->obj);
	return coherent;
}

/* VFIO_CHECK_EXTENSION */
static int compat_check_extension(struct iommufd_ctx *ictx, unsigned long ext)
{
	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return !READ_ONCE(ictx->compat_no_iommu);
	case VFIO_NOIOMMU_IOMMU:
		return IS_ENABLED(CONFIG_VFIO_NOIOMMU);
	case VFIO_DMA_CC_IOMMU:
		return compat_dma_coherent(ictx);
	default:
		/*
		 * Among others VFIO_UPDATE_VADDR: there is no safe way to
		 * let a mapping's memory change under a live device.
		 */
		return 0;
	}
}

/* VFIO_SET_IOMMU: needs a compat IOAS, that is a group in the container. */
static int compat_set_iommu(struct iommufd_ctx *ictx, unsigned long type)
{
	bool no_iommu = READ_ONCE(ictx->compat_no_iommu);
	struct iommufd_ioas *ioas;
	int rc = 0;

	/* No-IOMMU containers get nothing to work on: no IOAS exists. */
	if (no_iommu && type == VFIO_NOIOMMU_IOMMU &&
	    IS_ENABLED(CONFIG_VFIO_NOIOMMU))
		return capable(CAP_SYS_RAWIO) ? 0 : -EPERM;
	if (no_iommu || (type != VFIO_TYPE1_IOMMU &&
			 type != VFIO_TYPE1v2_IOMMU))
		return -EINVAL;

	ioas = compat_borrow(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	/*
	 * Type1 v1 lets the user unmap any page of a mapping, which a huge
	 * IOPTE cannot allow: map the IOAS page by page from now on.
	 */
	if (type == VFIO_TYPE1_IOMMU)
		rc = iopt_set_huge_pages(&ioas->iopt, false);
	iommufd_object_put(ictx, &ioas->obj);
	return rc;
}

/*
 * The VFIO container ioctls, which share the type letter of ours below
 * IOMMUFD_CMD_BASE. Those of other IOMMU flavours (SPAPR's ENABLE and
 * DISABLE), of dirty tracking and anything unknown are ENOTTY.
 */
long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return compat_check_extension(ictx, arg);
	case VFIO_SET_IOMMU:
		return compat_set_iommu(ictx, arg);
	case VFIO_IOMMU_GET_INFO:
		return compat_iommu_get_info(ictx, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return compat_map_dma(ictx, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return compat_unmap_dma(ictx, uarg);
	default:
		return -ENOTTY;
	}
}
