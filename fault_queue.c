// SPDX-License-Identifier: GPL-2.0-only
/*
 * I/O page faults: FAULT objects, the queues that carry devices' page
 * requests to user space and the answers back.
 *
 * Design
 * ------
 * IOMMU_FAULT_QUEUE_ALLOC makes a queue and a file descriptor for it. A page
 * table allocated with IOMMU_HWPT_FAULT_ID_VALID holds one queue and makes
 * iommufd_fault_handler() its domain's iopf handler. When a device behind
 * that page table sends a page request group, the core calls the handler,
 * which takes the group over from the core and queues it; read() turns it
 * into one struct iommu_hwpt_pgfault per request and gives it a cookie;
 * write() of a struct iommu_hwpt_page_response with that cookie answers the
 * group and hands it back to the core.
 *
 * Every group is answered exactly once, by whichever comes first: the
 * user's response; its device leaving the page table (IOMMU_PAGE_RESP_INVALID,
 * after the domain changed and before IOPF goes off); or the close of the
 * file, after which the queue answers new groups at once. So no group
 * outlives its device's attachment, and none waits for a reader that can
 * no longer come.
 *
 * A device's IOPF (iommu_dev_enable_feature()) is on exactly while it is
 * attached to a page table with a queue: on before its domain changes to
 * such a page table, off after it changed to one without. The core finds
 * the handler through the attach handle stored with a group's domain. Each
 * page table with a queue embeds one, which every group attached to it
 * shares: the core only records the domain there, the same for all.
 *
 * The IOMMU driver reports no fault for a group while the group's domain
 * changes (the core's rule; the mock IOMMU keeps it too), so a group is
 * always reported to the page table its device is attached to.
 *
 * Locking, outermost first
 * ------------------------
 *   ictx->attach_lock   domain changes; idev->iopf_on
 *   fault->mutex        the groups user space has read (@awaiting), and a
 *                       reader's groups on their way to its buffer
 *   (core locks)        taken when a group is answered
 *   ictx->iopf_lock     a spinlock: the context's devices with IOPF on, and
 *                       every queue's unread groups and closed flag
 * Of our locks the handler takes only iopf_lock, so a reader stuck in user
 * memory never stalls the IOMMU driver's fault thread.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "../iommu-priv.h"
#include "iommufd_private.h"

/* A request's permissions reach user space as the core has them. */
static_assert(IOMMU_PGFAULT_PERM_READ == IOMMU_FAULT_PERM_READ);
static_assert(IOMMU_PGFAULT_PERM_WRITE == IOMMU_FAULT_PERM_WRITE);
static_assert(IOMMU_PGFAULT_PERM_EXEC == IOMMU_FAULT_PERM_EXEC);
static_assert(IOMMU_PGFAULT_PERM_PRIV == IOMMU_FAULT_PERM_PRIV);

#define IOMMUFD_PGFAULT_PERMS	(IOMMU_PGFAULT_PERM_READ | \
				 IOMMU_PGFAULT_PERM_WRITE | \
				 IOMMU_PGFAULT_PERM_EXEC | \
				 IOMMU_PGFAULT_PERM_PRIV)

struct iommufd_fault {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	wait_queue_head_t poll_wq;
	/* Under ictx->iopf_lock: */
	struct list_head unread;	/* struct iommufd_pgreq, oldest first */
	bool closed;			/* the file is gone */
	/* Serializes read, write and the answers of leaving devices */
	struct mutex mutex;
	struct xarray awaiting;		/* read, not answered, by cookie */
	u32 next_cookie;
};

/* One page request group on its way to user space and back. */
struct iommufd_pgreq {
	struct list_head link;		/* in fault->unread, or to be answered */
	struct iopf_group *group;
	struct iommufd_hwpt *hwpt;	/* reported to; only ever compared */
	u32 dev_id;
	u32 cookie;			/* given at read */
};

/* Hand @req's group back to the core with @code; @req is freed. */
static void iommufd_pgreq_answer(struct iommufd_pgreq *req,
				 enum iommu_page_response_code code)
{
	iopf_group_response(req->group, code);
	iopf_free_group(req->group);
	kfree(req);
}

static void iommufd_pgreqs_refuse(struct list_head *reqs)
{
	struct iommufd_pgreq *req, *next;

	list_for_each_entry_safe(req, next, reqs, link)
		iommufd_pgreq_answer(req, IOMMU_PAGE_RESP_INVALID);
}

/* Whether @req is @dev's, reported to @hwpt; NULLs match anything. */
static bool iommufd_pgreq_matches(struct iommufd_pgreq *req,
				  struct iommufd_hwpt *hwpt, struct device *dev)
{
	return (!hwpt || req->hwpt == hwpt) &&
	       (!dev || req->group->fault_param->dev == dev);
}

/* Move the groups of @fault that match, read or not, onto @out. */
static void iommufd_fault_take(struct iommufd_fault *fault,
			       struct iommufd_hwpt *hwpt, struct device *dev,
			       struct list_head *out)
{
	struct iommufd_pgreq *req, *next;
	unsigned long cookie;

	lockdep_assert_held(&fault->mutex);
	spin_lock(&fault->ictx->iopf_lock);
	list_for_each_entry_safe(req, next, &fault->unread, link)
		if (iommufd_pgreq_matches(req, hwpt, dev))
			list_move_tail(&req->link, out);
	spin_unlock(&fault->ictx->iopf_lock);

	xa_for_each(&fault->awaiting, cookie, req) {
		if (!iommufd_pgreq_matches(req, hwpt, dev))
			continue;
		xa_erase(&fault->awaiting, cookie);
		list_add_tail(&req->link, out);
	}
}

/* The context's device behind @dev, if its IOPF is on. */
static struct iommufd_device *iommufd_iopf_device(struct iommufd_ctx *ictx,
						  struct device *dev)
{
	struct iommufd_device *idev;

	lockdep_assert_held(&ictx->iopf_lock);
	list_for_each_entry(idev, &ictx->iopf_devices, iopf_link)
		if (idev->dev == dev)
			return idev;
	return NULL;
}

/*
 * The iopf handler of a domain with a queue. The core calls it in process
 * context with a complete group: the last request and those before it.
 */
static int iommufd_fault_handler(struct iopf_group *group)
{
	struct iommufd_hwpt *hwpt = group->attach_handle->domain->fault_data;
	struct iommufd_fault *fault = hwpt->fault;
	struct iommufd_ctx *ictx = fault->ictx;
	struct iommufd_device *idev;
	struct iommufd_pgreq *req;

	/* Ours now: the core's teardown of the device leaves it to us. */
	iopf_group_dequeue(group);
	req = kzalloc(sizeof(*req), GFP_KERNEL);

	spin_lock(&ictx->iopf_lock);
	idev = iommufd_iopf_device(ictx, group->fault_param->dev);
	if (req && idev && !fault->closed) {
		req->group = group;
		req->hwpt = hwpt;
		req->dev_id = idev->obj.id;
		list_add_tail(&req->link, &fault->unread);
		spin_unlock(&ictx->iopf_lock);
		wake_up_interruptible(&fault->poll_wq);
		return 0;
	}
	spin_unlock(&ictx->iopf_lock);

	/* Nobody will read it: the device must not wait for an answer. */
	kfree(req);
	iopf_group_response(group, IOMMU_PAGE_RESP_INVALID);
	iopf_free_group(group);
	return 0;
}

/* The file */

static struct iommufd_pgreq *iommufd_fault_pop(struct iommufd_fault *fault)
{
	struct iommufd_pgreq *req;

	spin_lock(&fault->ictx->iopf_lock);
	req = list_first_entry_or_null(&fault->unread, struct iommufd_pgreq,
				       link);
	if (req)
		list_del(&req->link);
	spin_unlock(&fault->ictx->iopf_lock);
	return req;
}

/* Put a group that did not reach the reader back where it was. */
static void iommufd_fault_unpop(struct iommufd_fault *fault,
				struct iommufd_pgreq *req)
{
	spin_lock(&fault->ictx->iopf_lock);
	list_add(&req->link, &fault->unread);
	spin_unlock(&fault->ictx->iopf_lock);
}

static void iommufd_pgfault_fill(struct iommu_hwpt_pgfault *rec,
				 const struct iommufd_pgreq *req,
				 const struct iommu_fault_page_request *prm)
{
	*rec = (struct iommu_hwpt_pgfault){
		.dev_id = req->dev_id,
		.pasid = prm->pasid,
		.grpid = prm->grpid,
		.perm = prm->perm & IOMMUFD_PGFAULT_PERMS,
		.addr = prm->addr,
		.cookie = req->cookie,
	};
	if (prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID)
		rec->flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
	if (prm->flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE)
		rec->flags |= IOMMU_PGFAULT_FLAGS_LAST_PAGE;
}

/*
 * Give @req its cookie and write one record per request to @ubuf. A
 * cyclic cookie keeps a late answer to an old group from hitting a new one.
 */
static int iommufd_pgreq_deliver(struct iommufd_fault *fault,
				 struct iommufd_pgreq *req, char __user *ubuf)
{
	struct iommu_hwpt_pgfault rec;
	struct iopf_fault *iopf;
	int rc;

	lockdep_assert_held(&fault->mutex);
	rc = xa_alloc_cyclic(&fault->awaiting, &req->cookie, req, xa_limit_32b,
			     &fault->next_cookie, GFP_KERNEL_ACCOUNT);
	if (rc < 0)
		return rc;
	list_for_each_entry(iopf, &req->group->faults, list) {
		iommufd_pgfault_fill(&rec, req, &iopf->fault.prm);
		if (copy_to_user(ubuf, &rec, sizeof(rec))) {
			xa_erase(&fault->awaiting, req->cookie);
			return -EFAULT;
		}
		ubuf += sizeof(rec);
	}
	return 0;
}

/*
 * Whole groups only, oldest first, as many as fit; a buffer too small for
 * the first one is EINVAL. Nothing queued reads as 0: read never waits,
 * poll() does.
 */
static ssize_t iommufd_fault_read(struct file *file, char __user *buf,
				  size_t count, loff_t *ppos)
{
	const size_t rec = sizeof(struct iommu_hwpt_pgfault);
	struct iommufd_fault *fault = file->private_data;
	struct iommufd_pgreq *req;
	size_t done = 0;
	int rc = 0;

	if ((ppos && *ppos) || count % rec)
		return -ESPIPE;

	mutex_lock(&fault->mutex);
	while ((req = iommufd_fault_pop(fault))) {
		if (req->group->fault_count > (count - done) / rec) {
			iommufd_fault_unpop(fault, req);
			if (!done)
				rc = -EINVAL;
			break;
		}
		rc = iommufd_pgreq_deliver(fault, req, buf + done);
		if (rc) {
			iommufd_fault_unpop(fault, req);
			break;
		}
		done += req->group->fault_count * rec;
	}
	mutex_unlock(&fault->mutex);
	return done ? done : rc;
}

/*
 * The two answers user space may give; FAILURE, which stops the device's
 * page requests altogether, is not one of them.
 */
static int iommufd_resp_code(u32 code, enum iommu_page_response_code *out)
{
	switch (code) {
	case IOMMUFD_PAGE_RESP_SUCCESS:
		*out = IOMMU_PAGE_RESP_SUCCESS;
		return 0;
	case IOMMUFD_PAGE_RESP_INVALID:
		*out = IOMMU_PAGE_RESP_INVALID;
		return 0;
	default:
		return -EINVAL;
	}
}

static int iommufd_fault_respond(struct iommufd_fault *fault,
				 const struct iommu_hwpt_page_response *resp)
{
	enum iommu_page_response_code code;
	struct iommufd_pgreq *req;

	lockdep_assert_held(&fault->mutex);
	if (iommufd_resp_code(resp->code, &code))
		return -EINVAL;
	req = xa_erase(&fault->awaiting, resp->cookie);
	if (!req)
		return -EINVAL;
	iommufd_pgreq_answer(req, code);
	return 0;
}

/* Answers in order, up to the first bad one. */
static ssize_t iommufd_fault_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	const size_t len = sizeof(struct iommu_hwpt_page_response);
	struct iommufd_fault *fault = file->private_data;
	struct iommu_hwpt_page_response resp;
	size_t done = 0;
	int rc = 0;

	if ((ppos && *ppos) || count % len)
		return -ESPIPE;

	mutex_lock(&fault->mutex);
	for (; done != count; done += len) {
		if (copy_from_user(&resp, buf + done, len)) {
			rc = -EFAULT;
			break;
		}
		rc = iommufd_fault_respond(fault, &resp);
		if (rc)
			break;
	}
	mutex_unlock(&fault->mutex);
	return done ? done : rc;
}

static __poll_t iommufd_fault_poll(struct file *file,
				   struct poll_table_struct *pt)
{
	struct iommufd_fault *fault = file->private_data;
	__poll_t mask = EPOLLOUT;

	poll_wait(file, &fault->poll_wq, pt);
	spin_lock(&fault->ictx->iopf_lock);
	if (!list_empty(&fault->unread))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&fault->ictx->iopf_lock);
	return mask;
}

/* Nobody can answer any more: answer everything now, and what comes later. */
static int iommufd_fault_release(struct inode *inode, struct file *file)
{
	struct iommufd_fault *fault = file->private_data;
	struct iommufd_ctx *ictx = fault->ictx;
	LIST_HEAD(gone);

	mutex_lock(&fault->mutex);
	spin_lock(&ictx->iopf_lock);
	fault->closed = true;
	spin_unlock(&ictx->iopf_lock);
	iommufd_fault_take(fault, NULL, NULL, &gone);
	mutex_unlock(&fault->mutex);
	iommufd_pgreqs_refuse(&gone);

	/* Last: the first may let the object go, the second the context. */
	iommufd_object_release(&fault->obj);
	iommufd_ctx_put(ictx);
	return 0;
}

static const struct file_operations iommufd_fault_fops = {
	.owner = THIS_MODULE,
	.read = iommufd_fault_read,
	.write = iommufd_fault_write,
	.poll = iommufd_fault_poll,
	.release = iommufd_fault_release,
};

/* The object */

static void iommufd_fault_destroy(struct iommufd_object *obj)
{
	struct iommufd_fault *fault =
		container_of(obj, struct iommufd_fault, obj);

	/* The file's release answered all; no page table is left to add. */
	WARN_ON(!list_empty(&fault->unread) || !xa_empty(&fault->awaiting));
	xa_destroy(&fault->awaiting);
	mutex_destroy(&fault->mutex);
}

const struct iommufd_object_type_ops iommufd_fault_type = {
	.name = "fault",
	.destroy = iommufd_fault_destroy,
};

/*
 * The file holds the object, which IOMMU_DESTROY refuses (EBUSY) until the
 * close, and the context, whose ID table the object lives in.
 */
int iommufd_fault_alloc_ioctl(struct iommufd_call *call)
{
	struct iommu_fault_alloc *cmd = call->cmd;
	struct iommufd_fault *fault;
	struct file *file;
	int fd, rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	fault = iommufd_object_new(call->ictx, struct iommufd_fault, obj,
				   IOMMUFD_OBJ_FAULT);
	if (IS_ERR(fault)) {
		rc = PTR_ERR(fault);
		goto err_fd;
	}
	fault->ictx = call->ictx;
	init_waitqueue_head(&fault->poll_wq);
	INIT_LIST_HEAD(&fault->unread);
	mutex_init(&fault->mutex);
	xa_init_flags(&fault->awaiting, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);

	cmd->out_fault_id = fault->obj.id;
	cmd->out_fault_fd = fd;
	rc = iommufd_call_reply(call, sizeof(*cmd));
	if (rc)
		goto err_obj;
	/* Made last: once it exists only its release may undo the rest. */
	file = anon_inode_getfile("[iommufd-pgfault]", &iommufd_fault_fops,
				  fault, O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto err_obj;
	}
	iommufd_object_hold(&fault->obj);
	iommufd_ctx_get(call->ictx);
	iommufd_object_publish(call->ictx, &fault->obj);
	fd_install(fd, file);
	return 0;

err_obj:
	iommufd_object_discard_destroy(call->ictx, &fault->obj);
err_fd:
	put_unused_fd(fd);
	return rc;
}

/* Page tables with a queue */

/**
 * iommufd_fault_bind - make a new page table report I/O page faults
 * @hwpt: the page table, not published yet
 * @fault_id: the ID of a fault queue in @hwpt's context
 *
 * The page table holds the queue until it is destroyed.
 *
 * Return: 0, or -ENOENT when @fault_id names no fault queue.
 */
int iommufd_fault_bind(struct iommufd_hwpt *hwpt, u32 fault_id)
{
	struct iommufd_fault *fault;

	fault = iommufd_get_as(hwpt->ictx, fault_id, IOMMUFD_OBJ_FAULT,
			       struct iommufd_fault);
	if (IS_ERR(fault))
		return PTR_ERR(fault);
	iommufd_object_hold(&fault->obj);
	iommufd_object_put(hwpt->ictx, &fault->obj);
	hwpt->fault = fault;
	hwpt->domain->iopf_handler = iommufd_fault_handler;
	hwpt->domain->fault_data = hwpt;
	return 0;
}

/**
 * iommufd_fault_unbind - let go of a page table's queue, if it has one
 * @hwpt: the page table being destroyed, with no device attached
 */
void iommufd_fault_unbind(struct iommufd_hwpt *hwpt)
{
	if (hwpt->fault)
		iommufd_object_release(&hwpt->fault->obj);
}

/**
 * iommufd_fault_group_attach - put a group behind a page table
 * @hwpt: the page table
 * @group: the group
 *
 * As iommu_attach_group(), with the attach handle the core needs to find
 * the fault handler when @hwpt has a queue.
 *
 * Return: as iommu_attach_group().
 */
int iommufd_fault_group_attach(struct iommufd_hwpt *hwpt,
			       struct iommu_group *group)
{
	if (!hwpt->fault)
		return iommu_attach_group(hwpt->domain, group);
	return iommu_attach_group_handle(hwpt->domain, group,
					 &hwpt->iopf_handle);
}

/**
 * iommufd_fault_group_detach - undo iommufd_fault_group_attach()
 * @hwpt: the page table
 * @group: the group behind it
 */
void iommufd_fault_group_detach(struct iommufd_hwpt *hwpt,
				struct iommu_group *group)
{
	if (!hwpt->fault)
		iommu_detach_group(hwpt->domain, group);
	else
		iommu_detach_group_handle(hwpt->domain, group);
}

/**
 * iommufd_fault_group_replace - move a group to another page table
 * @group: the group
 * @old: the page table it is attached to
 * @hwpt: the one to move it to
 *
 * As iommu_group_replace_domain(), with the attach handle of @hwpt in place
 * of @old's. The handles belong to the page tables, not to this call, so a
 * failure leaves both as they were.
 *
 * Return: as iommu_group_replace_domain().
 */
int iommufd_fault_group_replace(struct iommu_group *group,
				struct iommufd_hwpt *old,
				struct iommufd_hwpt *hwpt)
{
	if (!old->fault && !hwpt->fault)
		return iommu_group_replace_domain(group, hwpt->domain);
	/* Without a handle the core drops the old one. */
	return iommu_replace_group_handle(group, hwpt->domain,
					  hwpt->fault ? &hwpt->iopf_handle :
							NULL);
}

/* Devices */

/**
 * iommufd_fault_dev_enter - get a device ready to fault into a page table
 * @idev: the device, about to be attached (or moved) to @to
 * @to: the page table
 *
 * Turns the device's IOPF on if @to has a queue and it is not on yet.
 * Undo with iommufd_fault_dev_leave(@idev, @to, the previous page table).
 *
 * Return: 0, -EINVAL for a PCI VF, or what the IOMMU driver returned.
 */
int iommufd_fault_dev_enter(struct iommufd_device *idev,
			    struct iommufd_hwpt *to)
{
	struct iommufd_ctx *ictx = idev->ictx;
	struct device *dev = idev->dev;
	int rc;

	lockdep_assert_held(&ictx->attach_lock);
	if (!to->fault || idev->iopf_on)
		return 0;
	/* A VF shares its PF's page request interface; nothing arbitrates it. */
	if (dev_is_pci(dev) && to_pci_dev(dev)->is_virtfn)
		return -EINVAL;

	/* Listed first, so its first fault finds it. */
	spin_lock(&ictx->iopf_lock);
	list_add_tail(&idev->iopf_link, &ictx->iopf_devices);
	spin_unlock(&ictx->iopf_lock);
	rc = iommu_dev_enable_feature(dev, IOMMU_DEV_FEAT_IOPF);
	if (rc) {
		spin_lock(&ictx->iopf_lock);
		list_del(&idev->iopf_link);
		spin_unlock(&ictx->iopf_lock);
		return rc;
	}
	idev->iopf_on = true;
	return 0;
}

/**
 * iommufd_fault_dev_leave - a device's domain stopped being @from's
 * @idev: the device
 * @from: the page table it left
 * @to: the page table it is attached to now, or NULL
 *
 * Every group @idev reported to @from is answered IOMMU_PAGE_RESP_INVALID;
 * then its IOPF goes off unless @to has a queue as well.
 */
void iommufd_fault_dev_leave(struct iommufd_device *idev,
			     struct iommufd_hwpt *from,
			     struct iommufd_hwpt *to)
{
	bool off = idev->iopf_on && !(to && to->fault);
	struct iommufd_ctx *ictx = idev->ictx;
	LIST_HEAD(gone);

	lockdep_assert_held(&ictx->attach_lock);
	/* Unlisted first: a fault of it from now on is answered at once. */
	if (off) {
		spin_lock(&ictx->iopf_lock);
		list_del(&idev->iopf_link);
		spin_unlock(&ictx->iopf_lock);
	}
	if (from->fault) {
		mutex_lock(&from->fault->mutex);
		iommufd_fault_take(from->fault, from, idev->dev, &gone);
		mutex_unlock(&from->fault->mutex);
		iommufd_pgreqs_refuse(&gone);
	}
	if (off) {
		iommu_dev_disable_feature(idev->dev, IOMMU_DEV_FEAT_IOPF);
		idev->iopf_on = false;
	}
}
