/*
 * libFuzzer harness for the request path: the fuzz input is a byte stream
 * a FastCGI peer sends.  The harness owns a listening unix socket in a
 * temp dir, connects to it, writes the input, shuts down its sending side
 * and runs the daemon's own worker_once() (src/worker.c: wait, accept,
 * serve, finish) until the worker lets the connection go.  A drain thread,
 * started once, reads the replies so that the worker never blocks on a
 * full socket.
 *
 * The first input byte picks the options: bit 0 --ascii, bits 1-2 the -m
 * limit (65536, 200, 16 or 1 bytes).  The rest goes on the wire.
 *
 * Inputs that would trigger the two known libfcgi 2.4.2 crashes are
 * rejected (see fuzz_known_crash), so that the fuzzer looks for new ones;
 * tests/crash-respawn.sh shows that the daemon contains those two.  Set
 * FUZZ_REQUEST_KNOWN_CRASHES=1 to let them through (to reproduce them).
 *
 * Logging: log_* are replaced here.  Warnings are formatted (so their
 * arguments are checked by the sanitizers) and dropped unless
 * FUZZ_REQUEST_LOG is set; fatal() aborts, because no input may make a
 * child exit.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

#define FUZZ_MAX_INPUT		65536	/* fits a socket buffer */
#define FUZZ_MAX_STEPS		4096	/* worker_once() per input */
#define FUZZ_MAX_PARAM		(1024 * 1024) /* fuzz_huge_param */
#define FCGI_PARAMS		4
#define FCGI_GET_VALUES		9
#define FCGI_GV_REPLY_BYTES	64	/* libfcgi's response[64] */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	*fuzz_drain(void *);

static struct worker_config	 cfg;
static struct sockaddr_un	 sun;
static char			 dir[PATH_MAX];
static int			 log_shown = -1;
static int			 let_known_crashes;
/* 64 KiB: past libfcgi's 8 KiB buffer, so worker.c writes directly. */
static const size_t		 limits[] = { 65536, 200, 16, 1 };
static int			 to_drain[2], drained[2];	/* pipes */

static void
fuzz_log(const char *fmt, va_list ap)
{
	char	 line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_shown == -1)
		log_shown = getenv("FUZZ_REQUEST_LOG") != NULL;
	if (log_shown)
		fprintf(stderr, "upcase-fcgi: %s\n", line);
}

/* No log destination to choose: lines go through fuzz_log(). */
void
log_init(int to_stderr)
{
	(void)to_stderr;
}

/* Nothing changes when serving starts. */
void
log_serving(void)
{
}

/* A warning with errno: formatted, then dropped or shown. */
void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fuzz_log(fmt, ap);
	va_end(ap);
}

/* A warning: formatted, then dropped or shown. */
void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fuzz_log(fmt, ap);
	va_end(ap);
}

/* Information: formatted, then dropped or shown. */
void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fuzz_log(fmt, ap);
	va_end(ap);
}

/* A child would exit here; no input may cause that, so it is a finding. */
static void __attribute__((noreturn, format(printf, 1, 0)))
fuzz_fatal(const char *fmt, va_list ap)
{
	log_shown = 1;
	fuzz_log(fmt, ap);
	abort();
}

/* The daemon's fatal(): see fuzz_fatal(). */
void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fuzz_fatal(fmt, ap);
}

/* The daemon's fatalx(): see fuzz_fatal(). */
void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fuzz_fatal(fmt, ap);
}

static void
fuzz_cleanup(void)
{
	unlink(sun.sun_path);
	rmdir(dir);
}

/* The listening socket, the worker's static context, once per process. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	const int	 nsigs = (int)(sizeof(sigs) / sizeof(sigs[0]));
	struct sigaction saved[sizeof(sigs) / sizeof(sigs[0])];
	sigset_t	 none;
	pthread_t	 drain;
	const char	*t;
	int		 fd, i;

	(void)argc;
	(void)argv;
	/*
	 * libfcgi's two 2-second polls (after accept, at close) must never
	 * stall an iteration; the client has always sent everything and
	 * shut down its side, so they return at once anyway.
	 */
	setenv("LIBFCGI_IS_AF_UNIX_KEEPER_POLL_TIMEOUT", "100", 1);
	setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "100", 1);
	let_known_crashes = getenv("FUZZ_REQUEST_KNOWN_CRASHES") != NULL;
	t = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/fuzz-request.XXXXXX", t ? t : "/tmp");
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);
	atexit(fuzz_cleanup);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 16) == -1 || fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("listening socket %s", sun.sun_path);
	cfg.listen_fd = fd;
	cfg.max_body = limits[0];	/* sizes the body buffer for good */
	for (i = 0; i < nsigs; i++)
		sigaction(sigs[i], NULL, &saved[i]);
	worker_init(&cfg);
	/* libFuzzer's own SIGINT/SIGTERM handling, not the worker's stop. */
	for (i = 0; i < nsigs; i++)
		sigaction(sigs[i], &saved[i], NULL);
	/* Created now, the thread keeps the worker's stop signals blocked. */
	if (pipe2(to_drain, O_CLOEXEC) == -1 ||
	    pipe2(drained, O_CLOEXEC) == -1 ||
	    pthread_create(&drain, NULL, fuzz_drain, NULL) != 0)
		fatal("drain thread");
	/*
	 * The worker blocks its stop signals; libFuzzer wants SIGINT.  But
	 * libFuzzer's periodic SIGALRM (its -timeout watch) must not land in
	 * the worker's reads and writes: libfcgi does not retry EINTR, and
	 * the daemon's children get no such signal.  Blocked here, it is
	 * taken by the drain thread, which retries.
	 */
	sigemptyset(&none);
	sigaddset(&none, SIGALRM);
	sigprocmask(SIG_SETMASK, &none, NULL);
	return 0;
}

/* Decode a name-value length at p (1 or 4 bytes); 0 if it runs out. */
static size_t
fuzz_nv_length(const uint8_t *p, size_t left, unsigned long *len)
{
	if (left < 1)
		return 0;
	if (!(p[0] & 0x80)) {
		*len = p[0];
		return 1;
	}
	if (left < 4)
		return 0;
	*len = ((unsigned long)(p[0] & 0x7f) << 24) |
	    ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | p[3];
	return 4;
}

/*
 * Known libfcgi 2.4.2 crashes (LIBFCGI.md, section 4), over-approximated
 * at every offset because libfcgi's framing of hostile input is hard to
 * predict:
 *  - a name-value pair whose lengths sum past INT_MAX: ReadParams's
 *    malloc fails and its assert aborts;
 *  - an FCGI_GET_VALUES record (request id 0) naming known variables more
 *    than fits libfcgi's 64-byte reply buffer: sprintf smashes the stack.
 */
static int
fuzz_known_crash(const uint8_t *d, size_t n)
{
	static const char	*known[] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS",
				    "FCGI_MPXS_CONNS" };
	unsigned long		 a, b;
	size_t			 i, j, k, la, lb, clen, reply;

	for (i = 0; i < n; i++) {
		if ((la = fuzz_nv_length(d + i, n - i, &a)) != 0 &&
		    (lb = fuzz_nv_length(d + i + la, n - i - la, &b)) != 0 &&
		    a + b + 2 > INT_MAX)
			return 1;
		if (n - i < 8 || d[i] != 1 || d[i + 1] != FCGI_GET_VALUES ||
		    d[i + 2] != 0 || d[i + 3] != 0)
			continue;
		clen = (size_t)d[i + 4] << 8 | d[i + 5];
		if (clen > n - i - 8)
			clen = n - i - 8;
		reply = 8;
		for (j = i + 8; j < i + 8 + clen; j += la + lb + a + b) {
			if ((la = fuzz_nv_length(d + j, i + 8 + clen - j,
			    &a)) == 0 || (lb = fuzz_nv_length(d + j + la,
			    i + 8 + clen - j - la, &b)) == 0)
				break;
			for (k = 0; k < 3; k++)
				if (a == strlen(known[k]) && j + la + lb + a <=
				    n && memcmp(d + j + la + lb, known[k],
				    a) == 0)
					reply += a + 3;
			if (a + b > n)
				break;
		}
		/* sprintf also writes a terminating NUL. */
		if (reply + 1 > FCGI_GV_REPLY_BYTES)
			return 1;
	}
	return 0;
}

/* The drain thread: for each fd it is handed, read to EOF, then say so. */
/* Does a name-value stream hold a length over FUZZ_MAX_PARAM? */
static int
fuzz_huge_pair(const uint8_t *p, size_t n)
{
	unsigned long	 a, b;
	size_t		 j, la, lb;

	for (j = 0; j < n; j += la + lb + a + b) {
		if ((la = fuzz_nv_length(p + j, n - j, &a)) == 0 ||
		    (lb = fuzz_nv_length(p + j + la, n - j - la, &b)) == 0)
			return 0;
		if (a > FUZZ_MAX_PARAM || b > FUZZ_MAX_PARAM)
			return 1;
	}
	return 0;
}

/*
 * Inputs that make libfcgi allocate a param of up to 2 GiB: legal for it,
 * and the read that follows simply fails, since no input is that long.
 * Under ASan such a block costs a poisoning pass over its whole shadow,
 * which made the run several times slower for one path of no interest
 * (bad-input.sh covers big params).  Follows the records as libfcgi
 * frames them -- header, content, padding -- and decodes each PARAMS
 * stream and each FCGI_GET_VALUES record.
 */
static int
fuzz_huge_param(const uint8_t *d, size_t n)
{
	static uint8_t	 stream[FUZZ_MAX_INPUT];
	size_t		 off = 0, have = 0, clen, avail;

	while (n - off >= 8) {
		clen = (size_t)d[off + 4] << 8 | d[off + 5];
		avail = clen < n - off - 8 ? clen : n - off - 8;
		if (d[off + 1] == FCGI_PARAMS) {
			if (clen == 0) {
				if (fuzz_huge_pair(stream, have))
					return 1;
				have = 0;
			}
			memcpy(stream + have, d + off + 8, avail);
			have += avail;
		} else if (d[off + 1] == FCGI_GET_VALUES &&
		    fuzz_huge_pair(d + off + 8, avail))
			return 1;
		off += 8 + clen + d[off + 6];
		if (off > n)
			break;
	}
	return fuzz_huge_pair(stream, have);
}

static void *
fuzz_drain(void *arg)
{
	char	 buf[16384];
	ssize_t	 n;
	int	 fd;

	(void)arg;
	for (;;) {
		if ((n = read(to_drain[0], &fd, sizeof(fd))) == -1 &&
		    errno == EINTR)
			continue;
		if (n != sizeof(fd))
			fatal("drain thread: read the next connection");
		while ((n = read(fd, buf, sizeof(buf))) > 0 ||
		    (n == -1 && errno == EINTR))
			continue;
		while ((n = write(drained[1], "", 1)) == -1 && errno == EINTR)
			continue;
		if (n != 1)
			fatal("drain thread: report a drained connection");
	}
	return NULL;
}

static void
fuzz_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;		/* the worker may close early */
		}
		p += w;
		n -= (size_t)w;
	}
}

/* One input: connect, send it all, let the worker serve until it lets go. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	char		 ack;
	int		 fd, step;

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return -1;
	cfg.ascii = data[0] & 1;
	cfg.max_body = limits[(data[0] >> 1) & 3];
	data++;
	size--;
	if (!let_known_crashes && fuzz_known_crash(data, size))
		return -1;
	if (fuzz_huge_param(data, size))
		return -1;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("connect %s", sun.sun_path);
	fuzz_write_all(fd, data, size);
	shutdown(fd, SHUT_WR);
	while ((n = write(to_drain[1], &fd, sizeof(fd))) == -1 &&
	    errno == EINTR)
		continue;
	if (n != sizeof(fd))
		fatal("hand the connection to the drain thread");

	/*
	 * The worker is done with the connection once it has closed it:
	 * then, with our side shut down too, poll reports POLLHUP.  Until
	 * then it holds it open (FCGI_KEEP_CONN) and reads on, never
	 * blocking, since everything has been sent.
	 */
	for (step = 0; step < FUZZ_MAX_STEPS; step++) {
		worker_once();
		pfd.fd = fd;
		pfd.events = 0;
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP))
			break;
	}
	if (step == FUZZ_MAX_STEPS)
		fatalx("the worker still holds the connection after %d steps",
		    step);
	while ((n = read(drained[0], &ack, 1)) == -1 && errno == EINTR)
		continue;
	if (n != 1)
		fatal("wait for the drain thread");
	close(fd);
	return 0;
}
