/*
 * libFuzzer target for the uppercase transform: every kernel this CPU can
 * run (scalar, SSE2, AVX2), in place in a buffer of exactly
 * upper_capacity(len) bytes at a varying alignment, must equal the plain
 * reference upper_ref() byte for byte; the --ascii kernels must equal a
 * byte loop; and a buffer smaller than upper_capacity() must never be
 * written past its end.  Build with tests/fuzz/build-upper.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upper.h"
#include "upper_impl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const upper_kernel_fn kernels[] = {
	upper_kernel_scalar, upper_kernel_sse2, upper_kernel_avx2,
};
static void (*const asciis[])(unsigned char *, size_t) = {
	upper_ascii_scalar, upper_ascii_sse2, upper_ascii_avx2,
};
static const unsigned isas[] = {
	UPPER_ISA_SCALAR, UPPER_ISA_SSE2, UPPER_ISA_AVX2,
};

/* Run kernel k on data in a heap block that ends exactly at cap. */
static size_t
run(size_t k, const uint8_t *data, size_t len, size_t cap, size_t align,
    unsigned char **out, unsigned char **mem)
{
	*mem = malloc(cap + align);
	if (*mem == NULL)
		abort();
	*out = *mem + align;
	memcpy(*out, data, len);
	return upper_utf8_with(kernels[k], *out, len, cap);
}

/* One input: every kernel against the reference; see the top of the file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned char	*want, *ascii, *buf, *mem;
	size_t		 wn, n, k, i, align, cap, small;
	unsigned	 isa = upper_isa_available();

	want = malloc(len + len / 2 + 1);
	ascii = malloc(len + 1);
	if (want == NULL || ascii == NULL)
		abort();
	wn = upper_ref(want, data, len);
	for (i = 0; i < len; i++)
		ascii[i] = data[i] >= 'a' && data[i] <= 'z' ?
		    data[i] - 32 : data[i];
	align = len % 32;
	cap = upper_capacity(len);
	small = len > 0 ? len + data[len - 1] % (cap - len) : 0;
	for (k = 0; k < 3; k++) {
		if (!(isa & isas[k]))
			continue;
		n = run(k, data, len, cap, align, &buf, &mem);
		if (n != wn || memcmp(buf, want, wn) != 0)
			abort();
		memcpy(buf, data, len);
		asciis[k](buf, len);
		if (memcmp(buf, ascii, len) != 0)
			abort();
		free(mem);
		/* A caller's too-small buffer: ASan guards its end. */
		n = run(k, data, len, small, 0, &buf, &mem);
		if (n > small)
			abort();
		free(mem);
	}
	free(want);
	free(ascii);
	return 0;
}
