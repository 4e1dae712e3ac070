/*
 * The connections a child keeps open between requests (FCGI_KEEP_CONN:
 * nginx's upstream keep-alive), and the new ones that have sent nothing
 * yet.  This file owns their slots, the wait set they sit in while idle,
 * their order of last use, and closing them: the least recently used one
 * when there is no room for another (--max-conns), any that stays idle
 * for --idle-timeout, and a new one still silent after --io-timeout.
 * Serving requests on them is worker.c's; a connection in service is in
 * no list.
 *
 * Slots live in one mapping made at start-up (no heap).  The wait set is
 * the worker's epoll instance; a kept connection's event carries its slot
 * number, the listening socket's CONNS_LISTENER.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conns.h"
#include "log.h"

/* Lines about closing connections for room: at most one per this long. */
#define CONNS_LOG_MS		10000
/*
 * A silent connection younger than this is never closed for room: the
 * web server that made it sends its request as it connects, so only a
 * peer that is not one stays silent longer.
 */
#define CONNS_SILENT_OLD_MS	1000

/*
 * The two lists a waiting connection is in, each oldest first: kept ones
 * by last use (closed after --idle-timeout), and new ones that have sent
 * nothing yet (closed after --io-timeout).
 */
enum conn_list { CONN_KEPT, CONN_SILENT, CONN_LISTS };

struct conn {
	int		 fd;		/* -1: free */
	int		 in_set;	/* registered with the wait set */
	int		 was_kept;	/* kept for a request before */
	int		 list;		/* enum conn_list, or -1: in none */
	long long	 since_ms;	/* idle, or silent, since */
	int		 prev, next;	/* in its list; -1 ends */
};

struct conn_queue {
	int		 head, tail;	/* slots; -1: empty */
	int		 count;
	int		 timeout_ms;	/* 0: none */
};

static struct conn	*conns;
static int		 nslots;	/* max_conns + 1: one in service */
static int		 max_kept;
static struct conn_queue lists[CONN_LISTS];
static int		 wait_fd;
static long long	 room_log_at_ms;
static unsigned long	 room_closed;	/* since the last line */
static long long	 silent_log_at_ms;
static unsigned long	 silent_closed;	/* since the last line */

/*
 * Make the slots: max_kept waiting connections at most, and one more for
 * the connection in service.  epoll_fd is the worker's wait set.
 */
void
conns_init(int max, int idle_timeout_sec, int io_timeout_sec, int epoll_fd)
{
	void	*mem;
	int	 i;

	max_kept = max;
	nslots = max + 1;
	for (i = 0; i < CONN_LISTS; i++)
		lists[i].head = lists[i].tail = -1;
	lists[CONN_KEPT].timeout_ms = idle_timeout_sec * 1000;
	lists[CONN_SILENT].timeout_ms = io_timeout_sec * 1000;
	wait_fd = epoll_fd;
	mem = mmap(NULL, (size_t)nslots * sizeof(*conns), PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fatal("allocate %d connection slots", nslots);
	conns = mem;
	for (i = 0; i < nslots; i++)
		conns[i].fd = -1;
}

/* Take slot out of the list it is in, if any. */
static void
conns_unlink(int slot)
{
	struct conn		*c = &conns[slot];
	struct conn_queue	*q;

	if (c->list < 0)
		return;
	q = &lists[c->list];
	if (c->prev >= 0)
		conns[c->prev].next = c->next;
	else
		q->head = c->next;
	if (c->next >= 0)
		conns[c->next].prev = c->prev;
	else
		q->tail = c->prev;
	c->list = -1;
	q->count--;
}

/* Put slot at the end of list, waiting since now. */
static void
conns_append(int slot, enum conn_list list)
{
	struct conn		*c = &conns[slot];
	struct conn_queue	*q = &lists[list];

	c->list = list;
	c->since_ms = clock_now_ms();
	c->prev = q->tail;
	c->next = -1;
	if (q->tail >= 0)
		conns[q->tail].next = slot;
	else
		q->head = slot;
	q->tail = slot;
	q->count++;
}

/* Register slot's connection with the wait set, once; -1 on failure. */
static int
conns_watch(int slot)
{
	struct conn		*c = &conns[slot];
	struct epoll_event	 ev;

	if (c->in_set)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = (uint32_t)slot;
	if (epoll_ctl(wait_fd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		return -1;
	c->in_set = 1;
	return 0;
}

/* Waiting connections, kept and silent: what --max-conns bounds. */
static int
conns_waiting(void)
{
	return lists[CONN_KEPT].count + lists[CONN_SILENT].count;
}

/* Close an idle connection; the kernel takes it out of the wait set. */
static void
conns_close(int slot)
{
	conns_unlink(slot);
	close(conns[slot].fd);
	conns[slot].fd = -1;
	conns[slot].in_set = 0;
}

/* A connection just accepted, about to be served: its slot, or -1. */
int
conns_add(int fd)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (conns[i].fd == -1) {
			memset(&conns[i], 0, sizeof(conns[i]));
			conns[i].fd = fd;
			conns[i].list = -1;
			conns[i].prev = conns[i].next = -1;
			return i;
		}
	return -1;
}

/* The descriptor of a slot. */
int
conns_fd(int slot)
{
	return conns[slot].fd;
}

/* A waiting connection has a request: it is in service, in no list. */
void
conns_take(int slot)
{
	conns_unlink(slot);
}

/* libfcgi closed the connection of slot: free it. */
void
conns_forget(int slot)
{
	conns_unlink(slot);
	conns[slot].fd = -1;
	conns[slot].in_set = 0;
}

/*
 * The oldest connection of list that has waited since before_ms or
 * earlier and has no bytes waiting (one on which a request has begun is
 * never closed for room), or -1.  Only when the slots are full, so at
 * most a few calls per request then.
 */
static int
conns_oldest_quiet(enum conn_list list, long long before_ms)
{
	int	 slot, waiting;

	for (slot = lists[list].head; slot >= 0; slot = conns[slot].next) {
		if (conns[slot].since_ms > before_ms)
			return -1;	/* the rest are younger still */
		if (ioctl(conns[slot].fd, FIONREAD, &waiting) == 0 &&
		    waiting == 0)
			return slot;
	}
	return -1;
}

/*
 * Close the least recently used idle kept connection that has no bytes
 * waiting.  Returns 0, or -1 when there is none.
 */
static int
conns_close_lru(void)
{
	long long	 now;
	int		 slot;

	if ((slot = conns_oldest_quiet(CONN_KEPT, LLONG_MAX)) < 0)
		return -1;
	conns_close(slot);
	room_closed++;
	now = clock_now_ms();
	if (now >= room_log_at_ms) {
		log_info("closed %lu idle kept connections to make room for "
		    "new ones (--max-conns %d)", room_closed, max_kept);
		room_closed = 0;
		room_log_at_ms = now + CONNS_LOG_MS;
	}
	return 0;
}

/*
 * Close the oldest silent connection that has waited CONNS_SILENT_OLD_MS
 * and still has no bytes: younger ones are as a rule a web server's whose
 * request is on its way.  Returns 0, or -1 when there is none.
 */
static int
conns_close_silent(void)
{
	int	 slot;

	if (lists[CONN_SILENT].head < 0 ||
	    (slot = conns_oldest_quiet(CONN_SILENT,
	    clock_now_ms() - CONNS_SILENT_OLD_MS)) < 0)
		return -1;
	conns_close(slot);
	silent_closed++;
	return 0;
}

/*
 * Make room for one more waiting connection: close an old silent one,
 * else the least recently used idle kept one.  Returns 0, or -1 when
 * neither can be closed.
 */
static int
conns_make_room(void)
{
	if (conns_waiting() < max_kept)
		return 0;
	if (conns_close_silent() == 0)
		return 0;
	return conns_close_lru();
}

/*
 * After a request, the web server keeps the connection of slot: put it in
 * the wait set (the first time), at the end of the LRU list.  When
 * max_kept connections wait already, the oldest silent one or the least
 * recently used idle one is closed; if none can be, this one is.  Returns
 * CONNS_KEPT_NEW the first time a connection is kept, CONNS_KEPT after
 * that, -1 if it was closed.
 */
int
conns_keep(int slot)
{
	struct conn	*c = &conns[slot];
	int		 first = !c->was_kept;

	/* In service, so in no list; be sure, a list must never loop. */
	conns_unlink(slot);
	if (conns_make_room() == -1) {
		conns_close(slot);
		return -1;
	}
	if (conns_watch(slot) == -1) {
		log_warn("epoll_ctl: keeping a connection");
		conns_close(slot);
		return -1;
	}
	c->was_kept = 1;
	conns_append(slot, CONN_KEPT);
	return first ? CONNS_KEPT_NEW : CONNS_KEPT;
}

/*
 * A new connection that has sent nothing yet: it waits in the wait set
 * like a kept one, so that it holds no child, until its first bytes come
 * (then worker.c serves it) or --io-timeout passes.  Returns 0, or -1
 * when there is no room for it (it stays in service: the caller serves it
 * at once, waiting for its bytes).
 */
int
conns_wait_silent(int slot)
{
	conns_unlink(slot);
	if (conns_make_room() == -1 || conns_watch(slot) == -1)
		return -1;
	conns_append(slot, CONN_SILENT);
	return 0;
}

/* Log, at most once per CONNS_LOG_MS, the silent connections closed. */
static void
conns_log_silent(long long now)
{
	if (silent_closed == 0 || now < silent_log_at_ms)
		return;
	log_warnx("closed %lu new connections that sent nothing for %d s "
	    "(--io-timeout) or found no room (--max-conns %d)",
	    silent_closed, lists[CONN_SILENT].timeout_ms / 1000, max_kept);
	silent_closed = 0;
	silent_log_at_ms = now + CONNS_LOG_MS;
}

/*
 * Milliseconds until the next waiting connection times out (the worker's
 * wait timeout), or -1 for none; closes those already due.
 */
int
conns_expire(void)
{
	struct conn_queue	*q;
	long long		 now, due, next = -1;
	int			 i;

	if (conns_waiting() == 0 && silent_closed == 0)
		return -1;
	now = clock_now_ms();
	for (i = 0; i < CONN_LISTS; i++) {
		q = &lists[i];
		if (q->timeout_ms <= 0)
			continue;
		while (q->head >= 0) {
			due = conns[q->head].since_ms + q->timeout_ms;
			if (due > now) {
				if (next == -1 || due - now < next)
					next = due - now;
				break;
			}
			conns_close(q->head);
			if (i == CONN_SILENT)
				silent_closed++;
		}
	}
	conns_log_silent(now);
	/* A count not yet logged is logged when its quiet time is over. */
	if (silent_closed > 0 && (next == -1 || silent_log_at_ms - now < next))
		next = silent_log_at_ms - now;
	return (int)next;
}

/* Close the idle kept connections; the silent ones stay. */
void
conns_close_kept(void)
{
	while (lists[CONN_KEPT].head >= 0)
		conns_close(lists[CONN_KEPT].head);
}

/* How many new connections wait for their first bytes. */
int
conns_silent(void)
{
	return lists[CONN_SILENT].count;
}

/* Close every waiting connection (the child stops). */
void
conns_close_all(void)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (conns[i].fd != -1 && conns[i].list >= 0)
			conns_close(i);
}
