// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/iommu: the character device, its contexts and the ioctl dispatcher.
 *
 * Every iommufd command struct starts with a __u32 size that the user fills
 * with sizeof() of the struct as their headers know it. The dispatcher
 * copies min(size, ours) bytes and zero-fills the rest, so old binaries
 * keep working as structs grow; a newer binary may pass a longer struct
 * only if the tail we do not know is zero (E2BIG otherwise). A size below
 * the op's last mandatory field is EINVAL.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "iommufd_private.h"
#ifdef CONFIG_IOMMUFD_TEST
#include "selftest/iommufd_test.h"
#define IOMMU_TEST_CMD_NR	_IOC_NR(IOMMU_TEST_CMD)
#endif

/*
 * How a new context charges pinned pages. Through /dev/vfio/vfio it is
 * VFIO's way (mm->pinned_vm), which that node's users expect.
 */
static enum iommufd_account iommufd_initial_account(struct inode *inode)
{
	if (!IS_ENABLED(CONFIG_IOMMUFD_VFIO_CONTAINER) ||
	    iminor(inode) != VFIO_MINOR)
		return IOMMUFD_ACCOUNT_USER;
	pr_info_once("iommufd: /dev/vfio/vfio is served by iommufd, not by VFIO\n");
	return IOMMUFD_ACCOUNT_MM;
}

static int iommufd_fops_open(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ictx;

	ictx = kzalloc(sizeof(*ictx), GFP_KERNEL_ACCOUNT);
	if (!ictx)
		return -ENOMEM;

	xa_init_flags(&ictx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&ictx->drain_wq);
	mutex_init(&ictx->compat_lock);
	mutex_init(&ictx->attach_lock);
	xa_init(&ictx->groups);
	spin_lock_init(&ictx->iopf_lock);
	INIT_LIST_HEAD(&ictx->iopf_devices);
	ictx->account = iommufd_initial_account(inode);
	ictx->file = filp;
	filp->private_data = ictx;
	return 0;
}

static int iommufd_fops_release(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ictx = filp->private_data;

	iommufd_objects_destroy_all(ictx);
	WARN_ON(!xa_empty(&ictx->groups));
	WARN_ON(!list_empty(&ictx->iopf_devices));
	xa_destroy(&ictx->groups);
	mutex_destroy(&ictx->attach_lock);
	mutex_destroy(&ictx->compat_lock);
	kfree(ictx);
	return 0;
}

static int iommufd_destroy(struct iommufd_call *call)
{
	struct iommu_destroy *cmd = call->cmd;

	return iommufd_object_remove(call->ictx, NULL, cmd->id,
				     IOMMUFD_REMOVE_USER);
}

static int iommufd_option_rlimit_mode(struct iommufd_call *call)
{
	struct iommu_option *cmd = call->cmd;
	struct iommufd_ctx *ictx = call->ictx;
	int rc = 0;

	if (cmd->object_id)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOMMU_OPTION_OP_GET:
		cmd->val64 = ictx->account == IOMMUFD_ACCOUNT_MM;
		return 0;
	case IOMMU_OPTION_OP_SET:
		if (!capable(CAP_SYS_RESOURCE))
			return -EPERM;
		if (cmd->val64 > 1)
			return -EINVAL;
		/* Pages already charged one way cannot move to the other. */
		xa_lock(&ictx->objects);
		if (xa_empty(&ictx->objects))
			ictx->account = cmd->val64 ? IOMMUFD_ACCOUNT_MM :
						     IOMMUFD_ACCOUNT_USER;
		else
			rc = -EBUSY;
		xa_unlock(&ictx->objects);
		return rc;
	default:
		return -EOPNOTSUPP;
	}
}

static int iommufd_option(struct iommufd_call *call)
{
	struct iommu_option *cmd = call->cmd;
	struct iommu_option __user *uopt = call->ubuf;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		rc = iommufd_option_rlimit_mode(call);
		break;
	case IOMMU_OPTION_HUGE_PAGES:
		rc = iommufd_ioas_option(call);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (rc)
		return rc;
	/* Only the value travels back; the rest of the struct is input. */
	return put_user(cmd->val64, &uopt->val64);
}

/* Large enough for every command struct, checked at build time below. */
#define IOMMUFD_CMD_BUF_SIZE	128

struct iommufd_ioctl {
	unsigned int num;
	u16 min_size;
	u16 size;
	int (*handler)(struct iommufd_call *call);
};

/* @_name: the command's name without its IOMMU_ prefix (DESTROY, ...) */
#define IOMMUFD_IOCTL(_name, _handler, _struct, _last)                       \
	[IOMMUFD_CMD_##_name - IOMMUFD_CMD_BASE] = {                         \
		.num = IOMMU_##_name,                                        \
		.handler = _handler,                                         \
		.min_size = offsetofend(_struct, _last),                     \
		.size = sizeof(_struct) +                                    \
			BUILD_BUG_ON_ZERO(sizeof(_struct) >                  \
					  IOMMUFD_CMD_BUF_SIZE),             \
	}

static const struct iommufd_ioctl iommufd_ioctls[] = {
	IOMMUFD_IOCTL(DESTROY, iommufd_destroy, struct iommu_destroy, id),
	IOMMUFD_IOCTL(FAULT_QUEUE_ALLOC, iommufd_fault_alloc_ioctl,
		      struct iommu_fault_alloc, out_fault_fd),
	IOMMUFD_IOCTL(GET_HW_INFO, iommufd_get_hw_info_ioctl,
		      struct iommu_hw_info, __reserved),
	IOMMUFD_IOCTL(HWPT_ALLOC, iommufd_hwpt_alloc_ioctl,
		      struct iommu_hwpt_alloc, __reserved),
	IOMMUFD_IOCTL(HWPT_GET_DIRTY_BITMAP, iommufd_hwpt_get_dirty_ioctl,
		      struct iommu_hwpt_get_dirty_bitmap, data),
	IOMMUFD_IOCTL(HWPT_INVALIDATE, iommufd_hwpt_invalidate_ioctl,
		      struct iommu_hwpt_invalidate, __reserved),
	IOMMUFD_IOCTL(HWPT_SET_DIRTY_TRACKING, iommufd_hwpt_set_dirty_ioctl,
		      struct iommu_hwpt_set_dirty_tracking, __reserved),
	IOMMUFD_IOCTL(IOAS_ALLOC, iommufd_ioas_alloc_ioctl,
		      struct iommu_ioas_alloc, out_ioas_id),
	IOMMUFD_IOCTL(IOAS_CHANGE_PROCESS, iommufd_ioas_change_process_ioctl,
		      struct iommu_ioas_change_process, __reserved),
	IOMMUFD_IOCTL(IOAS_ALLOW_IOVAS, iommufd_ioas_allow_iovas_ioctl,
		      struct iommu_ioas_allow_iovas, allowed_iovas),
	IOMMUFD_IOCTL(IOAS_COPY, iommufd_ioas_copy_ioctl,
		      struct iommu_ioas_copy, src_iova),
	IOMMUFD_IOCTL(IOAS_IOVA_RANGES, iommufd_ioas_iova_ranges_ioctl,
		      struct iommu_ioas_iova_ranges, out_iova_alignment),
	IOMMUFD_IOCTL(IOAS_MAP, iommufd_ioas_map_ioctl, struct iommu_ioas_map,
		      iova),
	IOMMUFD_IOCTL(IOAS_MAP_FILE, iommufd_ioas_map_file_ioctl,
		      struct iommu_ioas_map_file, iova),
	IOMMUFD_IOCTL(IOAS_UNMAP, iommufd_ioas_unmap_ioctl,
		      struct iommu_ioas_unmap, length),
	IOMMUFD_IOCTL(OPTION, iommufd_option, struct iommu_option, val64),
	IOMMUFD_IOCTL(VFIO_IOAS, iommufd_vfio_ioas, struct iommu_vfio_ioas,
		      __reserved),
#ifdef CONFIG_IOMMUFD_TEST
	[IOMMU_TEST_CMD_NR - IOMMUFD_CMD_BASE] = {
		.num = IOMMU_TEST_CMD,
		.handler = iommufd_test_cmd,
		.min_size = offsetofend(struct iommu_test_cmd, last),
		.size = sizeof(struct iommu_test_cmd),
	},
#endif
};

static long iommufd_fops_ioctl(struct file *filp, unsigned int num,
			       unsigned long arg)
{
	unsigned int idx = _IOC_NR(num) - IOMMUFD_CMD_BASE;
	u64 buf[IOMMUFD_CMD_BUF_SIZE / sizeof(u64)];
	const struct iommufd_ioctl *op;
	struct iommufd_call call = {
		.ictx = filp->private_data,
		.ubuf = (void __user *)arg,
		.cmd = buf,
	};
	int rc;

	/* Below our range sit the VFIO container ioctls, same type letter. */
	if (_IOC_NR(num) < IOMMUFD_CMD_BASE)
		return iommufd_vfio_ioctl(call.ictx, num, arg);
	if (idx >= ARRAY_SIZE(iommufd_ioctls))
		return -ENOTTY;
	op = &iommufd_ioctls[idx];
	if (!op->handler || op->num != num)
		return -ENOTTY;

	if (get_user(call.usize, (u32 __user *)call.ubuf))
		return -EFAULT;
	if (call.usize < op->min_size)
		return -EINVAL;
	rc = copy_struct_from_user(buf, op->size, call.ubuf, call.usize);
	if (rc)
		return rc;
	return op->handler(&call);
}

static const struct file_operations iommufd_fops = {
	.owner = THIS_MODULE,
	.open = iommufd_fops_open,
	.release = iommufd_fops_release,
	.unlocked_ioctl = iommufd_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/*
 * The context functions drivers use (VFIO for its cdev and group paths).
 * A context lives exactly as long as its file: a reference to one is a
 * reference to the other.
 */

/**
 * iommufd_ctx_put - drop a reference taken on a context
 * @ictx: the context
 */
void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	fput(ictx->file);
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_put, IOMMUFD);

/**
 * iommufd_ctx_get - take one more reference on a context
 * @ictx: a context the caller already has a reference on
 */
void iommufd_ctx_get(struct iommufd_ctx *ictx)
{
	get_file(ictx->file);
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_get, IOMMUFD);

/**
 * iommufd_ctx_from_file - the context behind an open /dev/iommu file
 * @file: a file the caller holds a reference on (and keeps)
 *
 * Return: the context, with a reference for iommufd_ctx_put(), or
 * ERR_PTR(-EBADFD) when @file is something else.
 */
struct iommufd_ctx *iommufd_ctx_from_file(struct file *file)
{
	if (file->f_op != &iommufd_fops)
		return ERR_PTR(-EBADFD);
	get_file(file);
	return file->private_data;
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_from_file, IOMMUFD);

/**
 * iommufd_ctx_from_fd - the context behind a descriptor of the caller
 * @fd: the descriptor
 *
 * Return: as iommufd_ctx_from_file(), or ERR_PTR(-EBADF) for a descriptor
 * that is not open.
 */
struct iommufd_ctx *iommufd_ctx_from_fd(int fd)
{
	CLASS(fd, f)(fd);

	if (fd_empty(f))
		return ERR_PTR(-EBADF);
	return iommufd_ctx_from_file(fd_file(f));
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_from_fd, IOMMUFD);

/*
 * The nodes the context files are opened through: /dev/iommu, and with
 * IOMMUFD_VFIO_CONTAINER also the legacy VFIO container, which keeps
 * VFIO's minor and permissions and reaches vfio_compat.c for its ioctls.
 */
static struct miscdevice iommufd_nodes[] = {
	{
		.name = "iommu", .nodename = "iommu",
		.minor = MISC_DYNAMIC_MINOR, .mode = 0660,
		.fops = &iommufd_fops,
	},
#ifdef CONFIG_IOMMUFD_VFIO_CONTAINER
	{
		.name = "vfio", .nodename = "vfio/vfio",
		.minor = VFIO_MINOR, .mode = 0666,
		.fops = &iommufd_fops,
	},
#endif
};

/* Take away the first @count nodes, last registered first. */
static void iommufd_nodes_remove(unsigned int count)
{
	while (count--)
		misc_deregister(&iommufd_nodes[count]);
}

static int __init iommufd_init(void)
{
	unsigned int i;
	int rc;

	for (i = 0; i != ARRAY_SIZE(iommufd_nodes); i++) {
		rc = misc_register(&iommufd_nodes[i]);
		if (rc) {
			iommufd_nodes_remove(i);
			return rc;
		}
	}
	iommufd_test_init();
	return 0;
}

static void __exit iommufd_exit(void)
{
	iommufd_test_exit();
	iommufd_nodes_remove(ARRAY_SIZE(iommufd_nodes));
}

module_init(iommufd_init);
module_exit(iommufd_exit);

MODULE_DESCRIPTION("I/O address space management for user space (iommufd)");
MODULE_LICENSE("GPL");
MODULE_ALIAS("devname:iommu");
#ifdef CONFIG_IOMMUFD_VFIO_CONTAINER
MODULE_ALIAS_MISCDEV(VFIO_MINOR);
MODULE_ALIAS("devname:vfio/vfio");
#endif
