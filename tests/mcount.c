/*
 * mcount.so: an LD_PRELOAD counter of calls into the C library's heap,
 * shared by a whole process tree.
 *
 * It interposes malloc, calloc, realloc, reallocarray, free,
 * posix_memalign, aligned_alloc, memalign, valloc and pvalloc, forwards
 * each to glibc's exported __libc_* entry points (no dlsym, so no
 * recursion while the loader is still busy), and adds one to a counter.
 * The counters live in the file named by $MCOUNT_FILE, mapped MAP_SHARED
 * and updated with atomic increments: a master and every child it forks
 * (they inherit the mapping) or execs (they inherit the variable) add to
 * the same totals, and a test can read them at any time with od(1).
 * Without $MCOUNT_FILE, or if it cannot be mapped, the counters are
 * private to the process and nobody can read them.
 *
 * The file is an array of native 64-bit unsigned words (see enum below);
 * it must exist and be at least MCOUNT_FILE_BYTES long, writable by every
 * process that maps it.  Words MCOUNT_RING onwards are a ring of the last
 * MCOUNT_RING_SLOTS calls, two words each, (kind << 32 | pid, size), so a
 * test that sees calls can tell what they were.  This file owns counting
 * only; reading and judging the figures is the test's job
 * (tests/alloc.sh, tests/bench/run.sh).
 */
#include <config.h>

#include <sys/mman.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Word offsets in the counter file; tests/alloc.sh reads the same ones. */
enum mcount_word {
	MCOUNT_MALLOC,		/* malloc */
	MCOUNT_CALLOC,		/* calloc */
	MCOUNT_REALLOC,		/* realloc, reallocarray */
	MCOUNT_FREE,		/* free of a non-NULL pointer */
	MCOUNT_ALIGNED,		/* posix_memalign, aligned_alloc, memalign,
				   valloc, pvalloc */
	MCOUNT_FREE_NULL,	/* free(NULL): no heap work, shown apart */
	MCOUNT_RING_NEXT,	/* calls recorded in the ring so far */
	MCOUNT_RESERVED,
	MCOUNT_RING		/* first ring slot */
};

#define MCOUNT_RING_SLOTS	256
#define MCOUNT_WORDS		(MCOUNT_RING + 2 * MCOUNT_RING_SLOTS)
#define MCOUNT_FILE_BYTES	(MCOUNT_WORDS * sizeof(uint64_t))

void	*__libc_malloc(size_t);
void	*__libc_calloc(size_t, size_t);
void	*__libc_realloc(void *, size_t);
void	 __libc_free(void *);
void	*__libc_memalign(size_t, size_t);
void	*__libc_valloc(size_t);
void	*__libc_pvalloc(size_t);

/* Used until the shared file is mapped, or if it cannot be. */
static uint64_t		 mcount_private[MCOUNT_WORDS];
static uint64_t		*mcount_words;

/*
 * Map $MCOUNT_FILE.  Only system calls and getenv, none of which
 * allocate, so this is safe from inside malloc itself.
 */
static uint64_t *
mcount_map(void)
{
	const char	*path;
	void		*p;
	uint64_t	*want = NULL;
	int		 fd, saved = errno;

	if ((path = getenv("MCOUNT_FILE")) != NULL && *path != '\0' &&
	    (fd = open(path, O_RDWR | O_CLOEXEC)) != -1) {
		p = mmap(NULL, MCOUNT_FILE_BYTES, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
		close(fd);
		if (p != MAP_FAILED)
			want = p;
	}
	if (want == NULL)
		want = mcount_private;
	/* Two threads racing here: the loser unmaps its copy. */
	if (!__atomic_compare_exchange_n(&mcount_words, &(uint64_t *){ NULL },
	    want, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
	    want != mcount_private)
		munmap(want, MCOUNT_FILE_BYTES);
	errno = saved;
	return __atomic_load_n(&mcount_words, __ATOMIC_ACQUIRE);
}

static void
mcount_add(enum mcount_word what, size_t size)
{
	uint64_t	*w, slot;

	if ((w = __atomic_load_n(&mcount_words, __ATOMIC_ACQUIRE)) == NULL)
		w = mcount_map();
	__atomic_add_fetch(&w[what], 1, __ATOMIC_RELAXED);
	if (what == MCOUNT_FREE_NULL)
		return;
	slot = __atomic_fetch_add(&w[MCOUNT_RING_NEXT], 1, __ATOMIC_RELAXED) %
	    MCOUNT_RING_SLOTS;
	w[MCOUNT_RING + 2 * slot] = (uint64_t)what << 32 | (uint32_t)getpid();
	w[MCOUNT_RING + 2 * slot + 1] = size;
}

/* Map the counters early, before the program can change user or chroot. */
__attribute__((constructor)) static void
mcount_init(void)
{
	if (__atomic_load_n(&mcount_words, __ATOMIC_ACQUIRE) == NULL)
		mcount_map();
}

/* Counted malloc. */
void *
malloc(size_t n)
{
	mcount_add(MCOUNT_MALLOC, n);
	return __libc_malloc(n);
}

/* Counted calloc. */
void *
calloc(size_t n, size_t m)
{
	mcount_add(MCOUNT_CALLOC, m != 0 && n <= SIZE_MAX / m ? n * m : 0);
	return __libc_calloc(n, m);
}

/* Counted realloc. */
void *
realloc(void *p, size_t n)
{
	mcount_add(MCOUNT_REALLOC, n);
	return __libc_realloc(p, n);
}

/* Counted reallocarray; glibc's own would not come back through realloc. */
void *
reallocarray(void *p, size_t n, size_t m)
{
	if (m != 0 && n > SIZE_MAX / m) {
		errno = ENOMEM;
		return NULL;
	}
	mcount_add(MCOUNT_REALLOC, n * m);
	return __libc_realloc(p, n * m);
}

/* Counted free; free(NULL) is counted apart because it does no work. */
void
free(void *p)
{
	mcount_add(p != NULL ? MCOUNT_FREE : MCOUNT_FREE_NULL, 0);
	__libc_free(p);
}

/* Counted posix_memalign, with its argument checks. */
int
posix_memalign(void **out, size_t align, size_t n)
{
	void	*p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	mcount_add(MCOUNT_ALIGNED, n);
	if ((p = __libc_memalign(align, n)) == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

/* Counted aligned_alloc. */
void *
aligned_alloc(size_t align, size_t n)
{
	mcount_add(MCOUNT_ALIGNED, n);
	return __libc_memalign(align, n);
}

/* Counted memalign. */
void *
memalign(size_t align, size_t n)
{
	mcount_add(MCOUNT_ALIGNED, n);
	return __libc_memalign(align, n);
}

/* Counted valloc. */
void *
valloc(size_t n)
{
	mcount_add(MCOUNT_ALIGNED, n);
	return __libc_valloc(n);
}

/* Counted pvalloc. */
void *
pvalloc(size_t n)
{
	mcount_add(MCOUNT_ALIGNED, n);
	return __libc_pvalloc(n);
}
