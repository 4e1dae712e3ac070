/*
 * Request policy: how option values and CONTENT_LENGTH are parsed and
 * which status a request gets.  Pure functions, no I/O.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>

/* Largest -m value: libfcgi counts bytes in an int, and 1.5x must fit. */
#define POLICY_MAX_BODY_LIMIT	((size_t)1 << 30)

enum content_length_kind {
	CONTENT_LENGTH_UNKNOWN,		/* absent or empty: read to the end */
	CONTENT_LENGTH_VALID,		/* a decimal number that fits */
	CONTENT_LENGTH_INVALID		/* anything else */
};

/* What the worker learned about one request body. */
struct body_facts {
	enum content_length_kind content_length_kind;
	unsigned long long	 content_length;
	int			 foreign_role;	/* FCGI_ROLE not RESPONDER */
	size_t			 max_body;	/* the -m limit */
	size_t			 received;	/* bytes read, at most max_body */
	int			 over_limit;	/* more than max_body arrived */
	int			 stream_error;	/* stdin ended by error or abort */
};

enum verdict {
	VERDICT_OK,			/* 200 with the uppercased body */
	VERDICT_BAD_REQUEST,		/* 400 */
	VERDICT_TOO_LARGE,		/* 413 */
	VERDICT_FORBIDDEN,		/* 403: not a responder request */
	VERDICT_ABORTED			/* no response: the peer is gone */
};

int	policy_role_is_responder(const char *);
int	policy_parse_size(const char *, size_t *);
int	policy_parse_count(const char *, long, long, long *);
enum content_length_kind
	policy_parse_content_length(const char *, unsigned long long *);
enum verdict
	policy_precheck(const struct body_facts *);
enum verdict
	policy_decide(const struct body_facts *);

#endif
