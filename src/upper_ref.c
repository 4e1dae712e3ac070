/*
 * The slow, plainly written side of the uppercase transform: a textbook
 * UTF-8 decoder and encoder around a binary search of the generated list of
 * mappings.  The fast kernels call upper_seq_slow() for the few code points
 * their tables leave out; the tests and the fuzzer use upper_ref() as the
 * reference the kernels must match byte for byte.  It shares nothing with
 * the byte-indexed tables but the UnicodeData.txt they were generated from.
 */
#include "upper_impl.h"

/*
 * Decode one well-formed UTF-8 sequence at s (s < end) into *cp; return
 * its length, or 0 if the bytes there are not one (then the first byte
 * passes through alone).  Well-formed as in Unicode table 3-7: shortest
 * form, no surrogates, nothing above U+10FFFF.
 */
static size_t
upper_decode(const unsigned char *s, const unsigned char *end, uint32_t *cp)
{
	size_t		 n, i;
	uint32_t	 c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc0 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf7) {
		n = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Encode cp as UTF-8 at d; return the length. */
static size_t
upper_encode(unsigned char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = 0xc0 | cp >> 6;
		d[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = 0xe0 | cp >> 12;
		d[1] = 0x80 | (cp >> 6 & 0x3f);
		d[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	d[0] = 0xf0 | cp >> 18;
	d[1] = 0x80 | (cp >> 12 & 0x3f);
	d[2] = 0x80 | (cp >> 6 & 0x3f);
	d[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* The simple uppercase mapping of cp: binary search of upper_pairs. */
uint32_t
upper_simple(uint32_t cp)
{
	size_t	 lo = 0, hi = upper_npairs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (upper_pairs[mid][0] == cp)
			return upper_pairs[mid][1];
		if (upper_pairs[mid][0] < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return cp;
}

/* One sequence the general way; see upper_impl.h. */
size_t
upper_seq_slow(unsigned char *d, const unsigned char *s,
    const unsigned char *end, size_t *outlen)
{
	uint32_t	 cp;
	size_t		 n;

	if ((n = upper_decode(s, end, &cp)) == 0) {
		d[0] = s[0];
		*outlen = 1;
		return 1;
	}
	*outlen = upper_encode(d, upper_simple(cp));
	return n;
}

/* The reference transform, out of place; see upper_impl.h. */
size_t
upper_ref(unsigned char *out, const unsigned char *in, size_t len)
{
	const unsigned char	*s = in, *end = in + len;
	unsigned char		*d = out;
	size_t			 n, m;

	while (s < end) {
		n = upper_seq_slow(d, s, end, &m);
		s += n;
		d += m;
	}
	return d - out;
}
