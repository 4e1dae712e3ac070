/*
 * The uppercase transform: the API of upper.h, the choice of kernel for
 * this CPU, the in-place driver and the portable scalar kernel.  The SIMD
 * kernels are in upper_simd.c, the shared inner loop in upper_seq.h, the
 * tables in the generated upper_table.c and the slow reference in
 * upper_ref.c.  Pure: no I/O, no allocation, no global state but the kernel
 * chosen once.
 *
 * Every code point gets its Unicode simple uppercase mapping; bytes that are
 * not valid UTF-8 pass through.  Most text keeps its length and is done
 * strictly in place.  At the first code point whose uppercase is longer or
 * shorter (31 of them), the unread tail moves once to the end of the buffer
 * and the pass continues from there, writing behind itself.
 */
#include <string.h>

#include "upper.h"
#include "upper_impl.h"
#include "upper_seq.h"

static int	upper_kernel_pick(struct upper_cursor *, int);
static void	upper_ascii_pick(unsigned char *, size_t);

/* Chosen on first use; a race only stores the same pointer twice. */
static upper_kernel_fn	 upper_kernel = upper_kernel_pick;
static void		(*upper_ascii_fn)(unsigned char *, size_t) =
			    upper_ascii_pick;

/* Bytes the caller's buffer needs for any body of up to max_body bytes. */
size_t
upper_capacity(size_t max_body)
{
	return max_body + max_body / 2 + UPPER_SLACK_BYTES;
}

/* Uppercase buf[0..len) in place; see upper.h. */
size_t
upper_utf8(unsigned char *buf, size_t len, size_t cap)
{
	return upper_utf8_with(upper_kernel, buf, len, cap);
}

/* Map a-z to A-Z in buf[0..len). */
void
upper_ascii(unsigned char *buf, size_t len)
{
	upper_ascii_fn(buf, len);
}

/* The Unicode version the tables were generated from. */
const char *
upper_unicode_version(void)
{
	return upper_table_version;
}

/* The kernels this build can run on this CPU. */
unsigned
upper_isa_available(void)
{
	unsigned	 isa = UPPER_ISA_SCALAR;

#ifdef UPPER_HAVE_X86
	isa |= UPPER_ISA_SSE2;
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		isa |= UPPER_ISA_AVX2;
#endif
	return isa;
}

static int
upper_kernel_pick(struct upper_cursor *c, int moved)
{
	unsigned	 isa = upper_isa_available();

	if (isa & UPPER_ISA_AVX2)
		upper_kernel = upper_kernel_avx2;
	else if (isa & UPPER_ISA_SSE2)
		upper_kernel = upper_kernel_sse2;
	else
		upper_kernel = upper_kernel_scalar;
	return upper_kernel(c, moved);
}

static void
upper_ascii_pick(unsigned char *buf, size_t len)
{
	unsigned	 isa = upper_isa_available();

	if (isa & UPPER_ISA_AVX2)
		upper_ascii_fn = upper_ascii_avx2;
	else if (isa & UPPER_ISA_SSE2)
		upper_ascii_fn = upper_ascii_sse2;
	else
		upper_ascii_fn = upper_ascii_scalar;
	upper_ascii_fn(buf, len);
}

/*
 * The rest of the body when the caller's buffer is smaller than
 * upper_capacity(len) promises: byte-exact and never past cap, but a code
 * point whose uppercase would overrun unread input stays as it is.  The
 * daemon never gets here.
 */
static size_t
upper_utf8_cramped(unsigned char *buf, struct upper_cursor *c)
{
	unsigned char	 tmp[4];
	size_t		 n, m;

	while (c->src < c->end) {
		if (*c->src < 0x80) {
			*c->dst++ = upper_byte(*c->src++);
			continue;
		}
		n = upper_seq_slow(tmp, c->src, c->end, &m);
		if (c->dst + m > c->src + n) {
			memmove(c->dst, c->src, n);
			m = n;
		} else
			memcpy(c->dst, tmp, m);
		c->src += n;
		c->dst += m;
	}
	return c->dst - buf;
}

/* upper_utf8() with the given kernel (the tests pick each one). */
size_t
upper_utf8_with(upper_kernel_fn kernel, unsigned char *buf, size_t len,
    size_t cap)
{
	struct upper_cursor	 c;
	size_t			 done, rem;

	c.dst = buf;
	c.src = buf;
	c.end = buf + len;
	if (!kernel(&c, 0))
		return len;

	/*
	 * A code point changes length at c.src.  Move the unread tail to the
	 * end of the buffer once.  The output of n input bytes is at most
	 * n + n / 2, so with cap >= done + rem + rem / 2 + UPPER_SLACK_BYTES
	 * the writer stays at least UPPER_SLACK_BYTES behind the reader: full
	 * vector stores at dst never reach unread input.
	 */
	if (cap < len)
		cap = len;
	done = c.dst - buf;
	rem = len - done;
	memmove(buf + cap - rem, c.src, rem);
	c.src = buf + cap - rem;
	c.end = buf + cap;
	if (cap - done < rem + rem / 2 + UPPER_SLACK_BYTES)
		return upper_utf8_cramped(buf, &c);
	kernel(&c, 1);
	return c.dst - buf;
}

/*
 * The portable kernel: 8 bytes at a time while they are ASCII, the shared
 * sequence loop for the rest.  An 8-byte store of uppercased ASCII over a
 * word that also holds other bytes is harmless: it leaves bytes >= 0x80 as
 * they are, and an ASCII byte is always a character of its own.
 */
UPPER_INLINE int
upper_scalar_body(struct upper_cursor *c, int moved)
{
	unsigned char		*d = c->dst;
	const unsigned char	*s = c->src, *e = c->end;
	uint64_t		 w, hi;
	int			 stop = 0;

	while (e - s >= 8) {
		memcpy(&w, s, 8);
		w = upper_swar(w);
		memcpy(d, &w, 8);
		hi = w & 0x8080808080808080ULL;
		if (hi == 0) {
			s += 8;
			d += 8;
			continue;
		}
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		s += __builtin_ctzll(hi) / 8;
		d += __builtin_ctzll(hi) / 8;
#else
		s += __builtin_clzll(hi) / 8;
		d += __builtin_clzll(hi) / 8;
#endif
		if ((stop = upper_seq_run(&d, &s, e, moved)))
			goto out;
	}
	while (s < e) {
		if (*s < 0x80)
			*d++ = upper_byte(*s++);
		else if ((stop = upper_seq_run(&d, &s, e, moved)))
			break;
	}
out:
	c->dst = d;
	c->src = s;
	return stop;
}

/* The portable kernel (see upper_impl.h for the contract). */
int
upper_kernel_scalar(struct upper_cursor *c, int moved)
{
	return moved ? upper_scalar_body(c, 1) : upper_scalar_body(c, 0);
}

/* The portable --ascii transform, 8 bytes at a time. */
void
upper_ascii_scalar(unsigned char *buf, size_t len)
{
	uint64_t	 w;
	size_t		 i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, buf + i, 8);
		w = upper_swar(w);
		memcpy(buf + i, &w, 8);
	}
	for (; i < len; i++)
		buf[i] = upper_byte(buf[i]);
}
