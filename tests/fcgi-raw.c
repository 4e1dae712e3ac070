/*
 * fcgi-raw: a scripted FastCGI client for the shell tests.  It connects
 * to a unix socket (a path) or over TCP (HOST:PORT or [IPV6]:PORT, from
 * the source address of -b if given), sends whatever records a small
 * script describes -- well-formed, malformed or plain bytes -- and prints
 * what comes back.  It never hangs: every wait is bounded by -t.
 *
 * usage: fcgi-raw [-t seconds] [-r report] [-b source] socket [script | -]
 *
 * The script (a file, or stdin) has one command per line; # starts a
 * comment.  With the script in a file, stdin can be a request body
 * (stdin-stream): a shell pipeline can send it slowly, or send one that
 * disagrees with CONTENT_LENGTH (cgi-fcgi sends only what that says).
 * ID, ROLE, FLAGS, numbers: decimal or 0x hex.  DATA is
 *	hex:414243	bytes in hex
 *	@path		the contents of a file
 *	rep:N:text	text repeated to exactly N bytes
 *	text		the rest of the line; escapes \n \r \t \s \\ \xHH
 *
 *	begin ID [ROLE [FLAGS]]		FCGI_BEGIN_REQUEST (default 1, 0)
 *	params ID NAME=VALUE ...	one pair per word (escapes allowed)
 *	param ID NAME DATA		one pair with a DATA value
 *	params-rep ID COUNT NAME VALUE	NAME0=VALUE ... NAME<COUNT-1>
 *	params-end ID			the empty FCGI_PARAMS record
 *	stdin ID DATA			FCGI_STDIN records, split at 65535
 *	stdin-end ID			the empty FCGI_STDIN record
 *	stdin-stream ID			this process's stdin as FCGI_STDIN
 *					records as it arrives, then the empty
 *					one at its end; stops early if the
 *					connection ends (needs a script file)
 *	abort ID			FCGI_ABORT_REQUEST
 *	get-values NAME ...		FCGI_GET_VALUES (request id 0)
 *	record VER TYPE ID LEN PAD [DATA]  a header with these fields, then
 *					DATA as given (it may disagree)
 *	raw DATA			bytes as they are
 *	sleep MS			wait, reading what comes
 *	pause MS			wait without reading (a stalled peer)
 *	shutdown			no more sending (shutdown SHUT_WR)
 *	read-bytes N			read N response bytes, then go on
 *	expect-end N			read until N END_REQUESTs in all; if
 *					the connection ends first, exit 3
 *	close				close at once, read nothing, exit
 *
 * After the script it reads until the server closes the connection.
 * FCGI_STDOUT content goes to stdout, byte for byte.  The report (stderr,
 * or the -r file) gets one line per event:
 *	end ID APP-STATUS PROTOCOL-STATUS
 *	stderr ID BYTES
 *	record TYPE ID LENGTH		any other record type
 *	value NAME=VALUE		in an FCGI_GET_VALUES_RESULT
 *	write-error ERRNO-NAME		the server stopped reading
 *	eof | reset | timeout		how the connection ended
 *	partial BYTES			an incomplete record at the end
 *	ended-early SEEN WANTED		an expect-end was not met
 * Exit status: 0 when the connection ended (eof, reset or close) and every
 * expect-end was met; 3 when the connection ended before an expect-end was
 * met (a request left without its FCGI_END_REQUEST); 4 on timeout; 1 on a
 * local error (such as connect); 2 on a script error.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FCGI_VERSION_1		1
#define FCGI_BEGIN_REQUEST	1
#define FCGI_ABORT_REQUEST	2
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_STDERR		7
#define FCGI_GET_VALUES		9
#define FCGI_GET_VALUES_RESULT	10
#define FCGI_RESPONDER		1
#define FCGI_HEADER_LEN		8
#define FCGI_MAX_CONTENT	65535

/* A growable byte buffer; this is a test tool, the heap is fine here. */
struct buf {
	unsigned char	*p;
	size_t		 len, cap;
};

enum conn_state { CONN_OPEN, CONN_EOF, CONN_RESET, CONN_TIMEOUT };

static int		 sock = -1;
static FILE		*report;
static long long	 deadline_ms;
static struct buf	 rx;		/* received, not yet parsed */
static long		 ends_seen;
static enum conn_state	 state = CONN_OPEN;
static int		 write_failed;
static int		 ends_missing;	/* an expect-end was not met */
static int		 script_on_stdin;
static int		 lineno;

static void __attribute__((noreturn, format(printf, 1, 2)))
script_error(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "fcgi-raw: script line %d: ", lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "fcgi-raw: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;	/* p may be NULL: an empty buffer's data */
	if (b->cap - b->len < n) {
		while (b->cap - b->len < n)
			b->cap = b->cap ? b->cap * 2 : 4096;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			die("realloc");
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_byte(struct buf *b, unsigned char c)
{
	buf_add(b, &c, 1);
}

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
ms_left(void)
{
	long long	 left = deadline_ms - now_ms();

	return left < 0 ? 0 : (int)left;
}

/* Print and drop every complete record at the start of rx. */
static void
parse_records(void)
{
	size_t		 used = 0, clen, plen, i, nl, vl;
	unsigned char	*h, *c;
	unsigned int	 id;

	while (rx.len - used >= FCGI_HEADER_LEN) {
		h = rx.p + used;
		clen = (size_t)h[4] << 8 | h[5];
		plen = h[6];
		if (rx.len - used < FCGI_HEADER_LEN + clen + plen)
			break;
		c = h + FCGI_HEADER_LEN;
		id = (unsigned int)h[2] << 8 | h[3];
		switch (h[1]) {
		case FCGI_STDOUT:
			if (clen > 0 && fwrite(c, 1, clen, stdout) != clen)
				die("write stdout");
			break;
		case FCGI_STDERR:
			fprintf(report, "stderr %u %zu\n", id, clen);
			break;
		case FCGI_END_REQUEST:
			ends_seen++;
			fprintf(report, "end %u %lu %u\n", id, clen >= 8 ?
			    (unsigned long)c[0] << 24 | (unsigned long)c[1] <<
			    16 | (unsigned long)c[2] << 8 | c[3] : 0UL,
			    clen >= 8 ? c[4] : 255);
			break;
		case FCGI_GET_VALUES_RESULT:
			fprintf(report, "record %u %u %zu\n", h[1], id, clen);
			/* Short (1-byte) lengths are all libfcgi sends here. */
			for (i = 0; i + 2 <= clen; i += 2 + nl + vl) {
				nl = c[i];
				vl = c[i + 1];
				if ((nl | vl) & 0x80 || i + 2 + nl + vl > clen)
					break;
				fprintf(report, "value %.*s=%.*s\n", (int)nl,
				    (const char *)c + i + 2, (int)vl,
				    (const char *)c + i + 2 + nl);
			}
			break;
		default:
			fprintf(report, "record %u %u %zu\n", h[1], id, clen);
			break;
		}
		used += FCGI_HEADER_LEN + clen + plen;
	}
	memmove(rx.p, rx.p + used, rx.len - used);
	rx.len -= used;
	fflush(stdout);
	fflush(report);
}

/* Read what is there (waiting up to wait_ms); update the state. */
static void
pump_input(int wait_ms)
{
	unsigned char	 chunk[16384];
	struct pollfd	 pfd;
	ssize_t		 n;

	if (state != CONN_OPEN)
		return;
	pfd.fd = sock;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, wait_ms) <= 0)
		return;
	if ((n = read(sock, chunk, sizeof(chunk))) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		state = CONN_RESET;
		return;
	}
	if (n == 0) {
		state = CONN_EOF;
		return;
	}
	buf_add(&rx, chunk, (size_t)n);
	parse_records();
}

/*
 * Send all of p, reading the answer meanwhile so that neither side blocks.
 * Write first and poll only on EAGAIN: a unix socket polls writable only
 * while less than a quarter of its buffer is in use, though a write of
 * what fits would still succeed.
 */
static void
send_bytes(const unsigned char *p, size_t len)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	while (len > 0 && !write_failed) {
		if ((n = write(sock, p, len)) >= 0) {
			p += n;
			len -= (size_t)n;
			pump_input(0);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			fprintf(report, "write-error %s\n", errno == EPIPE ?
			    "EPIPE" : errno == ECONNRESET ? "ECONNRESET" :
			    strerror(errno));
			write_failed = 1;
			return;
		}
		if (ms_left() == 0) {
			state = CONN_TIMEOUT;
			return;
		}
		pfd.fd = sock;
		pfd.events = POLLOUT | (state == CONN_OPEN ? POLLIN : 0);
		if (poll(&pfd, 1, ms_left()) > 0 && (pfd.revents & POLLIN))
			pump_input(0);
	}
}

static void
put_header(struct buf *b, int version, int type, unsigned int id,
    size_t clen, size_t plen)
{
	buf_byte(b, (unsigned char)version);
	buf_byte(b, (unsigned char)type);
	buf_byte(b, (unsigned char)(id >> 8));
	buf_byte(b, (unsigned char)id);
	buf_byte(b, (unsigned char)(clen >> 8));
	buf_byte(b, (unsigned char)clen);
	buf_byte(b, (unsigned char)plen);
	buf_byte(b, 0);
}

/* Send content as records of one type, split at the 16-bit limit. */
static void
send_stream(int type, unsigned int id, const struct buf *content)
{
	struct buf	 out = { NULL, 0, 0 };
	size_t		 off = 0, n;

	do {
		n = content->len - off;
		if (n > FCGI_MAX_CONTENT)
			n = FCGI_MAX_CONTENT;
		put_header(&out, FCGI_VERSION_1, type, id, n, 0);
		if (n > 0)
			buf_add(&out, content->p + off, n);
		off += n;
	} while (off < content->len);
	send_bytes(out.p, out.len);
	free(out.p);
}

static unsigned long
number(const char *s)
{
	char		*end;
	unsigned long	 v;

	if (s == NULL)
		script_error("missing number");
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || *s == '-')
		script_error("not a number: %s", s);
	return v;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode text with \n \r \t \s \\ \xHH escapes into b. */
static void
unescape(struct buf *b, const char *s)
{
	int	 hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '\\') {
			buf_byte(b, (unsigned char)*s);
			continue;
		}
		switch (*++s) {
		case 'n':
			buf_byte(b, '\n');
			break;
		case 'r':
			buf_byte(b, '\r');
			break;
		case 't':
			buf_byte(b, '\t');
			break;
		case 's':
			buf_byte(b, ' ');
			break;
		case '\\':
			buf_byte(b, '\\');
			break;
		case 'x':
			if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0)
				script_error("bad \\x escape");
			buf_byte(b, (unsigned char)(hi << 4 | lo));
			s += 2;
			break;
		default:
			script_error("unknown escape \\%c", *s ? *s : '0');
		}
	}
}

/* Turn a DATA argument into bytes. */
static void
data_spec(struct buf *b, const char *spec)
{
	const char	*text;
	char		*end;
	unsigned char	 chunk[8192];
	size_t		 n, i, tlen;
	ssize_t		 r;
	int		 fd, hi, lo;

	if (strncmp(spec, "hex:", 4) == 0) {
		for (spec += 4; *spec != '\0'; spec += 2) {
			while (isspace((unsigned char)*spec))
				spec++;
			if (*spec == '\0')
				break;
			if ((hi = hexval(spec[0])) < 0 ||
			    (lo = hexval(spec[1])) < 0)
				script_error("bad hex");
			buf_byte(b, (unsigned char)(hi << 4 | lo));
		}
	} else if (spec[0] == '@') {
		if ((fd = open(spec + 1, O_RDONLY)) == -1)
			die(spec + 1);
		while ((r = read(fd, chunk, sizeof(chunk))) > 0)
			buf_add(b, chunk, (size_t)r);
		if (r == -1)
			die(spec + 1);
		close(fd);
	} else if (strncmp(spec, "rep:", 4) == 0) {
		n = strtoul(spec + 4, &end, 10);
		if (*end != ':' || end[1] == '\0')
			script_error("rep:N:text expected");
		text = end + 1;
		tlen = strlen(text);
		for (i = 0; i < n; i++)
			buf_byte(b, (unsigned char)text[i % tlen]);
	} else
		unescape(b, spec);
}

/* Append a name-value length: 1 byte below 128, else 4 with the top bit. */
static void
put_nv_length(struct buf *b, size_t len)
{
	if (len < 0x80) {
		buf_byte(b, (unsigned char)len);
		return;
	}
	buf_byte(b, (unsigned char)((len >> 24) | 0x80));
	buf_byte(b, (unsigned char)(len >> 16));
	buf_byte(b, (unsigned char)(len >> 8));
	buf_byte(b, (unsigned char)len);
}

static void
put_pair(struct buf *b, const void *name, size_t nlen, const void *value,
    size_t vlen)
{
	put_nv_length(b, nlen);
	put_nv_length(b, vlen);
	buf_add(b, name, nlen);
	buf_add(b, value, vlen);
}

/*
 * Wait, reading, until want END_REQUESTs came, the connection ends or time
 * is up.  An end without them is a request left unanswered: remembered
 * for the exit status, which is what callers test.
 */
static void
read_until_ends(long want)
{
	while (state == CONN_OPEN && ends_seen < want) {
		if (ms_left() == 0) {
			state = CONN_TIMEOUT;
			return;
		}
		pump_input(ms_left());
	}
	if (state != CONN_TIMEOUT && ends_seen < want) {
		fprintf(report, "ended-early %ld %ld\n", ends_seen, want);
		ends_missing = 1;
	}
}

/*
 * Copy stdin into FCGI_STDIN records as it arrives, one per read, then
 * send the empty record at its end.  The answer is read meanwhile, since
 * a refusal may come before the body is complete; once the connection
 * has ended there is no one left to send to.
 */
static void
stream_stdin(unsigned int id)
{
	static unsigned char	 chunk[FCGI_MAX_CONTENT];
	struct buf		 content = { chunk, 0, sizeof(chunk) };
	struct pollfd		 pfd[2];
	ssize_t			 n;

	while (state == CONN_OPEN && !write_failed) {
		if (ms_left() == 0) {
			state = CONN_TIMEOUT;
			return;
		}
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = sock;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, ms_left()) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[1].revents != 0)
			pump_input(0);
		if (pfd[0].revents == 0 || state != CONN_OPEN)
			continue;
		if ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			die("read stdin");
		}
		content.len = (size_t)n;
		send_stream(FCGI_STDIN, id, &content);
		if (n == 0)
			return;
	}
}

static void
read_bytes(size_t want)
{
	unsigned char	 chunk[4096];
	struct pollfd	 pfd;
	ssize_t		 n;

	/* Raw bytes, unparsed: the point is to stop mid-response. */
	while (want > 0 && state == CONN_OPEN) {
		pfd.fd = sock;
		pfd.events = POLLIN;
		if (ms_left() == 0) {
			state = CONN_TIMEOUT;
			return;
		}
		if (poll(&pfd, 1, ms_left()) <= 0)
			continue;
		n = read(sock, chunk, want < sizeof(chunk) ? want :
		    sizeof(chunk));
		if (n <= 0) {
			state = n == 0 ? CONN_EOF : CONN_RESET;
			return;
		}
		want -= (size_t)n;
	}
}

static void
cmd_params(char **argv, int argc)
{
	struct buf	 b = { NULL, 0, 0 }, v = { NULL, 0, 0 };
	unsigned int	 id = (unsigned int)number(argv[1]);
	const char	*eq;
	unsigned long	 count, i;
	char		 name[256];
	int		 k;

	if (strcmp(argv[0], "params") == 0) {
		for (k = 2; k < argc; k++) {
			if ((eq = strchr(argv[k], '=')) == NULL)
				script_error("not NAME=VALUE: %s", argv[k]);
			v.len = 0;
			unescape(&v, eq + 1);
			put_pair(&b, argv[k], (size_t)(eq - argv[k]), v.p,
			    v.len);
		}
	} else if (strcmp(argv[0], "param") == 0) {
		if (argc < 4)
			script_error("param ID NAME DATA");
		data_spec(&v, argv[3]);
		put_pair(&b, argv[2], strlen(argv[2]), v.p, v.len);
	} else {
		if (argc < 5)
			script_error("params-rep ID COUNT NAME VALUE");
		count = number(argv[2]);
		for (i = 0; i < count; i++) {
			snprintf(name, sizeof(name), "%s%lu", argv[3], i);
			put_pair(&b, name, strlen(name), argv[4],
			    strlen(argv[4]));
		}
	}
	if (b.len > 0)
		send_stream(FCGI_PARAMS, id, &b);
	free(b.p);
	free(v.p);
}

/* Split a line into words; the DATA of some commands is the rest. */
static int
split(char *line, char **argv, int max, int rest_from)
{
	int	 argc = 0;

	while (argc < max) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			break;
		argv[argc++] = line;
		if (argc == rest_from + 1) {
			line[strcspn(line, "\n")] = '\0';
			break;
		}
		line += strcspn(line, " \t");
		if (*line != '\0')
			*line++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

static void
run_command(char *line)
{
	struct buf	 b = { NULL, 0, 0 };
	struct timespec	 ts;
	char		*argv[256], *copy, *word;
	unsigned long	 ms;
	long long	 until, left;
	int		 argc, i, rest = 255;

	line[strcspn(line, "\r\n")] = '\0';
	if ((copy = strdup(line)) == NULL)
		die("strdup");
	word = copy + strspn(copy, " \t");
	/* Where the command's last argument is DATA (may hold spaces). */
	if (strncmp(word, "stdin ", 6) == 0 || strncmp(word, "param ", 6) == 0)
		rest = strncmp(word, "stdin ", 6) == 0 ? 2 : 3;
	else if (strncmp(word, "raw ", 4) == 0)
		rest = 1;
	else if (strncmp(word, "record ", 7) == 0)
		rest = 6;
	if ((argc = split(copy, argv, 255, rest)) == 0) {
		free(copy);
		return;
	}
	if (strcmp(argv[0], "begin") == 0) {
		buf_byte(&b, 0);
		buf_byte(&b, argc > 2 ? (unsigned char)number(argv[2]) :
		    FCGI_RESPONDER);
		buf_byte(&b, argc > 3 ? (unsigned char)number(argv[3]) : 0);
		for (i = 0; i < 5; i++)
			buf_byte(&b, 0);
		send_stream(FCGI_BEGIN_REQUEST, (unsigned int)number(argv[1]),
		    &b);
	} else if (strcmp(argv[0], "params") == 0 ||
	    strcmp(argv[0], "param") == 0 ||
	    strcmp(argv[0], "params-rep") == 0) {
		cmd_params(argv, argc);
	} else if (strcmp(argv[0], "params-end") == 0) {
		send_stream(FCGI_PARAMS, (unsigned int)number(argv[1]), &b);
	} else if (strcmp(argv[0], "stdin") == 0) {
		if (argc < 3)
			script_error("stdin ID DATA");
		data_spec(&b, argv[2]);
		send_stream(FCGI_STDIN, (unsigned int)number(argv[1]), &b);
	} else if (strcmp(argv[0], "stdin-end") == 0) {
		send_stream(FCGI_STDIN, (unsigned int)number(argv[1]), &b);
	} else if (strcmp(argv[0], "stdin-stream") == 0) {
		if (script_on_stdin)
			script_error("stdin-stream: stdin is the script");
		stream_stdin((unsigned int)number(argv[1]));
	} else if (strcmp(argv[0], "abort") == 0) {
		send_stream(FCGI_ABORT_REQUEST, (unsigned int)number(argv[1]),
		    &b);
	} else if (strcmp(argv[0], "get-values") == 0) {
		for (i = 1; i < argc; i++)
			put_pair(&b, argv[i], strlen(argv[i]), "", 0);
		send_stream(FCGI_GET_VALUES, 0, &b);
	} else if (strcmp(argv[0], "record") == 0) {
		if (argc < 6)
			script_error("record VER TYPE ID LEN PAD [DATA]");
		put_header(&b, (int)number(argv[1]), (int)number(argv[2]),
		    (unsigned int)number(argv[3]), number(argv[4]),
		    number(argv[5]));
		if (argc > 6)
			data_spec(&b, argv[6]);
		send_bytes(b.p, b.len);
	} else if (strcmp(argv[0], "raw") == 0) {
		if (argc < 2)
			script_error("raw DATA");
		data_spec(&b, argv[1]);
		send_bytes(b.p, b.len);
	} else if (strcmp(argv[0], "sleep") == 0) {
		ms = number(argv[1]);
		until = now_ms() + (long long)ms;
		/* Keep the answer flowing while we wait. */
		while ((left = until - now_ms()) > 0) {
			if (state == CONN_OPEN) {
				pump_input(left > 50 ? 50 : (int)left);
				continue;
			}
			ts.tv_sec = (time_t)(left / 1000);
			ts.tv_nsec = (long)(left % 1000) * 1000000;
			nanosleep(&ts, NULL);
		}
	} else if (strcmp(argv[0], "pause") == 0) {
		ms = number(argv[1]);
		ts.tv_sec = (time_t)(ms / 1000);
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
	} else if (strcmp(argv[0], "shutdown") == 0) {
		shutdown(sock, SHUT_WR);
	} else if (strcmp(argv[0], "read-bytes") == 0) {
		read_bytes(number(argv[1]));
	} else if (strcmp(argv[0], "expect-end") == 0) {
		read_until_ends((long)number(argv[1]));
	} else if (strcmp(argv[0], "close") == 0) {
		close(sock);
		fflush(stdout);
		exit(ends_missing ? 3 : 0);
	} else
		script_error("unknown command %s", argv[0]);
	free(b.p);
	free(copy);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: fcgi-raw [-t seconds] [-r report] "
	    "[-b source] socket [script | -]\n");
	exit(2);
}

/* Resolve a numeric HOST:PORT or [IPV6]:PORT (port may be 0 for -b). */
static struct addrinfo *
resolve(const char *text)
{
	struct addrinfo	 hints, *res;
	char		 host[256];
	const char	*port;
	size_t		 len;
	int		 rc;

	if (text[0] == '[') {
		if ((port = strstr(text, "]:")) == NULL)
			return NULL;
		len = (size_t)(port - text - 1);
		text++;
		port += 2;
	} else {
		if ((port = strrchr(text, ':')) == NULL)
			return NULL;
		len = (size_t)(port - text);
		port++;
	}
	if (len >= sizeof(host))
		return NULL;
	memcpy(host, text, len);
	host[len] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "fcgi-raw: %s: %s\n", text, gai_strerror(rc));
		return NULL;
	}
	return res;
}

/* Connect to a unix path or, without a '/', a TCP address. */
static int
connect_to(const char *where, const char *source)
{
	struct sockaddr_un	 sun;
	struct addrinfo		*to, *from = NULL;
	int			 fd;

	if (strchr(where, '/') != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(where) >= sizeof(sun.sun_path)) {
			fprintf(stderr, "fcgi-raw: socket path too long\n");
			exit(2);
		}
		strcpy(sun.sun_path, where);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			die("socket");
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			die(where);
		return fd;
	}
	if ((to = resolve(where)) == NULL ||
	    (source != NULL && (from = resolve(source)) == NULL))
		exit(2);
	if ((fd = socket(to->ai_family, SOCK_STREAM, 0)) == -1)
		die("socket");
	if (from != NULL && bind(fd, from->ai_addr, from->ai_addrlen) == -1)
		die(source);
	if (connect(fd, to->ai_addr, to->ai_addrlen) == -1)
		die(where);
	freeaddrinfo(to);
	if (from != NULL)
		freeaddrinfo(from);
	return fd;
}

int
main(int argc, char **argv)
{
	const char		*source = NULL;
	FILE			*script = stdin;
	char			*line = NULL;
	size_t			 linecap = 0;
	double			 timeout_s = 10;
	int			 ch;

	report = stderr;
	while ((ch = getopt(argc, argv, "b:r:t:")) != -1) {
		switch (ch) {
		case 'b':
			source = optarg;
			break;
		case 'r':
			if ((report = fopen(optarg, "w")) == NULL)
				die(optarg);
			break;
		case 't':
			timeout_s = atof(optarg);
			if (timeout_s <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		usage();
	if (argc == 2 && strcmp(argv[1], "-") != 0) {
		if ((script = fopen(argv[1], "r")) == NULL)
			die(argv[1]);
	} else
		script_on_stdin = 1;

	signal(SIGPIPE, SIG_IGN);
	deadline_ms = now_ms() + (long long)(timeout_s * 1000);
	sock = connect_to(argv[0], source);
	if (fcntl(sock, F_SETFL, O_NONBLOCK) == -1)
		die("fcntl");

	while (getline(&line, &linecap, script) != -1 &&
	    state != CONN_TIMEOUT) {
		lineno++;
		run_command(line);
	}
	free(line);
	while (state == CONN_OPEN) {
		if (ms_left() == 0) {
			state = CONN_TIMEOUT;
			break;
		}
		pump_input(ms_left());
	}
	if (rx.len > 0)
		fprintf(report, "partial %zu\n", rx.len);
	fprintf(report, "%s\n", state == CONN_EOF ? "eof" :
	    state == CONN_RESET ? "reset" : "timeout");
	fflush(stdout);
	fclose(report);
	if (state == CONN_TIMEOUT)
		return 4;
	return ends_missing ? 3 : 0;
}
