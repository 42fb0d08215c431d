// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_TEST_CMD (CONFIG_IOMMUFD_TEST): hooks into the core for the
 * kselftests. This file holds the dispatcher and the ops that act on an
 * IOAS and its pages; the mock IOMMU has its own file.
 *
 * Test accesses: CREATE_ACCESS makes an in-kernel access through the same
 * kAPI a mediated device driver uses, and hands it to user space as a file
 * descriptor that later ops name in iommu_test_cmd.id. Each successful
 * ACCESS_PAGES is kept as a numbered pin until DESTROY_ACCESS_PAGES, the
 * core's unmap callback, or the close of the descriptor unpins it.
 *
 * Locking: mock_access.lock covers the pin list and is held across
 * iommufd_access_pin_pages(), so the unmap callback (which takes it too)
 * cannot miss a pin that is being made.
 */
#include <linux/anon_inodes.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "../iommufd_private.h"
#include "../io_pagetable.h"
#include "iommufd_test.h"
#include "mock_iommu.h"

/* Whether the mock IOMMU registered at init */
static bool mock_ready;

/* Bounds the kernel buffers one op allocates for a user-chosen length. */
#define MOCK_MAX_XFER	SZ_16M

struct mock_access {
	struct iommufd_access *access;
	struct file *file;
	struct mutex lock;	/* protects @pins and @next_pin_id */
	struct list_head pins;
	unsigned int next_pin_id;
	bool can_pin;
};

struct mock_pin {
	struct list_head link;
	unsigned long iova;
	unsigned long length;
	unsigned int id;
	bool bounce;		/* MOCK_FLAGS_ACCESS_LAB_BOUNCE */
};

static void mock_pin_drop(struct mock_access *ma, struct mock_pin *pin)
{
	list_del(&pin->link);
	iommufd_access_unpin_pages(ma->access, pin->iova, pin->length);
	kfree(pin);
}

/*
 * A bouncing pin taken back is made again next door, under the same ID;
 * if the core refuses, it is gone.
 */
static void mock_pin_bounce(struct mock_access *ma, struct mock_pin *pin)
{
	unsigned long to = (pin->iova / pin->length) % 2 ?
				   pin->iova - pin->length :
				   pin->iova + pin->length;

	list_del(&pin->link);
	iommufd_access_unpin_pages(ma->access, pin->iova, pin->length);
	if (iommufd_access_pin_pages(ma->access, to, pin->length, NULL, 0)) {
		kfree(pin);
		return;
	}
	pin->iova = to;
	list_add_tail(&pin->link, &ma->pins);
}

/* The core is unmapping [iova, iova + length): let go of what is inside. */
static void mock_access_unmap(void *data, unsigned long iova,
			      unsigned long length)
{
	unsigned long last = iova + length - 1;
	struct mock_access *ma = data;
	struct mock_pin *pin, *next;
	LIST_HEAD(bounced);

	mutex_lock(&ma->lock);
	list_for_each_entry_safe(pin, next, &ma->pins, link) {
		if (pin->iova + pin->length - 1 < iova || pin->iova > last)
			continue;
		if (pin->bounce)
			list_move_tail(&pin->link, &bounced);
		else
			mock_pin_drop(ma, pin);
	}
	/* Each moves once per callback, even to a range inside this one. */
	list_for_each_entry_safe(pin, next, &bounced, link)
		mock_pin_bounce(ma, pin);
	mutex_unlock(&ma->lock);
}

static const struct iommufd_access_ops mock_access_pin_ops = {
	.needs_pin_pages = 1,
	.unmap = mock_access_unmap,
};

static const struct iommufd_access_ops mock_access_rw_ops = {
	.unmap = mock_access_unmap,
};

static int mock_access_release(struct inode *inode, struct file *file)
{
	struct mock_access *ma = file->private_data;
	struct mock_pin *pin, *next;

	if (ma->access) {
		mutex_lock(&ma->lock);
		list_for_each_entry_safe(pin, next, &ma->pins, link)
			mock_pin_drop(ma, pin);
		mutex_unlock(&ma->lock);
		iommufd_access_destroy(ma->access);
	}
	mutex_destroy(&ma->lock);
	kfree(ma);
	return 0;
}

static const struct file_operations mock_access_fops = {
	.owner = THIS_MODULE,
	.release = mock_access_release,
};

/* The test access behind a descriptor; drop it with fput(ma->file). */
static struct mock_access *mock_access_from_fd(int fd)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &mock_access_fops) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	return file->private_data;
}

static int mock_create_access(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct iommufd_access *access;
	struct mock_access *ma;
	u32 access_id;
	int fd, rc;

	if (cmd->create_access.flags &
	    ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		return -EOPNOTSUPP;

	ma = kzalloc(sizeof(*ma), GFP_KERNEL_ACCOUNT);
	if (!ma)
		return -ENOMEM;
	mutex_init(&ma->lock);
	INIT_LIST_HEAD(&ma->pins);
	ma->can_pin = cmd->create_access.flags &
		      MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;

	/* From here on the file's release frees @ma. */
	ma->file = anon_inode_getfile("[iommufd-test-access]",
				      &mock_access_fops, ma, O_RDWR);
	if (IS_ERR(ma->file)) {
		rc = PTR_ERR(ma->file);
		mutex_destroy(&ma->lock);
		kfree(ma);
		return rc;
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto err_file;
	}

	access = iommufd_access_create(call->ictx,
				       ma->can_pin ? &mock_access_pin_ops :
						     &mock_access_rw_ops,
				       ma, &access_id);
	if (IS_ERR(access)) {
		rc = PTR_ERR(access);
		goto err_fd;
	}
	rc = iommufd_access_attach(access, cmd->id);
	if (rc)
		goto err_access;

	cmd->create_access.out_access_fd = fd;
	rc = iommufd_call_reply(call, sizeof(*cmd));
	if (rc)
		goto err_access;

	ma->access = access;
	fd_install(fd, ma->file);
	return 0;

err_access:
	iommufd_access_destroy(access);
err_fd:
	put_unused_fd(fd);
err_file:
	fput(ma->file);
	return rc;
}

/* Are @pages the pages mapped at @uptr right now? */
static int mock_pages_match(unsigned long uptr, struct page **pages,
			    unsigned long npages)
{
	struct page *found[16];
	unsigned long done = 0;
	long got, i;
	int rc = 0;

	while (done < npages && !rc) {
		got = get_user_pages_fast(uptr + done * PAGE_SIZE,
					  min_t(unsigned long, npages - done,
						ARRAY_SIZE(found)), 0, found);
		if (got <= 0)
			return got ? got : -EFAULT;
		for (i = 0; i < got; i++) {
			if (found[i] != pages[done + i])
				rc = -EBADE;
			put_page(found[i]);
		}
		done += got;
	}
	return rc;
}

static int mock_access_pages(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	unsigned long iova = cmd->access_pages.iova;
	unsigned long length = cmd->access_pages.length;
	unsigned long uptr = cmd->access_pages.uptr;
	unsigned long npages, first;
	struct mock_access *ma;
	struct mock_pin *pin;
	struct page **pages;
	int rc;

	if (cmd->access_pages.flags &
	    ~(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_LAB_BOUNCE))
		return -EOPNOTSUPP;
	if (length > MOCK_MAX_XFER)
		return -ENOMEM;
	if (!length || iova + length < iova)
		return -EINVAL;

	ma = mock_access_from_fd(cmd->id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	if (!ma->can_pin) {
		rc = -EOPNOTSUPP;
		goto out_put;
	}

	first = iova >> PAGE_SHIFT;
	npages = ((iova + length - 1) >> PAGE_SHIFT) - first + 1;
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pages || !pin) {
		rc = -ENOMEM;
		goto out_free;
	}

	mutex_lock(&ma->lock);
	rc = iommufd_access_pin_pages(ma->access, iova, length, pages,
				      cmd->access_pages.flags &
					      MOCK_FLAGS_ACCESS_WRITE ?
					      IOMMUFD_ACCESS_RW_WRITE : 0);
	if (rc)
		goto out_unlock;
	/* A zero uptr (fuzzers) skips the comparison. */
	if (uptr)
		rc = mock_pages_match(uptr - offset_in_page(iova), pages,
				      npages);
	if (!rc) {
		pin->iova = iova;
		pin->length = length;
		pin->bounce = cmd->access_pages.flags &
			      MOCK_FLAGS_ACCESS_LAB_BOUNCE;
		pin->id = ma->next_pin_id++;
		cmd->access_pages.out_access_pages_id = pin->id;
		rc = iommufd_call_reply(call, sizeof(*cmd));
	}
	if (rc) {
		iommufd_access_unpin_pages(ma->access, iova, length);
		goto out_unlock;
	}
	list_add_tail(&pin->link, &ma->pins);
	pin = NULL;
out_unlock:
	mutex_unlock(&ma->lock);
out_free:
	kfree(pin);
	kvfree(pages);
out_put:
	fput(ma->file);
	return rc;
}

static int mock_destroy_access_pages(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct mock_access *ma;
	struct mock_pin *pin;
	int rc = -ENOENT;

	ma = mock_access_from_fd(cmd->id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	mutex_lock(&ma->lock);
	list_for_each_entry(pin, &ma->pins, link) {
		if (pin->id == cmd->destroy_access_pages.access_pages_id) {
			mock_pin_drop(ma, pin);
			rc = 0;
			break;
		}
	}
	mutex_unlock(&ma->lock);
	fput(ma->file);
	return rc;
}

static int mock_access_rw(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	void __user *ubuf = u64_to_user_ptr(cmd->access_rw.uptr);
	size_t length = cmd->access_rw.length;
	unsigned int flags = 0;
	struct mock_access *ma;
	void *buf;
	int rc;

	if (cmd->access_rw.flags &
	    ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH))
		return -EOPNOTSUPP;
	if (length > MOCK_MAX_XFER)
		return -ENOMEM;
	if (cmd->access_rw.flags & MOCK_ACCESS_RW_WRITE)
		flags |= IOMMUFD_ACCESS_RW_WRITE;
	if (cmd->access_rw.flags & MOCK_ACCESS_RW_SLOW_PATH)
		flags |= __IOMMUFD_ACCESS_RW_SLOW_PATH;

	ma = mock_access_from_fd(cmd->id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	buf = kvzalloc(length, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		rc = -ENOMEM;
		goto out_put;
	}
	if ((flags & IOMMUFD_ACCESS_RW_WRITE) &&
	    copy_from_user(buf, ubuf, length)) {
		rc = -EFAULT;
		goto out_free;
	}
	rc = iommufd_access_rw(ma->access, cmd->access_rw.iova, buf, length,
			       flags);
	if (!rc && !(flags & IOMMUFD_ACCESS_RW_WRITE) &&
	    copy_to_user(ubuf, buf, length))
		rc = -EFAULT;
out_free:
	kvfree(buf);
out_put:
	fput(ma->file);
	return rc;
}

/* Unpin a range the test access may never have pinned, as a buggy driver. */
static int mock_access_unpin_raw(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	unsigned long iova = cmd->access_pages.iova;
	unsigned long length = cmd->access_pages.length;
	struct mock_access *ma;

	if (!length || iova + length < iova)
		return -EINVAL;
	ma = mock_access_from_fd(cmd->id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	iommufd_access_unpin_pages(ma->access, iova, length);
	fput(ma->file);
	return 0;
}

static int mock_access_replace_ioas(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct mock_access *ma;
	int rc;

	ma = mock_access_from_fd(cmd->id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	rc = iommufd_access_replace(ma->access,
				    cmd->access_replace_ioas.ioas_id);
	fput(ma->file);
	return rc;
}

static int mock_add_reserved(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	u64 start = cmd->add_reserved.start;
	u64 length = cmd->add_reserved.length;
	struct iommufd_ioas *ioas;
	u64 last;
	int rc;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(start, length - 1, &last) || last > ULONG_MAX)
		return -EOVERFLOW;

	ioas = iommufd_ioas_get(call->ictx, cmd->id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_reserve_iova(&ioas->iopt, start, last, NULL);
	iommufd_object_put(call->ictx, &ioas->obj);
	return rc;
}

/*
 * Every small page behind [uptr, uptr + length) must carry @refs pins.
 * Pages of large folios are skipped: their pins are counted per folio.
 */
static int mock_check_refs(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	unsigned long uptr = cmd->check_refs.uptr;
	unsigned long length = cmd->check_refs.length;
	struct page *page;
	unsigned long end;
	int rc = 0;

	if (!PAGE_ALIGNED(uptr) || !PAGE_ALIGNED(length) ||
	    check_add_overflow(uptr, length, &end))
		return -EINVAL;

	for (; uptr != end && !rc; uptr += PAGE_SIZE) {
		if (get_user_pages_fast(uptr, 1, 0, &page) != 1)
			return -EFAULT;
		if (!PageCompound(page) &&
		    page_ref_count(page) / GUP_PIN_COUNTING_BIAS !=
			    cmd->check_refs.refs)
			rc = -EIO;
		put_page(page);
	}
	return rc;
}

static int mock_set_memory_limit(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;

	/* A batch must at least hold one PFN run. */
	if (cmd->memory_limit.limit < sizeof(unsigned long) + sizeof(u32))
		return -EINVAL;
	iommufd_test_memory_limit = cmd->memory_limit.limit;
	return 0;
}

/*
 * A mock device as an object of the context (IOMMUFD_OBJ_SELFTEST): made
 * by MOCK_DOMAIN, bound and attached; destroying it unbinds the device.
 * Its attachment changes only between mock_dev_attach_begin() and _end(),
 * so that no fault trigger runs meanwhile.
 */
struct mock_stdev {
	struct iommufd_object obj;
	struct mock_dev *mdev;
	struct iommufd_device *idev;
};

/* Before unbind, which would detach without the device knowing. */
static void mock_stdev_detach(struct mock_stdev *st)
{
	mock_dev_attach_begin(st->mdev);
	iommufd_device_detach(st->idev);
	mock_dev_attach_end(st->mdev);
}

static void mock_stdev_destroy(struct iommufd_object *obj)
{
	struct mock_stdev *st = container_of(obj, struct mock_stdev, obj);

	mock_stdev_detach(st);
	iommufd_device_unbind(st->idev);
	mock_dev_destroy(st->mdev);
}

const struct iommufd_object_type_ops iommufd_selftest_type = {
	.name = "selftest",
	.destroy = mock_stdev_destroy,
};

/* MOCK_DOMAIN and MOCK_DOMAIN_FLAGS share the layout of their answer. */
static int mock_domain(struct iommufd_call *call, unsigned int dev_flags)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct mock_stdev *st;
	u32 pt_id = cmd->id, idev_id;
	int rc;

	if (!mock_ready)
		return -EOPNOTSUPP;
	st = iommufd_object_new(call->ictx, struct mock_stdev, obj,
				IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(st))
		return PTR_ERR(st);
	st->mdev = mock_dev_create(dev_flags);
	if (IS_ERR(st->mdev)) {
		rc = PTR_ERR(st->mdev);
		goto err_obj;
	}
	st->idev = __iommufd_device_bind(call->ictx, mock_dev_to_dev(st->mdev),
					 &idev_id, false);
	if (IS_ERR(st->idev)) {
		rc = PTR_ERR(st->idev);
		goto err_mdev;
	}
	mock_dev_attach_begin(st->mdev);
	rc = iommufd_device_attach(st->idev, &pt_id);
	mock_dev_attach_end(st->mdev);
	if (rc)
		goto err_unbind;

	cmd->mock_domain.out_stdev_id = st->obj.id;
	cmd->mock_domain.out_hwpt_id = pt_id;
	cmd->mock_domain.out_idev_id = idev_id;
	rc = iommufd_call_reply(call, sizeof(*cmd));
	if (rc)
		goto err_detach;
	iommufd_object_publish(call->ictx, &st->obj);
	return 0;

err_detach:
	mock_stdev_detach(st);
err_unbind:
	iommufd_device_unbind(st->idev);
err_mdev:
	mock_dev_destroy(st->mdev);
err_obj:
	iommufd_object_discard(call->ictx, &st->obj);
	return rc;
}

static int mock_domain_replace(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	u32 pt_id = cmd->mock_domain_replace.pt_id;
	struct iommufd_object *obj;
	struct mock_stdev *st;
	int rc;

	obj = iommufd_object_get(call->ictx, cmd->id, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	st = container_of(obj, struct mock_stdev, obj);
	mock_dev_attach_begin(st->mdev);
	rc = iommufd_device_replace(st->idev, &pt_id);
	mock_dev_attach_end(st->mdev);
	if (!rc) {
		cmd->mock_domain_replace.pt_id = pt_id;
		rc = iommufd_call_reply(call, sizeof(*cmd));
	}
	iommufd_object_put(call->ictx, obj);
	return rc;
}

/* The mock domain of page table @id, borrowed; NULL-safe put below. */
static struct iommufd_hwpt *mock_hwpt_get(struct iommufd_call *call, u32 id)
{
	struct iommufd_hwpt *hwpt = iommufd_hwpt_get(call->ictx, id);

	if (IS_ERR(hwpt))
		return hwpt;
	if (!mock_domain_is_ours(hwpt->domain)) {
		iommufd_object_put(call->ictx, &hwpt->obj);
		return ERR_PTR(-EINVAL);
	}
	return hwpt;
}

static int mock_check_map(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct iommufd_hwpt *hwpt;
	int rc;

	if (!cmd->check_map.length ||
	    cmd->check_map.iova + cmd->check_map.length < cmd->check_map.iova)
		return -EINVAL;
	hwpt = mock_hwpt_get(call, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	rc = mock_domain_check_map(hwpt->domain, cmd->check_map.iova,
				   cmd->check_map.length, cmd->check_map.uptr);
	iommufd_object_put(call->ictx, &hwpt->obj);
	return rc;
}

static int mock_dirty(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct iommufd_hwpt *hwpt;
	u64 nr = 0;
	int rc;

	if (cmd->dirty.flags)
		return -EOPNOTSUPP;
	hwpt = mock_hwpt_get(call, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	rc = mock_domain_set_dirty(hwpt->domain, cmd->dirty.iova,
				   cmd->dirty.length, cmd->dirty.page_size,
				   u64_to_user_ptr(cmd->dirty.uptr), &nr);
	if (!rc) {
		cmd->dirty.out_nr_dirty = nr;
		rc = iommufd_call_reply(call, sizeof(*cmd));
	}
	iommufd_object_put(call->ictx, &hwpt->obj);
	return rc;
}

static int mock_check_iotlb(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct iommufd_hwpt *hwpt;
	int rc;

	hwpt = iommufd_hwpt_get(call->ictx, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	rc = mock_nested_check_iotlb(hwpt->domain, cmd->check_iotlb.id,
				     cmd->check_iotlb.iotlb);
	iommufd_object_put(call->ictx, &hwpt->obj);
	return rc;
}

static int mock_msi_cookie(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct iommufd_hwpt *hwpt;
	int rc;

	hwpt = mock_hwpt_get(call, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	cmd->lab_msi_cookie.out_cookie = !!hwpt->domain->iova_cookie;
	rc = iommufd_call_reply(call, sizeof(*cmd));
	iommufd_object_put(call->ictx, &hwpt->obj);
	return rc;
}

/* IOMMU_TEST_OP_TRIGGER_IOPF, or with @last false LAB_IOPF_PARTIAL */
static int mock_trigger_iopf(struct iommufd_call *call, bool last)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct iommufd_device *idev;
	int rc;

	idev = iommufd_device_get(call->ictx, cmd->trigger_iopf.dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = mock_dev_raise_iopf(idev->dev, &cmd->trigger_iopf, last);
	iommufd_object_put(call->ictx, &idev->obj);
	return rc;
}

static int mock_iopf_answers(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct iommufd_device *idev;
	int rc;

	idev = iommufd_device_get(call->ictx, cmd->id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = mock_dev_iopf_answers(idev->dev, &cmd->lab_iopf_answers);
	if (!rc)
		rc = iommufd_call_reply(call, sizeof(*cmd));
	iommufd_object_put(call->ictx, &idev->obj);
	return rc;
}

static int mock_borrow(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct iommufd_object *obj;

	if (cmd->lab_borrow.ms > 60 * MSEC_PER_SEC)
		return -EINVAL;
	obj = iommufd_object_get(call->ictx, cmd->id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	msleep_interruptible(cmd->lab_borrow.ms);
	iommufd_object_put(call->ictx, obj);
	return 0;
}

/*
 * The benchmark's floor: pin the caller's memory as a domain fill does
 * (long-term, writable, IOPT_CHUNK pages a call) and unpin it, timing each
 * half. Under -icount the times are instruction counts.
 */
static int mock_gup_floor(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;
	struct iommu_test_lab_gup_floor *f = &cmd->lab_gup_floor;
	unsigned long n, done, i;
	struct page **pages;
	int rc = 0;
	long got;
	u64 t0;

	if (!f->length || f->length > SZ_1G ||
	    !PAGE_ALIGNED(f->uptr | f->length))
		return -EINVAL;
	n = f->length >> PAGE_SHIFT;
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	t0 = ktime_get_ns();
	for (done = 0; done < n; done += got) {
		got = pin_user_pages_fast(f->uptr + done * PAGE_SIZE,
					  min(n - done, IOPT_CHUNK),
					  FOLL_WRITE | FOLL_LONGTERM,
					  pages + done);
		if (got <= 0) {
			rc = got ? got : -EFAULT;
			break;
		}
	}
	f->out_pin_ns = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	for (i = 0; i < done; i += IOPT_CHUNK)
		unpin_user_pages_dirty_lock(pages + i, min(done - i, IOPT_CHUNK),
					    true);
	f->out_unpin_ns = ktime_get_ns() - t0;
	kvfree(pages);
	return rc ?: iommufd_call_reply(call, sizeof(*cmd));
}

int iommufd_test_cmd(struct iommufd_call *call)
{
	struct iommu_test_cmd *cmd = call->cmd;

	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return mock_add_reserved(call);
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return mock_check_refs(call);
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return mock_create_access(call);
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		return mock_destroy_access_pages(call);
	case IOMMU_TEST_OP_ACCESS_PAGES:
		return mock_access_pages(call);
	case IOMMU_TEST_OP_ACCESS_RW:
		return mock_access_rw(call);
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		return mock_access_replace_ioas(call);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		return mock_set_memory_limit(call);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
		return mock_domain(call, 0);
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return mock_domain(call, cmd->mock_domain_flags.dev_flags);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		return mock_domain_replace(call);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return mock_check_map(call);
	case IOMMU_TEST_OP_DIRTY:
		return mock_dirty(call);
	case IOMMU_TEST_OP_MD_CHECK_IOTLB:
		return mock_check_iotlb(call);
	case IOMMU_TEST_OP_LAB_MSI_COOKIE:
		return mock_msi_cookie(call);
	case IOMMU_TEST_OP_LAB_ACCESS_UNPIN:
		return mock_access_unpin_raw(call);
	case IOMMU_TEST_OP_LAB_BORROW:
		return mock_borrow(call);
	case IOMMU_TEST_OP_TRIGGER_IOPF:
		return mock_trigger_iopf(call, true);
	case IOMMU_TEST_OP_LAB_IOPF_PARTIAL:
		return mock_trigger_iopf(call, false);
	case IOMMU_TEST_OP_LAB_IOPF_ANSWERS:
		return mock_iopf_answers(call);
	case IOMMU_TEST_OP_LAB_GUP_FLOOR:
		return mock_gup_floor(call);
	default:
		return -EOPNOTSUPP;
	}
}

/* Module init: without the mock IOMMU the domain ops fail, nothing more. */
void iommufd_test_init(void)
{
	int rc = mock_iommu_init();

	if (rc)
		pr_warn("iommufd: no mock IOMMU for the selftests (%d)\n", rc);
	mock_ready = !rc;
}

void iommufd_test_exit(void)
{
	if (mock_ready)
		mock_iommu_exit();
}
