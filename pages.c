// SPDX-License-Identifier: GPL-2.0-only
/*
 * User memory behind the areas of an IOAS: pinning, accounting and the
 * PFN store that in-kernel accesses read from.
 *
 * An iopt_pages covers whole pages of one process's address space. Which
 * of them are pinned follows from who uses them: an index is pinned while
 * at least one user range covers it, and only then. The users are the
 * ranges in @pins (one node per distinct range an access pinned, counted);
 * their PFNs sit in the @pinned xarray. A page is pinned once, whatever
 * the number of users, IOAS or areas, and it is charged once.
 *
 * Charging happens before pinning, so a request over RLIMIT_MEMLOCK fails
 * with ENOMEM before anything is pinned. Where the charge goes depends on
 * the context's IOMMU_OPTION_RLIMIT_MODE when the memory was mapped; in
 * both modes mm->pinned_vm (VmPin) shows the pages. The rlimit and
 * CAP_IPC_LOCK are those of the task pinning when it is the memory's
 * owner, else those of the owner's thread group leader.
 *
 * Locking: pages->mutex covers @npinned, @pinned and @pins. It nests
 * inside the IOAS's iova_rwsem and outside the mm's mmap_lock.
 */
#include <linux/capability.h>
#include <linux/highmem.h>
#include <linux/interval_tree.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommufd_private.h"
#include "io_pagetable.h"

/* A range of indexes that in-kernel accesses pinned, @users times. */
struct iopt_pages_pin {
	struct interval_tree_node node;
	unsigned int users;
};

#ifdef CONFIG_IOMMUFD_TEST
/* Bytes of page pointers one pinning step may allocate (tests shrink it) */
size_t iommufd_test_memory_limit = SZ_64K;

static unsigned long iopt_batch_pages(void)
{
	return max_t(unsigned long, 1,
		     iommufd_test_memory_limit / sizeof(struct page *));
}
#else
static unsigned long iopt_batch_pages(void)
{
	return SZ_16K / sizeof(struct page *);
}
#endif

/**
 * iopt_pages_new - describe a range of the caller's memory
 * @uaddr: user address of the first byte
 * @length: bytes, not zero
 * @writable: whether devices may write to it
 * @account: where pinned pages are charged
 *
 * Return: the pages with one reference, or an ERR_PTR.
 */
struct iopt_pages *iopt_pages_new(unsigned long uaddr, unsigned long length,
				  bool writable, enum iopt_account account)
{
	struct iopt_pages *pages;
	unsigned long end;

	if (!length)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(uaddr, length, &end))
		return ERR_PTR(-EOVERFLOW);
	if (!current->mm)
		return ERR_PTR(-EINVAL);

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	kref_init(&pages->kref);
	mutex_init(&pages->mutex);
	xa_init_flags(&pages->pinned, XA_FLAGS_ACCOUNT);
	pages->pins = RB_ROOT_CACHED;
	pages->uaddr = uaddr & PAGE_MASK;
	pages->npages = DIV_ROUND_UP(end - pages->uaddr, PAGE_SIZE);
	pages->writable = writable;
	pages->account = account;

	pages->mm = current->mm;
	mmgrab(pages->mm);
	pages->task = current->group_leader;
	get_task_struct(pages->task);
	pages->user = get_uid(current_user());
	return pages;
}

static void iopt_pages_free(struct kref *kref)
{
	struct iopt_pages *pages = container_of(kref, struct iopt_pages, kref);

	/* Every user must have let go before the last area did. */
	WARN_ON(pages->npinned);
	WARN_ON(!xa_empty(&pages->pinned));
	WARN_ON(!RB_EMPTY_ROOT(&pages->pins.rb_root));
	xa_destroy(&pages->pinned);
	free_uid(pages->user);
	put_task_struct(pages->task);
	mmdrop(pages->mm);
	mutex_destroy(&pages->mutex);
	kfree(pages);
}

/**
 * iopt_pages_put - drop a reference; the last one frees the pages
 * @pages: the pages
 */
void iopt_pages_put(struct iopt_pages *pages)
{
	kref_put(&pages->kref, iopt_pages_free);
}

/* The task whose limits apply to this pin, see the top of the file. */
static struct task_struct *iopt_pages_limit_task(struct iopt_pages *pages)
{
	return current->mm == pages->mm ? current : pages->task;
}

/* VFIO type1's way: mm->locked_vm, under the mm's own lock. */
static int iopt_pages_charge_mm(struct iopt_pages *pages, unsigned long n,
				bool inc, struct task_struct *task,
				bool unlimited)
{
	int rc;

	if (!mmget_not_zero(pages->mm))
		return inc ? -EFAULT : 0;	/* a dead mm has no limit left */
	mmap_write_lock(pages->mm);
	rc = __account_locked_vm(pages->mm, n, inc, task, unlimited);
	mmap_write_unlock(pages->mm);
	mmput(pages->mm);
	return rc;
}

static int iopt_pages_charge(struct iopt_pages *pages, unsigned long n)
{
	struct task_struct *task = iopt_pages_limit_task(pages);
	bool unlimited = has_capability_noaudit(task, CAP_IPC_LOCK);
	unsigned long limit = task_rlimit(task, RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned long cur;
	int rc;

	lockdep_assert_held(&pages->mutex);

	if (pages->account == IOPT_ACCOUNT_MM) {
		rc = iopt_pages_charge_mm(pages, n, true, task, unlimited);
		if (rc)
			return rc;
	} else {
		cur = atomic_long_read(&pages->user->locked_vm);
		do {
			if (!unlimited && (cur + n < cur || cur + n > limit))
				return -ENOMEM;
		} while (!atomic_long_try_cmpxchg(&pages->user->locked_vm,
						  &cur, cur + n));
	}
	atomic64_add(n, &pages->mm->pinned_vm);
	pages->npinned += n;
	return 0;
}

static void iopt_pages_uncharge(struct iopt_pages *pages, unsigned long n)
{
	lockdep_assert_held(&pages->mutex);

	if (WARN_ON(n > pages->npinned))
		return;
	if (pages->account == IOPT_ACCOUNT_MM)
		iopt_pages_charge_mm(pages, n, false, pages->task, true);
	else
		atomic_long_sub(n, &pages->user->locked_vm);
	atomic64_sub(n, &pages->mm->pinned_vm);
	pages->npinned -= n;
}

/* Pin up to @n pages from @index on; returns how many, or an errno. */
static long iopt_pages_gup(struct iopt_pages *pages, unsigned long index,
			   unsigned long n, struct page **out)
{
	unsigned long uaddr = pages->uaddr + index * PAGE_SIZE;
	unsigned int flags = FOLL_LONGTERM;
	int locked = 1;
	long got;

	if (pages->writable)
		flags |= FOLL_WRITE;
	if (current->mm == pages->mm)
		return pin_user_pages_fast(uaddr, n, flags, out);

	if (!mmget_not_zero(pages->mm))
		return -EFAULT;
	mmap_read_lock(pages->mm);
	got = pin_user_pages_remote(pages->mm, uaddr, n, flags, out, &locked);
	if (locked)
		mmap_read_unlock(pages->mm);
	mmput(pages->mm);
	return got;
}

/*
 * Take the PFNs of [first, last] out of the store and unpin them, a few at
 * a time. Returns how many there were.
 */
static unsigned long iopt_pages_drop(struct iopt_pages *pages,
				     unsigned long first, unsigned long last)
{
	XA_STATE(xas, &pages->pinned, first);
	struct page *batch[32];
	unsigned long count = 0;
	unsigned int n = 0;
	void *entry;

	xas_lock(&xas);
	xas_for_each(&xas, entry, last) {
		batch[n++] = pfn_to_page(xa_to_value(entry));
		xas_store(&xas, NULL);
		count++;
		if (n == ARRAY_SIZE(batch)) {
			xas_pause(&xas);
			xas_unlock(&xas);
			unpin_user_pages_dirty_lock(batch, n, pages->writable);
			n = 0;
			cond_resched();
			xas_lock(&xas);
		}
	}
	xas_unlock(&xas);
	if (n)
		unpin_user_pages_dirty_lock(batch, n, pages->writable);
	return count;
}

/* Pin every page of [first, last], none of which is pinned yet. */
static int iopt_pages_fill(struct iopt_pages *pages, unsigned long first,
			   unsigned long last)
{
	unsigned long n = last - first + 1, index = first, i;
	struct page **batch;
	long got;
	int rc;

	rc = iopt_pages_charge(pages, n);
	if (rc)
		return rc;
	batch = kmalloc_array(min(n, iopt_batch_pages()), sizeof(*batch),
			      GFP_KERNEL);
	if (!batch) {
		rc = -ENOMEM;
		goto out_uncharge;
	}

	while (index <= last) {
		got = iopt_pages_gup(pages, index,
				     min(last - index + 1, iopt_batch_pages()),
				     batch);
		if (got <= 0) {
			rc = got ? got : -EFAULT;
			break;
		}
		for (i = 0; i != got; i++) {
			rc = xa_err(xa_store(&pages->pinned, index + i,
					     xa_mk_value(page_to_pfn(batch[i])),
					     GFP_KERNEL_ACCOUNT));
			if (rc) {
				unpin_user_pages(batch + i, got - i);
				break;
			}
		}
		index += i;
		if (rc)
			break;
	}
	kfree(batch);
	if (!rc)
		return 0;
	if (index != first)
		iopt_pages_drop(pages, first, index - 1);
out_uncharge:
	iopt_pages_uncharge(pages, n);
	return rc;
}

static struct iopt_pages_pin *iopt_pages_find_pin(struct iopt_pages *pages,
						  unsigned long first,
						  unsigned long last)
{
	struct interval_tree_node *node;

	for (node = interval_tree_iter_first(&pages->pins, first, last); node;
	     node = interval_tree_iter_next(node, first, last))
		if (node->start == first && node->last == last)
			return container_of(node, struct iopt_pages_pin, node);
	return NULL;
}

/* Unpin the indexes of [first, last] that no remaining user covers. */
static void iopt_pages_drop_unused(struct iopt_pages *pages,
				   unsigned long first, unsigned long last)
{
	struct interval_tree_span_iter span;
	unsigned long n = 0;

	interval_tree_for_each_span(&span, &pages->pins, first, last) {
		if (span.is_hole)
			n += iopt_pages_drop(pages, span.start_hole,
					     span.last_hole);
	}
	if (n)
		iopt_pages_uncharge(pages, n);
}

/**
 * iopt_pages_pin - pin pages [first, last] for an in-kernel access
 * @pages: the memory
 * @first: first page index
 * @last: last page index
 * @out: receives the last - first + 1 pages
 *
 * Every successful call is undone by one iopt_pages_unpin() of the same
 * range.
 *
 * Return: 0, -ENOMEM (also for RLIMIT_MEMLOCK), -EFAULT or what GUP says.
 */
int iopt_pages_pin(struct iopt_pages *pages, unsigned long first,
		   unsigned long last, struct page **out)
{
	struct interval_tree_span_iter span;
	struct iopt_pages_pin *pin;
	unsigned long done = first;
	void *entry;
	int rc = 0;

	mutex_lock(&pages->mutex);
	pin = iopt_pages_find_pin(pages, first, last);
	if (pin) {
		if (pin->users == UINT_MAX) {
			rc = -EOVERFLOW;
			goto out_unlock;
		}
		pin->users++;
	} else {
		pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
		if (!pin) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		interval_tree_for_each_span(&span, &pages->pins, first, last) {
			if (!span.is_hole)
				continue;
			rc = iopt_pages_fill(pages, span.start_hole,
					     span.last_hole);
			if (rc)
				break;
			done = span.last_hole + 1;
		}
		if (rc) {
			/* The holes before @done were filled: empty them. */
			if (done != first)
				iopt_pages_drop_unused(pages, first, done - 1);
			kfree(pin);
			goto out_unlock;
		}
		pin->node.start = first;
		pin->node.last = last;
		pin->users = 1;
		interval_tree_insert(&pin->node, &pages->pins);
	}

	if (out) {
		XA_STATE(xas, &pages->pinned, first);

		rcu_read_lock();
		xas_for_each(&xas, entry, last) {
			if (xas_retry(&xas, entry))
				continue;
			out[xas.xa_index - first] =
				pfn_to_page(xa_to_value(entry));
		}
		rcu_read_unlock();
	}
out_unlock:
	mutex_unlock(&pages->mutex);
	return rc;
}

/**
 * iopt_pages_unpin - undo one iopt_pages_pin() of the same range
 * @pages: the memory
 * @first: first page index
 * @last: last page index
 */
void iopt_pages_unpin(struct iopt_pages *pages, unsigned long first,
		      unsigned long last)
{
	struct iopt_pages_pin *pin;

	mutex_lock(&pages->mutex);
	pin = iopt_pages_find_pin(pages, first, last);
	if (!WARN_ON(!pin) && !--pin->users) {
		interval_tree_remove(&pin->node, &pages->pins);
		kfree(pin);
		iopt_pages_drop_unused(pages, first, last);
	}
	mutex_unlock(&pages->mutex);
}

static void iopt_copy_page(struct page *page, unsigned int offset, void *data,
			   size_t len, bool write)
{
	void *va = kmap_local_page(page) + offset;

	if (write)
		memcpy(va, data, len);
	else
		memcpy(data, va, len);
	kunmap_local(va);
}

/* Copy within one page that nobody has pinned, straight from its mm. */
static int iopt_pages_rw_user(struct iopt_pages *pages, unsigned long uaddr,
			      void *data, size_t len, bool write)
{
	struct page *page;
	int locked = 1;
	long got;

	if (current->mm == pages->mm && !(current->flags & PF_KTHREAD)) {
		if (write)
			return copy_to_user((void __user *)uaddr, data, len) ?
				       -EFAULT : 0;
		return copy_from_user(data, (void __user *)uaddr, len) ?
			       -EFAULT : 0;
	}

	if (!mmget_not_zero(pages->mm))
		return -EFAULT;
	mmap_read_lock(pages->mm);
	got = pin_user_pages_remote(pages->mm, uaddr, 1, write ? FOLL_WRITE : 0,
				    &page, &locked);
	if (locked)
		mmap_read_unlock(pages->mm);
	mmput(pages->mm);
	if (got != 1)
		return got < 0 ? got : -EFAULT;
	iopt_copy_page(page, offset_in_page(uaddr), data, len, write);
	unpin_user_pages_dirty_lock(&page, 1, write);
	return 0;
}

/**
 * iopt_pages_rw - copy between a kernel buffer and the memory
 * @pages: the memory
 * @offset: byte offset from the first page
 * @data: the kernel buffer
 * @len: bytes
 * @write: copy into the memory rather than out of it
 * @slow_path: do not use the pinned PFNs even where there are some
 *
 * Pages pinned for accesses are copied through their kernel mapping; the
 * others through the owner's address space.
 *
 * Return: 0 or -EFAULT.
 */
int iopt_pages_rw(struct iopt_pages *pages, unsigned long offset, void *data,
		  size_t len, bool write, bool slow_path)
{
	unsigned int in_page;
	size_t chunk;
	void *entry;
	int rc;

	while (len) {
		in_page = offset_in_page(offset);
		chunk = min_t(size_t, len, PAGE_SIZE - in_page);
		entry = NULL;
		if (!slow_path) {
			/* The mutex keeps the page pinned while we copy. */
			mutex_lock(&pages->mutex);
			entry = xa_load(&pages->pinned, offset >> PAGE_SHIFT);
			if (entry)
				iopt_copy_page(pfn_to_page(xa_to_value(entry)),
					       in_page, data, chunk, write);
			mutex_unlock(&pages->mutex);
		}
		if (!entry) {
			rc = iopt_pages_rw_user(pages, pages->uaddr + offset,
						data, chunk, write);
			if (rc)
				return rc;
		}
		offset += chunk;
		data += chunk;
		len -= chunk;
	}
	return 0;
}
