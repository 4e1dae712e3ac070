/*
 * The FastCGI record stream as libfcgi reads it.  The private copy of
 * libfcgi.a that the arena build links (configure) also has its read()
 * renamed to record_read(), so every byte libfcgi reads of a connection
 * passes through here first.  This file owns two things libfcgi gets
 * wrong, and nothing else:
 *
 * - Padding after FCGI_BEGIN_REQUEST and after the empty FCGI_PARAMS
 *   record is legal (FastCGI 1.0, section 3.3), but libfcgi forgets a
 *   pending padding when it switches streams right there (SetReaderType)
 *   and reads the padding as the next record header: the request is lost.
 *   Such padding is taken out of the stream, and the header says 0.
 * - The params of a request have no bound in libfcgi: it allocates each
 *   name-value pair as soon as it has read the two lengths, so a pair that
 *   declares 400 MiB costs 400 MiB.  Here the params of a request may
 *   take RECORD_MAX_PARAMS_BYTES on the wire and RECORD_MAX_PARAMS pairs;
 *   the lengths of a pair that would go past that never reach libfcgi.
 *   The request is answered 431 here, the overflow logged, and libfcgi
 *   sees an error and drops the connection.
 * - libfcgi reads 8 KiB at a time and frees its reader after each
 *   request, so on a kept connection the start of a request pipelined
 *   behind another was read and lost.  A read never goes past the end of
 *   the current request (its empty FCGI_STDIN record): what follows is
 *   kept here for the next request, and record_pending() tells the worker
 *   that it need not wait for the socket.
 *
 * Everything else passes through untouched, in place: the walk only looks
 * at record headers and at the length bytes of params, and moves bytes
 * only to take padding out.  A walk per connection slot: record_reset()
 * starts one, record_use() says which connection libfcgi reads next.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>

#include "fcgi_header.h"
#include "log.h"
#include "record.h"

enum record_part { PART_HEADER, PART_CONTENT, PART_PADDING };

/* Where the walk is in a connection's byte stream. */
struct record_walk {
	int			 fd;		/* -1: pass everything */
	enum record_part	 part;
	unsigned char		 header[FCGI_HEADER_LEN];
	size_t			 have;		/* header bytes seen */
	size_t			 left;		/* of content or padding */
	int			 drop_padding;
	int			 request_id;
	/* Params: the lengths of the pair being read, and the totals. */
	int			 len_field;	/* 0: name's length, 1: value's */
	size_t			 len_size, len_have;	/* 1 or 4 bytes */
	unsigned long long	 len_value, name_len;
	size_t			 pair_head;	/* length bytes of the pair */
	unsigned long long	 pair_left;	/* name and value bytes */
	unsigned long long	 params_bytes;
	unsigned long		 params;
	int			 refused;	/* answered 431; fail reads */
	int			 request_done;	/* its empty FCGI_STDIN came */
	/* Bytes read past the end of a request, for the next one. */
	unsigned char		 ahead[RECORD_READ_BYTES];
	size_t			 ahead_off, ahead_len;
};

/* One walk per connection slot (conns.c); walk is the one being read. */
static struct record_walk	*walks;
static struct record_walk	 no_walk = { .fd = -1 };
static struct record_walk	*walk = &no_walk;

static const char	 record_431[] =
    "Status: 431 Request Header Fields Too Large\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 36\r\n\r\n"
    "431 Request Header Fields Too Large\n";

/* Make a walk for each of n connection slots (no heap: one mapping). */
void
record_init(int n)
{
	void	*mem;

	mem = mmap(NULL, (size_t)n * sizeof(*walks), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fatal("allocate %d record walks", n);
	walks = mem;
}

/* Start walking a new connection, fd, in slot. */
void
record_reset(int slot, int fd)
{
	struct record_walk	*w = &walks[slot];

	/* Not the whole struct: clearing ahead[] would cost 8 KiB of writes. */
	memset(w, 0, offsetof(struct record_walk, ahead));
	w->ahead_off = w->ahead_len = 0;
	w->fd = fd;
}

/* libfcgi is about to read the connection of slot. */
void
record_use(int slot)
{
	walk = &walks[slot];
}

/* Whether bytes of the next request on slot's connection are here. */
int
record_pending(int slot)
{
	return walks[slot].ahead_len > 0;
}

/*
 * The params are over their bound: answer 431 for the request (libfcgi
 * never gets to build a response for it), log why, and fail from now on.
 */
static void
record_refuse(unsigned long long declared)
{
	FCGI_Header		 out;
	struct fcgi_closing	 closing;
	struct iovec		 iov[3];

	fcgi_header_fill(&out, FCGI_STDOUT, walk->request_id,
	    sizeof(record_431) - 1);
	fcgi_closing_fill(&closing, walk->request_id);
	iov[0].iov_base = &out;
	iov[0].iov_len = sizeof(out);
	iov[1].iov_base = (void *)(uintptr_t)record_431;
	iov[1].iov_len = sizeof(record_431) - 1;
	iov[2].iov_base = &closing;
	iov[2].iov_len = sizeof(closing);
	/* Small, on a connection with nothing written yet: one call. */
	if (writev(walk->fd, iov, 3) == -1)
		log_warn("answering 431");
	log_warnx("request refused: params over %d bytes or %d pairs (a "
	    "pair of %llu bytes after %llu bytes and %lu pairs); answered "
	    "431 and closed", RECORD_MAX_PARAMS_BYTES, RECORD_MAX_PARAMS,
	    declared, walk->params_bytes, walk->params);
	walk->refused = 1;
}

/*
 * Follow one length byte of params content (FastCGI 1.0, section 3.4:
 * a length is one byte below 128, else four with the top bit set).
 * Returns 0, or -1 when this byte completes the lengths of a pair that
 * breaks the bound: it must not reach libfcgi, which would allocate them.
 */
static int
record_length_byte(unsigned char c)
{
	unsigned long long	 declared;

	if (walk->len_have == 0) {
		walk->len_size = c & 0x80 ? 4 : 1;
		walk->len_value = c & 0x7f;
	} else
		walk->len_value = walk->len_value << 8 | c;
	walk->pair_head++;
	if (++walk->len_have < walk->len_size)
		return 0;
	walk->len_have = 0;
	if (walk->len_field == 0) {
		walk->name_len = walk->len_value;
		walk->len_field = 1;
		return 0;
	}
	walk->len_field = 0;
	declared = walk->pair_head + walk->name_len + walk->len_value;
	walk->pair_head = 0;
	if (walk->params_bytes + declared > RECORD_MAX_PARAMS_BYTES ||
	    walk->params + 1 > RECORD_MAX_PARAMS) {
		record_refuse(declared);
		return -1;
	}
	walk->params_bytes += declared;
	walk->params++;
	walk->pair_left = walk->name_len + walk->len_value;
	return 0;
}

/* A record header is complete: set up its content and padding. */
static void
record_begin(void)
{
	const unsigned char	*h = walk->header;
	int			 type = h[1];

	walk->left = (size_t)h[4] << 8 | h[5];
	walk->part = walk->left > 0 ? PART_CONTENT : PART_PADDING;
	if (type == FCGI_BEGIN_REQUEST) {
		walk->request_id = h[2] << 8 | h[3];
		walk->params_bytes = 0;
		walk->params = 0;
		walk->pair_left = 0;
		walk->len_field = 0;
		walk->len_have = 0;
		walk->pair_head = 0;
	}
	if (walk->part == PART_PADDING) {
		walk->left = h[6];
		if (walk->left == 0)
			walk->part = PART_HEADER;
	}
	/* The empty FCGI_STDIN record ends the request (and its padding). */
	if (type == FCGI_STDIN && (h[4] | h[5]) == 0)
		walk->request_done = 1;
}

/*
 * Walk n bytes at buf in place: take out the padding to drop, stop before
 * a pair that breaks the params bound, stop at the end of the request.
 * Returns how many bytes remain for libfcgi; *used says how many of the n
 * were walked (the rest belong to the next request).
 */
static size_t
record_walk(unsigned char *buf, size_t n, size_t *used)
{
	size_t	 in = 0, out = 0, take;

	*used = n;
	while (in < n) {
		/* The next record header belongs to the next request. */
		if (walk->request_done && walk->part == PART_HEADER &&
		    walk->have == 0) {
			*used = in;
			return out;
		}
		switch (walk->part) {
		case PART_HEADER:
			walk->header[walk->have] = buf[in];
			if (walk->have == 6) {
				/* Padding libfcgi would misread: none. */
				walk->drop_padding = (walk->header[1] ==
				    FCGI_BEGIN_REQUEST || (walk->header[1] ==
				    FCGI_PARAMS && walk->header[4] == 0 &&
				    walk->header[5] == 0)) &&
				    buf[in] != 0;
				if (walk->drop_padding)
					buf[in] = 0;
			}
			buf[out++] = buf[in++];
			if (++walk->have == FCGI_HEADER_LEN) {
				walk->have = 0;
				record_begin();
			}
			break;
		case PART_CONTENT:
			if (walk->header[1] == FCGI_PARAMS &&
			    walk->pair_left == 0) {
				if (record_length_byte(buf[in]) == -1) {
					*used = n;
					return out;
				}
				buf[out++] = buf[in++];
				take = 1;
			} else {
				take = n - in < walk->left ? n - in : walk->left;
				if (walk->header[1] == FCGI_PARAMS &&
				    take > walk->pair_left)
					take = (size_t)walk->pair_left;
				if (walk->header[1] == FCGI_PARAMS)
					walk->pair_left -= take;
				if (out != in)
					memmove(buf + out, buf + in, take);
				in += take;
				out += take;
			}
			if ((walk->left -= take) == 0) {
				walk->left = walk->header[6];
				walk->part = walk->left > 0 ? PART_PADDING :
				    PART_HEADER;
			}
			break;
		case PART_PADDING:
			take = n - in < walk->left ? n - in : walk->left;
			if (!walk->drop_padding) {
				if (out != in)
					memmove(buf + out, buf + in, take);
				out += take;
			}
			in += take;
			if ((walk->left -= take) == 0)
				walk->part = PART_HEADER;
			break;
		}
	}
	return out;
}

/*
 * libfcgi's read(), renamed in its private copy.  Reads of the connection
 * being walked are repaired and bounded, and end with the request: bytes
 * of the next one are kept (ahead) and returned by the next read first,
 * without a system call.  A read that the walk leaves empty -- all of it
 * padding -- reads again, so that 0 still means the end of the stream;
 * after a refusal every read fails (E2BIG).
 */
ssize_t
record_read(int fd, void *buf, size_t len)
{
	unsigned char	*b = buf;
	ssize_t		 n;
	size_t		 kept, used;
	int		 from_ahead;

	if (fd != walk->fd)
		return read(fd, buf, len);
	/* libfcgi reads again: for the next request. */
	walk->request_done = 0;
	for (;;) {
		if (walk->refused) {
			errno = E2BIG;
			return -1;
		}
		if ((from_ahead = walk->ahead_len > 0)) {
			n = (ssize_t)(len < walk->ahead_len ? len :
			    walk->ahead_len);
			memcpy(b, walk->ahead + walk->ahead_off, (size_t)n);
		} else if ((n = read(fd, buf, len)) <= 0)
			return n;
		kept = record_walk(b, (size_t)n, &used);
		if (from_ahead) {
			walk->ahead_off += used;
			walk->ahead_len -= used;
		} else if (used < (size_t)n) {
			/* Read from the socket, so ahead was empty. */
			walk->ahead_off = 0;
			walk->ahead_len = (size_t)n - used;
			memcpy(walk->ahead, b + used, walk->ahead_len);
		}
		if (kept > 0)
			return (ssize_t)kept;
	}
}
