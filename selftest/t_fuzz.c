// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded random-ioctl fuzzer in the spirit of syzkaller: threads sharing
 * one /dev/iommu issue random, often invalid, commands (iommufd, the VFIO
 * container compat ioctls and IOMMU_TEST_CMD). A share of the commands is
 * well formed, built from objects, mappings, accesses and pins known to exist,
 * so the pin, copy and dirty paths get deep. Only crashes and hangs fail
 * here; the lab judges the console for splats. Afterwards a fresh context
 * must still work and every pin must be gone. FUZZ_SEED overrides the seed.
 */
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "lab_harness.h"
#include "lab_util.h"
#include "iommufd_test.h"

#define PAGE 4096UL
#define MIB (1UL << 20)
#define NR_WORKERS 3
#define NR_ACCESS 8
#define FUZZ_OPS 1500

/* One reservation; each buffer sits at an offset, PROT_NONE after it. */
#define RES_SIZE (2048 * MIB)
#define ANON_SIZE (4 * MIB + 2 * PAGE)
#define SHARED_SIZE (1 * MIB)
#define RO_SIZE (256 * 1024UL)
#define HUGE_SIZE (4 * MIB)
#define SCRATCH_SIZE (8 * MIB)
#define BITMAP_SIZE (64 * 1024UL)
#define OFF_SHARED (128 * MIB)
#define OFF_RO (256 * MIB)
#define OFF_HUGE (384 * MIB)
#define OFF_SCRATCH (512 * MIB)
#define OFF_BITMAP (1024 * MIB)	/* 1 GiB of guard behind the bitmap */
#define OFF_HOLE (64 * MIB)
#define DIRTY_IN_OFF (6 * MIB)	/* in scratch: input of IOMMU_TEST_OP_DIRTY */

/* Sizes of the tables of state known to exist */
#define NR_LIVE 8
#define NR_VMAPS 32
#define NR_PINS 16

enum {
	OP_IOAS_ALLOC, OP_DESTROY, OP_MAP, OP_UNMAP, OP_COPY, OP_RANGES,
	OP_ALLOW, OP_OPTION, OP_HWPT_ALLOC, OP_DIRTY_TRACK, OP_DIRTY_BITMAP,
	OP_HW_INFO, OP_INVALIDATE, OP_VFIO_IOAS, OP_VFIO, OP_MOCK_DOMAIN,
	OP_MOCK_REPLACE, OP_CREATE_ACCESS, OP_CLOSE_ACCESS, OP_ACCESS_PAGES,
	OP_DESTROY_PAGES, OP_ACCESS_RW, OP_CHECK_MAP, OP_TEST_DIRTY,
	OP_ADD_RESERVED, OP_MEM_LIMIT, OP_ACCESS_REPLACE, NR_OPS
};

/* Kinds of object ids remembered from successful commands */
enum { K_IOAS, K_HWPT, K_IDEV, K_STDEV, NR_KINDS };

static const char * const op_names[NR_OPS] = {
	"ioas_alloc", "destroy", "map", "unmap", "copy", "ranges", "allow",
	"option", "hwpt_alloc", "dirty_track", "dirty_bitmap", "hw_info",
	"invalidate", "vfio_ioas", "vfio", "mock_domain", "mock_replace",
	"create_access", "close_access", "access_pages", "destroy_pages",
	"access_rw", "check_map", "test_dirty", "add_reserved", "mem_limit",
	"access_replace",
};

/* Relative frequency of each op */
static const unsigned int op_weight[NR_OPS] = {
	4, 6, 12, 6, 3, 2, 2, 2, 3, 2, 3, 1, 1, 2, 5, 4, 2, 3, 2, 4, 2, 4,
	1, 2, 1, 1, 1,
};

/* A range known to be mapped: IOVA [iova, iova + len) of @ioas is at @uva */
struct fz_map {
	uint32_t ioas;
	uint64_t iova, len, uva;
};

/* A paging HWPT, the IOAS it was made on, and whether it can track dirty */
struct fz_hwpt {
	uint32_t id, ioas;
	bool dirty;
};

/* A range pinned through the access @fd; @fd 0 marks a free slot */
struct fz_pin {
	int fd;
	uint32_t id;
};

static struct {
	int fd;
	uint8_t *anon, *shared, *ro, *huge, *scratch, *bitmap, *hole;
	pthread_mutex_t lock;
	int afd[NR_ACCESS];
	unsigned long calls[NR_OPS], ok[NR_OPS];
	unsigned long vcalls[NR_OPS], vok[NR_OPS];	/* the well formed share */
	unsigned long nops;
	uint32_t recent[NR_KINDS][8];		/* ids that worked lately */
	uint64_t maps[16][2];			/* IOVA ranges mapped lately */
	/* State known to exist, for the well formed share; under lock */
	uint32_t live_ioas[NR_LIVE];
	struct fz_hwpt hwpts[NR_LIVE];
	struct fz_map vmaps[NR_VMAPS];
	struct fz_pin pins[NR_PINS];
	uint32_t aioas[NR_ACCESS];		/* the IOAS of G.afd[i] */
	bool apin[NR_ACCESS];			/* G.afd[i] can pin pages */
} G = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct fz_thread {
	pthread_t th;
	uint64_t rng;
	uint32_t pages_id;
	uint64_t uva;			/* of a well formed IOAS_COPY */
	uint64_t unmap_iova, unmap_len;	/* what IOAS_UNMAP asked for */
};

static uint64_t rnd(struct fz_thread *t)
{
	uint64_t x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t seed_mix(uint64_t s)
{
	s += 0x9e3779b97f4a7c15ULL;
	s = (s ^ (s >> 30)) * 0xbf58476d1ce4e5b9ULL;
	s = (s ^ (s >> 27)) * 0x94d049bb133111ebULL;
	return (s ^ (s >> 31)) | 1;
}

#define PICK(t, arr) ((arr)[rnd(t) % (sizeof(arr) / sizeof((arr)[0]))])

static void remember(struct fz_thread *t, int kind, uint32_t id)
{
	__atomic_store_n(&G.recent[kind][rnd(t) % 8], id, __ATOMIC_RELAXED);
}

static void remember_map(struct fz_thread *t, uint64_t iova, uint64_t len)
{
	int i = rnd(t) % 16;

	__atomic_store_n(&G.maps[i][0], iova, __ATOMIC_RELAXED);
	__atomic_store_n(&G.maps[i][1], len, __ATOMIC_RELAXED);
}

/* An object id: one that worked lately, 0..40, or anything */
static uint32_t rid(struct fz_thread *t, int kind)
{
	if (rnd(t) % 2)
		return __atomic_load_n(&G.recent[kind][rnd(t) % 8],
				       __ATOMIC_RELAXED);
	return rnd(t) % 64 ? rnd(t) % 41 : (uint32_t)rnd(t);
}

/* A page table: an IOAS or a HWPT */
static uint32_t rpt(struct fz_thread *t)
{
	return rid(t, rnd(t) % 2 ? K_IOAS : K_HWPT);
}

/* Flags: mostly the low valid bits, sometimes a random invalid one */
static uint32_t rflags(struct fz_thread *t, uint32_t mask)
{
	uint32_t f = rnd(t) & mask;

	if (!(rnd(t) % 8))
		f |= 1u << (rnd(t) % 32);
	return f;
}

static uint64_t riova(struct fz_thread *t)
{
	int i = rnd(t) % 16;
	uint64_t iova = __atomic_load_n(&G.maps[i][0], __ATOMIC_RELAXED);
	uint64_t len = __atomic_load_n(&G.maps[i][1], __ATOMIC_RELAXED) / PAGE;

	if (rnd(t) % 3 == 0)	/* inside a range mapped lately */
		return iova + (len ? rnd(t) % len : 0) * PAGE;
	switch (rnd(t) % 9) {
	case 0: return 0;
	case 1: return PAGE;
	case 2: return 2048;
	case 3: case 4: return MOCK_APERTURE_START + (rnd(t) % 64) * PAGE;
	case 5: return 1ULL << 31;
	case 6: return UINT64_MAX - 4095;
	case 7: return rnd(t) & 0xfffff000ULL;
	default: return rnd(t);
	}
}

static uint64_t rlen(struct fz_thread *t)
{
	static const uint64_t lens[] = { 0, 1, 2048, PAGE, 2 * PAGE, 2 * MIB };

	switch (rnd(t) % 4) {
	case 0: return PICK(t, lens);
	case 1: return rnd(t) % (4 * MIB);
	case 2: return (1 + rnd(t) % 16) * PAGE;
	default: return (1 + rnd(t) % 1024) * PAGE;
	}
}

/* Addresses no buffer of ours is at */
static uint64_t rgarbage(struct fz_thread *t)
{
	const uint64_t g[] = {
		0, (uintptr_t)G.hole, 0xffffffff81000000ULL,
		0x8000000000000000ULL, UINT64_MAX & ~0xfffULL,
	};

	return PICK(t, g);
}

static uint64_t rva(struct fz_thread *t)
{
	uint64_t off = (rnd(t) % 1024) * PAGE;

	switch (rnd(t) % 10) {
	case 0: case 1: case 2: return (uintptr_t)G.anon + off % ANON_SIZE;
	case 3: return (uintptr_t)G.shared + off % SHARED_SIZE;
	case 4: return (uintptr_t)G.ro + off % RO_SIZE;
	case 5: return G.huge ? (uintptr_t)G.huge + off % HUGE_SIZE :
				(uintptr_t)G.hole;
	case 6: return (uintptr_t)G.anon + rnd(t) % ANON_SIZE;
	default: return rgarbage(t);
	}
}

/* An output buffer: the scratch area, its very end, or garbage */
static uint64_t rout(struct fz_thread *t)
{
	switch (rnd(t) % 4) {
	case 0: return (uintptr_t)G.scratch;
	case 1: return (uintptr_t)G.scratch + SCRATCH_SIZE - 8 * (rnd(t) % 9);
	case 2: return rgarbage(t);
	default: return (uintptr_t)G.scratch + (rnd(t) % 1024) * 8;
	}
}

/* Mostly the right struct size; sometimes short, or long with a tail */
static uint32_t rsize(struct fz_thread *t, uint8_t *raw, uint32_t base)
{
	uint32_t r = rnd(t) % 16, sz;

	if (r == 0)
		return rnd(t) % base;
	if (r > 2)
		return base;
	sz = base + 8 * (1 + rnd(t) % 8);
	if (r == 1)
		memset(raw + base, 0xa5, sz - base);
	return sz;
}

static int rafd(struct fz_thread *t)
{
	int fd, i, k = rnd(t) % NR_ACCESS;

	if (!(rnd(t) % 8))
		return rnd(t) % 16;
	pthread_mutex_lock(&G.lock);
	for (i = 0, fd = -1; i < NR_ACCESS && fd < 0; i++)
		fd = G.afd[(k + i) % NR_ACCESS];
	pthread_mutex_unlock(&G.lock);
	return fd;
}

static void put_afd(struct fz_thread *t, int fd, uint32_t ioas, bool pin)
{
	int i = rnd(t) % NR_ACCESS, old, k;

	pthread_mutex_lock(&G.lock);
	old = G.afd[i];
	G.afd[i] = fd;
	G.aioas[i] = ioas;
	G.apin[i] = pin;
	for (k = 0; k < NR_PINS && old >= 0; k++)
		if (G.pins[k].fd == old)
			G.pins[k].fd = 0;
	pthread_mutex_unlock(&G.lock);
	if (old >= 0)
		close(old);
}

/*
 * The well formed share: arguments built from state known to exist when the
 * command is made. Other threads may undo that state at any moment, so even
 * these commands can fail; they just mostly do not.
 */

static bool ioas_used(int i)
{
	return G.live_ioas[i];
}

static bool hwpt_used(int i)
{
	return G.hwpts[i].id;
}

static bool map_used(int i)
{
	return G.vmaps[i].ioas;
}

static bool pin_used(int i)
{
	return G.pins[i].fd > 0;
}

/* A free slot of a table of @n, or else a random one; under G.lock */
static int free_slot(struct fz_thread *t, int n, bool (*used)(int i))
{
	int k = rnd(t) % n, i;

	for (i = 0; i < n; i++)
		if (!used((k + i) % n))
			return (k + i) % n;
	return k;
}

static bool is_live_ioas(uint32_t id)
{
	int i;

	for (i = 0; i < NR_LIVE; i++)
		if (id && G.live_ioas[i] == id)
			return true;
	return false;
}

static void live_add(struct fz_thread *t, uint32_t id)
{
	pthread_mutex_lock(&G.lock);
	G.live_ioas[free_slot(t, NR_LIVE, ioas_used)] = id;
	pthread_mutex_unlock(&G.lock);
}

/* A live IOAS, or 0 if none is known */
static uint32_t live_ioas(struct fz_thread *t)
{
	int i, k = rnd(t) % NR_LIVE;
	uint32_t id = 0;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < NR_LIVE && !id; i++)
		id = G.live_ioas[(k + i) % NR_LIVE];
	pthread_mutex_unlock(&G.lock);
	return id;
}

/* A paging HWPT was made on @pt, if that is a live IOAS */
static void hwpt_add(struct fz_thread *t, uint32_t id, uint32_t pt, bool dirty)
{
	int i;

	pthread_mutex_lock(&G.lock);
	if (is_live_ioas(pt)) {
		i = free_slot(t, NR_LIVE, hwpt_used);
		G.hwpts[i].id = id;
		G.hwpts[i].ioas = pt;
		G.hwpts[i].dirty = dirty;
	}
	pthread_mutex_unlock(&G.lock);
}

static bool pick_hwpt(struct fz_thread *t, bool dirty, struct fz_hwpt *h)
{
	int i, k = rnd(t) % NR_LIVE;
	struct fz_hwpt *e;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < NR_LIVE; i++) {
		e = &G.hwpts[(k + i) % NR_LIVE];
		if (e->id && (e->dirty || !dirty))
			break;
	}
	if (i < NR_LIVE)
		*h = *e;
	pthread_mutex_unlock(&G.lock);
	return i < NR_LIVE;
}

/* IOVA [iova, iova + len) of @ioas maps the user memory at @uva */
static void map_add(struct fz_thread *t, uint32_t ioas, uint64_t iova,
		    uint64_t len, uint64_t uva)
{
	int i;

	if (!len || (iova | len | uva) % PAGE || iova < MOCK_APERTURE_START ||
	    iova + len - 1 > MOCK_APERTURE_LAST)
		return;
	pthread_mutex_lock(&G.lock);
	i = free_slot(t, NR_VMAPS, map_used);
	G.vmaps[i] = (struct fz_map){ ioas, iova, len, uva };
	pthread_mutex_unlock(&G.lock);
}

/* IOVA [iova, iova + len) of @ioas got unmapped */
static void map_forget(uint32_t ioas, uint64_t iova, uint64_t len)
{
	uint64_t last = iova + len - 1 < iova ? UINT64_MAX : iova + len - 1;
	struct fz_map *m;
	int i;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < NR_VMAPS; i++) {
		m = &G.vmaps[i];
		if (m->ioas == ioas && m->iova <= last &&
		    iova <= m->iova + m->len - 1)
			m->ioas = 0;
	}
	pthread_mutex_unlock(&G.lock);
}

/* The object @id got destroyed */
static void obj_forget(uint32_t id)
{
	int i;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < NR_LIVE; i++) {
		if (G.live_ioas[i] == id)
			G.live_ioas[i] = 0;
		if (G.hwpts[i].id == id)
			G.hwpts[i].id = 0;
	}
	for (i = 0; i < NR_VMAPS; i++)
		if (G.vmaps[i].ioas == id)
			G.vmaps[i].ioas = 0;
	pthread_mutex_unlock(&G.lock);
}

/* A mapped range, of @ioas unless that is 0, cut to at most @max pages */
static bool pick_map(struct fz_thread *t, uint32_t ioas, unsigned long max,
		     struct fz_map *m)
{
	int i, k = rnd(t) % NR_VMAPS;
	uint64_t npages, off, n;
	struct fz_map *e;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < NR_VMAPS; i++) {
		e = &G.vmaps[(k + i) % NR_VMAPS];
		if (e->ioas && (!ioas || e->ioas == ioas))
			break;
	}
	if (i < NR_VMAPS)
		*m = *e;
	pthread_mutex_unlock(&G.lock);
	if (i == NR_VMAPS)
		return false;
	npages = m->len / PAGE;
	if (rnd(t) % 4 && npages <= max)
		return true;	/* all of it */
	off = rnd(t) % npages;
	n = 1 + rnd(t) % (npages - off < max ? npages - off : max);
	m->iova += off * PAGE;
	m->uva += off * PAGE;
	m->len = n * PAGE;
	return true;
}

/* A live access fd, one that can pin if @pin, and its IOAS; or -1 */
static int pick_access(struct fz_thread *t, bool pin, uint32_t *ioas)
{
	int i, j, fd = -1, k = rnd(t) % NR_ACCESS;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < NR_ACCESS && fd < 0; i++) {
		j = (k + i) % NR_ACCESS;
		if (G.afd[j] >= 0 && (G.apin[j] || !pin)) {
			fd = G.afd[j];
			*ioas = G.aioas[j];
		}
	}
	pthread_mutex_unlock(&G.lock);
	return fd;
}

static void access_moved(int fd, uint32_t ioas)
{
	int i;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < NR_ACCESS; i++)
		if (G.afd[i] == fd)
			G.aioas[i] = ioas;
	pthread_mutex_unlock(&G.lock);
}

static void pin_add(struct fz_thread *t, int fd, uint32_t id)
{
	pthread_mutex_lock(&G.lock);
	G.pins[free_slot(t, NR_PINS, pin_used)] = (struct fz_pin){ fd, id };
	pthread_mutex_unlock(&G.lock);
}

/* Take a pin out of the table, to unpin it */
static bool pin_take(struct fz_thread *t, struct fz_pin *p)
{
	int i, k = rnd(t) % NR_PINS;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < NR_PINS; i++) {
		if (pin_used((k + i) % NR_PINS)) {
			*p = G.pins[(k + i) % NR_PINS];
			G.pins[(k + i) % NR_PINS].fd = 0;
			break;
		}
	}
	pthread_mutex_unlock(&G.lock);
	return i < NR_PINS;
}

/* An IOVA in the mock aperture that is likely free, 2 MiB aligned at times */
static uint64_t fresh_iova(struct fz_thread *t)
{
	uint64_t iova = MOCK_APERTURE_START + (rnd(t) % 1000) * 2 * MIB;

	return rnd(t) % 2 ? iova : iova + (rnd(t) % 512) * PAGE;
}

static bool ok_map(struct fz_thread *t, struct iommu_ioas_map *m)
{
	uint64_t pages, off, n, r = rnd(t) % 4;
	uint8_t *buf = G.anon;
	size_t size = ANON_SIZE;

	if (r == 0) {
		buf = G.shared;
		size = SHARED_SIZE;
	} else if (r == 1 && G.huge) {
		buf = G.huge;
		size = HUGE_SIZE;
	}
	pages = size / PAGE;
	off = rnd(t) % 4 ? rnd(t) % pages : 0;
	n = 1 + rnd(t) % (pages - off < 512 ? pages - off : 512);
	if (!off && !(rnd(t) % 4))	/* a whole 2 MiB, maybe huge */
		n = pages < 512 ? pages : 512;
	m->ioas_id = live_ioas(t);
	m->flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA;
	m->user_va = (uintptr_t)buf + off * PAGE;
	m->length = n * PAGE;
	m->iova = fresh_iova(t);
	return m->ioas_id;
}

static bool ok_copy(struct fz_thread *t, struct iommu_ioas_copy *c)
{
	struct fz_map m;

	if (!pick_map(t, 0, 512, &m))
		return false;
	c->flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA;
	c->src_ioas_id = m.ioas;
	c->src_iova = m.iova;
	c->length = m.len;
	c->dst_ioas_id = rnd(t) % 4 ? live_ioas(t) : m.ioas;
	c->dst_iova = fresh_iova(t);
	t->uva = m.uva;
	return c->dst_ioas_id;
}

/* A range of a dirty tracking HWPT in @page_size units; maybe track first */
static bool ok_dirty(struct fz_thread *t, __u32 *id, __u64 *iova,
		     __u64 *len, __u64 *page_size)
{
	struct iommu_hwpt_set_dirty_tracking track = {
		.size = sizeof(track),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	};
	uint64_t ps = PAGE << (rnd(t) % 4 ? 0 : rnd(t) % 10);
	struct fz_hwpt h;
	struct fz_map m;
	int tries;

	for (tries = 0; tries < 4; tries++)
		if (pick_hwpt(t, true, &h) && pick_map(t, h.ioas, 512, &m))
			break;
	if (tries == 4)
		return false;
	*id = h.id;
	*page_size = ps;
	*iova = m.iova & ~(ps - 1);
	*len = ((m.iova + m.len + ps - 1) & ~(ps - 1)) - *iova;
	track.hwpt_id = h.id;
	if (rnd(t) % 4)
		ioctl(G.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &track);
	return true;
}

/* Fill in a well formed IOMMU_TEST_CMD of @op, if the state allows */
static bool ok_test_cmd(struct fz_thread *t, int op, struct iommu_test_cmd *c)
{
	uint32_t ioas = 0;
	struct fz_hwpt h;
	struct fz_map m;
	struct fz_pin p;
	uint64_t off;

	switch (op) {
	case OP_CREATE_ACCESS:
		c->op = IOMMU_TEST_OP_CREATE_ACCESS;
		c->id = live_ioas(t);
		c->create_access.flags = rnd(t) % 4 ?
			MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES : 0;
		return c->id;
	case OP_ACCESS_PAGES:
		c->op = IOMMU_TEST_OP_ACCESS_PAGES;
		c->id = pick_access(t, true, &ioas);
		if ((int)c->id < 0 || !pick_map(t, ioas, 256, &m))
			return false;
		off = rnd(t) % 4 ? 0 : rnd(t) % PAGE;
		c->access_pages.flags = rnd(t) % 2 ? MOCK_FLAGS_ACCESS_WRITE : 0;
		c->access_pages.iova = m.iova + off;
		c->access_pages.length = m.len - off;
		if (!(rnd(t) % 4))
			c->access_pages.length = 1 + rnd(t) % (m.len - off);
		c->access_pages.uptr = rnd(t) % 2 ? m.uva + off : 0;
		return true;
	case OP_DESTROY_PAGES:
		if (!pin_take(t, &p))
			return false;
		c->op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES;
		c->id = p.fd;
		c->destroy_access_pages.access_pages_id = p.id;
		return true;
	case OP_ACCESS_RW:
		c->op = IOMMU_TEST_OP_ACCESS_RW;
		c->id = pick_access(t, false, &ioas);
		if ((int)c->id < 0 || !pick_map(t, ioas, 16, &m))
			return false;
		off = rnd(t) % PAGE;
		c->access_rw.iova = m.iova + off;
		c->access_rw.length = 1 + rnd(t) % (m.len - off);
		c->access_rw.uptr = (uintptr_t)G.scratch + rnd(t) % MIB;
		c->access_rw.flags = rnd(t) & (MOCK_ACCESS_RW_WRITE |
					       MOCK_ACCESS_RW_SLOW_PATH);
		return true;
	case OP_CHECK_MAP:
		if (!pick_hwpt(t, false, &h) || !pick_map(t, h.ioas, 64, &m))
			return false;
		c->op = IOMMU_TEST_OP_MD_CHECK_MAP;
		c->id = h.id;
		c->check_map.iova = m.iova;
		c->check_map.length = m.len;
		c->check_map.uptr = m.uva;
		return true;
	case OP_TEST_DIRTY:
		c->op = IOMMU_TEST_OP_DIRTY;
		c->dirty.uptr = (uintptr_t)G.scratch + DIRTY_IN_OFF +
				(rnd(t) % 2) * PAGE;
		return ok_dirty(t, &c->id, &c->dirty.iova, &c->dirty.length,
				&c->dirty.page_size);
	case OP_ACCESS_REPLACE:
		c->op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS;
		c->id = pick_access(t, false, &ioas);
		c->access_replace_ioas.ioas_id = live_ioas(t);
		return (int)c->id >= 0 && c->access_replace_ioas.ioas_id;
	}
	return false;
}

static int fz_vfio(struct fz_thread *t, uint8_t *raw)
{
	static const unsigned long types[] = {
		VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_NOIOMMU_IOMMU, 0, 42,
	};
	struct vfio_iommu_type1_dma_unmap *um = (void *)raw;
	struct vfio_iommu_type1_dma_map *m = (void *)raw;
	struct vfio_iommu_type1_info *info = (void *)raw;

	switch (rnd(t) % 6) {
	case 0:
		return ioctl(G.fd, VFIO_GET_API_VERSION);
	case 1:
		return ioctl(G.fd, VFIO_CHECK_EXTENSION, rnd(t) % 12);
	case 2:
		return ioctl(G.fd, VFIO_SET_IOMMU, PICK(t, types));
	case 3:
		m->flags = rflags(t, 3);
		m->vaddr = rva(t);
		m->iova = riova(t);
		m->size = rlen(t);
		m->argsz = rsize(t, raw, sizeof(*m));
		return ioctl(G.fd, VFIO_IOMMU_MAP_DMA, m);
	case 4:
		um->flags = rflags(t, 2);
		um->iova = rnd(t) % 4 ? riova(t) : 0;
		um->size = rnd(t) % 4 ? rlen(t) : UINT64_MAX;
		um->argsz = rsize(t, raw, sizeof(*um));
		return ioctl(G.fd, VFIO_IOMMU_UNMAP_DMA, um);
	default:
		info->argsz = rnd(t) % 2 ? sizeof(*info) : rnd(t) % 4096;
		return ioctl(G.fd, VFIO_IOMMU_GET_INFO, info);
	}
}

/* Fill in the IOMMU_TEST_CMD of @op */
static void fz_test_cmd(struct fz_thread *t, int op, struct iommu_test_cmd *c)
{
	static const uint32_t limits[] = { 4, 12, 16, 64, 4096, 65536 };

	c->id = rid(t, K_IOAS);
	switch (op) {
	case OP_MOCK_DOMAIN:
		c->op = rnd(t) % 2 ? IOMMU_TEST_OP_MOCK_DOMAIN :
				     IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS;
		c->id = rpt(t);
		c->mock_domain_flags.dev_flags = rflags(t, 7);
		break;
	case OP_MOCK_REPLACE:
		c->op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE;
		c->id = rid(t, K_STDEV);
		c->mock_domain_replace.pt_id = rpt(t);
		break;
	case OP_CREATE_ACCESS:
		c->op = IOMMU_TEST_OP_CREATE_ACCESS;
		c->create_access.flags = rflags(t, 1);
		break;
	case OP_ACCESS_PAGES:
		c->op = IOMMU_TEST_OP_ACCESS_PAGES;
		c->id = rafd(t);
		c->access_pages.flags = rflags(t, MOCK_FLAGS_ACCESS_WRITE);
		c->access_pages.iova = riova(t);
		c->access_pages.length = rlen(t);
		c->access_pages.uptr = rnd(t) % 4 ? 0 : rva(t);
		break;
	case OP_DESTROY_PAGES:
		c->op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES;
		c->id = rafd(t);
		c->destroy_access_pages.access_pages_id =
			rnd(t) % 2 ? t->pages_id : rid(t, K_IOAS);
		break;
	case OP_ACCESS_RW:
		c->op = IOMMU_TEST_OP_ACCESS_RW;
		c->id = rafd(t);
		c->access_rw.iova = riova(t) + rnd(t) % 8;
		c->access_rw.length = rnd(t) % 2 ? 1 + rnd(t) % 8192 : rlen(t);
		c->access_rw.uptr = rnd(t) % 8 ? (uintptr_t)G.scratch :
						 rgarbage(t);
		c->access_rw.flags = rflags(t, 7);
		break;
	case OP_CHECK_MAP:
		c->op = IOMMU_TEST_OP_MD_CHECK_MAP;
		c->id = rid(t, K_HWPT);
		c->check_map.iova = riova(t);
		c->check_map.length = rlen(t);
		c->check_map.uptr = rva(t);
		break;
	case OP_TEST_DIRTY:
		c->op = IOMMU_TEST_OP_DIRTY;
		c->id = rid(t, K_HWPT);
		c->dirty.flags = rflags(t, 0);
		c->dirty.iova = riova(t);
		c->dirty.length = rlen(t);
		c->dirty.page_size = rnd(t) % 4 ? PAGE : 1ULL << (rnd(t) % 24);
		c->dirty.uptr = rnd(t) % 2 ? (uintptr_t)G.anon : rout(t);
		break;
	case OP_ADD_RESERVED:
		c->op = IOMMU_TEST_OP_ADD_RESERVED;
		c->add_reserved.start = riova(t);
		c->add_reserved.length = rlen(t);
		break;
	case OP_MEM_LIMIT:
		c->op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT;
		c->memory_limit.limit = rnd(t) % 8 ? PICK(t, limits) : rnd(t);
		break;
	default:
		c->op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS;
		c->id = rafd(t);
		c->access_replace_ioas.ioas_id = rid(t, K_IOAS);
		break;
	}
}

static int pick_op(struct fz_thread *t)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	r = rnd(t) % total;
	for (i = 0; r >= op_weight[i]; i++)
		r -= op_weight[i];
	return i;
}

/* Keep what a successful command made, for later commands to use */
static void fz_remember(struct fz_thread *t, int op, void *arg)
{
	struct iommu_test_cmd *c = arg;
	struct iommu_ioas_alloc *alloc = arg;
	struct iommu_ioas_map *map = arg;
	struct iommu_ioas_copy *copy = arg;
	struct iommu_hwpt_alloc *hwpt = arg;

	switch (op) {
	case OP_IOAS_ALLOC:
		remember(t, K_IOAS, alloc->out_ioas_id);
		live_add(t, alloc->out_ioas_id);
		break;
	case OP_DESTROY:
		obj_forget(((struct iommu_destroy *)arg)->id);
		break;
	case OP_MAP:
		remember_map(t, map->iova, map->length);
		if ((map->flags & MAP_RW) == MAP_RW)
			map_add(t, map->ioas_id, map->iova, map->length,
				map->user_va);
		break;
	case OP_UNMAP:
		map_forget(((struct iommu_ioas_unmap *)arg)->ioas_id,
			   t->unmap_iova, t->unmap_len);
		break;
	case OP_COPY:
		remember_map(t, copy->dst_iova, copy->length);
		if (t->uva)
			map_add(t, copy->dst_ioas_id, copy->dst_iova,
				copy->length, t->uva);
		break;
	case OP_HWPT_ALLOC:
		remember(t, K_HWPT, hwpt->out_hwpt_id);
		hwpt_add(t, hwpt->out_hwpt_id, hwpt->pt_id,
			 hwpt->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
		break;
	case OP_MOCK_DOMAIN:
		remember(t, K_STDEV, c->mock_domain.out_stdev_id);
		remember(t, K_HWPT, c->mock_domain.out_hwpt_id);
		remember(t, K_IDEV, c->mock_domain.out_idev_id);
		hwpt_add(t, c->mock_domain.out_hwpt_id, c->id, false);
		break;
	case OP_CREATE_ACCESS:
		put_afd(t, c->create_access.out_access_fd, c->id,
			c->create_access.flags &
			MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
		break;
	case OP_ACCESS_PAGES:
		t->pages_id = c->access_pages.out_access_pages_id;
		pin_add(t, c->id, t->pages_id);
		break;
	case OP_ACCESS_REPLACE:
		access_moved(c->id, c->access_replace_ioas.ioas_id);
		break;
	}
}

static void fz_one(struct fz_thread *t)
{
	static const uint64_t pgsz[] = { PAGE, 2048, 8192, 3000, 0, 1, 2 * MIB };
	union {
		uint8_t raw[4096];
		struct iommu_destroy destroy;
		struct iommu_ioas_alloc alloc;
		struct iommu_ioas_map map;
		struct iommu_ioas_unmap unmap;
		struct iommu_ioas_copy copy;
		struct iommu_ioas_iova_ranges ranges;
		struct iommu_ioas_allow_iovas allow;
		struct iommu_option option;
		struct iommu_hwpt_alloc hwpt;
		struct iommu_hwpt_set_dirty_tracking track;
		struct iommu_hwpt_get_dirty_bitmap bitmap;
		struct iommu_hw_info info;
		struct iommu_hwpt_invalidate inv;
		struct iommu_vfio_ioas vfio_ioas;
		struct iommu_test_cmd test;
		uint64_t align;
	} a;
	struct iommu_iova_range allow[4];
	struct fz_hwpt h;
	struct fz_map m;
	int op = pick_op(t), rc, i;
	bool valid = false;
	unsigned long nr;
	uint32_t base;

	memset(&a, 0, sizeof(a));
	t->uva = 0;
	switch (op) {
	case OP_IOAS_ALLOC:
		a.alloc.flags = rflags(t, 0);
		nr = IOMMU_IOAS_ALLOC;
		base = sizeof(a.alloc);
		break;
	case OP_DESTROY:
		a.destroy.id = rid(t, rnd(t) % NR_KINDS);
		nr = IOMMU_DESTROY;
		base = sizeof(a.destroy);
		break;
	case OP_MAP:
		nr = IOMMU_IOAS_MAP;
		base = sizeof(a.map);
		if (!(rnd(t) % 3) && ok_map(t, &a.map)) {
			valid = true;
			break;
		}
		a.map.flags = rflags(t, 7);
		a.map.ioas_id = rid(t, K_IOAS);
		a.map.iova = riova(t);
		a.map.user_va = rva(t);
		a.map.length = rlen(t);
		if (!(rnd(t) % 32)) {	/* user_va + length overflows */
			a.map.user_va = (uintptr_t)G.anon;
			a.map.length = UINT64_MAX - 4095;
		}
		break;
	case OP_UNMAP:
		a.unmap.ioas_id = rid(t, K_IOAS);
		if (!(rnd(t) % 4) && pick_map(t, 0, ~0UL, &m)) {
			a.unmap.ioas_id = m.ioas;
			a.unmap.iova = m.iova;
			a.unmap.length = m.len;
			valid = true;
		} else if (rnd(t) % 16) {
			a.unmap.iova = riova(t);
			a.unmap.length = rlen(t);
		} else {
			a.unmap.length = UINT64_MAX;
		}
		t->unmap_iova = a.unmap.iova;
		t->unmap_len = a.unmap.length;
		nr = IOMMU_IOAS_UNMAP;
		base = sizeof(a.unmap);
		break;
	case OP_COPY:
		nr = IOMMU_IOAS_COPY;
		base = sizeof(a.copy);
		if (rnd(t) % 2 && ok_copy(t, &a.copy)) {
			valid = true;
			break;
		}
		t->uva = 0;
		a.copy.flags = rflags(t, 7);
		a.copy.dst_ioas_id = rid(t, K_IOAS);
		a.copy.src_ioas_id = rid(t, K_IOAS);
		a.copy.length = rlen(t);
		a.copy.dst_iova = riova(t);
		a.copy.src_iova = riova(t);
		break;
	case OP_RANGES:
		a.ranges.ioas_id = rid(t, K_IOAS);
		a.ranges.num_iovas = rnd(t) % 8 ? rnd(t) % 4 : rnd(t);
		a.ranges.__reserved = !(rnd(t) % 16);
		a.ranges.allowed_iovas = rnd(t) % 4 ? rout(t) : 0;
		nr = IOMMU_IOAS_IOVA_RANGES;
		base = sizeof(a.ranges);
		break;
	case OP_ALLOW:
		for (i = 0; i < 4; i++) {
			allow[i].start = riova(t);
			allow[i].last = rnd(t) % 2 ? allow[i].start + rlen(t) :
						     riova(t);
		}
		a.allow.ioas_id = rid(t, K_IOAS);
		a.allow.num_iovas = rnd(t) % 16 ? rnd(t) % 5 : rnd(t) % 100000;
		a.allow.allowed_iovas = rnd(t) % 8 ? (uintptr_t)allow :
						     rgarbage(t);
		nr = IOMMU_IOAS_ALLOW_IOVAS;
		base = sizeof(a.allow);
		break;
	case OP_OPTION:
		a.option.option_id = rnd(t) % 3;
		a.option.op = rnd(t) % 3;
		a.option.object_id = rnd(t) % 2 ? 0 : rid(t, K_IOAS);
		a.option.val64 = rnd(t) % 4 ? rnd(t) % 3 : rnd(t);
		nr = IOMMU_OPTION;
		base = sizeof(a.option);
		break;
	case OP_HWPT_ALLOC:
		nr = IOMMU_HWPT_ALLOC;
		base = sizeof(a.hwpt);
		if (!(rnd(t) % 3)) {
			a.hwpt.dev_id = __atomic_load_n(&G.recent[K_IDEV][rnd(t) % 8],
							__ATOMIC_RELAXED);
			a.hwpt.pt_id = live_ioas(t);
			a.hwpt.flags = rnd(t) % 2 ?
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING : 0;
			valid = true;
			break;
		}
		a.hwpt.flags = rflags(t, 7);
		a.hwpt.dev_id = rid(t, K_IDEV);
		a.hwpt.pt_id = rpt(t);
		a.hwpt.data_type = rnd(t) % 2 ? 0 : rnd(t) % 2 ?
				   IOMMU_HWPT_DATA_SELFTEST : rnd(t) % 4;
		a.hwpt.data_len = rnd(t) % 2 ? 4 : rnd(t) % 64;
		a.hwpt.data_uptr = rnd(t) % 4 ? (uintptr_t)G.scratch : rout(t);
		if (!a.hwpt.data_type && rnd(t) % 4)
			a.hwpt.data_uptr = 0;
		if (!a.hwpt.data_uptr)
			a.hwpt.data_len = 0;
		a.hwpt.fault_id = rid(t, K_HWPT);
		break;
	case OP_DIRTY_TRACK:
		nr = IOMMU_HWPT_SET_DIRTY_TRACKING;
		base = sizeof(a.track);
		if (rnd(t) % 2 && pick_hwpt(t, true, &h)) {
			a.track.hwpt_id = h.id;
			a.track.flags = rnd(t) % 4 ?
					IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0;
			valid = true;
			break;
		}
		a.track.flags = rflags(t, 1);
		a.track.hwpt_id = rid(t, K_HWPT);
		break;
	case OP_DIRTY_BITMAP:
		nr = IOMMU_HWPT_GET_DIRTY_BITMAP;
		base = sizeof(a.bitmap);
		if (rnd(t) % 2 &&
		    ok_dirty(t, &a.bitmap.hwpt_id, &a.bitmap.iova,
			     &a.bitmap.length, &a.bitmap.page_size)) {
			a.bitmap.flags = rnd(t) % 4 ? 0 :
				IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
			a.bitmap.data = (uintptr_t)G.bitmap;
			valid = true;
			break;
		}
		a.bitmap.hwpt_id = rid(t, K_HWPT);
		a.bitmap.flags = rflags(t, 1);
		a.bitmap.iova = riova(t);
		a.bitmap.length = rlen(t);
		a.bitmap.page_size = rnd(t) % 4 ? PICK(t, pgsz) :
					1ULL << (rnd(t) % 40);
		a.bitmap.data = rnd(t) % 8 ? (uintptr_t)G.bitmap : rgarbage(t);
		break;
	case OP_HW_INFO:
		a.info.flags = rflags(t, 1);
		a.info.dev_id = rid(t, K_IDEV);
		a.info.data_len = rnd(t) % 4 ? rnd(t) % 64 : rnd(t);
		a.info.data_uptr = rout(t);
		a.info.in_data_type = rnd(t) % 2 ? 0 : rnd(t);
		nr = IOMMU_GET_HW_INFO;
		base = sizeof(a.info);
		break;
	case OP_INVALIDATE:
		a.inv.hwpt_id = rid(t, K_HWPT);
		a.inv.data_uptr = rnd(t) % 2 ? (uintptr_t)G.scratch +
				  SCRATCH_SIZE - 64 : rout(t);
		a.inv.data_type = rnd(t) % 2 ? IOMMU_HWPT_INVALIDATE_DATA_SELFTEST :
				  rnd(t) % 2 ? 0 : rnd(t);
		a.inv.entry_len = rnd(t) % 2 ? 8 : rnd(t) % 64;
		a.inv.entry_num = rnd(t) % 8 ? rnd(t) % 6 : rnd(t);
		nr = IOMMU_HWPT_INVALIDATE;
		base = sizeof(a.inv);
		break;
	case OP_VFIO_IOAS:
		a.vfio_ioas.ioas_id = rid(t, K_IOAS);
		a.vfio_ioas.op = rnd(t) % 4;
		nr = IOMMU_VFIO_IOAS;
		base = sizeof(a.vfio_ioas);
		break;
	case OP_VFIO:
		rc = fz_vfio(t, a.raw);
		goto out;
	case OP_CLOSE_ACCESS:
		put_afd(t, -1, 0, false);
		rc = 0;
		goto out;
	default:
		nr = IOMMU_TEST_CMD;
		base = sizeof(a.test);
		if (rnd(t) % 2 && ok_test_cmd(t, op, &a.test)) {
			valid = true;
			break;
		}
		memset(&a, 0, sizeof(a));
		fz_test_cmd(t, op, &a.test);
		break;
	}
	a.test.size = valid ? base : rsize(t, a.raw, base);
	rc = ioctl(G.fd, nr, &a);
	if (!rc)
		fz_remember(t, op, &a.test);
out:
	__atomic_fetch_add(&G.calls[op], 1, __ATOMIC_RELAXED);
	if (!rc)
		__atomic_fetch_add(&G.ok[op], 1, __ATOMIC_RELAXED);
	if (valid)
		__atomic_fetch_add(&G.vcalls[op], 1, __ATOMIC_RELAXED);
	if (valid && !rc)
		__atomic_fetch_add(&G.vok[op], 1, __ATOMIC_RELAXED);
}

/* A starting corpus: objects the random commands can build on */
static void fz_seed_objects(struct fz_thread *t)
{
	struct iommu_test_cmd dom = {
		.size = sizeof(dom), .op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	struct iommu_test_cmd acc = {
		.size = sizeof(acc), .op = IOMMU_TEST_OP_CREATE_ACCESS,
	};
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt), .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
	};
	uint32_t ioas[2] = {};
	uint64_t iova;
	int i, k;

	for (i = 0; i < 2; i++) {
		ioas_alloc(G.fd, &ioas[i]);
		iova = MOCK_APERTURE_START;
		ioas_map(G.fd, ioas[i], G.anon, MIB, &iova,
			 MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
		dom.id = ioas[i];
		ioctl(G.fd, IOMMU_TEST_CMD, &dom);
		acc.id = ioas[i];
		acc.create_access.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
		if (!ioctl(G.fd, IOMMU_TEST_CMD, &acc)) {
			G.afd[i] = acc.create_access.out_access_fd;
			G.aioas[i] = ioas[i];
			G.apin[i] = true;
		}
		hwpt.dev_id = dom.mock_domain.out_idev_id;
		hwpt.pt_id = ioas[i];
		ioctl(G.fd, IOMMU_HWPT_ALLOC, &hwpt);
		live_add(t, ioas[i]);
		map_add(t, ioas[i], MOCK_APERTURE_START, MIB, (uintptr_t)G.anon);
		hwpt_add(t, hwpt.out_hwpt_id, ioas[i], true);
		hwpt_add(t, dom.mock_domain.out_hwpt_id, ioas[i], false);
		for (k = i; k < 8; k += 2) {
			G.recent[K_IOAS][k] = ioas[i];
			G.recent[K_HWPT][k] = k < 4 ? hwpt.out_hwpt_id :
					      dom.mock_domain.out_hwpt_id;
			G.recent[K_IDEV][k] = dom.mock_domain.out_idev_id;
			G.recent[K_STDEV][k] = dom.mock_domain.out_stdev_id;
		}
		for (k = i; k < 16; k += 2) {
			G.maps[k][0] = MOCK_APERTURE_START;
			G.maps[k][1] = MIB;
		}
	}
}

static void *fz_run(void *arg)
{
	struct fz_thread *t = arg;
	unsigned long i;

	for (i = 0; i < G.nops; i++)
		fz_one(t);
	return NULL;
}

static void *map_at(uint8_t *addr, size_t len, int prot, int flags)
{
	void *p = mmap(addr, len, prot, flags | MAP_FIXED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int set_mem_limit(int fd, uint32_t limit)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = limit },
	};

	return ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);
}

FIXTURE(fuzz) {
	uint8_t *res;
	uint64_t seed;
	long pin0, lck0;
};

FIXTURE_SETUP(fuzz)
{
	const char *env = getenv("FUZZ_SEED");
	uint8_t *base;
	int i;

	self->seed = env ? strtoull(env, NULL, 0) : 0x10a5eedULL;
	self->res = mmap(NULL, RES_SIZE + 2 * MIB, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->res);
	base = (uint8_t *)(((uintptr_t)self->res + 2 * MIB - 1) & ~(2 * MIB - 1));
	G.anon = map_at(base, ANON_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	G.shared = map_at(base + OFF_SHARED, SHARED_SIZE,
			  PROT_READ | PROT_WRITE, MAP_SHARED);
	G.ro = map_at(base + OFF_RO, RO_SIZE, PROT_READ, MAP_PRIVATE);
	G.huge = map_at(base + OFF_HUGE, HUGE_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_HUGETLB);
	G.scratch = map_at(base + OFF_SCRATCH, SCRATCH_SIZE,
			   PROT_READ | PROT_WRITE, MAP_PRIVATE);
	G.bitmap = map_at(base + OFF_BITMAP, BITMAP_SIZE,
			  PROT_READ | PROT_WRITE, MAP_PRIVATE);
	G.hole = base + OFF_HOLE;
	ASSERT_TRUE(G.anon && G.shared && G.ro && G.scratch && G.bitmap);
	memset(G.anon, 0x11, ANON_SIZE / 2);	/* the rest faults in on pin */
	memset(G.shared, 0x22, SHARED_SIZE);
	memset(G.scratch + DIRTY_IN_OFF, 0xff, PAGE);
	memset(G.scratch + DIRTY_IN_OFF + PAGE, 0x5a, PAGE);
	if (G.huge)
		memset(G.huge, 0x33, HUGE_SIZE);
	for (i = 0; i < NR_ACCESS; i++)
		G.afd[i] = -1;
	TH_LOG("seed 0x%llx (FUZZ_SEED overrides), hugetlb %s",
	       (unsigned long long)self->seed, G.huge ? "yes" : "no");
	self->pin0 = proc_status_kb("VmPin");
	self->lck0 = proc_status_kb("VmLck");
	G.fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, G.fd);
}

FIXTURE_TEARDOWN(fuzz)
{
	munmap(self->res, RES_SIZE + 2 * MIB);
}

static void fz_storm(struct __test_metadata *_metadata,
		     struct _test_data_fuzz *self, int workers)
{
	struct fz_thread th[NR_WORKERS + 1] = {};
	struct iommu_test_cmd dom = {
		.size = sizeof(dom), .op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	uint64_t iova = MOCK_APERTURE_START, unmapped = 0;
	char line[1024];
	uint32_t ioas;
	int i, len = 0;

	alarm(120);		/* no ioctl may hang */
	G.nops = FUZZ_OPS;
	for (i = 0; i <= workers; i++)
		th[i].rng = seed_mix(self->seed + i);
	fz_seed_objects(&th[0]);
	for (i = 1; i <= workers; i++)
		ASSERT_EQ(0, pthread_create(&th[i].th, NULL, fz_run, &th[i]));
	fz_run(&th[0]);
	for (i = 1; i <= workers; i++)
		ASSERT_EQ(0, pthread_join(th[i].th, NULL));

	for (i = 0; i < NR_OPS; i++) {
		len += snprintf(line + len, sizeof(line) - len,
				" %s=%lu/%lu(%lu/%lu)", op_names[i], G.ok[i],
				G.calls[i], G.vok[i], G.vcalls[i]);
		if (i % 7 == 6 || i == NR_OPS - 1) {
			TH_LOG("ok/calls(well formed ok/calls):%s", line);
			len = 0;
		}
	}

	/* Everything closed: all pins must be released */
	for (i = 0; i < NR_ACCESS; i++)
		if (G.afd[i] >= 0)
			close(G.afd[i]);
	close(G.fd);
	if (proc_status_kb("VmPin") != self->pin0 ||
	    proc_status_kb("VmLck") != self->lck0)
		TH_LOG("leak: VmPin %ld kB (was %ld), VmLck %ld kB (was %ld)",
		       proc_status_kb("VmPin"), self->pin0,
		       proc_status_kb("VmLck"), self->lck0);
	ASSERT_EQ(self->pin0, proc_status_kb("VmPin"));
	ASSERT_EQ(self->lck0, proc_status_kb("VmLck"));

	/* And a fresh context still works */
	G.fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, G.fd);
	ASSERT_EQ(0, set_mem_limit(G.fd, 65536));
	ASSERT_EQ(0, ioas_alloc(G.fd, &ioas));
	dom.id = ioas;
	ASSERT_EQ(0, ioctl_errno(G.fd, IOMMU_TEST_CMD, &dom));
	ASSERT_EQ(0, ioas_map(G.fd, ioas, G.anon, 16 * PAGE, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	ASSERT_EQ(self->pin0 + 64, proc_status_kb("VmPin"));
	ASSERT_EQ(0, ioas_unmap(G.fd, ioas, iova, 16 * PAGE, &unmapped));
	ASSERT_EQ(16 * PAGE, unmapped);
	ASSERT_EQ(self->pin0, proc_status_kb("VmPin"));
	close(G.fd);
	ASSERT_EQ(self->pin0, proc_status_kb("VmPin"));
	alarm(0);
}

TEST_F_TIMEOUT(fuzz, single_thread, 150)
{
	fz_storm(_metadata, self, 0);
}

TEST_F_TIMEOUT(fuzz, four_threads, 150)
{
	fz_storm(_metadata, self, NR_WORKERS);
}

TEST_HARNESS_MAIN
