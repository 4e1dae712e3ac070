/*
 * The pool's counters, in one shared mapping made by the master before it
 * forks: a slot per child, written only by the child in it (and by the
 * master while the slot is empty), and the pool's own words, written by
 * the master.  The status page (status.c) reads it all.
 */
#ifndef SCOREBOARD_H
#define SCOREBOARD_H

#include <stdint.h>
#include <sys/types.h>

/* How a request ended; the status page's "requests" by outcome. */
enum sb_outcome {
	SB_OK,			/* 200, the uppercased body delivered */
	SB_BAD_REQUEST,		/* 400 */
	SB_FORBIDDEN,		/* 403 */
	SB_TOO_LARGE,		/* 413 */
	SB_ABORTED,		/* the body never ended: no response */
	SB_NOT_DELIVERED,	/* the web server took no (whole) response */
	SB_STATUS,		/* the status page itself */
	SB_OUTCOMES
};

/* Why a child ended, as the master saw it. */
enum sb_exit {
	SB_EXIT_RECYCLED,	/* -r requests served */
	SB_EXIT_REPLACED,	/* SIGHUP or an upgrade retired it */
	SB_EXIT_CRASHED,	/* any other death */
	SB_EXIT_SANDBOX,	/* SIGSYS: a forbidden system call */
	SB_EXITS
};

enum sb_state {
	SB_EMPTY,		/* no child (or waiting for a respawn) */
	SB_STARTING,		/* forked, building its context */
	SB_IDLE,		/* waiting for a request */
	SB_BUSY			/* serving one */
};

/* One child's slot; a cache line of its own, so children never share. */
struct sb_child {
	/* The master's, while it spawns and reaps. */
	int64_t		 pid;
	int64_t		 respawn_at_ms;		/* monotonic; 0: none due */
	int64_t		 respawn_delay_ms;	/* the back-off it waits */
	/* The child's. */
	int64_t		 state;			/* enum sb_state */
	int64_t		 started_ms;		/* wall clock */
	int64_t		 request_started_ms;	/* monotonic, while busy */
	uint64_t	 requests;		/* by this child */
	/* The slot's totals, kept across the children in it. */
	uint64_t	 accepted;		/* connections accepted */
	uint64_t	 refused;		/* peers refused by -A */
	uint64_t	 outcomes[SB_OUTCOMES];
	uint64_t	 bytes_in;		/* request bodies */
	uint64_t	 bytes_out;		/* response bodies */
	uint64_t	 arena_high_water;	/* bytes, most at once */
	uint64_t	 heap_fallbacks;	/* arena overflows */
} __attribute__((aligned(64)));

struct sb_pool {
	int64_t		 start_ms;		/* wall clock */
	int64_t		 start_mono_ms;
	int64_t		 children;		/* configured, -c */
	int64_t		 listen_backlog;	/* asked of listen(2) */
	uint64_t	 starts;		/* children forked */
	uint64_t	 exits[SB_EXITS];
	int64_t		 busy;			/* children busy now */
	int64_t		 busy_max;		/* most busy at once */
	int64_t		 queue_max;		/* longest listen queue seen */
} __attribute__((aligned(64)));

struct scoreboard {
	struct sb_pool	 pool;
	struct sb_child	 child[];
};

/* Relaxed loads and stores: each word has one writer at a time. */
#define SB_GET(w)	__atomic_load_n(&(w), __ATOMIC_RELAXED)
#define SB_SET(w, v)	__atomic_store_n(&(w), (v), __ATOMIC_RELAXED)
#define SB_ADD(w, v)	SB_SET(w, SB_GET(w) + (v))

extern struct scoreboard	*scoreboard;

/* In the master, before it forks. */
void	scoreboard_create(int, int);
void	scoreboard_spawned(int, pid_t);
void	scoreboard_exited(int, enum sb_exit, long long);
void	scoreboard_queue_seen(long);

/* In a child. */
void	scoreboard_enter(int);
void	scoreboard_ready(void);
void	scoreboard_busy(void);
void	scoreboard_done(enum sb_outcome, uint64_t, uint64_t);
void	scoreboard_idle(void);
void	scoreboard_accepted(void);
void	scoreboard_refused(void);
void	scoreboard_arena(uint64_t, uint64_t);

#endif
