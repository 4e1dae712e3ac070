/*
 * Unit tests for the uppercase transform (src/upper*.c): every code point
 * against the generated mapping, the 31 code points that change length at
 * the edges of the buffer, every kind of invalid UTF-8, --ascii, and every
 * kernel (scalar, SSE2, AVX2) against the slow reference on random input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "upper.h"
#include "upper_impl.h"

struct kernel {
	const char	*name;
	unsigned	 isa;
	upper_kernel_fn	 fn;
	void		(*ascii)(unsigned char *, size_t);
};

static const struct kernel kernels[] = {
	{ "scalar", UPPER_ISA_SCALAR, upper_kernel_scalar, upper_ascii_scalar },
	{ "sse2", UPPER_ISA_SSE2, upper_kernel_sse2, upper_ascii_sse2 },
	{ "avx2", UPPER_ISA_AVX2, upper_kernel_avx2, upper_ascii_avx2 },
};
#define NKERNELS (sizeof(kernels) / sizeof(kernels[0]))

/* Whether this CPU runs kernel k. */
static int
kernel_ok(size_t k)
{
	return (upper_isa_available() & kernels[k].isa) != 0;
}

/* Test-local UTF-8 encoder, independent of the one in upper_ref.c. */
static size_t
enc(unsigned char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = 0xc0 + (cp >> 6);
		d[1] = 0x80 + (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = 0xe0 + (cp >> 12);
		d[1] = 0x80 + ((cp >> 6) & 0x3f);
		d[2] = 0x80 + (cp & 0x3f);
		return 3;
	}
	d[0] = 0xf0 + (cp >> 18);
	d[1] = 0x80 + ((cp >> 12) & 0x3f);
	d[2] = 0x80 + ((cp >> 6) & 0x3f);
	d[3] = 0x80 + (cp & 0x3f);
	return 4;
}

static int
is_scalar_value(uint32_t cp)
{
	return cp < 0xd800 || (cp > 0xdfff && cp <= 0x10ffff);
}

/*
 * Run kernel k over a copy of in[0..len) in a buffer of exactly
 * upper_capacity(max) bytes (max >= len) and check the output against
 * want[0..wlen).
 */
static void
expect_k(size_t k, const void *in, size_t len, size_t max, const void *want,
    size_t wlen)
{
	unsigned char	*buf;
	size_t		 cap = upper_capacity(max), n;

	ck_assert_uint_le(len, max);
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, in, len);
	n = upper_utf8_with(kernels[k].fn, buf, len, cap);
	ck_assert_msg(n == wlen && memcmp(buf, want, n) == 0,
	    "%s kernel: %zu input bytes gave %zu bytes, want %zu",
	    kernels[k].name, len, n, wlen);
	free(buf);
}

/* Every kernel and the public entry point give want for in. */
static void
expect(const char *in, size_t len, const char *want, size_t wlen)
{
	unsigned char	 buf[256];
	size_t		 k, n;

	for (k = 0; k < NKERNELS; k++)
		if (kernel_ok(k))
			expect_k(k, in, len, len, want, wlen);
	ck_assert_uint_le(upper_capacity(len), sizeof(buf));
	memcpy(buf, in, len);
	n = upper_utf8(buf, len, sizeof(buf));
	ck_assert_uint_eq(n, wlen);
	ck_assert_mem_eq(buf, want, wlen);
}
#define EXPECT(in, want) expect(in, sizeof(in) - 1, want, sizeof(want) - 1)

START_TEST(test_upper_ascii_maps_a_to_z_only)
{
	unsigned char	 buf[256 + 40];
	size_t		 k, i, off;

	for (k = 0; k < NKERNELS; k++) {
		if (!kernel_ok(k))
			continue;
		for (off = 0; off < 40; off++) {
			for (i = 0; i < 256; i++)
				buf[off + i] = (unsigned char)i;
			kernels[k].ascii(buf + off, 256);
			for (i = 0; i < 256; i++)
				ck_assert_int_eq(buf[off + i],
				    i >= 'a' && i <= 'z' ? i - 32 : i);
		}
	}
	for (i = 0; i < 256; i++)
		buf[i] = (unsigned char)i;
	upper_ascii(buf, 256);
	for (i = 0; i < 256; i++)
		ck_assert_int_eq(buf[i], i >= 'a' && i <= 'z' ? i - 32 : i);
}
END_TEST

START_TEST(test_upper_ascii_mode_leaves_non_ascii_alone)
{
	unsigned char	 buf[] = "stra\xc3\x9f" "e \xc7\x86 "
	    "\xc3\xa9t\xc3\xa9 \xd1\x8f \xc4\xb1 \xc9\x90 \xff";

	upper_ascii(buf, sizeof(buf) - 1);
	ck_assert_str_eq((char *)buf, "STRA\xc3\x9f" "E \xc7\x86 \xc3\xa9T"
	    "\xc3\xa9 \xd1\x8f \xc4\xb1 \xc9\x90 \xff");
}
END_TEST

START_TEST(test_upper_capacity_covers_growth_and_slack)
{
	ck_assert_uint_eq(upper_capacity(0), UPPER_SLACK_BYTES);
	ck_assert_uint_eq(upper_capacity(1024 * 1024),
	    1024 * 1024 + 512 * 1024 + UPPER_SLACK_BYTES);
}
END_TEST

START_TEST(test_upper_version_is_unicode_15)
{
	ck_assert_str_eq(upper_unicode_version(), "15.0.0");
}
END_TEST

START_TEST(test_upper_table_has_1450_mappings_31_changing_length)
{
	size_t	 i, changing = 0;
	uint8_t	 a[4], b[4];

	ck_assert_uint_eq(upper_npairs, 1450);
	for (i = 0; i < upper_npairs; i++) {
		if (i > 0)
			ck_assert_uint_lt(upper_pairs[i - 1][0],
			    upper_pairs[i][0]);
		if (enc(a, upper_pairs[i][0]) != enc(b, upper_pairs[i][1]))
			changing++;
	}
	ck_assert_uint_eq(changing, 31);
	ck_assert_uint_eq(upper_nlength_changing, 31);
}
END_TEST

/*
 * No uppercase letter has an uppercase mapping of its own: the AVX2 kernel
 * relies on it when it uppercases text twice.
 */
START_TEST(test_upper_mapping_is_idempotent)
{
	size_t	 i;
	uint32_t u;

	for (i = 0; i < upper_npairs; i++) {
		u = upper_pairs[i][1];
		ck_assert_msg(upper_simple(u) == u, "U+%04X -> U+%04X -> U+%04X",
		    (unsigned)upper_pairs[i][0], (unsigned)u,
		    (unsigned)upper_simple(u));
	}
}
END_TEST

START_TEST(test_upper_simple_mapping_known_cases)
{
	static const uint32_t cases[][2] = {
		{ 'a', 'A' }, { 'z', 'Z' }, { 'A', 'A' }, { '@', '@' },
		{ 0xdf, 0xdf }, { 0x1e9e, 0x1e9e },	/* sharp s stays */
		{ 0x149, 0x149 }, { 0x390, 0x390 }, { 0xfb01, 0xfb01 },
		{ 0x3c2, 0x3a3 }, { 0x3c3, 0x3a3 },	/* final sigma */
		{ 0x131, 'I' }, { 'i', 'I' }, { 0x130, 0x130 },
		{ 0x1c5, 0x1c4 }, { 0x1c6, 0x1c4 }, { 0x1f2, 0x1f1 },
		{ 0x345, 0x399 }, { 0x1fbe, 0x399 }, { 0x1fb3, 0x1fbc },
		{ 0x17f, 'S' }, { 0xb5, 0x39c }, { 0xff, 0x178 },
		{ 0x212a, 0x212a }, { 0xe5, 0xc5 }, { 0x10d0, 0x1c90 },
		{ 0x250, 0x2c6f }, { 0xa7c1, 0xa7c0 }, { 0x10597, 0x10570 },
		{ 0x10428, 0x10400 }, { 0x1e922, 0x1e900 }, { 0xff41, 0xff21 },
		{ 0x4e2d, 0x4e2d }, { 0x10ffff, 0x10ffff },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(upper_simple(cases[i][0]) == cases[i][1],
		    "U+%04X -> U+%04X, want U+%04X", (unsigned)cases[i][0],
		    (unsigned)upper_simple(cases[i][0]),
		    (unsigned)cases[i][1]);
}
END_TEST

START_TEST(test_upper_known_words)
{
	EXPECT("", "");
	EXPECT("hello, world", "HELLO, WORLD");
	EXPECT("stra\xc3\x9f" "e", "STRA\xc3\x9f" "E");		/* ß stays */
	EXPECT("\xce\xbb\xcf\x8c\xce\xb3\xce\xbf\xcf\x82",	/* λόγος */
	    "\xce\x9b\xce\x8c\xce\x93\xce\x9f\xce\xa3");
	EXPECT("\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",	/* привет */
	    "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2");
	EXPECT("\xc4\xb1i", "II");				/* ıi */
	EXPECT("\xc7\x85", "\xc7\x84");				/* ǅ */
	EXPECT("\xc5\xbf", "S");				/* ſ */
	EXPECT("\xc9\x90", "\xe2\xb1\xaf");			/* ɐ */
	EXPECT("\xe2\xb1\xa5", "\xc8\xba");			/* ⱥ */
	EXPECT("\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87");
	EXPECT("\xf0\x90\x90\xa8", "\xf0\x90\x90\x80");		/* Deseret */
	EXPECT("\xef\xbb\xbf\xef\xbf\xbd\xef\xbf\xbf",		/* BOM, FFFD */
	    "\xef\xbb\xbf\xef\xbf\xbd\xef\xbf\xbf");
	EXPECT("a\0b", "A\0B");
}
END_TEST

/*
 * Each scalar value alone, through each kernel, against the test's own
 * encoder and the generated mapping.  A single buffer is reused: this is
 * 1.1 million tiny calls per kernel.
 */
START_TEST(test_upper_every_scalar_value_alone)
{
	unsigned char	 buf[4 + 2 + UPPER_SLACK_BYTES], want[4];
	size_t		 k, n, wn;
	uint32_t	 cp;

	for (k = 0; k < NKERNELS; k++) {
		if (!kernel_ok(k))
			continue;
		for (cp = 0; cp <= 0x10ffff; cp++) {
			if (!is_scalar_value(cp))
				continue;
			n = enc(buf, cp);
			wn = enc(want, upper_simple(cp));
			n = upper_utf8_with(kernels[k].fn, buf, n,
			    upper_capacity(n));
			if (n != wn || memcmp(buf, want, n) != 0)
				ck_abort_msg("%s kernel: U+%04X wrong",
				    kernels[k].name, (unsigned)cp);
		}
	}
}
END_TEST

/*
 * Every scalar value between ASCII letters ("x<cp>y", lower case so that
 * the neighbours must change too), 4096 code points per buffer, so each
 * is also read by the vector loops at every offset and after the tail
 * moved for an earlier length-changing one.
 */
START_TEST(test_upper_every_scalar_value_in_ascii_context)
{
	enum { CHUNK = 4096 };
	unsigned char	*in, *want, *buf;
	size_t		 k, n, wn, cap, got;
	uint32_t	 cp, first;

	in = malloc(CHUNK * 6);
	want = malloc(CHUNK * 6);
	cap = upper_capacity(CHUNK * 6);
	buf = malloc(cap);
	ck_assert(in != NULL && want != NULL && buf != NULL);
	for (first = 0; first <= 0x10ffff; first += CHUNK) {
		n = wn = 0;
		for (cp = first; cp < first + CHUNK; cp++) {
			if (!is_scalar_value(cp))
				continue;
			in[n++] = 'x';
			want[wn++] = 'X';
			n += enc(in + n, cp);
			wn += enc(want + wn, upper_simple(cp));
			in[n++] = 'y';
			want[wn++] = 'Y';
		}
		for (k = 0; k < NKERNELS; k++) {
			if (!kernel_ok(k))
				continue;
			memcpy(buf, in, n);
			got = upper_utf8_with(kernels[k].fn, buf, n, cap);
			if (got != wn || memcmp(buf, want, wn) != 0)
				ck_abort_msg("%s kernel: block U+%04X wrong",
				    kernels[k].name, (unsigned)first);
		}
	}
	free(in);
	free(want);
	free(buf);
}
END_TEST

/* The 31 code points whose uppercase has another length, from the table. */
static size_t
length_changing(uint32_t *cps, size_t max)
{
	unsigned char	 a[4], b[4];
	size_t		 i, n = 0;

	for (i = 0; i < upper_npairs; i++)
		if (enc(a, upper_pairs[i][0]) != enc(b, upper_pairs[i][1]) &&
		    n < max)
			cps[n++] = upper_pairs[i][0];
	return n;
}

/*
 * Each length-changing code point at the start, in the middle and at the
 * end of a body, in short and vector-sized bodies, in a buffer of exactly
 * upper_capacity(len) bytes.
 */
START_TEST(test_upper_length_changing_at_start_middle_end)
{
	static const char pad[] = "abc \xd0\xb6 def \xce\xb1 ghijklmnopqrstu"
	    "vwxyz0123456789 \xe4\xb8\xad xyz";
	unsigned char	 in[256], want[512];
	uint32_t	 cps[64];
	size_t		 ncps, i, k, p, plen, n, wn;

	ncps = length_changing(cps, 64);
	ck_assert_uint_eq(ncps, 31);
	for (i = 0; i < ncps; i++) {
		for (plen = 0; plen < sizeof(pad); plen += 7) {
			for (p = 0; p < 3; p++) {
				n = 0;
				if (p > 0) {
					memcpy(in, pad, plen);
					n = plen;
				}
				n += enc(in + n, cps[i]);
				if (p < 2) {
					memcpy(in + n, pad, plen);
					n += plen;
				}
				wn = upper_ref(want, in, n);
				for (k = 0; k < NKERNELS; k++)
					if (kernel_ok(k))
						expect_k(k, in, n, n, want, wn);
			}
		}
	}
}
END_TEST

/*
 * A body of exactly max bytes, all one growing code point, in a buffer of
 * exactly upper_capacity(max) bytes: the worst case, 1.5 times the input.
 * Also the same after a shrinking one, and with max odd (one ASCII byte).
 */
START_TEST(test_upper_growing_body_fills_capacity_exactly)
{
	enum { MAX = 3000 };
	unsigned char	*in, *want;
	uint32_t	 cps[64];
	size_t		 ncps, i, k, n, wn, m;

	in = malloc(MAX);
	want = malloc(MAX * 2);
	ck_assert(in != NULL && want != NULL);
	ncps = length_changing(cps, 64);
	for (i = 0; i < ncps; i++) {
		if (enc(want, cps[i]) != 2 ||
		    enc(want, upper_simple(cps[i])) != 3)
			continue;
		for (m = MAX - 1; m <= MAX; m++) {
			for (n = 0, wn = 0; n + 2 <= m; ) {
				n += enc(in + n, cps[i]);
				wn += enc(want + wn, upper_simple(cps[i]));
			}
			if (n < m) {
				in[n++] = 'q';
				want[wn++] = 'Q';
			}
			ck_assert_uint_eq(n, m);
			ck_assert_uint_eq(wn, m / 2 * 3 + m % 2);
			for (k = 0; k < NKERNELS; k++)
				if (kernel_ok(k))
					expect_k(k, in, n, m, want, wn);
			/* ı first: shrink, then grow. */
			in[0] = 0xc4;
			in[1] = 0xb1;
			want[0] = 'I';
			memmove(want + 1, want + 3, wn - 3);
			for (k = 0; k < NKERNELS; k++)
				if (kernel_ok(k))
					expect_k(k, in, n, m, want, wn - 2);
		}
	}
	free(in);
	free(want);
}
END_TEST

START_TEST(test_upper_invalid_utf8_passes_through)
{
	/* Lone continuation bytes. */
	EXPECT("a\x80" "b\xbf", "A\x80" "B\xbf");
	/* Bytes that never occur in UTF-8. */
	EXPECT("\xc0\xc1\xf5\xf8\xfe\xff" "a", "\xc0\xc1\xf5\xf8\xfe\xff" "A");
	/* Overlong forms of two, three and four bytes. */
	EXPECT("\xc0\x80" "a\xc1\xbf", "\xc0\x80" "A\xc1\xbf");
	EXPECT("\xe0\x80\xaf" "a\xe0\x9f\xbf", "\xe0\x80\xaf" "A\xe0\x9f\xbf");
	EXPECT("\xf0\x80\x80\x80" "a\xf0\x8f\xbf\xbf",
	    "\xf0\x80\x80\x80" "A\xf0\x8f\xbf\xbf");
	/* Encoded surrogates (CESU-8 pair too). */
	EXPECT("\xed\xa0\x80" "a\xed\xbf\xbf", "\xed\xa0\x80" "A\xed\xbf\xbf");
	EXPECT("\xed\xa0\xbd\xed\xb8\x80", "\xed\xa0\xbd\xed\xb8\x80");
	/* Above U+10FFFF. */
	EXPECT("\xf4\x90\x80\x80" "a\xf7\xbf\xbf\xbf",
	    "\xf4\x90\x80\x80" "A\xf7\xbf\xbf\xbf");
	/* A lead byte followed by ASCII or by another lead. */
	EXPECT("\xc3" "a\xe2\x82" "b", "\xc3" "A\xe2\x82" "B");
	EXPECT("\xc3\xc3\xa9", "\xc3\xc3\x89");
	EXPECT("\xf0\x9f\xd1\x8f", "\xf0\x9f\xd0\xaf");
	/* Latin-1, not UTF-8. */
	EXPECT("caf\xe9", "CAF\xe9");
	/* Sequences cut off by the end of the body. */
	EXPECT("a\xc3", "A\xc3");
	EXPECT("a\xd1", "A\xd1");
	EXPECT("a\xe2\x82", "A\xe2\x82");
	EXPECT("a\xe2\xb1", "A\xe2\xb1");	/* ⱥ cut: would shrink */
	EXPECT("a\xf0\x9f\x98", "A\xf0\x9f\x98");
	EXPECT("a\xf0\x90\x90", "A\xf0\x90\x90");	/* Deseret cut */
	EXPECT("\xc9", "\xc9");			/* ɐ cut: would grow */
}
END_TEST

/*
 * Each invalid sequence after every number of ASCII bytes from 0 to 70 and
 * before a growing code point, so that the cut-off case falls at every
 * vector position, in place and after the tail moved.
 */
START_TEST(test_upper_invalid_utf8_at_every_offset)
{
	static const char *bad[] = {
		"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xff",
		"\xc3", "\xe2\x82", "\xe2\xb1", "\xf0\x9f\x98", "\xc9",
	};
	unsigned char	 in[128], want[160];
	size_t		 b, off, n, wn, k, bl, tail;

	for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		bl = strlen(bad[b]);
		for (off = 0; off <= 70; off++) {
			for (tail = 0; tail < 2; tail++) {
				memset(in, 'm', off);
				memset(want, 'M', off);
				memcpy(in + off, bad[b], bl);
				memcpy(want + off, bad[b], bl);
				n = wn = off + bl;
				if (tail) {
					/* Then ɐ, which makes the tail move. */
					memcpy(in + n, "\xc9\x90" "z", 3);
					memcpy(want + wn,
					    "\xe2\xb1\xaf" "Z", 4);
					n += 3;
					wn += 4;
				}
				for (k = 0; k < NKERNELS; k++)
					if (kernel_ok(k))
						expect_k(k, in, n, n, want, wn);
			}
		}
	}
}
END_TEST

/* Random bytes biased towards UTF-8 edge cases. */
static size_t
random_body(unsigned char *p, size_t len, unsigned *seed)
{
	static const uint32_t cps[] = {
		0x131, 0x17f, 0x250, 0x29e, 0x23f, 0x1c80, 0x1fbe, 0x2c65,
		0x2c66, 0x430, 0x44f, 0x3c2, 0xdf, 0xe9, 0x4e2d, 0x10428,
		0x1e922, 0x10ffff, 0xff41, 0x1c5,
	};
	size_t		 n = 0, i;
	unsigned	 r;

	while (n < len) {
		r = rand_r(seed);
		switch (r % 5) {
		case 0:
		case 1:
			p[n++] = 'a' + r / 5 % 30;
			break;
		case 2:
			p[n++] = r / 5;
			break;
		default:
			i = r / 5 % (sizeof(cps) / sizeof(cps[0]));
			if (len - n >= 4)
				n += enc(p + n, cps[i]);
			else
				p[n++] = 0x80 | r / 5;
		}
	}
	return n;
}

/*
 * Every kernel equals the reference on random bodies of every length from
 * 0 to 300 bytes at every alignment from 0 to 31, in place with exactly
 * upper_capacity(len) bytes; the --ascii kernels equal a byte loop.
 */
START_TEST(test_upper_kernels_match_reference_on_random_input)
{
	unsigned char	 in[300], want[460], *buf, *mem, ascii[300];
	unsigned	 seed = 12345;
	size_t		 len, align, k, n, wn, cap, i;

	mem = malloc(upper_capacity(300) + 32);
	ck_assert_ptr_nonnull(mem);
	for (len = 0; len <= 300; len++) {
		for (align = 0; align < 32; align++) {
			random_body(in, len, &seed);
			wn = upper_ref(want, in, len);
			for (i = 0; i < len; i++)
				ascii[i] = in[i] >= 'a' && in[i] <= 'z' ?
				    in[i] - 32 : in[i];
			cap = upper_capacity(len);
			buf = mem + align;
			for (k = 0; k < NKERNELS; k++) {
				if (!kernel_ok(k))
					continue;
				memcpy(buf, in, len);
				n = upper_utf8_with(kernels[k].fn, buf, len,
				    cap);
				if (n != wn || memcmp(buf, want, wn) != 0)
					ck_abort_msg("%s kernel: len %zu align"
					    " %zu differs", kernels[k].name,
					    len, align);
				memcpy(buf, in, len);
				kernels[k].ascii(buf, len);
				if (memcmp(buf, ascii, len) != 0)
					ck_abort_msg("%s ascii: len %zu align"
					    " %zu differs", kernels[k].name,
					    len, align);
			}
		}
	}
	free(mem);
}
END_TEST

/*
 * Running text in two-byte scripts (the AVX2 kernel gathers those blocks)
 * and CJK (skipped in place), cut at every offset and length, so that a
 * sequence straddles every block boundary; with and without a growing
 * letter in front, which moves the tail.
 */
START_TEST(test_upper_running_text_matches_reference_at_every_cut)
{
	static const char *texts[] = {
		"\xd0\xa1\xd1\x8a\xd0\xb5\xd1\x88\xd1\x8c \xd0\xb6"
		    "\xd0\xb5 \xd0\xb5\xd1\x89\xd1\x91 \xd1\x8d\xd1\x82"
		    "\xd0\xb8\xd1\x85 \xd0\xbc\xd1\x8f\xd0\xb3\xd0\xba"
		    "\xd0\xb8\xd1\x85 \xd0\xb1\xd1\x83\xd0\xbb\xd0\xbe"
		    "\xd0\xba, \xd0\xb4\xd0\xb0 \xd0\xb2\xd1\x8b\xd0\xbf"
		    "\xd0\xb5\xd0\xb9 \xd1\x87\xd0\xb0\xd1\x8e.",
		"\xce\xbb\xcf\x8c\xce\xb3\xce\xbf\xcf\x82 \xce\xba\xce"
		    "\xb1\xce\xb9 \xcf\x88\xcf\x85\xcf\x87\xce\xae\xcf"
		    "\x83\xce\xbf\xcf\x86\xcf\x8c\xcf\x82 \xce\xbe\xce"
		    "\xad\xcf\x86\xcf\x89\xcf\x84\xce\xbf",
		"Le c\xc5\x93ur d\xc3\xa9\xc3\xa7u, l'\xc3\xa2me na\xc3\xafve "
		    "\xc3\xa0 No\xc3\xabl; gr\xc3\xb6\xc3\x9f" "er, "
		    "\xc3\xbc\xc3\xa4\xc3\xb6\xc3\xbf",
		"\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe3\x81\x82\xea"
		    "\xb0\x80\xed\x9e\xa3 abc \xef\xbd\x81\xef\xbd\x82"
		    "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xd0\xb0",
	};
	unsigned char	 in[400], want[600];
	size_t		 t, len, tl, off, cut, n, wn, k, grow;

	for (t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		tl = strlen(texts[t]);
		for (len = 0; len < 300; len += tl)
			memcpy(in + len, texts[t], tl);
		for (grow = 0; grow < 2; grow++) {
			for (off = 0; off < 40; off++) {
				for (cut = 100; cut < 160; cut++) {
					n = 0;
					if (grow) {
						memcpy(want, "\xc9\x90", 2);
						n = 2;
					}
					memcpy(want + n, in + off, cut);
					n += cut;
					wn = upper_ref(want + 300, want, n);
					for (k = 0; k < NKERNELS; k++)
						if (kernel_ok(k))
							expect_k(k, want, n, n,
							    want + 300, wn);
				}
			}
		}
	}
}
END_TEST

/*
 * With a buffer smaller than upper_capacity() (a caller's bug) nothing is
 * written past cap and the output is still the input with every mapping
 * that fits applied.
 */
START_TEST(test_upper_small_buffer_never_written_past_cap)
{
	unsigned char	 buf[64 + 16];
	size_t		 k, n, i;

	for (k = 0; k < NKERNELS; k++) {
		if (!kernel_ok(k))
			continue;
		memset(buf, 0xaa, sizeof(buf));
		/* ı ɐ ɐ ɐ a: 9 bytes in, 11 out, cap 10. */
		memcpy(buf, "\xc4\xb1\xc9\x90\xc9\x90\xc9\x90" "a", 9);
		n = upper_utf8_with(kernels[k].fn, buf, 9, 10);
		ck_assert_uint_le(n, 10);
		for (i = 10; i < sizeof(buf); i++)
			ck_assert_int_eq(buf[i], 0xaa);
		ck_assert_int_eq(buf[0], 'I');
		ck_assert_int_eq(buf[n - 1], 'A');
	}
}
END_TEST

/* The Check suite of the uppercase transform. */
Suite *
upper_suite(void)
{
	Suite	*s = suite_create("upper");
	TCase	*tc;

	tc = tcase_create("api");
	tcase_add_test(tc, test_upper_capacity_covers_growth_and_slack);
	tcase_add_test(tc, test_upper_version_is_unicode_15);
	tcase_add_test(tc,
	    test_upper_table_has_1450_mappings_31_changing_length);
	tcase_add_test(tc, test_upper_simple_mapping_known_cases);
	tcase_add_test(tc, test_upper_mapping_is_idempotent);
	suite_add_tcase(s, tc);

	tc = tcase_create("ascii");
	tcase_add_test(tc, test_upper_ascii_maps_a_to_z_only);
	tcase_add_test(tc, test_upper_ascii_mode_leaves_non_ascii_alone);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_upper_known_words);
	tcase_add_test(tc, test_upper_every_scalar_value_alone);
	tcase_add_test(tc, test_upper_every_scalar_value_in_ascii_context);
	tcase_add_test(tc, test_upper_length_changing_at_start_middle_end);
	tcase_add_test(tc, test_upper_growing_body_fills_capacity_exactly);
	tcase_add_test(tc, test_upper_invalid_utf8_passes_through);
	tcase_add_test(tc, test_upper_invalid_utf8_at_every_offset);
	tcase_add_test(tc, test_upper_kernels_match_reference_on_random_input);
	tcase_add_test(tc,
	    test_upper_running_text_matches_reference_at_every_cut);
	tcase_add_test(tc, test_upper_small_buffer_never_written_past_cap);
	suite_add_tcase(s, tc);
	return s;
}
