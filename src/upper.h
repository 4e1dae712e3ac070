/*
 * The uppercase transform: pure functions over a caller-owned buffer.
 * No I/O, no libfcgi, no allocation; safe to call from any context.
 */
#ifndef UPPER_H
#define UPPER_H

#include <stddef.h>

/* Extra bytes past the worst-case output that the buffer must also hold. */
#define UPPER_SLACK_BYTES 64

/*
 * Bytes a buffer must have so that upper_utf8() can transform any body of
 * up to max_body bytes in place: valid UTF-8 grows by at most half (18 code
 * points go from 2 to 3 bytes), invalid bytes pass through unchanged.
 */
size_t	upper_capacity(size_t max_body);

/*
 * Uppercase buf[0..len) in place with the Unicode simple uppercase mapping
 * (UnicodeData.txt field 12), code point by code point, without locale or
 * context; bytes that are not valid UTF-8 are left as they are.  cap is the
 * size of buf and must be at least upper_capacity(len).  Returns the output
 * length, which may differ from len; nothing is allocated.  With a smaller
 * cap nothing is written past it, but a code point that would not fit
 * keeps its lower case.
 */
size_t	upper_utf8(unsigned char *buf, size_t len, size_t cap);

/* Map a-z to A-Z in buf[0..len) and leave every other byte alone. */
void	upper_ascii(unsigned char *buf, size_t len);

/* The Unicode version of the case mapping, e.g. "15.0.0". */
const char *upper_unicode_version(void);

#endif
