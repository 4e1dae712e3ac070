/*
 * The x86 SIMD kernels of the uppercase transform: SSE2 (every x86-64) and
 * AVX2 (compiled with a target attribute, chosen at run time by upper.c).
 * Each block is uppercased as ASCII and stored whole (bytes >= 0x80 are
 * unchanged by that); if it holds bytes >= 0x80, a vector test finds the
 * lead bytes that have their continuation bytes, and only those go through
 * the table lookup of upper_seq.h.  Bytes that are not valid UTF-8 thus
 * cost nothing: they are already in place.  Elsewhere these names fall
 * back to the scalar kernel.
 */
#include "upper_impl.h"
#include "upper_seq.h"

#ifdef UPPER_HAVE_X86
#include <immintrin.h>

/*
 * a-z to A-Z in a vector: b + 0x1f lands in 0x80..0x99, the smallest
 * signed bytes, exactly when b is in 0x61..0x7a.  Other bytes, >= 0x80
 * included, are unchanged.
 */
UPPER_INLINE __m128i
upper_vec16(__m128i v)
{
	__m128i	 x, lower;

	x = _mm_add_epi8(v, _mm_set1_epi8(0x1f));
	lower = _mm_cmplt_epi8(x, _mm_set1_epi8(-128 + 26));
	return _mm_xor_si128(v, _mm_and_si128(lower, _mm_set1_epi8(0x20)));
}

__attribute__((target("avx2,popcnt"))) UPPER_INLINE __m256i
upper_vec32(__m256i v)
{
	__m256i	 x, lower;

	x = _mm256_add_epi8(v, _mm256_set1_epi8(0x1f));
	lower = _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 26), x);
	return _mm256_xor_si256(v, _mm256_and_si256(lower,
	    _mm256_set1_epi8(0x20)));
}

/*
 * The tail shorter than a vector: ASCII bytes one by one, the rest through
 * the sequence loop.
 */
UPPER_INLINE int
upper_tail(unsigned char **dp, const unsigned char **sp,
    const unsigned char *e, int moved)
{
	while (*sp < e) {
		if (**sp < 0x80)
			*(*dp)++ = upper_byte(*(*sp)++);
		else if (upper_seq_run(dp, sp, e, moved))
			return 1;
	}
	return 0;
}

/*
 * The sequence starts in a block: lead bytes C2-DF followed by one
 * continuation byte, E0-EF by two, F0-F4 by three.  Each vector is one
 * byte further on (v1 = s + 1, ...).  A continuation byte is a signed byte
 * below -64; a range test adds the offset that moves the range to the
 * bottom of the signed bytes.
 */
UPPER_INLINE __m128i
upper_starts16(__m128i v0, __m128i v1, __m128i v2, __m128i v3)
{
	__m128i	 c1, c2, c3, l2, l3, l4;

	c1 = _mm_cmplt_epi8(v1, _mm_set1_epi8(-64));
	c2 = _mm_cmplt_epi8(v2, _mm_set1_epi8(-64));
	c3 = _mm_cmplt_epi8(v3, _mm_set1_epi8(-64));
	l2 = _mm_cmplt_epi8(_mm_add_epi8(v0, _mm_set1_epi8(0x80 - 0xc2)),
	    _mm_set1_epi8(-128 + 30));
	l3 = _mm_cmplt_epi8(_mm_add_epi8(v0, _mm_set1_epi8(0x80 - 0xe0)),
	    _mm_set1_epi8(-128 + 16));
	l4 = _mm_cmplt_epi8(_mm_add_epi8(v0, _mm_set1_epi8(0x80 - 0xf0)),
	    _mm_set1_epi8(-128 + 5));
	return _mm_and_si128(c1, _mm_or_si128(l2, _mm_and_si128(c2,
	    _mm_or_si128(l3, _mm_and_si128(l4, c3)))));
}

__attribute__((target("avx2,popcnt"))) UPPER_INLINE __m256i
upper_starts32(__m256i v0, __m256i v1, __m256i v2, __m256i v3)
{
	__m256i	 c1, c2, c3, l2, l3, l4, m64;

	m64 = _mm256_set1_epi8(-64);
	c1 = _mm256_cmpgt_epi8(m64, v1);
	c2 = _mm256_cmpgt_epi8(m64, v2);
	c3 = _mm256_cmpgt_epi8(m64, v3);
	l2 = _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 30),
	    _mm256_add_epi8(v0, _mm256_set1_epi8(0x80 - 0xc2)));
	l3 = _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 16),
	    _mm256_add_epi8(v0, _mm256_set1_epi8(0x80 - 0xe0)));
	l4 = _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 5),
	    _mm256_add_epi8(v0, _mm256_set1_epi8(0x80 - 0xf0)));
	return _mm256_and_si256(c1, _mm256_or_si256(l2, _mm256_and_si256(c2,
	    _mm256_or_si256(l3, _mm256_and_si256(l4, c3)))));
}

/* Two-byte sequences in a block that make the gathers worth their cost. */
#ifndef UPPER_GATHER_MIN
#define UPPER_GATHER_MIN	4
#endif

/*
 * Lead bytes of three-byte sequences without any case: E3-E9 (kana, CJK
 * ideographs), EB-ED (Hangul; ED A0-BF is a surrogate and passes through
 * anyway).  A bit mask of their positions.
 */
__attribute__((target("avx2,popcnt"))) UPPER_INLINE unsigned
upper_caseless3_32(__m256i v)
{
	__m256i	 a, b;

	a = _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 7),
	    _mm256_add_epi8(v, _mm256_set1_epi8(0x80 - 0xe3)));
	b = _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 3),
	    _mm256_add_epi8(v, _mm256_set1_epi8(0x80 - 0xeb)));
	return _mm256_movemask_epi8(_mm256_or_si256(a, b));
}

/* The lead bytes C2-DF followed by a continuation byte (v1 = s + 1). */
__attribute__((target("avx2,popcnt"))) UPPER_INLINE __m256i
upper_two_byte_starts32(__m256i v0, __m256i v1)
{
	return _mm256_and_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(-64), v1),
	    _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 30),
	    _mm256_add_epi8(v0, _mm256_set1_epi8(0x80 - 0xc2))));
}

/* upper_caseless3_32() for 16 bytes. */
UPPER_INLINE unsigned
upper_caseless3_16(__m128i v)
{
	__m128i	 a, b;

	a = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x80 - 0xe3)),
	    _mm_set1_epi8(-128 + 7));
	b = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x80 - 0xeb)),
	    _mm_set1_epi8(-128 + 3));
	return _mm_movemask_epi8(_mm_or_si128(a, b));
}

/*
 * The sequences of one block whose start positions are the bits of m.
 * The block (s[0..W) read, d[0..W) written with its ASCII uppercased) is
 * already stored, so only sequence starts need work; a sequence may run
 * past the block.  Returns where the next block starts in *sp, *dp, and 1
 * if in place a code point that changes length was reached (*sp at it).
 * In the moved phase such a code point ends the block early, since the
 * bytes after it must shift.
 */
UPPER_INLINE int
upper_block_seqs(unsigned char **dp, const unsigned char **sp, unsigned m,
    size_t w, int moved)
{
	unsigned char		*d = *dp;
	const unsigned char	*s = *sp, *next = s + w;
	size_t			 i, n, out;

	while (m != 0) {
		i = __builtin_ctz(m);
		m &= m - 1;
		n = upper_seq_at(d + i, s + i, moved, &out);
		if (n == 0) {
			*sp = s + i;
			*dp = d + i;
			return 1;
		}
		if (moved && out != n) {
			*sp = s + i + n;
			*dp = d + i + out;
			return 0;
		}
		if (s + i + n > next)
			next = s + i + n;
	}
	*dp = d + (next - s);
	*sp = next;
	return 0;
}

/*
 * 16-byte blocks while at least 16 + 3 bytes remain (the start test reads
 * 3 bytes ahead).  In the moved phase the vector stores at d may cover
 * output that is not yet final; the writer trails the reader by at least
 * UPPER_SLACK_BYTES (64), so they never reach unread input.
 */
UPPER_INLINE int
upper_sse2_blocks(unsigned char **dp, const unsigned char **sp,
    const unsigned char *e, int moved)
{
	__m128i		 v;
	unsigned	 m;

	while (e - *sp >= 16 + 3) {
		v = _mm_loadu_si128((const __m128i *)*sp);
		if (_mm_movemask_epi8(v) == 0) {
			_mm_storeu_si128((__m128i *)*dp, upper_vec16(v));
			*sp += 16;
			*dp += 16;
			continue;
		}
		/* All loads before the store (see upper_avx2_body()). */
		m = _mm_movemask_epi8(upper_starts16(v,
		    _mm_loadu_si128((const __m128i *)(*sp + 1)),
		    _mm_loadu_si128((const __m128i *)(*sp + 2)),
		    _mm_loadu_si128((const __m128i *)(*sp + 3))));
		/* In place, skip CJK and Hangul (see upper_avx2_body()). */
		if (!moved)
			m &= ~(upper_caseless3_16(v) & 0x3fffU);
		_mm_storeu_si128((__m128i *)*dp, upper_vec16(v));
		if (upper_block_seqs(dp, sp, m, 16, moved))
			return 1;
	}
	return 0;
}

UPPER_INLINE int
upper_sse2_body(struct upper_cursor *c, int moved)
{
	unsigned char		*d = c->dst;
	const unsigned char	*s = c->src;
	int			 stop;

	if (!(stop = upper_sse2_blocks(&d, &s, c->end, moved)))
		stop = upper_tail(&d, &s, c->end, moved);
	c->dst = d;
	c->src = s;
	return stop;
}

/* The SSE2 kernel (see upper_impl.h for the contract). */
int
upper_kernel_sse2(struct upper_cursor *c, int moved)
{
	return moved ? upper_sse2_body(c, 1) : upper_sse2_body(c, 0);
}

/*
 * The two-byte sequences of a block (Latin, Greek, Cyrillic, Armenian...;
 * leads at the bits of st2): instead of one table lookup per lead, gather
 * the two output bytes for all 32 positions (an index made of any two
 * bytes is within the table), keep the first byte at leads and the second
 * after them, uppercase ASCII, leave other bytes, store.  A lead at byte 31
 * has its continuation at byte 32, written as well.  In place, the block
 * may hold a code point that changes length before some of these: then
 * they are uppercased again after the tail moved, which changes nothing
 * because no uppercase letter has an uppercase mapping of its own
 * (tools/gen-upper-table.sh checks).  Returns 0 without writing anything
 * if a two-byte code point here changes length (table entry 0).
 */
__attribute__((target("avx2,popcnt"))) UPPER_INLINE int
upper_avx2_two_byte(unsigned char *d, const unsigned char *s, __m256i v,
    __m256i v1, __m256i st2, unsigned m2)
{
	const int	*tab = (const int *)(const void *)upper_tab2;
	__m256i		 r[4], idx[4], a, b, w01, w23, lo, hi, st2s, out;
	unsigned char	 last;
	int		 k;

	/* Index bits of each byte and of the byte after it, 16 bits each. */
	a = _mm256_and_si256(v, _mm256_set1_epi8(0x1f));
	b = _mm256_and_si256(v1, _mm256_set1_epi8(0x3f));
	w01 = _mm256_unpacklo_epi8(b, a);	/* bytes 0-7, 16-23 */
	w23 = _mm256_unpackhi_epi8(b, a);	/* bytes 8-15, 24-31 */
	/* (a << 8 | b) -> a << 6 | b */
	w01 = _mm256_or_si256(_mm256_srli_epi16(_mm256_andnot_si256(
	    _mm256_set1_epi16(0xff), w01), 2), _mm256_and_si256(w01,
	    _mm256_set1_epi16(0xff)));
	w23 = _mm256_or_si256(_mm256_srli_epi16(_mm256_andnot_si256(
	    _mm256_set1_epi16(0xff), w23), 2), _mm256_and_si256(w23,
	    _mm256_set1_epi16(0xff)));
	idx[0] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(w01));
	idx[1] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(w23));
	idx[2] = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(w01, 1));
	idx[3] = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(w23, 1));
	for (k = 0; k < 4; k++)
		r[k] = _mm256_and_si256(_mm256_i32gather_epi32(tab, idx[k], 2),
		    _mm256_set1_epi32(0xffff));
	/* Packing works per 128-bit lane; the permutes restore the order. */
	w01 = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xd8);
	w23 = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[2], r[3]), 0xd8);
	lo = _mm256_permute4x64_epi64(_mm256_packus_epi16(
	    _mm256_and_si256(w01, _mm256_set1_epi16(0xff)),
	    _mm256_and_si256(w23, _mm256_set1_epi16(0xff))), 0xd8);
	hi = _mm256_permute4x64_epi64(_mm256_packus_epi16(
	    _mm256_srli_epi16(w01, 8), _mm256_srli_epi16(w23, 8)), 0xd8);
	if (_mm256_movemask_epi8(_mm256_and_si256(st2,
	    _mm256_cmpeq_epi8(lo, _mm256_setzero_si256()))) != 0)
		return 0;
	/* Shift by one byte across the lanes: byte j gets byte j - 1. */
	hi = _mm256_alignr_epi8(hi, _mm256_permute2x128_si256(hi, hi, 0x08),
	    15);
	st2s = _mm256_alignr_epi8(st2, _mm256_permute2x128_si256(st2, st2,
	    0x08), 15);
	out = _mm256_blendv_epi8(_mm256_blendv_epi8(upper_vec32(v), hi, st2s),
	    lo, st2);
	/* Before the store: in place it overwrites s[31]. */
	last = upper_tab2[(s[31] & 0x1f) << 6 | (s[32] & 0x3f)] >> 8;
	_mm256_storeu_si256((__m256i *)d, out);
	if (m2 >> 31)
		d[32] = last;
	return 1;
}

/*
 * 32-byte blocks; after a block of pure ASCII, 128 bytes per round until
 * a round is not pure ASCII.
 */
__attribute__((target("avx2,popcnt"))) UPPER_INLINE int
upper_avx2_body(struct upper_cursor *c, int moved)
{
	unsigned char		*d = c->dst;
	const unsigned char	*s = c->src, *e = c->end;
	__m256i			 v, a, b, x;
	unsigned		 m, m2;
	size_t			 w;
	int			 stop = 0;

	while (e - s >= 32 + 3) {
		v = _mm256_loadu_si256((const __m256i *)s);
		if (_mm256_movemask_epi8(v) == 0) {
			_mm256_storeu_si256((__m256i *)d, upper_vec32(v));
			s += 32;
			d += 32;
			while (e - s >= 128) {
				v = _mm256_loadu_si256((const __m256i *)s);
				a = _mm256_loadu_si256((const __m256i *)
				    (s + 32));
				b = _mm256_loadu_si256((const __m256i *)
				    (s + 64));
				x = _mm256_loadu_si256((const __m256i *)
				    (s + 96));
				if (_mm256_movemask_epi8(_mm256_or_si256(
				    _mm256_or_si256(v, a),
				    _mm256_or_si256(b, x))) != 0)
					break;
				_mm256_storeu_si256((__m256i *)d,
				    upper_vec32(v));
				_mm256_storeu_si256((__m256i *)(d + 32),
				    upper_vec32(a));
				_mm256_storeu_si256((__m256i *)(d + 64),
				    upper_vec32(b));
				_mm256_storeu_si256((__m256i *)(d + 96),
				    upper_vec32(x));
				s += 128;
				d += 128;
			}
			continue;
		}
		/*
		 * Load all before the first store: in place, a load that
		 * overlaps a store only in part waits for it to retire.
		 */
		a = _mm256_loadu_si256((const __m256i *)(s + 1));
		b = upper_two_byte_starts32(v, a);
		m2 = _mm256_movemask_epi8(b);
		/* Without bytes >= E0 (Latin, Greek, Cyrillic) that is all. */
		m = m2;
		if (_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_max_epu8(v,
		    _mm256_set1_epi8((char)0xe0)))) != 0) {
			m = _mm256_movemask_epi8(upper_starts32(v, a,
			    _mm256_loadu_si256((const __m256i *)(s + 2)),
			    _mm256_loadu_si256((const __m256i *)(s + 3))));
			/*
			 * In place, CJK and Hangul need nothing: drop the
			 * starts of their sequences unless one runs past the
			 * block.
			 */
			if (!moved)
				m &= ~(upper_caseless3_32(v) & 0x3fffffffU);
		}
		_mm256_storeu_si256((__m256i *)d, upper_vec32(v));
		/*
		 * Enough two-byte sequences to be worth the gathers (French
		 * has a few per block, Russian 10 or more): they are done,
		 * the block's other starts go on one by one.
		 */
		w = 32;
		if (__builtin_popcount(m2) >= UPPER_GATHER_MIN &&
		    upper_avx2_two_byte(d, s, v, a, b, m2)) {
			m &= ~m2;
			w += m2 >> 31;
		}
		if ((stop = upper_block_seqs(&d, &s, m, w, moved)))
			goto out;
	}
	if (!(stop = upper_sse2_blocks(&d, &s, e, moved)))
		stop = upper_tail(&d, &s, e, moved);
out:
	c->dst = d;
	c->src = s;
	return stop;
}

/* The AVX2 kernel (see upper_impl.h for the contract). */
__attribute__((target("avx2,popcnt"))) int
upper_kernel_avx2(struct upper_cursor *c, int moved)
{
	return moved ? upper_avx2_body(c, 1) : upper_avx2_body(c, 0);
}

/* The SSE2 --ascii transform. */
void
upper_ascii_sse2(unsigned char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i + 16 <= len; i += 16)
		_mm_storeu_si128((__m128i *)(buf + i), upper_vec16(
		    _mm_loadu_si128((const __m128i *)(buf + i))));
	upper_ascii_scalar(buf + i, len - i);
}

/* The AVX2 --ascii transform. */
__attribute__((target("avx2,popcnt"))) void
upper_ascii_avx2(unsigned char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i + 32 <= len; i += 32)
		_mm256_storeu_si256((__m256i *)(buf + i), upper_vec32(
		    _mm256_loadu_si256((const __m256i *)(buf + i))));
	upper_ascii_sse2(buf + i, len - i);
}

#else /* !UPPER_HAVE_X86 */

/* Without x86 SIMD the vector names run the scalar kernel. */
int
upper_kernel_sse2(struct upper_cursor *c, int moved)
{
	return upper_kernel_scalar(c, moved);
}

/* Without x86 SIMD the vector names run the scalar kernel. */
int
upper_kernel_avx2(struct upper_cursor *c, int moved)
{
	return upper_kernel_scalar(c, moved);
}

/* Without x86 SIMD the vector names run the scalar transform. */
void
upper_ascii_sse2(unsigned char *buf, size_t len)
{
	upper_ascii_scalar(buf, len);
}

/* Without x86 SIMD the vector names run the scalar transform. */
void
upper_ascii_avx2(unsigned char *buf, size_t len)
{
	upper_ascii_scalar(buf, len);
}

#endif
