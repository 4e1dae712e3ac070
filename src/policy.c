/*
 * Request policy.  Everything that decides a status lives here, apart from
 * the I/O that gathers the facts (worker.c), so that each rule can be unit
 * tested without a socket.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/*
 * Parse a byte count with an optional k or M suffix (powers of 1024), as
 * nginx's client_max_body_size does.  Returns 0 on success, -1 if the text
 * is not a size or exceeds POLICY_MAX_BODY_LIMIT.
 */
int
policy_parse_size(const char *text, size_t *bytes)
{
	unsigned long long	 value = 0, unit = 1;
	const char		*p = text;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		value = value * 10 + (unsigned long long)(*p - '0');
		if (value > POLICY_MAX_BODY_LIMIT)
			return -1;
	}
	if (*p == 'k' || *p == 'K')
		unit = 1024;
	else if (*p == 'm' || *p == 'M')
		unit = 1024 * 1024;
	else if (*p != '\0')
		return -1;
	if (unit != 1 && *++p != '\0')
		return -1;
	if (value * unit > POLICY_MAX_BODY_LIMIT)
		return -1;
	*bytes = (size_t)(value * unit);
	return 0;
}

/* Parse a decimal integer within [min, max].  Returns 0 or -1. */
int
policy_parse_count(const char *text, long min, long max, long *out)
{
	char	*end;
	long	 value;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < min || value > max)
		return -1;
	*out = value;
	return 0;
}

/*
 * Classify a CONTENT_LENGTH parameter.  NULL or "" means unknown (nginx
 * sends an empty one for a GET); only plain decimal digits are valid, so
 * signs, spaces, hex and values past 2^64 are invalid.
 */
enum content_length_kind
policy_parse_content_length(const char *text, unsigned long long *length)
{
	unsigned long long	 value = 0;
	unsigned		 digit;
	const char		*p;

	if (text == NULL || *text == '\0')
		return CONTENT_LENGTH_UNKNOWN;
	for (p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return CONTENT_LENGTH_INVALID;
		digit = (unsigned)(*p - '0');
		if (value > (ULLONG_MAX - digit) / 10)
			return CONTENT_LENGTH_INVALID;
		value = value * 10 + digit;
	}
	*length = value;
	return CONTENT_LENGTH_VALID;
}

/*
 * Whether FCGI_ROLE (which libfcgi sets from FCGI_BEGIN_REQUEST) asks for a
 * responder.  An authorizer that answered 200 would grant every request,
 * so any other role is refused.
 */
int
policy_role_is_responder(const char *role)
{
	return role != NULL && strcmp(role, "RESPONDER") == 0;
}

/*
 * Decide from the params alone, before reading the body: VERDICT_OK means
 * "read it".  A foreign role, or a declared length that is malformed or
 * over the limit, is refused at once.
 */
enum verdict
policy_precheck(const struct body_facts *f)
{
	if (f->foreign_role)
		return VERDICT_FORBIDDEN;
	if (f->content_length_kind == CONTENT_LENGTH_INVALID)
		return VERDICT_BAD_REQUEST;
	if (f->content_length_kind == CONTENT_LENGTH_VALID &&
	    f->content_length > f->max_body)
		return VERDICT_TOO_LARGE;
	return VERDICT_OK;
}

/*
 * Decide after the body was read.  A stream that ended by error gets no
 * answer, since nobody is left to read it; a body whose size disagrees
 * with CONTENT_LENGTH is refused, as the FastCGI specification (6.2) asks.
 */
enum verdict
policy_decide(const struct body_facts *f)
{
	enum verdict	 v;

	if ((v = policy_precheck(f)) != VERDICT_OK)
		return v;
	if (f->stream_error)
		return VERDICT_ABORTED;
	if (f->over_limit)
		return VERDICT_TOO_LARGE;
	if (f->content_length_kind == CONTENT_LENGTH_VALID &&
	    f->content_length != f->received)
		return VERDICT_BAD_REQUEST;
	return VERDICT_OK;
}
