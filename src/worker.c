/*
 * A child process.  It owns one static context for its whole life: the
 * FCGX_Request and one body buffer sized once from -m.  It loops: wait for
 * a connection, accept it (accept.c: allowlist, I/O timeout), hand it to
 * libfcgi, read FCGI stdin into the buffer, uppercase it in place, write
 * the response, finish; after -r requests it exits and the master starts
 * its successor.  Nothing on that path allocates; the status rules
 * themselves are in policy.c, the transform in upper.c.
 *
 * The child accepts, not libfcgi: a request whose ipcFd is a connection
 * and whose keepConnection is set makes FCGX_Accept_r read that
 * connection instead of accepting (LIBFCGI.md 8), and the request's
 * listen_sock is -1, so that where libfcgi would accept after all -- a
 * connection that ended without a request -- it gets EBADF and returns.
 *
 * Signals.  SIGTERM, SIGINT, SIGHUP and SIGUSR1 are blocked at all times
 * except while the child waits for a connection (epoll_pwait or ppoll
 * atomically unblocks them).  So a stop request never interrupts a read or
 * write in flight -- libfcgi does not retry EINTR -- and an idle child
 * wakes at once, with no window between a flag check and a blocking
 * accept().  The listening socket is non-blocking, so a child that loses
 * the race for a connection gets EAGAIN from accept4 and waits again.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/epoll.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "accept.h"
#include "clock.h"
#include "conns.h"
#include "fcgi_header.h"
#include "log.h"
#include "policy.h"
#include "prefork.h"
#include "queue.h"
#include "sandbox.h"
#include "scoreboard.h"
#include "status.h"
#include "upper.h"
#include "worker.h"
#ifdef HAVE_ARENA
#include "arena.h"
#include "record.h"
#else
#define record_init(n)		do { } while (0)
#define record_reset(slot, fd)	do { } while (0)
#define record_use(slot)	do { } while (0)
#define record_pending(slot)	0
#define arena_arm()	do { } while (0)
#define arena_rewind()	do { } while (0)
#define arena_asked(p)	((size_t)0)
#define arena_stats()	((const struct arena_stats *)NULL)
struct arena_stats { unsigned long overflows; size_t high_water; };
#endif

#define WORKER_HEAD_BYTES	192	/* status, type and length lines */
/*
 * A response written by worker_direct goes out as FCGI_STDOUT records of
 * this much content: the largest multiple of 8 a record can carry, so no
 * padding is needed.  WORKER_DIRECT_RECORDS records go per sendmsg.
 */
#define WORKER_RECORD_BYTES	(FCGI_MAX_LENGTH & ~7)
#define WORKER_DIRECT_RECORDS	32
/* libfcgi's closing records: an empty FCGI_STDOUT and FCGI_END_REQUEST. */
#define WORKER_CLOSE_BYTES \
	(FCGI_HEADER_LEN + sizeof(FCGI_EndRequestRecord))
/*
 * SO_RCVTIMEO may fire a tick before the monotonic clock has seen the
 * whole timeout go by: a failed request that took this much less than
 * --io-timeout still counts as timed out.
 */
#define WORKER_TIMER_SLACK_MS	100
/*
 * How long an exiting child waits for the first bytes of connections it
 * accepted before they had sent any (worker_finish_silent): a web server
 * sends its request as it connects, so this is only ever waited in full
 * for peers that are not one.
 */
#define WORKER_SILENT_GRACE_MS	1000
/*
 * Body buffer bytes a child always keeps resident (worker_trim): above
 * the default -m of 1M and its answer of up to 1.5M, so that with the
 * default limit no request ever pays for trimming.
 */
#define WORKER_RESIDENT_BYTES	((size_t)2 << 20)
/* madvise's unit; a multiple of every page size Linux uses. */
#define WORKER_PAGE_BYTES	((size_t)64 << 10)
/* libfcgi's stdout buffer, hard-coded in FCGX_Accept_r (8 KiB). */
#define WORKER_LIBFCGI_OUT_BYTES	8192

/* Everything a child reuses across requests; nothing is per request. */
struct worker_context {
	FCGX_Request		 request;
	const struct worker_config *cfg;
	unsigned char		*body;		/* one buffer, sized once */
	size_t			 body_cap;
	int			 wait_fd;	/* epoll instance, or -1 */
	sigset_t		 wait_mask;	/* signals allowed while idle */
	char			 head[WORKER_HEAD_BYTES];
	/* Record headers and the gather list of one direct sendmsg. */
	FCGI_Header		 rec[WORKER_DIRECT_RECORDS];
	struct iovec		 iov[2 * WORKER_DIRECT_RECORDS + 2];
	/* The closing records of a direct response: EOF and END_REQUEST. */
	struct fcgi_closing	 closing;
	int			 delivered;	/* the response reached nginx */
	size_t			 sent;		/* its body's bytes, if so */
	long			 served;	/* requests, for -r */
	int			 slot;		/* conns.c slot in service, or -1 */
	int			 pending;	/* slot with a pipelined request */
	size_t			 usual;		/* worker_trim: typical use */
	size_t			 touched;	/* of the buffer, since a trim */
	struct accept_config	 accept;
};

static struct worker_context	 ctx;

static int	worker_request(int);
static int	worker_request_on_fd(void);
static volatile sig_atomic_t	 worker_stop, worker_draining;

static const char	 worker_type_line[] =
    "Content-Type: text/plain; charset=utf-8\r\n";
/* How each verdict is counted on the status page (scoreboard.c). */
static const enum sb_outcome	 worker_outcome[] = {
	[VERDICT_OK] = SB_OK,
	[VERDICT_BAD_REQUEST] = SB_BAD_REQUEST,
	[VERDICT_FORBIDDEN] = SB_FORBIDDEN,
	[VERDICT_TOO_LARGE] = SB_TOO_LARGE,
	[VERDICT_ABORTED] = SB_ABORTED,
};

/*
 * A stop signal.  The master's stop of the whole pool comes with
 * PREFORK_STOP_DRAIN as its sigqueue value: then the connections already
 * queued on the listening socket are served first (worker_drain).
 */
static void
worker_on_stop(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	worker_stop = 1;
	if (si != NULL && si->si_code == SI_QUEUE &&
	    si->si_value.sival_int == PREFORK_STOP_DRAIN)
		worker_draining = 1;
	FCGX_ShutdownPending();
}

/*
 * Install the child's stop handlers over those it inherited (libfcgi's
 * FCGX_Init ran in the master) or before FCGX_Init (the fuzz harness),
 * and block them outside the idle wait.
 */
static void
worker_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 block;
	int			 i;
	static const int	 stops[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = worker_on_stop;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < (int)(sizeof(stops) / sizeof(stops[0])); i++) {
		sigaction(stops[i], &sa, NULL);
		sigaddset(&block, stops[i]);
	}
	/* A vanished web server must give EPIPE, not kill the child. */
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_BLOCK, &block, &ctx.wait_mask);
	for (i = 0; i < (int)(sizeof(stops) / sizeof(stops[0])); i++)
		sigdelset(&ctx.wait_mask, stops[i]);
}

/*
 * The wait set: the listening socket, shared with the other children
 * (EPOLLEXCLUSIVE: one of them wakes per connection), and this child's
 * kept connections (conns.c).
 */
static void
worker_wait_init(int listen_fd)
{
	struct epoll_event	 ev;

	if ((ctx.wait_fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.u32 = CONNS_LISTENER;
	if (epoll_ctl(ctx.wait_fd, EPOLL_CTL_ADD, listen_fd, &ev) == -1)
		fatal("epoll_ctl");
}

/* Write v in decimal so that it ends just before end; return its start. */
static char *
worker_decimal(char *end, size_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/*
 * Write all of iov[0..n) on fd; iov is consumed.  sendmsg with
 * MSG_DONTWAIT moves what the socket buffer takes; when it is full, poll
 * waits for room for up to --io-timeout seconds, so a peer that reads
 * nothing for that long is given up exactly then (a blocking writev with
 * SO_SNDTIMEO could wait up to twice as long: its timer counts from the
 * start of the call, not from the last progress).  A response that fits
 * the socket buffer takes one call.  The stop signals are blocked, so
 * EINTR is rare; libfcgi's own OS_Write retries neither it nor a short
 * count, so this loop does.  Returns 0, or -1 and errno (EAGAIN for the
 * timeout).
 */
static int
worker_send_all(int fd, struct iovec *iov, int n)
{
	struct msghdr	 msg;
	struct pollfd	 pfd;
	ssize_t		 w;
	int		 timeout_ms = ctx.cfg->io_timeout_sec > 0 ?
			    ctx.cfg->io_timeout_sec * 1000 : -1;

	memset(&msg, 0, sizeof(msg));
	while (n > 0) {
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)n;
		/* The syscall that carries the response: no copy. */
		if ((w = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if ((w = poll(&pfd, 1, timeout_ms)) == 0) {
				errno = EAGAIN;
				return -1;
			}
			if (w == -1 && errno != EINTR)
				return -1;
			continue;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * Write ctx.head (hlen bytes) and the body as FCGI_STDOUT records of
 * WORKER_RECORD_BYTES straight on the connection, gathered by sendmsg
 * from a static array of record headers and slices of our own buffers: no
 * copy through libfcgi's 8 KiB stdout buffer, and one call for up to
 * WORKER_DIRECT_RECORDS records instead of one write per 8 KiB.
 *
 * This is safe only while libfcgi's stdout stream holds no data: closing
 * it then writes nothing of ours, only the empty FCGI_STDOUT record (which
 * WriteCloseRecords writes for stdout unconditionally) and END_REQUEST,
 * after these records, as for any response.  request.requestId is public;
 * request.ipcFd is below fcgiapp.h's "Don't use anything below here":
 * readable but unsupported, as in worker_next_fd.  Returns 0, or -1 and
 * errno.
 */
static int
worker_direct(size_t hlen, const unsigned char *body, size_t len)
{
	FCGX_Request	*r = &ctx.request;
	size_t		 left = hlen + len, clen;
	int		 i, n;

	while (left > 0) {
		for (i = 0, n = 0; i < WORKER_DIRECT_RECORDS && left > 0; i++) {
			clen = left < WORKER_RECORD_BYTES ? left :
			    WORKER_RECORD_BYTES;
			left -= clen;
			fcgi_header_fill(&ctx.rec[i], FCGI_STDOUT,
			    r->requestId, clen);
			ctx.iov[n].iov_base = &ctx.rec[i];
			ctx.iov[n++].iov_len = FCGI_HEADER_LEN;
			if (hlen > 0) {
				ctx.iov[n].iov_base = ctx.head;
				ctx.iov[n++].iov_len = hlen;
				clen -= hlen;
				hlen = 0;
			}
			/* sendmsg only reads from it. */
			ctx.iov[n].iov_base = (void *)(uintptr_t)body;
			ctx.iov[n++].iov_len = clen;
			body += clen;
		}
		if (left == 0) {
			/* libfcgi's closing records, in the same call. */
			ctx.iov[n].iov_base = &ctx.closing;
			ctx.iov[n++].iov_len = sizeof(ctx.closing);
		}
		if (worker_send_all(r->ipcFd, ctx.iov, n) == -1)
			return -1;
	}
	return 0;
}

/*
 * Send a complete response: CGI headers with an exact Content-Length, then
 * the body.  A response that fits libfcgi's stdout buffer together with
 * the closing records goes through it: closing both streams, in libfcgi's
 * own order, then puts data, EOF and END_REQUEST on the wire in a single
 * write.  A larger one goes out by worker_direct, closing records
 * included, and libfcgi's stdout stream is then marked closed, so that
 * libfcgi writes nothing more: no extra write, and none that could block
 * outside worker_send_all's timeout.  A failure is logged once.
 */
static void
worker_respond(const char *status_line, const char *type_line,
    const unsigned char *body, size_t len)
{
	char		 digits[24], *d;
	size_t		 n, slen = strlen(status_line), tlen = strlen(type_line);
	int		 err = 0;
	FCGX_Request	*r = &ctx.request;

	d = worker_decimal(digits + sizeof(digits), len);
	n = (size_t)(digits + sizeof(digits) - d);
	memcpy(ctx.head, status_line, slen);
	memcpy(ctx.head + slen, type_line, tlen);
	slen += tlen;
	memcpy(ctx.head + slen, "Content-Length: ", 16);
	slen += 16;
	memcpy(ctx.head + slen, d, n);
	slen += n;
	memcpy(ctx.head + slen, "\r\n\r\n", 4);
	slen += 4;

	if (FCGI_HEADER_LEN + ((slen + len + 7) & ~(size_t)7) +
	    WORKER_CLOSE_BYTES <= WORKER_LIBFCGI_OUT_BYTES) {
		FCGX_PutStr(ctx.head, (int)slen, r->out);
		if (len > 0)
			FCGX_PutStr((const char *)body, (int)len, r->out);
	} else {
		fcgi_closing_fill(&ctx.closing, r->requestId);
		if (worker_direct(slen, body, len) == -1) {
			err = errno;
			/*
			 * A record may be cut short: the connection must not
			 * carry another request.
			 */
			r->keepConnection = 0;
		}
		/* Written by worker_direct, or failed: libfcgi adds nothing. */
		r->out->wasFCloseCalled = 1;
		r->out->isClosed = 1;
		r->out->FCGI_errno = err;
	}
	if ((FCGX_FClose(r->err) == -1 || FCGX_FClose(r->out) == -1) &&
	    err == 0)
		err = FCGX_GetError(r->out) > 0 ? FCGX_GetError(r->out) : EPIPE;
	if (err == EAGAIN || err == EWOULDBLOCK)
		log_warnx("response of %zu bytes not delivered: the web "
		    "server read none of it for %d s (--io-timeout); closing "
		    "the connection", len, ctx.cfg->io_timeout_sec);
	else if (err != 0)
		log_warnx("response of %zu bytes not delivered: the web "
		    "server closed the connection (%s)", len, strerror(err));
	ctx.delivered = err == 0;
	ctx.sent = err == 0 ? len : 0;
}

/* Answer a refused request: its status, and the status line as body. */
static void
worker_refuse(enum verdict v)
{
	static const struct {
		enum verdict	 verdict;
		const char	*status_line;
		const char	*body;
	} refusals[] = {
		{ VERDICT_BAD_REQUEST, "Status: 400 Bad Request\r\n",
		    "400 Bad Request\n" },
		{ VERDICT_FORBIDDEN, "Status: 403 Forbidden\r\n",
		    "403 Forbidden\n" },
		{ VERDICT_TOO_LARGE, "Status: 413 Payload Too Large\r\n",
		    "413 Payload Too Large\n" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (refusals[i].verdict == v)
			worker_respond(refusals[i].status_line,
			    worker_type_line,
			    (const unsigned char *)refusals[i].body,
			    strlen(refusals[i].body));
}

/*
 * Read stdin to its end (libfcgi frames the body; CONTENT_LENGTH is only
 * checked against it).  At most max_body + 1 bytes are kept: one byte past
 * the limit proves the body too long, and the rest is drained so that a
 * kept connection stays usable.
 */
static void
worker_read_body(struct body_facts *f)
{
	FCGX_Stream	*in = ctx.request.in;
	int		 want = (int)f->max_body + 1, got;
	unsigned long long total;

	got = FCGX_GetStr((char *)ctx.body, want, in);
	if (got < 0)
		got = 0;
	total = (unsigned long long)got;
	if (got == want) {
		f->over_limit = 1;
		while ((got = FCGX_GetStr((char *)ctx.body, want, in)) > 0)
			total += (unsigned long long)got;
		log_warnx("request refused: body of %llu bytes is over the "
		    "limit of %zu (-m)", total, f->max_body);
	}
	f->received = f->over_limit ? f->max_body : (size_t)total;
	if (FCGX_GetError(in) == EAGAIN || FCGX_GetError(in) == EWOULDBLOCK) {
		f->stream_error = 1;
		log_warnx("request given up: no more of the body for %d s "
		    "after %llu bytes (--io-timeout); no response sent",
		    ctx.cfg->io_timeout_sec, total);
	} else if (FCGX_GetError(in) != 0) {
		f->stream_error = 1;
		log_warnx("request aborted: the body ended after %llu bytes "
		    "(%s); no response sent", total,
		    FCGX_GetError(in) > 0 ? strerror(FCGX_GetError(in)) :
		    "connection closed or request aborted");
	}
}

/*
 * A request refused before its body was read, on a connection the web
 * server keeps: read the body to its end, so that the next request on the
 * connection starts where it should.  A body far over the limit is not
 * worth it: the connection is closed instead.
 */
static void
worker_skip_body(void)
{
	FCGX_Stream	*in = ctx.request.in;
	size_t		 budget = 2 * ctx.body_cap;
	int		 got;

	while ((got = FCGX_GetStr((char *)ctx.body, (int)(ctx.body_cap <
	    INT_MAX ? ctx.body_cap : INT_MAX), in)) > 0) {
		if ((size_t)got >= budget) {
			ctx.request.keepConnection = 0;
			return;
		}
		budget -= (size_t)got;
	}
	if (FCGX_GetError(in) != 0)
		ctx.request.keepConnection = 0;
}

/*
 * Let the body buffer's resident pages follow the working set.  usual is
 * a typical request's use of the buffer, decaying by 1/16 a request
 * towards what requests use now; once the pages touched since the last
 * trim are more than twice that (and than WORKER_RESIDENT_BYTES), the
 * rest are given back.  So a run of large bodies keeps its pages, while
 * one huge body stops holding memory after a few dozen ordinary requests,
 * in a handful of madvise calls; with the default -m, never one.
 */
static void
worker_trim(size_t used)
{
	size_t	 keep;

	ctx.usual = used > ctx.usual ? used : ctx.usual - ctx.usual / 16;
	if (used > ctx.touched)
		ctx.touched = used;
	keep = ctx.usual > WORKER_RESIDENT_BYTES ? ctx.usual :
	    WORKER_RESIDENT_BYTES;
	keep = (keep + WORKER_PAGE_BYTES - 1) & ~(WORKER_PAGE_BYTES - 1);
	if (ctx.touched <= 2 * keep)
		return;
	if (madvise(ctx.body + keep, ctx.touched - keep, MADV_DONTNEED) == -1)
		log_warn("madvise: giving back the body buffer's pages");
	ctx.touched = keep;
}

/* Copy a client-controlled value for a log line: printable, bounded. */
static const char *
worker_printable(const char *s, char *buf, size_t size)
{
	size_t	 i;

	for (i = 0; i + 1 < size && s[i] != '\0'; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * Whether the value of param name, as FCGX_GetParam returned it, holds a
 * NUL byte of its own: C strings end there, so "5\0junk" would read as 5.
 * libfcgi allocates each param as exactly "NAME=VALUE" and a NUL, and the
 * arena knows how much was asked for.  Without the arena (or for a param
 * that overflowed to the heap) this cannot be told, and answers no.
 */
static int
worker_value_has_nul(const char *value, const char *name)
{
	const char	*entry = value - strlen(name) - 1;
	size_t		 asked = arena_asked(entry);

	return asked != 0 && asked != strlen(entry) + 1;
}

/*
 * Answer a request for the status page (--status-path): read past its
 * body, which means nothing here, and send the page.
 */
static void
worker_status(const struct status_ask *ask)
{
	const char	*type, *page;
	size_t		 len;

	if (!FCGX_HasSeenEOF(ctx.request.in))
		worker_skip_body();
	len = status_page(ask, &type, &page);
	worker_respond("Status: 200 OK\r\n", type,
	    (const unsigned char *)page, len);
	scoreboard_done(ctx.delivered ? SB_STATUS : SB_NOT_DELIVERED, 0,
	    ctx.sent);
}

/* Serve the request that FCGX_Accept_r just returned. */
static void
worker_serve(void)
{
	struct body_facts	 f;
	struct status_ask	 ask;
	enum verdict		 v;
	const char		*cl, *role;
	char			 shown[48];
	size_t			 len = 0;
	int			 cl_nul;

	memset(&f, 0, sizeof(f));
	ctx.delivered = 0;
	ctx.sent = 0;
	f.max_body = ctx.cfg->max_body;
	role = FCGX_GetParam("FCGI_ROLE", ctx.request.envp);
	f.foreign_role = !policy_role_is_responder(role);
	if (ctx.cfg->status_path != NULL && !f.foreign_role &&
	    status_asked(ctx.cfg->status_path, ctx.request.envp, &ask)) {
		worker_status(&ask);
		return;
	}
	cl = FCGX_GetParam("CONTENT_LENGTH", ctx.request.envp);
	f.content_length_kind = policy_parse_content_length(cl,
	    &f.content_length);
	if ((cl_nul = cl != NULL && worker_value_has_nul(cl,
	    "CONTENT_LENGTH")))
		f.content_length_kind = CONTENT_LENGTH_INVALID;
	if ((v = policy_precheck(&f)) == VERDICT_OK) {
		worker_read_body(&f);
		v = policy_decide(&f);
	}
	switch (v) {
	case VERDICT_OK:
		if (ctx.cfg->ascii) {
			upper_ascii(ctx.body, f.received);
			len = f.received;
		} else
			len = upper_utf8(ctx.body, f.received, ctx.body_cap);
		worker_respond("Status: 200 OK\r\n", worker_type_line, ctx.body,
		    len);
		break;
	case VERDICT_TOO_LARGE:
		if (!f.over_limit)
			log_warnx("request refused: CONTENT_LENGTH %llu is "
			    "over the limit of %zu (-m)", f.content_length,
			    f.max_body);
		worker_refuse(v);
		break;
	case VERDICT_BAD_REQUEST:
		if (f.content_length_kind == CONTENT_LENGTH_INVALID)
			log_warnx("request refused: CONTENT_LENGTH \"%s\"%s is "
			    "not a decimal number",
			    worker_printable(cl, shown, sizeof(shown)),
			    cl_nul ? " and a NUL byte" : "");
		else
			log_warnx("request refused: CONTENT_LENGTH %llu but "
			    "the body has %zu bytes", f.content_length,
			    f.received);
		worker_refuse(v);
		break;
	case VERDICT_FORBIDDEN:
		log_warnx("request refused: FCGI_ROLE %s; upcase-fcgi is only "
		    "a responder", role != NULL ? role : "(none)");
		worker_refuse(v);
		break;
	case VERDICT_ABORTED:
		break;
	}
	scoreboard_done(v == VERDICT_ABORTED || ctx.delivered ?
	    worker_outcome[v] : SB_NOT_DELIVERED, f.received, ctx.sent);
	if (ctx.request.keepConnection && !FCGX_HasSeenEOF(ctx.request.in))
		worker_skip_body();
	worker_trim(v == VERDICT_OK && len > f.received ? len :
	    f.over_limit ? f.max_body + 1 : f.received);
}

/* Deliver a pending stop signal, without waiting for anything. */
static void
worker_let_signals_in(void)
{
	struct timespec	 zero = { 0, 0 };

	ppoll(NULL, 0, &zero, &ctx.wait_mask);
}

/*
 * A connection just accepted: its slot, if its request can be served now,
 * else -1.  nginx sends its request as it connects, so the bytes are
 * normally here; a peer that has sent nothing yet waits in the wait set
 * like a kept connection, for at most --io-timeout (conns_wait_silent):
 * silent connections must not hold the child, however many there are.
 */
static int
worker_admit(int fd)
{
	int	 slot;

	if ((slot = conns_add(fd)) == -1) {
		/* Cannot happen: a slot is always free for one in service. */
		close(fd);
		return -1;
	}
	record_reset(slot, fd);
	/* Without room to wait in, it is served at once, as it comes. */
	if (!accept_has_bytes(fd) && conns_wait_silent(slot) == 0)
		return -1;
	return slot;
}

/*
 * The next connection with a request to serve, as a slot (conns.c), or -1
 * when there is none yet (a stop signal, a timeout, another child was
 * faster, the peer was refused).  One wait on the whole set, one event at
 * a time: epoll hands out ready connections in turn, so one that always
 * has the next request ready cannot keep the others waiting.  A new
 * connection is served at once if its first bytes are there, as they are
 * from nginx, which sends its request right after connecting; one that
 * has sent nothing yet joins the wait set (conns_wait_silent).
 */
static int
worker_connection(void)
{
	struct epoll_event	 ev;
	int			 n, fd, slot, timeout = conns_expire();

	/* A pipelined request is ready: look at the others first, briefly. */
	if (ctx.pending >= 0)
		timeout = 0;
	/* The one place the stop signals are let in (see the top). */
	if ((n = epoll_pwait(ctx.wait_fd, &ev, 1, timeout, &ctx.wait_mask)) ==
	    -1)
		return -1;
	if (n == 0) {
		if ((slot = ctx.pending) >= 0) {
			ctx.pending = -1;
			conns_take(slot);
			return slot;
		}
		return -1;
	}
	if (ev.data.u32 != CONNS_LISTENER) {
		slot = (int)ev.data.u32;
		if (slot == ctx.pending)
			ctx.pending = -1;
		conns_take(slot);
		return slot;
	}
	if ((fd = accept_next()) == ACCEPT_NONE) {
		/*
		 * Readable, yet nothing to accept: another child was faster,
		 * or the listener was shut at a stop and stays readable.  A
		 * wait that finds the listener ready never lets a pending
		 * stop signal in, so let it in here, or the child would spin.
		 */
		worker_let_signals_in();
		return -1;
	}
	if (fd < 0)
		return -1;
	scoreboard_accepted();
	return worker_admit(fd);
}

/*
 * Wait for a connection (or the next request on a kept one), accept it,
 * serve one request and finish it.  Returns 1 if a request was served.
 * The daemon's loop calls it until told to stop; the fuzz harness
 * (tests/fuzz/request) calls it directly.
 *
 * The system calls of a request, and why each is there
 * (tests/bench/syscalls.sh counts them):
 * - epoll_pwait: the idle wait on the listener and the kept connections,
 *   the one place the stop signals are let in; see the top of this file.
 * - accept4 (accept.c); not on a kept connection.  No libfcgi keeper poll.
 * - recvfrom with MSG_PEEK, once per new connection (accept_has_bytes):
 *   has the peer sent anything yet?
 * - epoll_ctl, once per connection nginx keeps, or that has sent nothing
 *   yet (conns.c).
 * - setsockopt for the read timeout of a unix connection (accept.c); a
 *   TCP connection inherits its timeouts from the listener.
 * - read: libfcgi's reader, 8 KiB at a time.  Its size is fixed in
 *   FCGX_Accept_r (NewReader(..., 8192, 0)) and kept in the stream's
 *   private data, which FillBuffProc reads into, so larger reads would
 *   mean bypassing libfcgi's reader (record parsing included): we do not.
 * - sendmsg, for a response larger than libfcgi's stdout buffer
 *   (worker_direct; a poll too while the socket buffer is full), then one
 *   write in FCGX_FClose: the data that fits,
 *   or nothing of ours, with the empty FCGI_STDOUT and END_REQUEST.
 * - close, in FCGX_Finish_r, unless nginx keeps the connection.
 */
int
worker_once(void)
{
	int	 slot;

	/* libfcgi holds no request memory here; start afresh. */
	arena_rewind();
	if ((slot = worker_connection()) == -1)
		return 0;
	return worker_request(slot);
}

/* The arena's figures for the status page, after each request. */
static void
worker_count_arena(void)
{
	const struct arena_stats *a = arena_stats();

	if (a != NULL)
		scoreboard_arena(a->high_water, a->overflows);
}

/*
 * Read, serve and finish one request on the connection of slot, then keep
 * the connection if the web server asked for that, or forget it.  Returns
 * 1 if a request was served, 0 if the connection gave none.
 */
static int
worker_request(int slot)
{
	FCGX_Request	*r = &ctx.request;
	int		 served;

	/* Read this connection instead of accepting; see the top. */
	r->ipcFd = conns_fd(slot);
	r->keepConnection = 1;
	record_use(slot);
	scoreboard_busy();
	served = worker_request_on_fd();
	scoreboard_idle();
	worker_count_arena();
	if (r->ipcFd < 0) {
		/* libfcgi closed it. */
		conns_forget(slot);
		return served;
	}
	switch (conns_keep(slot)) {
	case CONNS_KEPT_NEW:
		accept_kept(r->ipcFd);
		/* FALLTHROUGH */
	case CONNS_KEPT:
		if (record_pending(slot))
			ctx.pending = slot;
		break;
	}
	/* The request holds no connection between requests. */
	r->ipcFd = -1;
	return served;
}

/* Serve one request on request.ipcFd; see worker_request. */
static int
worker_request_on_fd(void)
{
	FCGX_Request	*r = &ctx.request;
	long long	 start_ms = 0;

	if (ctx.cfg->io_timeout_sec > 0)
		start_ms = clock_now_ms();
	/* A connection that gives no request is closed plainly (below). */
	r->detached = 1;
	if (FCGX_Accept_r(r) < 0) {
		/*
		 * The connection ended before a whole request: nginx closed
		 * a kept one (normal), or the peer stalled for the timeout.
		 * libfcgi has closed it either way.
		 */
		if (start_ms != 0 && clock_now_ms() - start_ms >=
		    (long long)ctx.cfg->io_timeout_sec * 1000 -
		    WORKER_TIMER_SLACK_MS)
			log_warnx("connection given up: no complete request "
			    "header or params for %d s (--io-timeout)",
			    ctx.cfg->io_timeout_sec);
		return 0;
	}
	r->detached = 0;
	worker_serve();
	/*
	 * libfcgi closes a connection with shutdown(SHUT_WR), then polls and
	 * reads until the peer closes too, for up to 2 s (OS_Close): that
	 * drains a body we did not read, so that close does not reset the
	 * connection under a refusal.  Once stdin was read to its end and the
	 * response is delivered there is nothing to drain, and nginx closes
	 * after END_REQUEST anyway; when the body failed or the response was
	 * not delivered, the peer is gone or stalled and nobody waits for an
	 * answer.  Then a detached request is closed with a plain close()
	 * (FCGX_Free), which saves three syscalls and a stalled peer's 2 s.
	 * FCGX_Detach changes nothing else in 2.4.2 (fcgiapp.h marks
	 * Attach/Detach "not fully implemented").
	 */
	if (FCGX_GetError(r->in) != 0 || !ctx.delivered ||
	    (!r->keepConnection && FCGX_HasSeenEOF(r->in)))
		FCGX_Detach(r);
	FCGX_Finish_r(r);
	return 1;
}

/*
 * Initialise libfcgi in the master, once: its one-time tables are then
 * inherited by every child, so that starting a child -- a recycled one
 * too -- makes no heap call.  The handlers libfcgi installs here for
 * SIGTERM, SIGUSR1 and SIGPIPE are the master's own or replaced by them
 * (prefork_run calls this once its handlers are in place).
 */
void
worker_preinit(void)
{
	if (FCGX_Init() != 0)
		fatalx("FCGX_Init failed");
}

/*
 * Build the static context: signal handlers, libfcgi, the wait instance
 * and the body buffer; then, unless --no-sandbox, confine the child to
 * the system calls of the request path (sandbox.c).  Called once per
 * child, before worker_once().
 */
void
worker_init(const struct worker_config *cfg)
{
	void	*mem;

	ctx.cfg = cfg;
	worker_signals();
	/* Already done in the master; does nothing then. */
	if (FCGX_Init() != 0)
		fatalx("FCGX_Init failed");
	/* No listening socket for libfcgi: the child accepts (accept.c). */
	if (FCGX_InitRequest(&ctx.request, -1, 0) != 0)
		fatalx("FCGX_InitRequest failed");
	ctx.accept.listen_fd = cfg->listen_fd;
	ctx.accept.allow = cfg->allow;
	ctx.accept.io_timeout_sec = cfg->io_timeout_sec;
	accept_init(&ctx.accept);
	worker_wait_init(cfg->listen_fd);
	ctx.pending = -1;
	conns_init(cfg->max_conns, cfg->idle_timeout_sec, cfg->io_timeout_sec,
	    ctx.wait_fd);
	/* The listen queue, for the status page: read before the sandbox. */
	if (cfg->status_path != NULL)
		queue_init(cfg->listen_fd);
	record_init(cfg->max_conns + 1);

	/* mmap, not malloc: the body buffer never touches the heap. */
	ctx.body_cap = upper_capacity(cfg->max_body);
	mem = mmap(NULL, ctx.body_cap, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fatal("allocate the %zu-byte body buffer", ctx.body_cap);
	ctx.body = mem;
	/* From here on, only the system calls of the request path. */
	if (cfg->sandbox)
		sandbox_enter();
}

/*
 * The pool is stopping: serve the connections already waiting on the
 * listening socket, so that a stop loses none of them, until the queue is
 * empty or drain_ms have passed (the master kills at -T).  A kept
 * connection is closed after its request: the web server opens a new one
 * to a server that is not stopping.  One that has sent nothing yet waits
 * with the others for worker_finish_silent.
 */
static void
worker_drain(void)
{
	long long	 end = clock_now_ms() + ctx.cfg->drain_ms;
	int		 fd, slot;

	conns_close_kept();
	while (clock_now_ms() < end) {
		if ((fd = accept_next()) == ACCEPT_NONE)
			break;
		if (fd < 0 || (slot = worker_admit(fd)) == -1)
			continue;
		arena_rewind();
		worker_request(slot);
		conns_close_kept();
	}
}

/*
 * The child is about to exit.  A new connection that had sent nothing
 * when it was accepted is, as a rule, a web server's whose request is on
 * its way: closing it would fail that request.  Give such connections
 * WORKER_SILENT_GRACE_MS (or --io-timeout, if shorter) to send it, serve
 * each that does, and leave the rest to conns_close_all.  No more
 * connections are accepted meanwhile.
 */
static void
worker_finish_silent(void)
{
	struct epoll_event	 ev;
	long long		 end, left;
	int			 grace = WORKER_SILENT_GRACE_MS, slot;

	if (conns_silent() == 0)
		return;
	if (ctx.cfg->io_timeout_sec > 0 &&
	    ctx.cfg->io_timeout_sec * 1000 < grace)
		grace = ctx.cfg->io_timeout_sec * 1000;
	conns_close_kept();
	epoll_ctl(ctx.wait_fd, EPOLL_CTL_DEL, ctx.cfg->listen_fd, NULL);
	end = clock_now_ms() + grace;
	while (conns_silent() > 0 && (left = end - clock_now_ms()) > 0) {
		if (epoll_wait(ctx.wait_fd, &ev, 1, (int)left) != 1)
			continue;
		slot = (int)ev.data.u32;
		conns_take(slot);
		arena_rewind();
		worker_request(slot);
		conns_close_kept();
	}
}

/*
 * Child entry point: build the static context, tell the master it is
 * ready, then serve until told to stop or, with -r, until it has served
 * its share.  Exits 0 then, 1 on a fatal error.
 */
void
worker_main(void *arg)
{
	const struct worker_config *cfg = arg;

	worker_init(cfg);
	if (cfg->ready != NULL)
		cfg->ready();
	arena_arm();
	while (!worker_stop && (cfg->max_requests == 0 ||
	    ctx.served < cfg->max_requests))
		ctx.served += worker_once();
	if (worker_draining)
		worker_drain();
	worker_finish_silent();
	/* Kept connections would otherwise wait for nginx's timeout. */
	conns_close_all();
	_exit(0);
}
