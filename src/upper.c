/*
 * The uppercase transform.  This first version maps only a-z; the Unicode
 * simple mapping replaces it behind the same API (see upper.h).
 */
#include "upper.h"

size_t
upper_capacity(size_t max_body)
{
	return max_body + max_body / 2 + UPPER_SLACK_BYTES;
}

size_t
upper_utf8(unsigned char *buf, size_t len, size_t cap)
{
	(void)cap;
	upper_ascii(buf, len);
	return len;
}

void
upper_ascii(unsigned char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] -= 'a' - 'A';
}

const char *
upper_unicode_version(void)
{
	return "none (ASCII only)";
}
