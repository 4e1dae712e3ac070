/*
 * The allocation arena that serves libfcgi's per-request malloc calls, so
 * that a request makes no call into the C library's heap.  Linked only
 * when configure found libfcgi.a and objcopy (HAVE_ARENA).
 */
#ifndef ARENA_H
#define ARENA_H

#include <stddef.h>

/* Per-process arena size: a stock nginx request needs about 19 KiB. */
#define ARENA_BYTES	(128 * 1024)

struct arena_stats {
	unsigned long	 overflows;	/* allocations sent to the heap */
	unsigned long	 reclaimed;	/* blocks still live at a rewind */
	size_t		 high_water;	/* most arena bytes used at once */
};

void	arena_arm(void);
void	arena_rewind(void);
size_t	arena_asked(const void *);
const struct arena_stats *arena_stats(void);

#endif
