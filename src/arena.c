/*
 * A bump allocator for libfcgi.
 *
 * libfcgi allocates 12 + N blocks inside every FCGX_Accept_r and frees them
 * all in FCGX_Finish_r.  The daemon links a copy of libfcgi.a in which
 * objcopy renamed malloc, free, calloc and realloc to the arena_ functions
 * below, so libfcgi's calls -- and only those -- arrive here.  Our own code
 * still calls the C library, where the allocation test would see it (it
 * makes no call after startup).  Until
 * arena_arm(), everything goes to the C heap, so startup allocations such
 * as libfcgi's one-time tables live there.  Afterwards blocks are carved
 * from a static array and the worker rewinds it after each request, when
 * libfcgi holds no pointer into it.  A request that needs more than the
 * arena (thousands of huge params) is still served: the excess goes to the
 * C heap and is counted, never refused here.
 *
 * Under AddressSanitizer (--enable-sanitizers) the arena poisons what is
 * not handed out -- block headers, the rounding slack, freed and rewound
 * blocks -- so that ASan checks libfcgi's blocks here as it would on its
 * own heap: its interceptors (memcpy, strlen, read...) and our
 * instrumented code report overflows and uses after free or rewind.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN	1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define arena_poison(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define arena_unpoison(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define arena_poison(p, n)	do { } while (0)
#define arena_unpoison(p, n)	do { } while (0)
#endif

#define ARENA_ALIGN	16

/* Precedes every arena block; its size keeps payloads 16-byte aligned. */
struct arena_block {
	size_t		 size;		/* payload bytes, a multiple of 16 */
	size_t		 asked;		/* bytes asked for: arena_asked() */
};

/* What the renamed libfcgi.a calls instead of malloc, free, ... */
void	*arena_malloc(size_t);
void	 arena_free(void *);
void	*arena_calloc(size_t, size_t);
void	*arena_realloc(void *, size_t);

static unsigned char arena_mem[ARENA_BYTES]
    __attribute__((aligned(ARENA_ALIGN)));
static size_t		 arena_top;	/* first free byte */
static size_t		 arena_live;	/* blocks handed out, not freed */
static int		 arena_armed;
/* Read by tests/alloc.sh through gdb: the arena must never overflow there. */
static struct arena_stats arena_counters;

/* The counters, for the status page (scoreboard.c). */
const struct arena_stats *
arena_stats(void)
{
	return &arena_counters;
}

/* From now on, serve allocations from the arena. */
void
arena_arm(void)
{
	arena_poison(arena_mem, sizeof(arena_mem));
	arena_armed = 1;
}

/*
 * Forget every arena block.  Called after FCGX_Finish_r: libfcgi has freed
 * its streams and params by then.  Blocks still live at this point are
 * ones libfcgi 2.4.2 leaks (a management record's params) and never
 * touches again; they are counted and reclaimed.
 */
void
arena_rewind(void)
{
	arena_counters.reclaimed += arena_live;
	arena_live = 0;
	arena_poison(arena_mem, arena_top);
	arena_top = 0;
}

static void
arena_note_top(void)
{
	if (arena_top > arena_counters.high_water)
		arena_counters.high_water = arena_top;
}

static int
arena_owns(const void *p)
{
	return (const unsigned char *)p >= arena_mem &&
	    (const unsigned char *)p < arena_mem + sizeof(arena_mem);
}

static struct arena_block *
arena_block_of(void *p)
{
	return (struct arena_block *)p - 1;
}

/* Block headers stay poisoned under ASan except while we use them. */
static size_t
arena_size_of(struct arena_block *b)
{
	size_t	 size;

	arena_unpoison(b, sizeof(*b));
	size = b->size;
	arena_poison(b, sizeof(*b));
	return size;
}

static void
arena_set_size(struct arena_block *b, size_t size, size_t asked)
{
	arena_unpoison(b, sizeof(*b));
	b->size = size;
	b->asked = asked;
	arena_poison(b, sizeof(*b));
}

/*
 * How many bytes were asked for the arena block at p, or 0 when p is not
 * one (a heap block, before arm, after an overflow).  libfcgi allocates
 * each param as exactly "NAME=VALUE" and its NUL, so this tells whether a
 * value holds a NUL of its own (worker.c).
 */
size_t
arena_asked(const void *p)
{
	struct arena_block	*b;
	size_t			 asked;

	if (!arena_owns(p))
		return 0;
	b = (struct arena_block *)(uintptr_t)p - 1;
	arena_unpoison(b, sizeof(*b));
	asked = b->asked;
	arena_poison(b, sizeof(*b));
	return asked;
}

static void *
arena_alloc(size_t n)
{
	struct arena_block	*b;
	size_t			 size;

	if (n > sizeof(arena_mem))
		return NULL;
	size = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (size == 0)
		size = ARENA_ALIGN;
	if (sizeof(arena_mem) - arena_top < sizeof(*b) + size)
		return NULL;
	b = (struct arena_block *)(arena_mem + arena_top);
	arena_top += sizeof(*b) + size;
	arena_live++;
	arena_note_top();
	arena_set_size(b, size, n);
	arena_unpoison(b + 1, n);
	return b + 1;
}

void *
arena_malloc(size_t n)
{
	void	*p;

	if (!arena_armed)
		return malloc(n);
	if ((p = arena_alloc(n)) != NULL)
		return p;
	arena_counters.overflows++;
	return malloc(n);
}

void
arena_free(void *p)
{
	struct arena_block	*b;
	size_t			 size;

	if (p == NULL)
		return;
	if (!arena_owns(p)) {
		free(p);
		return;
	}
	b = arena_block_of(p);
	size = arena_size_of(b);
	arena_poison(p, size);
	arena_live--;
	/* Popping the newest block lets a freed-then-refilled stream reuse it. */
	if ((unsigned char *)p + size == arena_mem + arena_top)
		arena_top = (size_t)((unsigned char *)b - arena_mem);
}

void *
arena_calloc(size_t n, size_t m)
{
	void	*p;

	if (!arena_armed)
		return calloc(n, m);
	if (m != 0 && n > SIZE_MAX / m)
		return NULL;
	if ((p = arena_malloc(n * m)) != NULL && arena_owns(p))
		memset(p, 0, n * m);	/* a rewound arena is not zeroed */
	return p;
}

void *
arena_realloc(void *p, size_t n)
{
	struct arena_block	*b;
	void			*q;
	size_t			 size, old;

	if (p == NULL)
		return arena_malloc(n);
	if (!arena_owns(p))
		return realloc(p, n);
	b = arena_block_of(p);
	old = arena_size_of(b);
	size = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (size <= old) {
		arena_set_size(b, old, n);
		arena_poison(p, old);
		arena_unpoison(p, n);
		return p;
	}
	/* The newest block grows in place when the arena has room. */
	if ((unsigned char *)p + old == arena_mem + arena_top &&
	    size - old <= sizeof(arena_mem) - arena_top) {
		arena_top += size - old;
		arena_set_size(b, size, n);
		arena_unpoison(p, n);
		arena_note_top();
		return p;
	}
	if ((q = arena_malloc(n)) == NULL)
		return NULL;
	/* The copy below reads the rounding slack too. */
	arena_unpoison(p, old);
	memcpy(q, p, old);
	arena_free(p);
	return q;
}
