/*
 * The peer allowlist.  This file owns the list's syntax (libfcgi's
 * FCGI_WEB_SERVER_ADDRS: comma-separated addresses, plus IPv6 and CIDR
 * prefixes) and the question "may this peer talk to us"; refusing and
 * logging are accept.c's.  An IPv4 peer that reaches an IPv6 socket
 * arrives as ::ffff:a.b.c.d and is matched as the IPv4 address it is.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"

#define ALLOW_TEXT_BYTES	64	/* longest entry text, with /prefix */

static const unsigned char allow_v4_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Parse one entry (len bytes at text) into e; 0 or -1. */
static int
allow_parse_entry(const char *text, size_t len, struct allow_entry *e)
{
	char		 buf[ALLOW_TEXT_BYTES], *slash, *end;
	long		 bits;
	int		 max_bits, i;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(e, 0, sizeof(*e));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, e->addr) == 1) {
		e->family = AF_INET;
		max_bits = 32;
	} else if (inet_pton(AF_INET6, buf, e->addr) == 1) {
		e->family = AF_INET6;
		max_bits = 128;
	} else
		return -1;
	e->prefix_bits = max_bits;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits > max_bits)
			return -1;
		e->prefix_bits = (int)bits;
	}
	/* Host bits past the prefix are ignored, as in any CIDR list. */
	for (i = e->prefix_bits; i < max_bits; i++)
		e->addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	return 0;
}

/*
 * Parse a comma-separated list of addresses and CIDR prefixes, blanks
 * around entries allowed.  Returns 0, or -1 with the offending entry
 * described in err (errsize bytes).
 */
int
allow_parse(const char *text, struct allow_list *list, char *err,
    size_t errsize)
{
	const char	*p = text, *start, *end;

	list->n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (list->n == ALLOW_MAX_ENTRIES) {
			snprintf(err, errsize, "more than %d entries",
			    ALLOW_MAX_ENTRIES);
			return -1;
		}
		if (allow_parse_entry(start, (size_t)(end - start),
		    &list->entry[list->n]) == -1) {
			snprintf(err, errsize, "\"%.*s\" is not an IPv4 or "
			    "IPv6 address or prefix", (int)(end - start) > 60 ?
			    60 : (int)(end - start), start);
			return -1;
		}
		list->n++;
		if (*p == '\0')
			return 0;
		p++;
	}
}

/* Whether the first bits of a and b agree. */
static int
allow_prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int	 whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/*
 * Normalise a peer address into 16 bytes, IPv4 as ::ffff:a.b.c.d.
 * Returns the family the peer really has (AF_INET for a mapped IPv6
 * address), or -1 for a peer that is not IP (a unix socket).
 */
int
allow_peer_key(const struct sockaddr *sa, socklen_t len, unsigned char *key)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET && len >= sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(key, allow_v4_mapped, 12);
		memcpy(key + 12, &sin->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(key, &sin6->sin6_addr, 16);
		return memcmp(key, allow_v4_mapped, 12) == 0 ? AF_INET :
		    AF_INET6;
	}
	return -1;
}

/*
 * Whether the peer at sa may talk to us: yes for an empty list and for a
 * peer that is not IP (the list only speaks of IP addresses); otherwise
 * only when an entry of its family covers it.
 */
int
allow_match(const struct allow_list *list, const struct sockaddr *sa,
    socklen_t len)
{
	unsigned char	 key[16];
	int		 family, i;

	if (list->n == 0 || (family = allow_peer_key(sa, len, key)) == -1)
		return 1;
	for (i = 0; i < list->n; i++) {
		const struct allow_entry *e = &list->entry[i];

		if (e->family != family)
			continue;
		if (family == AF_INET ?
		    allow_prefix_equal(key + 12, e->addr, e->prefix_bits) :
		    allow_prefix_equal(key, e->addr, e->prefix_bits))
			return 1;
	}
	return 0;
}

/* Format a peer address for a log line: "192.0.2.1" or "2001:db8::1". */
const char *
allow_peer_text(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t size)
{
	unsigned char	 key[16];
	int		 family;

	if ((family = allow_peer_key(sa, len, key)) == -1 ||
	    inet_ntop(family, family == AF_INET ? key + 12 : key, buf,
	    (socklen_t)size) == NULL)
		snprintf(buf, size, "(unknown address)");
	return buf;
}
