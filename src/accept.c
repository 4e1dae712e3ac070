/*
 * Taking a connection off the listening socket, in a child.  This file
 * owns the step between "the listener is readable" and "a connection
 * libfcgi may read": accept4, the peer allowlist (a refused peer is closed
 * before a byte of it is read, whatever gave us the socket), the I/O
 * timeout of the connection, and the rate-limited log lines of refusals
 * and accept errors.  Reading requests is worker.c's.
 *
 * libfcgi's own accept (OS_Accept) is not used: it checks its allowlist
 * for IPv4 only, and waits up to 2 s for the first bytes of every unix
 * connection with a poll no signal can cut short.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accept.h"
#include "allow.h"
#include "clock.h"
#include "log.h"
#include "scoreboard.h"

/* At most one refusal line per peer address per this many seconds. */
#define ACCEPT_LOG_WINDOW_SEC	60
/* Peers remembered at once; a peer that finds no room is only counted. */
#define ACCEPT_LOG_PEERS	64
/* Pause after accept fails for lack of resources (EMFILE, ENOBUFS...). */
#define ACCEPT_PAUSE_MS		100

/*
 * The refused peers logged in the current window, for the whole pool: a
 * word per peer, the 32-bit hash of its address above the second (of the
 * monotonic clock) until which it is not logged again.  The master maps
 * the table shared before it forks (accept_share_log), so that a peer
 * refused by every child is still logged once a window, not once per
 * child; each word changes by compare-and-swap, so two children that
 * refuse the same new peer at once log it once.  Until then, and in the
 * fuzz harness, a child uses its own table.
 */
static uint64_t			 logged_own[ACCEPT_LOG_PEERS];
static uint64_t			*logged = logged_own;

static const struct accept_config *acfg;
static int			 unix_listener;
static unsigned long		 unlogged;	/* refusals not logged */
static long long		 unlogged_since_ms;
static long long		 error_quiet_until_ms;
static unsigned long		 errors_unlogged;

/* The master, before it forks: one table of logged peers for the pool. */
void
accept_share_log(void)
{
	void	*p;

	p = mmap(NULL, sizeof(logged_own), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap of the %zu-byte table of logged peers",
		    sizeof(logged_own));
	logged = p;
}

/* FNV-1a of a peer's address (allow_peer_key's 16 bytes). */
static uint32_t
accept_peer_hash(const unsigned char *key)
{
	uint32_t	 h = 2166136261u;
	int		 i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/*
 * Whether this refusal of the peer with hash h is the first of a window:
 * it then claims one of the peer's two words and the caller logs it.  A
 * peer whose word still holds it, or whose two words both hold other
 * peers, is not logged.
 */
static int
accept_first_refusal(uint32_t h, uint32_t now_sec)
{
	uint64_t	*w[2], seen, mine;
	int		 i;

	w[0] = &logged[h % ACCEPT_LOG_PEERS];
	w[1] = &logged[(h / ACCEPT_LOG_PEERS) % ACCEPT_LOG_PEERS];
	mine = (uint64_t)h << 32 | (now_sec + ACCEPT_LOG_WINDOW_SEC);
	for (i = 0; i < 2; i++) {
		seen = __atomic_load_n(w[i], __ATOMIC_RELAXED);
		if ((uint32_t)seen > now_sec && (uint32_t)(seen >> 32) == h)
			return 0;
	}
	for (i = 0; i < 2; i++) {
		seen = __atomic_load_n(w[i], __ATOMIC_RELAXED);
		while ((uint32_t)seen <= now_sec)
			if (__atomic_compare_exchange_n(w[i], &seen, mine, 0,
			    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				return 1;
		/* Taken, maybe by another child just now: this peer? */
		if ((uint32_t)(seen >> 32) == h)
			return 0;
	}
	return 0;
}

/*
 * Log a refused peer: once per address per window for the whole pool, at
 * most ACCEPT_LOG_PEERS addresses at once, and a count of the rest, so
 * that a flood of connections cannot flood the log.
 */
static void
accept_log_refusal(const struct sockaddr *sa, socklen_t len)
{
	unsigned char	 key[16];
	char		 text[64];
	long long	 now = clock_now_ms();

	memset(key, 0, sizeof(key));
	allow_peer_key(sa, len, key);
	if (!accept_first_refusal(accept_peer_hash(key),
	    (uint32_t)(now / 1000))) {
		if (unlogged++ == 0)
			unlogged_since_ms = now;
		return;
	}
	if (unlogged > 0 &&
	    now - unlogged_since_ms >= ACCEPT_LOG_WINDOW_SEC * 1000LL) {
		log_warnx("refused %lu more connections from peers not on "
		    "the allowlist in the last %lld s", unlogged,
		    (now - unlogged_since_ms) / 1000);
		unlogged = 0;
	}
	log_warnx("refused a connection from %s: not on the allowlist (-A); "
	    "closed unread", allow_peer_text(sa, len, text, sizeof(text)));
}

/*
 * accept failed for lack of resources: log it at most once a second (with
 * how many were not logged) and pause, so the child neither spins nor
 * floods the log while the fd table is full.
 */
static void
accept_resource_error(int error)
{
	struct timespec	 pause = { 0, ACCEPT_PAUSE_MS * 1000 * 1000 };
	long long	 now = clock_now_ms();

	if (now >= error_quiet_until_ms) {
		if (errors_unlogged > 0)
			log_warnx("accept: %s (and %lu more times); retrying "
			    "every %d ms", strerror(error), errors_unlogged,
			    ACCEPT_PAUSE_MS);
		else
			log_warnx("accept: %s; retrying every %d ms",
			    strerror(error), ACCEPT_PAUSE_MS);
		errors_unlogged = 0;
		error_quiet_until_ms = now + 1000;
	} else
		errors_unlogged++;
	nanosleep(&pause, NULL);
}

/* Give up on a peer that makes no progress for cfg->io_timeout_sec. */
static int
accept_set_timeout(int fd, int which)
{
	struct timeval	 tv;

	tv.tv_sec = acfg->io_timeout_sec;
	tv.tv_usec = 0;
	return setsockopt(fd, SOL_SOCKET, which, &tv, sizeof(tv));
}

/*
 * Prepare the listening socket once per child.  On Linux an accepted TCP
 * socket inherits SO_RCVTIMEO, SO_SNDTIMEO and TCP_NODELAY from the
 * listener, so TCP connections need no system call of their own for them;
 * unix-domain connections inherit nothing (accept_next and accept_kept
 * set theirs).
 */
void
accept_init(const struct accept_config *cfg)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 on = 1, defer;

	acfg = cfg;
	defer = cfg->io_timeout_sec > 0 ? cfg->io_timeout_sec : 30;
	if (getsockname(cfg->listen_fd, (struct sockaddr *)&ss, &len) == -1)
		fatal("getsockname of the listening socket");
	if ((unix_listener = ss.ss_family == AF_UNIX))
		return;
	if (cfg->io_timeout_sec > 0 &&
	    (accept_set_timeout(cfg->listen_fd, SO_RCVTIMEO) == -1 ||
	    accept_set_timeout(cfg->listen_fd, SO_SNDTIMEO) == -1))
		fatal("set the I/O timeout on the listening socket");
	/* Responses are written whole; Nagle would only delay them. */
	if (setsockopt(cfg->listen_fd, IPPROTO_TCP, TCP_NODELAY, &on,
	    sizeof(on)) == -1)
		log_warn("setsockopt TCP_NODELAY");
	/*
	 * Hand over a connection only once its first bytes are in: an idle
	 * child would otherwise accept nginx's connection between the
	 * handshake and the request, find nothing to read and have to park
	 * it (accept_has_bytes), which happened to most connections to a
	 * pool of 2 under load.  A peer that stays silent reaches accept
	 * after the kernel's deferral, and is parked like any other.
	 */
	if (setsockopt(cfg->listen_fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
	    sizeof(defer)) == -1)
		log_warn("setsockopt TCP_DEFER_ACCEPT");
}

/*
 * Accept one connection and return it, blocking and close-on-exec, with
 * its I/O timeout set; or ACCEPT_NONE when there was none to take
 * (another child was faster); or -1 when the peer was refused or accept
 * failed for a reason that passes.  Exits on errors that mean the
 * listener itself is broken.
 */
int
accept_next(void)
{
	struct sockaddr_storage	 peer;
	socklen_t		 len = sizeof(peer);
	int			 fd;

	fd = accept4(acfg->listen_fd, (struct sockaddr *)&peer, &len,
	    SOCK_CLOEXEC);
	if (fd == -1) {
		switch (errno) {
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return ACCEPT_NONE;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			return -1;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			accept_resource_error(errno);
			return -1;
		default:
			fatal("accept");
		}
	}
	if (acfg->allow != NULL && !allow_match(acfg->allow, (struct sockaddr *)&peer, len)) {
		/* Closed before a byte of it is read. */
		close(fd);
		scoreboard_refused();
		accept_log_refusal((struct sockaddr *)&peer, len);
		return -1;
	}
	/*
	 * A unix connection inherits no timeout.  It needs the receive one
	 * at once; a send timeout only once it is kept for another request
	 * (accept_kept): libfcgi's writes are at most 8 KiB, and the first
	 * response on a connection always fits its empty socket buffer
	 * (larger ones go through the worker's own poll).
	 */
	if (unix_listener && acfg->io_timeout_sec > 0 &&
	    accept_set_timeout(fd, SO_RCVTIMEO) == -1) {
		log_warn("set the I/O timeout of a connection; closing it");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A connection the web server keeps for another request: give a unix one
 * the send timeout that a fresh one does without (see accept_next).
 * Called once per kept connection.
 */
void
accept_kept(int fd)
{
	if (unix_listener && acfg->io_timeout_sec > 0 &&
	    accept_set_timeout(fd, SO_SNDTIMEO) == -1)
		log_warn("set the send timeout of a kept connection");
}

/*
 * Whether a connection just accepted has its first bytes (or its end)
 * waiting, without blocking: one system call per new connection, so that
 * a peer that sends nothing never makes the child wait on it.
 */
int
accept_has_bytes(int fd)
{
	char	 c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != -1 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK);
}
