/*
 * The shared scoreboard: made once by the master with mmap(MAP_SHARED |
 * MAP_ANONYMOUS) before the first fork, so that every child -- a
 * replacement too -- writes into the same pages and the counters outlive
 * the children that moved them.  Only with --status-path: without it the
 * pointer stays NULL and every call here returns at once.
 *
 * No locks.  A slot's words are written by one process at a time: the
 * master while the slot is empty (spawn, reap), then the child in it.
 * Pool words are the master's, but for the busy count, which children
 * change with atomic adds.  Readers (status.c) load each word relaxed: a
 * page may mix a request's outcome with the bytes of the one before, never
 * a torn word.
 */
#include <config.h>

#include <sys/mman.h>

#include <stddef.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "scoreboard.h"

struct scoreboard	*scoreboard;
static struct sb_child	*me;		/* a child's own slot */
static uint64_t		 fallbacks_before; /* the slot's, before this child */

/* The master: the mapping for n children, all counters at zero. */
void
scoreboard_create(int n, int backlog)
{
	size_t	 size = sizeof(struct scoreboard) +
		    (size_t)n * sizeof(struct sb_child);
	void	*p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap of the %zu-byte scoreboard", size);
	scoreboard = p;
	scoreboard->pool.start_ms = clock_wall_ms();
	scoreboard->pool.start_mono_ms = clock_now_ms();
	scoreboard->pool.children = n;
	scoreboard->pool.listen_backlog = backlog;
}

/* The master forked pid into slot i. */
void
scoreboard_spawned(int i, pid_t pid)
{
	struct sb_child	*c;

	if (scoreboard == NULL)
		return;
	c = &scoreboard->child[i];
	SB_SET(c->respawn_at_ms, 0);
	SB_SET(c->respawn_delay_ms, 0);
	SB_SET(c->pid, pid);
	SB_ADD(scoreboard->pool.starts, 1);
}

/*
 * The master reaped the child of slot i; the next may start after
 * delay_ms.  A child that died in a request still counts as busy: take it
 * off the busy count here, since it cannot.
 */
void
scoreboard_exited(int i, enum sb_exit why, long long delay_ms)
{
	struct sb_child	*c;

	if (scoreboard == NULL)
		return;
	c = &scoreboard->child[i];
	if (SB_GET(c->state) == SB_BUSY)
		__atomic_sub_fetch(&scoreboard->pool.busy, 1,
		    __ATOMIC_RELAXED);
	SB_SET(c->state, SB_EMPTY);
	SB_SET(c->pid, 0);
	SB_SET(c->request_started_ms, 0);
	SB_SET(c->respawn_delay_ms, delay_ms);
	SB_SET(c->respawn_at_ms, delay_ms > 0 ? clock_now_ms() + delay_ms : 0);
	SB_ADD(scoreboard->pool.exits[why], 1);
}

/* A listen queue of n connections was seen (master or child). */
void
scoreboard_queue_seen(long n)
{
	int64_t	 max;

	if (scoreboard == NULL)
		return;
	max = SB_GET(scoreboard->pool.queue_max);
	while (n > max && !__atomic_compare_exchange_n(
	    &scoreboard->pool.queue_max, &max, n, 0, __ATOMIC_RELAXED,
	    __ATOMIC_RELAXED))
		;
}

/* A child takes slot i as its own. */
void
scoreboard_enter(int i)
{
	if (scoreboard == NULL)
		return;
	me = &scoreboard->child[i];
	SB_SET(me->pid, getpid());
	SB_SET(me->requests, 0);
	SB_SET(me->started_ms, clock_wall_ms());
	SB_SET(me->state, SB_STARTING);
	fallbacks_before = SB_GET(me->heap_fallbacks);
}

void
scoreboard_ready(void)
{
	if (me != NULL)
		SB_SET(me->state, SB_IDLE);
}

/* A request has begun: count the child busy, note the most at once. */
void
scoreboard_busy(void)
{
	int64_t	 busy, max;

	if (me == NULL)
		return;
	SB_SET(me->request_started_ms, clock_now_ms());
	SB_SET(me->state, SB_BUSY);
	busy = __atomic_add_fetch(&scoreboard->pool.busy, 1, __ATOMIC_RELAXED);
	max = SB_GET(scoreboard->pool.busy_max);
	while (busy > max && !__atomic_compare_exchange_n(
	    &scoreboard->pool.busy_max, &max, busy, 0, __ATOMIC_RELAXED,
	    __ATOMIC_RELAXED))
		;
}

/* The request has ended as outcome, with these body bytes in and out. */
void
scoreboard_done(enum sb_outcome outcome, uint64_t in, uint64_t out)
{
	if (me == NULL)
		return;
	SB_ADD(me->outcomes[outcome], 1);
	SB_ADD(me->requests, 1);
	SB_ADD(me->bytes_in, in);
	SB_ADD(me->bytes_out, out);
}

/*
 * The child is idle again (or never got a request on the connection).
 * Separate from scoreboard_done: the busy count must drop whatever
 * happened, a connection that gave no request included.
 */
void
scoreboard_idle(void)
{
	if (me == NULL || SB_GET(me->state) != SB_BUSY)
		return;
	SB_SET(me->state, SB_IDLE);
	SB_SET(me->request_started_ms, 0);
	__atomic_sub_fetch(&scoreboard->pool.busy, 1, __ATOMIC_RELAXED);
}

void
scoreboard_accepted(void)
{
	if (me != NULL)
		SB_ADD(me->accepted, 1);
}

void
scoreboard_refused(void)
{
	if (me != NULL)
		SB_ADD(me->refused, 1);
}

/* The arena's figures, as the child's arena.c keeps them. */
void
scoreboard_arena(uint64_t high_water, uint64_t fallbacks)
{
	if (me == NULL)
		return;
	if (high_water > SB_GET(me->arena_high_water))
		SB_SET(me->arena_high_water, high_water);
	SB_SET(me->heap_fallbacks, fallbacks_before + fallbacks);
}
