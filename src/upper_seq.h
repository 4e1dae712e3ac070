/*
 * The inner loop every kernel of the uppercase transform shares: one run of
 * non-ASCII bytes, sequence by sequence, through the byte-indexed tables of
 * upper_impl.h.  Header-only so that each kernel (scalar, SSE2, AVX2)
 * inlines it and the in-place and moved variants are compiled separately.
 */
#ifndef UPPER_SEQ_H
#define UPPER_SEQ_H

#include "upper_impl.h"

#define UPPER_INLINE	static inline __attribute__((always_inline))

#define UPPER_IS_CONT(b)	(((b) & 0xc0) == 0x80)

/* a-z to A-Z for one byte, without a branch. */
UPPER_INLINE unsigned char
upper_byte(unsigned char b)
{
	return b ^ ((unsigned)(b - 'a') < 26) << 5;
}

/*
 * a-z to A-Z in 8 bytes at once, any byte values: a byte is lower case when
 * its low 7 bits are in 0x61..0x7a and its high bit is clear.  No carry
 * crosses a byte because the low 7 bits plus 0x1f stay below 0x100.
 */
UPPER_INLINE uint64_t
upper_swar(uint64_t w)
{
	const uint64_t	 ones = 0x0101010101010101ULL;
	uint64_t	 h, lower;

	h = w & (0x7f * ones);
	lower = (h + 0x1f * ones) & ~(h + 0x05 * ones) & ~w & (0x80 * ones);
	return w ^ (lower >> 2);
}

/*
 * Uppercase the sequences at *sp while its byte is >= 0x80 (or end is
 * reached), writing at *dp.  Bytes that do not start a valid sequence are
 * copied alone, so the next byte is examined afresh.  In place (moved == 0)
 * it stops before a code point whose uppercase has another length and
 * returns 1; the caller then makes room (see upper_utf8()).
 */
UPPER_INLINE int
upper_seq_run(unsigned char **dp, const unsigned char **sp,
    const unsigned char *e, int moved)
{
	unsigned char		*d = *dp;
	const unsigned char	*s = *sp;
	unsigned		 b0, t;
	uint32_t		 v;
	size_t			 n, m;
	int			 stop = 0;

	while (s < e && (b0 = s[0]) >= 0x80) {
		if (b0 - 0xc2 < 0x1e && e - s >= 2 && UPPER_IS_CONT(s[1])) {
			v = upper_tab2[(b0 & 0x1f) << 6 | (s[1] & 0x3f)];
			if (v != 0) {
				d[0] = v;
				d[1] = v >> 8;
				s += 2;
				d += 2;
				continue;
			}
			if (!moved) {
				stop = 1;
				break;
			}
			n = upper_seq_slow(d, s, e, &m);
			s += n;
			d += m;
			continue;
		}
		if ((b0 & 0xf0) == 0xe0 && e - s >= 3 &&
		    UPPER_IS_CONT(s[1]) && UPPER_IS_CONT(s[2])) {
			t = upper_idx3[(b0 & 0x0f) << 6 | (s[1] & 0x3f)];
			if (t == 0) {
				d[0] = b0;
				d[1] = s[1];
				d[2] = s[2];
				s += 3;
				d += 3;
				continue;
			}
			if (t != 255) {
				v = upper_blk3[t][s[2] & 0x3f];
				if (v >> 24 != 3 && !moved) {
					stop = 1;
					break;
				}
				/* Three bytes are written even for 3->2. */
				d[0] = v;
				d[1] = v >> 8;
				d[2] = v >> 16;
				s += 3;
				d += v >> 24;
				continue;
			}
		} else if (b0 - 0xf0 < 5 && e - s >= 4 && UPPER_IS_CONT(s[1]) &&
		    UPPER_IS_CONT(s[2]) && UPPER_IS_CONT(s[3]) &&
		    !(b0 == 0xf4 && s[1] >= 0x90)) {
			t = b0 == 0xf0 ? upper_idx4[(s[1] & 0x3f) << 6 |
			    (s[2] & 0x3f)] : 0;
			if (t != 255) {
				if (t == 0)
					v = b0 | s[1] << 8 | s[2] << 16 |
					    (uint32_t)s[3] << 24;
				else
					v = upper_blk4[t][s[3] & 0x3f];
				d[0] = v;
				d[1] = v >> 8;
				d[2] = v >> 16;
				d[3] = v >> 24;
				s += 4;
				d += 4;
				continue;
			}
		}
		/* Not valid UTF-8 here: this byte passes through. */
		*d++ = *s++;
	}
	*dp = d;
	*sp = s;
	return stop;
}

/*
 * One sequence at p whose lead byte is C2-DF, E0-EF or F0-F4 and whose
 * continuation bytes the caller has checked (so they are in the buffer).
 * The vector kernels call it for each such lead in a block after storing
 * the whole block, so bytes that pass through are already in place at q:
 * an invalid sequence only reports its first byte as consumed.  Returns
 * the input bytes consumed and sets *out to the output bytes; returns 0
 * in place (moved == 0) for a code point whose length would change.
 */
UPPER_INLINE size_t
upper_seq_at(unsigned char *q, const unsigned char *p, int moved,
    size_t *out)
{
	unsigned	 b0 = p[0], t;
	uint32_t	 v;

	if (b0 < 0xe0) {
		v = upper_tab2[(b0 & 0x1f) << 6 | (p[1] & 0x3f)];
		if (v != 0) {
			q[0] = v;
			q[1] = v >> 8;
			*out = 2;
			return 2;
		}
		if (!moved)
			return 0;
		return upper_seq_slow(q, p, p + 2, out);
	}
	if (b0 < 0xf0) {
		t = upper_idx3[(b0 & 0x0f) << 6 | (p[1] & 0x3f)];
		if (t == 0) {
			/* Caseless (CJK...): in place nothing to do. */
			if (moved) {
				q[0] = b0;
				q[1] = p[1];
				q[2] = p[2];
			}
			*out = 3;
			return 3;
		}
		if (t == 255) {
			*out = 1;
			return 1;
		}
		v = upper_blk3[t][p[2] & 0x3f];
		if (v >> 24 != 3 && !moved)
			return 0;
		q[0] = v;
		q[1] = v >> 8;
		q[2] = v >> 16;
		*out = v >> 24;
		return 3;
	}
	t = b0 == 0xf0 ? upper_idx4[(p[1] & 0x3f) << 6 | (p[2] & 0x3f)] : 0;
	if (t == 255 || (b0 == 0xf4 && p[1] >= 0x90)) {
		*out = 1;
		return 1;
	}
	v = t == 0 ? b0 | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24 :
	    upper_blk4[t][p[3] & 0x3f];
	q[0] = v;
	q[1] = v >> 8;
	q[2] = v >> 16;
	q[3] = v >> 24;
	*out = 4;
	return 4;
}

#endif
