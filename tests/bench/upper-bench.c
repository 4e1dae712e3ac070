/*
 * Throughput of the uppercase transform, printed as a Markdown table:
 * every kernel (the dispatched one, SSE2, scalar) on six kinds of text at
 * 4 KiB, 64 KiB and 1 MiB, in MB/s (10^6 input bytes per second) and as a
 * ratio to memcpy of the same size measured in the same run.
 *
 *   upper-bench [-r rounds] [-w dir] [-g go-results]
 *
 * -w writes the texts to dir as TEXT-SIZE.txt (for the Go comparison, see
 * upper-bench.sh); -g adds a column from a file of "text size MB/s" lines.
 *
 * Method: the texts are generated here (repeated sample sentences cut at a
 * character boundary; random bytes from a fixed xorshift seed).  Buffers
 * stay in cache: one sample times a batch of calls on the same buffer,
 * about 5 ms long.  The five text corpora contain no code point that
 * changes length, so rerunning in place does the same work on the already
 * uppercased text (every kernel stores every byte, whatever its case).
 * Random bytes do change length: each call gets a fresh copy, which is not
 * timed, and is timed alone (less the cost of reading the clock).  Time is the thread's CPU time, so that time spent descheduled
 * on a busy machine does not count (cache and memory-bus contention still
 * do).  Kernels are interleaved round-robin, rounds are outermost; the
 * figure is the median of the samples over all rounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "upper.h"
#include "upper_impl.h"

static const char *const texts[][2] = {
	{ "ASCII (English)",
	  "The quick brown fox jumps over the lazy dog; meanwhile, a "
	  "FastCGI worker reads request bodies and writes them back in "
	  "capital letters, 1234567890 times a day (or so). " },
	{ "French/German",
	  "Le matin, nous avons pris le train pour Lyon. La ville "
	  "\u00e9tait calme et les rues \u00e9taient encore "
	  "mouill\u00e9es par la pluie de la nuit. Apr\u00e8s le "
	  "d\u00e9jeuner, nous sommes all\u00e9s au mus\u00e9e, puis "
	  "nous avons march\u00e9 le long du fleuve jusqu'\u00e0 la "
	  "cath\u00e9drale. Am Nachmittag fuhren wir mit dem Zug nach "
	  "M\u00fcnchen. Die Stadt war ruhig, und auf dem Marktplatz "
	  "verkauften die H\u00e4ndler frisches Gem\u00fcse und Brot. "
	  "Sp\u00e4ter gingen wir durch den Englischen Garten und "
	  "tranken Kaffee in einem kleinen Caf\u00e9 an der Stra\u00dfe. " },
	{ "Russian",
	  "\u0421\u044a\u0435\u0448\u044c \u0436\u0435 \u0435\u0449\u0451 "
	  "\u044d\u0442\u0438\u0445 \u043c\u044f\u0433\u043a\u0438\u0445 "
	  "\u0444\u0440\u0430\u043d\u0446\u0443\u0437\u0441\u043a\u0438\u0445 "
	  "\u0431\u0443\u043b\u043e\u043a, \u0434\u0430 \u0432\u044b\u043f"
	  "\u0435\u0439 \u0447\u0430\u044e. \u0412 \u0447\u0430\u0449\u0430"
	  "\u0445 \u044e\u0433\u0430 \u0436\u0438\u043b \u0431\u044b "
	  "\u0446\u0438\u0442\u0440\u0443\u0441? \u0414\u0430, \u043d\u043e "
	  "\u0444\u0430\u043b\u044c\u0448\u0438\u0432\u044b\u0439 "
	  "\u044d\u043a\u0437\u0435\u043c\u043f\u043b\u044f\u0440! " },
	{ "Greek (monotonic)",
	  "\u039e\u03b5\u03c3\u03ba\u03b5\u03c0\u03ac\u03b6\u03c9 "
	  "\u03c4\u03b7\u03bd "
	  "\u03c8\u03c5\u03c7\u03bf\u03c6\u03b8\u03cc\u03c1\u03b1 "
	  "\u03b2\u03b4\u03b5\u03bb\u03c5\u03b3\u03bc\u03af\u03b1. "
	  "\u0393\u03b1\u03b6\u03af\u03b5\u03c2 \u03ba\u03b1\u03b9 "
	  "\u03bc\u03c5\u03c1\u03c4\u03b9\u03ad\u03c2 "
	  "\u03b4\u03b5\u03bd \u03b8\u03b1 \u03b2\u03c1\u03c9 "
	  "\u03c0\u03b9\u03b1 \u03c3\u03c4\u03bf "
	  "\u03c7\u03c1\u03c5\u03c3\u03b1\u03c6\u03af "
	  "\u03be\u03ad\u03c6\u03c9\u03c4\u03bf. \u039f "
	  "\u03bb\u03cc\u03b3\u03bf\u03c2 \u03ba\u03b1\u03b9 \u03b7 "
	  "\u03c8\u03c5\u03c7\u03ae, "
	  "\u03b5\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac. " },
	{ "Chinese",
	  "\u6211\u80fd\u541e\u4e0b\u73bb\u7483\u800c\u4e0d\u4f24\u8eab"
	  "\u4f53\u3002\u5feb\u901f\u7684\u68d5\u8272\u72d0\u72f8\u8df3"
	  "\u8fc7\u4e86\u61d2\u72d7\uff0c\u670d\u52a1\u5668\u628a\u8bf7"
	  "\u6c42\u5185\u5bb9\u53d8\u6210\u5927\u5199\u5b57\u6bcd\u3002" },
	{ "random bytes", NULL },
};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

static const size_t sizes[] = { 4096, 65536, 1048576 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

enum { K_MEMCPY, K_BEST, K_SSE2, K_SCALAR, NK };

/* Fill p[0..n) with text t, cut at a character boundary, space-padded. */
static void
fill(unsigned char *p, size_t n, size_t t)
{
	uint64_t	 x = 88172645463325252ULL;
	size_t		 i, len, c, l;
	unsigned char	 b;

	if (texts[t][1] == NULL) {
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[i] = x >> 24;
		}
		return;
	}
	len = strlen(texts[t][1]);
	for (i = 0, c = 0; ; c = (c + l) % len, i += l) {
		b = texts[t][1][c];
		l = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
		if (i + l > n)
			break;
		memcpy(p + i, texts[t][1] + c, l);
	}
	memset(p + i, ' ', n - i);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static volatile size_t	 sink;
/* What a pair of now() calls costs (a system call for CPU time). */
static double		 clock_cost;

/* The median cost of now(), subtracted from calls timed one by one. */
static void
calibrate_clock(void)
{
	double	 d[101], t;
	int	 i;

	for (i = 0; i < 101; i++) {
		t = now();
		d[i] = now() - t;
	}
	qsort(d, 101, sizeof(double), cmp_double);
	clock_cost = d[50];
}

/* Seconds per call of kernel k on src[0..n), one sample of `reps` calls. */
static double
sample(int k, const unsigned char *src, unsigned char *buf, unsigned char *dst,
    size_t n, size_t cap, int fresh, int reps)
{
	upper_kernel_fn	 fn = NULL;
	double		 t, sum = 0;
	int		 i;

	if (k == K_SSE2)
		fn = upper_kernel_sse2;
	else if (k == K_SCALAR)
		fn = upper_kernel_scalar;
	if (fresh && k != K_MEMCPY) {
		for (i = 0; i < reps; i++) {
			memcpy(buf, src, n);
			t = now();
			if (k == K_BEST)
				sink += upper_utf8(buf, n, cap);
			else
				sink += upper_utf8_with(fn, buf, n, cap);
			sum += now() - t - clock_cost;
		}
		return sum / reps;
	}
	t = now();
	for (i = 0; i < reps; i++) {
		if (k == K_MEMCPY) {
			memcpy(dst, src, n);
			__asm__ volatile("" : : "r"(dst) : "memory");
		} else if (k == K_BEST)
			sink += upper_utf8(buf, n, cap);
		else
			sink += upper_utf8_with(fn, buf, n, cap);
	}
	return (now() - t) / reps;
}

/* The Go figure for text t at size n from file gofile, or 0. */
static double
go_figure(const char *gofile, size_t t, size_t n)
{
	FILE	*f;
	char	 name[64];
	size_t	 size;
	double	 mbps, found = 0;

	if (gofile == NULL || (f = fopen(gofile, "r")) == NULL)
		return 0;
	while (fscanf(f, "%63s %zu %lf", name, &size, &mbps) == 3)
		if ((int)t == atoi(name) && size == n)
			found = mbps;
	fclose(f);
	return found;
}

static void
write_corpora(const char *dir)
{
	unsigned char	*p = malloc(sizes[NSIZES - 1]);
	char		 path[4096];
	FILE		*f;
	size_t		 t, s;

	if (p == NULL)
		exit(1);
	for (t = 0; t < NTEXTS; t++) {
		for (s = 0; s < NSIZES; s++) {
			fill(p, sizes[s], t);
			snprintf(path, sizeof(path), "%s/%zu-%zu.txt", dir, t,
			    sizes[s]);
			if ((f = fopen(path, "wb")) == NULL ||
			    fwrite(p, 1, sizes[s], f) != sizes[s] ||
			    fclose(f) != 0) {
				perror(path);
				exit(1);
			}
		}
	}
	free(p);
}

int
main(int argc, char *argv[])
{
	static double	 res[NSIZES][NTEXTS][NK][64];
	int		 nreps[NSIZES][NTEXTS];
	unsigned char	*src, *buf, *dst;
	const char	*gofile = NULL;
	size_t		 s, t, n, cap, nonascii, i;
	double		 med[NK], gomb, one;
	int		 rounds = 11, r, k, ch, reps, fresh, isa;

	while ((ch = getopt(argc, argv, "g:r:w:")) != -1) {
		switch (ch) {
		case 'g':
			gofile = optarg;
			break;
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > 64)
				rounds = 11;
			break;
		case 'w':
			write_corpora(optarg);
			return 0;
		default:
			fprintf(stderr, "usage: upper-bench [-r rounds] "
			    "[-w dir] [-g go-results]\n");
			return 2;
		}
	}
	isa = upper_isa_available();
	cap = upper_capacity(sizes[NSIZES - 1]);
	src = malloc(cap);
	buf = malloc(cap);
	dst = malloc(cap);
	if (src == NULL || buf == NULL || dst == NULL)
		return 1;

	calibrate_clock();
	/* Calibrate: about 5 ms per sample of the slowest kernel. */
	for (s = 0; s < NSIZES; s++) {
		n = sizes[s];
		for (t = 0; t < NTEXTS; t++) {
			fill(src, n, t);
			memcpy(buf, src, n);
			/* Also checks the claim about length above. */
			if (upper_utf8(buf, n, upper_capacity(n)) != n &&
			    texts[t][1] != NULL) {
				fprintf(stderr, "text %zu changes length\n", t);
				return 1;
			}
			memcpy(buf, src, n);
			one = sample(K_SCALAR, src, buf, dst, n,
			    upper_capacity(n), texts[t][1] == NULL, 1);
			reps = 5e-3 / (one > 1e-9 ? one : 1e-9);
			nreps[s][t] = reps < 1 ? 1 : reps > 100000 ? 100000 :
			    reps;
		}
	}
	/*
	 * Rounds outermost, so that each figure's samples are spread over
	 * the whole run and a burst of load elsewhere hits few of them.
	 */
	for (r = 0; r < rounds; r++) {
		for (s = 0; s < NSIZES; s++) {
			n = sizes[s];
			for (t = 0; t < NTEXTS; t++) {
				fill(src, n, t);
				fresh = texts[t][1] == NULL;
				memcpy(buf, src, n);
				upper_utf8(buf, n, upper_capacity(n));
				for (k = 0; k < NK; k++)
					res[s][t][k][r] = sample(k, src, buf,
					    dst, n, upper_capacity(n), fresh,
					    k == K_SCALAR ? nreps[s][t] :
					    nreps[s][t] * 4);
			}
		}
	}

	printf("Uppercase throughput, MB/s (10^6 input bytes/s), median of "
	    "%d rounds; in parentheses the ratio to memcpy of the same size "
	    "in the same run.  upper_utf8 is the kernel chosen at run time "
	    "(%s).\n\n", rounds, isa & UPPER_ISA_AVX2 ? "AVX2" :
	    isa & UPPER_ISA_SSE2 ? "SSE2" : "scalar");
	printf("| text | non-ASCII | size | memcpy | upper_utf8 | SSE2 | "
	    "scalar |%s\n", gofile ? " Go bytes.ToUpper | upper_utf8 / Go |" :
	    "");
	printf("|---|---:|---:|---:|---:|---:|---:|%s\n",
	    gofile ? "---:|---:|" : "");
	for (t = 0; t < NTEXTS; t++) {
		fill(src, sizes[NSIZES - 1], t);
		for (nonascii = 0, i = 0; i < sizes[NSIZES - 1]; i++)
			nonascii += src[i] >= 0x80;
		for (s = 0; s < NSIZES; s++) {
			for (k = 0; k < NK; k++) {
				qsort(res[s][t][k], rounds, sizeof(double),
				    cmp_double);
				med[k] = sizes[s] / res[s][t][k][rounds / 2] /
				    1e6;
			}
			printf("| %s | %.1f %% | %zu KiB | %.0f |", texts[t][0],
			    100.0 * nonascii / sizes[NSIZES - 1],
			    sizes[s] / 1024, med[K_MEMCPY]);
			for (k = K_BEST; k < NK; k++)
				printf(" %.0f (%.2f) |", med[k],
				    med[k] / med[K_MEMCPY]);
			if (gofile) {
				gomb = go_figure(gofile, t, sizes[s]);
				if (gomb > 0)
					printf(" %.0f | %.1f× |", gomb,
					    med[K_BEST] / gomb);
				else
					printf(" – | – |");
			}
			printf("\n");
		}
	}
	return sink == 0;
}
