/*
 * The connections a child keeps open between requests (FCGI_KEEP_CONN:
 * nginx's upstream keep-alive).  This file owns their slots, the wait set
 * they sit in while idle, their order of last use, and closing them: the
 * least recently used one when there is no room for another
 * (--max-conns), and any that stays idle for --idle-timeout.  Serving
 * requests on them is worker.c's; a connection in service is in no list.
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

#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conns.h"
#include "log.h"

/* Lines about closing connections for room: at most one per this long. */
#define CONNS_LOG_MS		10000

struct conn {
	int		 fd;		/* -1: free */
	int		 in_set;	/* registered with the wait set */
	int		 idle;		/* in the LRU list */
	long long	 idle_since_ms;
	int		 prev, next;	/* LRU list, oldest first; -1 ends */
};

static struct conn	*conns;
static int		 nslots;	/* max_conns + 1: one in service */
static int		 max_kept;
static int		 kept;		/* idle, in the LRU list */
static int		 lru_head = -1, lru_tail = -1;
static int		 idle_timeout_ms;
static int		 wait_fd;
static long long	 room_log_at_ms;
static unsigned long	 room_closed;	/* since the last line */

/*
 * Make the slots: max_kept idle connections at most, and one more for the
 * connection in service.  epoll_fd is the worker's wait set.
 */
void
conns_init(int max, int idle_timeout_sec, int epoll_fd)
{
	void	*mem;
	int	 i;

	max_kept = max;
	nslots = max + 1;
	idle_timeout_ms = idle_timeout_sec * 1000;
	wait_fd = epoll_fd;
	mem = mmap(NULL, (size_t)nslots * sizeof(*conns), PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fatal("allocate %d connection slots", nslots);
	conns = mem;
	for (i = 0; i < nslots; i++)
		conns[i].fd = -1;
}

static void
conns_unlink(int slot)
{
	struct conn	*c = &conns[slot];

	if (!c->idle)
		return;
	if (c->prev >= 0)
		conns[c->prev].next = c->next;
	else
		lru_head = c->next;
	if (c->next >= 0)
		conns[c->next].prev = c->prev;
	else
		lru_tail = c->prev;
	c->idle = 0;
	kept--;
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

/* A kept connection has a request: it is in service, no longer idle. */
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
 * Close the least recently used idle connection that has no bytes
 * waiting: one on which a request has begun is never closed for room.
 * Returns 0, or -1 when there is none.
 */
static int
conns_close_lru(void)
{
	long long	 now;
	int		 slot, waiting;

	for (slot = lru_head; slot >= 0; slot = conns[slot].next) {
		/* Only when full, so at most a few calls per request then. */
		if (ioctl(conns[slot].fd, FIONREAD, &waiting) == 0 &&
		    waiting == 0)
			break;
	}
	if (slot < 0)
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
 * After a request, the web server keeps the connection of slot: put it in
 * the wait set (the first time), at the end of the LRU list.  When
 * max_kept are kept already, the least recently used idle one is closed;
 * if none can be, this one is.  Returns CONNS_KEPT_NEW the first time a
 * connection is kept, CONNS_KEPT after that, -1 if it was closed.
 */
int
conns_keep(int slot)
{
	struct conn		*c = &conns[slot];
	struct epoll_event	 ev;
	int			 first = 0;

	/* In service, so in no list; be sure, a list must never loop. */
	conns_unlink(slot);
	if (kept >= max_kept && conns_close_lru() == -1) {
		conns_close(slot);
		return -1;
	}
	if (!c->in_set) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)slot;
		if (epoll_ctl(wait_fd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
			log_warn("epoll_ctl: keeping a connection");
			conns_close(slot);
			return -1;
		}
		c->in_set = 1;
		first = 1;
	}
	c->idle = 1;
	c->idle_since_ms = clock_now_ms();
	c->prev = lru_tail;
	c->next = -1;
	if (lru_tail >= 0)
		conns[lru_tail].next = slot;
	else
		lru_head = slot;
	lru_tail = slot;
	kept++;
	return first ? CONNS_KEPT_NEW : CONNS_KEPT;
}

/*
 * Milliseconds until the oldest idle connection times out (the worker's
 * wait timeout), or -1 for none; closes those already due.
 */
int
conns_expire(void)
{
	long long	 now, due;

	if (lru_head < 0 || idle_timeout_ms <= 0)
		return -1;
	now = clock_now_ms();
	while (lru_head >= 0) {
		due = conns[lru_head].idle_since_ms + idle_timeout_ms;
		if (due > now)
			return (int)(due - now);
		conns_close(lru_head);
	}
	return -1;
}

/* Close every idle connection (the child stops). */
void
conns_close_all(void)
{
	int	 i;

	for (i = 0; i < nslots; i++)
		if (conns[i].fd != -1 && conns[i].idle)
			conns_close(i);
}
