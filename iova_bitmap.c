// SPDX-License-Identifier: GPL-2.0-only
/*
 * Windowed writer for a user-space dirty bitmap indexed by IOVA.
 *
 * Model
 * -----
 * A caller describes an IOVA span [iova, iova + length) and a user array of
 * u64 words.  Bit N of that array (bit N % 64 of word N / 64, in the CPU's
 * own u64 layout) speaks for every address A of the span with
 * (A - iova) / page_size == N.  With a 4 KiB granule a 1 TiB span already
 * needs 32 MiB of bitmap, far too much to pin at once, so the array is
 * processed through a sliding window.
 *
 * Window
 * ------
 * A window is a run of whole u64 words whose bytes live on at most
 * IOVA_BITMAP_WIN_PAGES user pages: as many struct page pointers as fit in
 * one page, so 512 pages or 2 MiB of bitmap (16M bits, 64 GiB of IOVA at a
 * 4 KiB granule) on x86_64.  Windows begin on word boundaries, therefore the
 * IOVA slice given to the callback is a multiple of 64 granules long except
 * for the final slice, which ends where the span ends.  The user pointer
 * needs no particular alignment: a word may straddle two user pages because
 * every byte is looked up in the page array separately.
 *
 * Walking
 * -------
 * iova_bitmap_for_each() pins one window with FOLL_WRITE, hands its IOVA
 * slice to the callback, unpins the pages (marking them dirty) and resumes
 * at the first word after the window.
 *
 * Recording
 * ---------
 * iova_bitmap_set() never faults and never sleeps: it converts the IOVA
 * range into a bit range, clips it to the window and ORs the bits in
 * through kmap_local_page(), so IOMMU drivers may call it with spinlocks
 * held.  Bits for addresses below the window (already reported) or outside
 * the span are discarded.  Bits past the window end are "parked" as one
 * pending bit interval, painted as soon as the next window is pinned and
 * before that window's callback runs; any part still beyond that window
 * stays parked.  A range running off the window end always parks an
 * interval beginning at the next window's first bit, so any number of such
 * ranges merge exactly.  Should a range lying wholly ahead of the window be
 * disjoint from what is parked, the pending interval grows to cover both:
 * reporting a clean granule as dirty is harmless for migration, losing a
 * dirty one is not.
 */
#include <linux/bits.h>
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/iova_bitmap.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>

#define IOVA_BITMAP_WIN_PAGES	(PAGE_SIZE / sizeof(struct page *))
#define IOVA_BITMAP_WORD_BITS	BITS_PER_TYPE(u64)

struct iova_bitmap {
	/* Fixed by iova_bitmap_alloc() */
	u8 __user *ubuf;		/* first byte of word 0 */
	unsigned long span_first;	/* IOVA of bit 0 */
	unsigned long span_last;	/* last IOVA of the span, inclusive */
	unsigned long total_bits;
	unsigned long total_words;
	unsigned int granule_shift;	/* log2(page_size) */
	unsigned int page_slots;	/* capacity of @win_pages */
	struct page **win_pages;

	/* Current window; win_npages == 0 while nothing is pinned */
	unsigned long win_npages;
	unsigned long win_head;		/* offset of the window in page 0 */
	unsigned long win_bit_lo;	/* first bit inside the window */
	unsigned long win_bit_end;	/* first bit past the window */

	/* Bits owed to windows that are not pinned yet, inclusive */
	bool parked;
	unsigned long park_lo;
	unsigned long park_hi;
};

static unsigned long ib_iova_to_bit(const struct iova_bitmap *ib,
				    unsigned long iova)
{
	return (iova - ib->span_first) >> ib->granule_shift;
}

static unsigned long ib_bit_to_iova(const struct iova_bitmap *ib,
				    unsigned long bit)
{
	return ib->span_first + (bit << ib->granule_shift);
}

/* Byte offset of @word from the start of win_pages[0] */
static unsigned long ib_word_pos(const struct iova_bitmap *ib,
				 unsigned long word)
{
	unsigned long first = ib->win_bit_lo / IOVA_BITMAP_WORD_BITS;

	return ib->win_head + (word - first) * sizeof(u64);
}

static void ib_or_byte(struct iova_bitmap *ib, unsigned long pos, u8 val)
{
	u8 *va = kmap_local_page(ib->win_pages[pos >> PAGE_SHIFT]);

	va[offset_in_page(pos)] |= val;
	kunmap_local(va);
}

static void ib_fill_bytes(struct iova_bitmap *ib, unsigned long pos,
			  unsigned long nbytes)
{
	while (nbytes) {
		unsigned long in_page = offset_in_page(pos);
		unsigned long step = min(nbytes, PAGE_SIZE - in_page);
		u8 *va = kmap_local_page(ib->win_pages[pos >> PAGE_SHIFT]);

		memset(va + in_page, 0xff, step);
		kunmap_local(va);
		pos += step;
		nbytes -= step;
	}
}

/*
 * OR @mask into one word.  Going through the in-memory byte image of the
 * mask keeps the CPU's u64 bit layout on either endianness and copes with a
 * word that is split over two pages.
 */
static void ib_or_word(struct iova_bitmap *ib, unsigned long word, u64 mask)
{
	union {
		u64 v;
		u8 c[sizeof(u64)];
	} img = { .v = mask };
	unsigned long pos = ib_word_pos(ib, word);
	unsigned int i;

	for (i = 0; i < sizeof(img.c); i++)
		if (img.c[i])
			ib_or_byte(ib, pos + i, img.c[i]);
}

/* Set bits @lo..@hi, both inclusive and both inside the current window */
static void ib_paint(struct iova_bitmap *ib, unsigned long lo,
		     unsigned long hi)
{
	unsigned long wlo = lo / IOVA_BITMAP_WORD_BITS;
	unsigned long whi = hi / IOVA_BITMAP_WORD_BITS;
	unsigned int blo = lo % IOVA_BITMAP_WORD_BITS;
	unsigned int bhi = hi % IOVA_BITMAP_WORD_BITS;

	if (wlo == whi) {
		ib_or_word(ib, wlo, GENMASK_ULL(bhi, blo));
		return;
	}
	if (blo) {
		ib_or_word(ib, wlo, GENMASK_ULL(IOVA_BITMAP_WORD_BITS - 1, blo));
		wlo++;
	}
	if (bhi != IOVA_BITMAP_WORD_BITS - 1) {
		ib_or_word(ib, whi, GENMASK_ULL(bhi, 0));
		whi--;
	}
	if (wlo <= whi)
		ib_fill_bytes(ib, ib_word_pos(ib, wlo),
			      (whi - wlo + 1) * sizeof(u64));
}

static void ib_park(struct iova_bitmap *ib, unsigned long lo,
		    unsigned long hi)
{
	if (!ib->parked) {
		ib->parked = true;
		ib->park_lo = lo;
		ib->park_hi = hi;
		return;
	}
	ib->park_lo = min(ib->park_lo, lo);
	ib->park_hi = max(ib->park_hi, hi);
}

/* Paint the share of the parked interval that the new window covers */
static void ib_unpark(struct iova_bitmap *ib)
{
	unsigned long lo, hi;

	if (!ib->parked)
		return;
	lo = max(ib->park_lo, ib->win_bit_lo);
	hi = min(ib->park_hi, ib->win_bit_end - 1);
	if (lo <= hi)
		ib_paint(ib, lo, hi);
	if (ib->park_hi < ib->win_bit_end)
		ib->parked = false;
	else
		ib->park_lo = max(ib->park_lo, ib->win_bit_end);
}

/* Pin the window that starts at @word */
static int ib_pin_window(struct iova_bitmap *ib, unsigned long word)
{
	unsigned long uaddr = (unsigned long)ib->ubuf + word * sizeof(u64);
	unsigned long head = offset_in_page(uaddr);
	unsigned long nwords, npages;
	long pinned;

	nwords = (ib->page_slots * PAGE_SIZE - head) / sizeof(u64);
	nwords = min(nwords, ib->total_words - word);
	npages = DIV_ROUND_UP(head + nwords * sizeof(u64), PAGE_SIZE);

	pinned = pin_user_pages_fast(uaddr - head, npages, FOLL_WRITE,
				     ib->win_pages);
	if (pinned <= 0)
		return pinned ? pinned : -EFAULT;
	if ((unsigned long)pinned < npages) {
		/* Got a prefix only: keep the words it holds entirely */
		nwords = (pinned * PAGE_SIZE - head) / sizeof(u64);
		if (!nwords) {
			unpin_user_pages(ib->win_pages, pinned);
			return -EFAULT;
		}
	}

	ib->win_npages = pinned;
	ib->win_head = head;
	ib->win_bit_lo = word * IOVA_BITMAP_WORD_BITS;
	ib->win_bit_end = min(ib->total_bits,
			      (word + nwords) * IOVA_BITMAP_WORD_BITS);
	return 0;
}

static void ib_unpin_window(struct iova_bitmap *ib)
{
	if (!ib->win_npages)
		return;
	unpin_user_pages_dirty_lock(ib->win_pages, ib->win_npages, true);
	ib->win_npages = 0;
}

/**
 * iova_bitmap_alloc() - Describe a user dirty bitmap for an IOVA span
 * @iova: First IOVA of the span; bit 0 of @data stands for it
 * @length: Size of the span in bytes, must not be zero
 * @page_size: Power-of-two number of IOVA bytes each bit stands for
 * @data: User array of u64 words, long enough for one bit per granule
 *
 * Only bookkeeping is set up here; no user memory is touched or pinned
 * until iova_bitmap_for_each() runs.
 *
 * Context: Process context, may sleep.
 * Return: The new object, or an ERR_PTR(): -EINVAL for a zero @length or a
 * @page_size that is not a power of two, -EOVERFLOW when the span or the
 * user array wraps the address space, -ENOMEM when out of memory.
 */
struct iova_bitmap *iova_bitmap_alloc(unsigned long iova, size_t length,
				      unsigned long page_size,
				      u64 __user *data)
{
	unsigned long last, ubytes, uend, head;
	struct iova_bitmap *ib;

	if (!length || !is_power_of_2(page_size))
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(iova, length - 1, &last))
		return ERR_PTR(-EOVERFLOW);

	ib = kzalloc(sizeof(*ib), GFP_KERNEL);
	if (!ib)
		return ERR_PTR(-ENOMEM);

	ib->ubuf = (u8 __user *)data;
	ib->span_first = iova;
	ib->span_last = last;
	ib->granule_shift = ilog2(page_size);
	ib->total_bits = ((length - 1) >> ib->granule_shift) + 1;
	ib->total_words = DIV_ROUND_UP(ib->total_bits, IOVA_BITMAP_WORD_BITS);

	ubytes = ib->total_words * sizeof(u64);
	if (check_add_overflow((unsigned long)data, ubytes, &uend)) {
		kfree(ib);
		return ERR_PTR(-EOVERFLOW);
	}
	/* A small bitmap does not need a full page worth of slots */
	head = offset_in_page(data);
	ib->page_slots = min_t(unsigned long, IOVA_BITMAP_WIN_PAGES,
			       DIV_ROUND_UP(head + ubytes, PAGE_SIZE));
	ib->win_pages = kcalloc(ib->page_slots, sizeof(*ib->win_pages),
				GFP_KERNEL);
	if (!ib->win_pages) {
		kfree(ib);
		return ERR_PTR(-ENOMEM);
	}
	return ib;
}
EXPORT_SYMBOL_NS_GPL(iova_bitmap_alloc, IOMMUFD);

/**
 * iova_bitmap_free() - Release an object made by iova_bitmap_alloc()
 * @bitmap: The object; its user pages are never left pinned between calls
 *
 * Context: Process context, may sleep.
 */
void iova_bitmap_free(struct iova_bitmap *bitmap)
{
	ib_unpin_window(bitmap);
	kfree(bitmap->win_pages);
	kfree(bitmap);
}
EXPORT_SYMBOL_NS_GPL(iova_bitmap_free, IOMMUFD);

/**
 * iova_bitmap_for_each() - Walk the span one pinned window at a time
 * @bitmap: Object from iova_bitmap_alloc()
 * @opaque: Cookie handed unchanged to @fn
 * @fn: Reporter invoked once per window with that window's IOVA slice
 *
 * The slices passed to @fn are consecutive, never overlap and together
 * cover exactly the span given to iova_bitmap_alloc().  While @fn runs, the
 * part of the user bitmap behind its slice is pinned and @fn records dirty
 * granules with iova_bitmap_set().  Bits @fn sets beyond the end of its
 * slice are kept and written once the following window is pinned.
 *
 * Context: Process context, may sleep (pins and unpins user pages).
 * Return: 0 once every slice has been reported; otherwise the first
 * non-zero value returned by @fn, which ends the walk, or a negative errno
 * when the user bitmap cannot be pinned.
 */
int iova_bitmap_for_each(struct iova_bitmap *bitmap, void *opaque,
			 iova_bitmap_fn_t fn)
{
	unsigned long word = 0;
	int rc = 0;

	bitmap->parked = false;
	while (word < bitmap->total_words) {
		unsigned long first, last;

		rc = ib_pin_window(bitmap, word);
		if (rc)
			break;
		ib_unpark(bitmap);

		first = ib_bit_to_iova(bitmap, bitmap->win_bit_lo);
		if (bitmap->win_bit_end == bitmap->total_bits)
			last = bitmap->span_last;
		else
			last = ib_bit_to_iova(bitmap, bitmap->win_bit_end) - 1;

		rc = fn(bitmap, first, last - first + 1, opaque);
		word = DIV_ROUND_UP(bitmap->win_bit_end, IOVA_BITMAP_WORD_BITS);
		ib_unpin_window(bitmap);
		if (rc)
			break;
	}
	bitmap->parked = false;
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iova_bitmap_for_each, IOMMUFD);

/**
 * iova_bitmap_set() - Mark an IOVA range dirty
 * @bitmap: Object currently being walked by iova_bitmap_for_each()
 * @iova: First dirty IOVA
 * @length: Number of dirty bytes starting at @iova
 *
 * Sets every bit whose granule intersects [@iova, @iova + @length).  Only
 * meaningful from inside the callback of iova_bitmap_for_each(); outside of
 * a walk it does nothing.  Granules below the slice being reported and
 * granules outside the whole span are silently skipped, while granules
 * after the slice are remembered and written during the next window.
 *
 * Context: Any context, including atomic: it does not sleep or fault.
 */
void iova_bitmap_set(struct iova_bitmap *bitmap, unsigned long iova,
		     size_t length)
{
	unsigned long last, lo, hi;

	if (!length || !bitmap->win_npages)
		return;
	if (check_add_overflow(iova, length - 1, &last))
		last = ULONG_MAX;
	if (iova > bitmap->span_last || last < bitmap->span_first)
		return;

	lo = ib_iova_to_bit(bitmap, max(iova, bitmap->span_first));
	hi = ib_iova_to_bit(bitmap, min(last, bitmap->span_last));
	if (hi < bitmap->win_bit_lo)
		return;
	if (hi >= bitmap->win_bit_end) {
		ib_park(bitmap, max(lo, bitmap->win_bit_end), hi);
		hi = bitmap->win_bit_end - 1;
	}
	lo = max(lo, bitmap->win_bit_lo);
	if (lo <= hi)
		ib_paint(bitmap, lo, hi);
}
EXPORT_SYMBOL_NS_GPL(iova_bitmap_set, IOMMUFD);
