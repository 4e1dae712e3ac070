/*
 * The x86 SIMD kernels of the uppercase transform: SSE2 (every x86-64) and
 * AVX2 (compiled with a target attribute, chosen at run time by upper.c).
 * A vector of ASCII is uppercased and stored whole; at the first byte
 * >= 0x80 the shared sequence loop of upper_seq.h takes over until the next
 * ASCII byte.  Elsewhere these names fall back to the scalar kernel.
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

__attribute__((target("avx2"))) UPPER_INLINE __m256i
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
 * In the moved phase the vector stores at d may cover up to 64 bytes of
 * output not yet final; the writer trails the reader by at least
 * UPPER_SLACK_BYTES (64), so they never reach unread input.
 */
UPPER_INLINE int
upper_sse2_body(struct upper_cursor *c, int moved)
{
	unsigned char		*d = c->dst;
	const unsigned char	*s = c->src, *e = c->end;
	__m128i			 v;
	unsigned		 m;
	int			 stop;

	while (e - s >= 16) {
		v = _mm_loadu_si128((const __m128i *)s);
		_mm_storeu_si128((__m128i *)d, upper_vec16(v));
		m = _mm_movemask_epi8(v);
		if (m == 0) {
			s += 16;
			d += 16;
			continue;
		}
		s += __builtin_ctz(m);
		d += __builtin_ctz(m);
		if ((stop = upper_seq_run(&d, &s, e, moved)))
			goto out;
	}
	stop = upper_tail(&d, &s, e, moved);
out:
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

__attribute__((target("avx2"))) UPPER_INLINE int
upper_avx2_body(struct upper_cursor *c, int moved)
{
	unsigned char		*d = c->dst;
	const unsigned char	*s = c->src, *e = c->end;
	__m256i			 a, b;
	uint64_t		 m;
	int			 stop;

	while (e - s >= 32) {
		a = _mm256_loadu_si256((const __m256i *)s);
		_mm256_storeu_si256((__m256i *)d, upper_vec32(a));
		if (e - s >= 64) {
			/* Two vectors per round on long ASCII runs. */
			b = _mm256_loadu_si256((const __m256i *)(s + 32));
			_mm256_storeu_si256((__m256i *)(d + 32),
			    upper_vec32(b));
			m = (uint32_t)_mm256_movemask_epi8(a) |
			    (uint64_t)(uint32_t)_mm256_movemask_epi8(b) << 32;
			if (m == 0) {
				s += 64;
				d += 64;
				continue;
			}
			s += __builtin_ctzll(m);
			d += __builtin_ctzll(m);
		} else {
			m = (uint32_t)_mm256_movemask_epi8(a);
			if (m == 0) {
				s += 32;
				d += 32;
				continue;
			}
			s += __builtin_ctzll(m);
			d += __builtin_ctzll(m);
		}
		if ((stop = upper_seq_run(&d, &s, e, moved)))
			goto out;
	}
	if (e - s >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)s);

		_mm_storeu_si128((__m128i *)d, upper_vec16(v));
		m = _mm_movemask_epi8(v);
		if (m == 0) {
			s += 16;
			d += 16;
		}
	}
	stop = upper_tail(&d, &s, e, moved);
out:
	c->dst = d;
	c->src = s;
	return stop;
}

/* The AVX2 kernel (see upper_impl.h for the contract). */
__attribute__((target("avx2"))) int
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
__attribute__((target("avx2"))) void
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
