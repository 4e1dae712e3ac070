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
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accept.h"
#include "allow.h"
#include "clock.h"
#include "log.h"
#include "scoreboard.h"

/* At most one refusal line per peer address per this many ms. */
#define ACCEPT_LOG_WINDOW_MS	60000
/* Peers remembered per window; refusals beyond them are only counted. */
#define ACCEPT_LOG_PEERS	16
/* Pause after accept fails for lack of resources (EMFILE, ENOBUFS...). */
#define ACCEPT_PAUSE_MS		100

struct accept_logged {
	unsigned char	 key[16];
	long long	 until_ms;	/* no new line for key before this */
};

static const struct accept_config *acfg;
static int			 unix_listener;
static struct accept_logged	 logged[ACCEPT_LOG_PEERS];
static unsigned long		 unlogged;	/* refusals not logged */
static long long		 unlogged_since_ms;
static long long		 error_quiet_until_ms;
static unsigned long		 errors_unlogged;

/*
 * Log a refused peer: once per address per window, at most
 * ACCEPT_LOG_PEERS addresses per window, and a count of the rest, so that
 * a flood of connections cannot flood the log.
 */
static void
accept_log_refusal(const struct sockaddr *sa, socklen_t len)
{
	unsigned char	 key[16];
	char		 text[64];
	long long	 now = clock_now_ms();
	int		 i, free_slot = -1;

	memset(key, 0, sizeof(key));
	allow_peer_key(sa, len, key);
	for (i = 0; i < ACCEPT_LOG_PEERS; i++) {
		if (logged[i].until_ms > now) {
			if (memcmp(logged[i].key, key, sizeof(key)) == 0)
				goto quiet;
		} else if (free_slot == -1)
			free_slot = i;
	}
	if (free_slot == -1)
		goto quiet;
	memcpy(logged[free_slot].key, key, sizeof(key));
	logged[free_slot].until_ms = now + ACCEPT_LOG_WINDOW_MS;
	if (unlogged > 0 && now - unlogged_since_ms >= ACCEPT_LOG_WINDOW_MS) {
		log_warnx("refused %lu more connections from peers not on "
		    "the allowlist in the last %lld s", unlogged,
		    (now - unlogged_since_ms) / 1000);
		unlogged = 0;
	}
	log_warnx("refused a connection from %s: not on the allowlist (-A); "
	    "closed unread", allow_peer_text(sa, len, text, sizeof(text)));
	return;
quiet:
	if (unlogged++ == 0)
		unlogged_since_ms = now;
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
	int			 on = 1;

	acfg = cfg;
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
