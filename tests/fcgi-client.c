/*
 * fcgi-client: a minimal FastCGI responder client for the shell tests.
 * Unlike cgi-fcgi, which sends only as many stdin bytes as its own
 * CONTENT_LENGTH says, it takes the params from its arguments and streams
 * its stdin as it arrives, whatever CONTENT_LENGTH claims, ending with the
 * empty FCGI_STDIN record at end of input.  So a test can send a body that
 * disagrees with CONTENT_LENGTH, or send a body slowly through a pipe.
 *
 * usage: fcgi-client SOCKET [NAME=VALUE ...]
 *
 * FCGI_STDOUT goes to stdout, FCGI_STDERR to stderr.  Exit status: 0 when
 * FCGI_END_REQUEST arrived, 3 when the server closed the connection
 * without it, 1 on a local error, 2 on a usage error.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FCGI_VERSION_1		1
#define FCGI_BEGIN_REQUEST	1
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_STDERR		7
#define FCGI_RESPONDER		1
#define FCGI_HEADER_LEN		8
#define FCGI_MAX_CONTENT	65535
#define REQUEST_ID		1

static unsigned char	 out_buf[FCGI_HEADER_LEN + FCGI_MAX_CONTENT];

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "fcgi-client: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Write all of buf; returns -1 if the server stopped reading. */
static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return -1;
			die("write to server");
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send one record of the given type whose content is in out_buf + 8. */
static int
send_record(int fd, int type, size_t len)
{
	out_buf[0] = FCGI_VERSION_1;
	out_buf[1] = (unsigned char)type;
	out_buf[2] = 0;
	out_buf[3] = REQUEST_ID;
	out_buf[4] = (unsigned char)(len >> 8);
	out_buf[5] = (unsigned char)len;
	out_buf[6] = 0;
	out_buf[7] = 0;
	return write_all(fd, out_buf, FCGI_HEADER_LEN + len);
}

/* Append a FastCGI name-value length (1 or 4 bytes) at p. */
static unsigned char *
put_length(unsigned char *p, size_t len)
{
	if (len < 0x80) {
		*p++ = (unsigned char)len;
		return p;
	}
	*p++ = (unsigned char)((len >> 24) | 0x80);
	*p++ = (unsigned char)(len >> 16);
	*p++ = (unsigned char)(len >> 8);
	*p++ = (unsigned char)len;
	return p;
}

/* BEGIN_REQUEST, then every NAME=VALUE argument in one PARAMS record. */
static int
send_head(int fd, int nparams, char **params)
{
	unsigned char	*p = out_buf + FCGI_HEADER_LEN, *end;
	size_t		 nlen, vlen;
	char		*eq;
	int		 i;

	memset(p, 0, 8);
	p[1] = FCGI_RESPONDER;		/* flags 0: no keep-conn */
	if (send_record(fd, FCGI_BEGIN_REQUEST, 8) == -1)
		return -1;
	end = out_buf + sizeof(out_buf);
	for (i = 0; i < nparams; i++) {
		if ((eq = strchr(params[i], '=')) == NULL) {
			fprintf(stderr, "fcgi-client: not NAME=VALUE: %s\n",
			    params[i]);
			exit(2);
		}
		nlen = (size_t)(eq - params[i]);
		vlen = strlen(eq + 1);
		if ((size_t)(end - p) < 8 + nlen + vlen) {
			fprintf(stderr, "fcgi-client: params too long\n");
			exit(2);
		}
		p = put_length(p, nlen);
		p = put_length(p, vlen);
		memcpy(p, params[i], nlen);
		p += nlen;
		memcpy(p, eq + 1, vlen);
		p += vlen;
	}
	if (p != out_buf + FCGI_HEADER_LEN && send_record(fd, FCGI_PARAMS,
	    (size_t)(p - out_buf - FCGI_HEADER_LEN)) == -1)
		return -1;
	return send_record(fd, FCGI_PARAMS, 0);
}

/*
 * Parse what the server sent so far (in[0..*len)); copy stream content
 * out.  Returns 1 once END_REQUEST is complete, else 0.
 */
static int
take_records(unsigned char *in, size_t *len)
{
	size_t	 clen, plen, used = 0;
	int	 done = 0;
	FILE	*to;

	while (*len - used >= FCGI_HEADER_LEN) {
		clen = (size_t)in[used + 4] << 8 | in[used + 5];
		plen = in[used + 6];
		if (*len - used < FCGI_HEADER_LEN + clen + plen)
			break;
		to = NULL;
		if (in[used + 1] == FCGI_STDOUT)
			to = stdout;
		else if (in[used + 1] == FCGI_STDERR)
			to = stderr;
		else if (in[used + 1] == FCGI_END_REQUEST)
			done = 1;
		if (to != NULL && clen > 0 &&
		    fwrite(in + used + FCGI_HEADER_LEN, 1, clen, to) != clen)
			die("write output");
		used += FCGI_HEADER_LEN + clen + plen;
	}
	memmove(in, in + used, *len - used);
	*len -= used;
	return done;
}

int
main(int argc, char **argv)
{
	static unsigned char	 in[2 * (FCGI_HEADER_LEN + FCGI_MAX_CONTENT)];
	struct sockaddr_un	 sun;
	struct pollfd		 pfd[2];
	size_t			 have = 0;
	ssize_t			 n;
	int			 fd, sending = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: fcgi-client SOCKET [NAME=VALUE ...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "fcgi-client: socket path too long\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		die(argv[1]);
	if (send_head(fd, argc - 2, argv + 2) == -1)
		sending = 0;

	/* Keep reading the answer while sending: a refusal may come early. */
	for (;;) {
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sending ? 0 : -1;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[1].revents != 0) {
			n = read(0, out_buf + FCGI_HEADER_LEN,
			    FCGI_MAX_CONTENT);
			if (n == -1)
				die("read stdin");
			if (send_record(fd, FCGI_STDIN, (size_t)n) == -1 ||
			    n == 0)
				sending = 0;
		}
		if (pfd[0].revents != 0) {
			n = read(fd, in + have, sizeof(in) - have);
			if (n == -1 && errno != ECONNRESET)
				die("read from server");
			if (n <= 0)
				break;
			have += (size_t)n;
			if (take_records(in, &have)) {
				fflush(stdout);
				return 0;
			}
		}
	}
	fflush(stdout);
	fprintf(stderr, "fcgi-client: connection closed without "
	    "FCGI_END_REQUEST\n");
	return 3;
}
