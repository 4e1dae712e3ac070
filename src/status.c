/*
 * The status page.  A request whose path -- SCRIPT_NAME, else the path of
 * REQUEST_URI -- is --status-path gets the pool's figures instead of an
 * uppercase, in the format its query string names as php-fpm's page does:
 * plain "name: value" lines by default, "json", or "openmetrics" (what
 * Prometheus scrapes); "full" adds a row per child.
 *
 * The figures are summed from the scoreboard when asked, so nothing on
 * the request path adds them up; the listen queue is read from the kernel
 * (queue.c).  The page is written into a static buffer by hand-made
 * number formatting: no stdio, no heap, whatever the format.
 */
#include <config.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "clock.h"
#include "prefork.h"
#include "queue.h"
#include "scoreboard.h"
#include "status.h"

/* Room for the pool's figures and a full row for every possible child. */
#define STATUS_POOL_BYTES	16384
#define STATUS_CHILD_BYTES	768
#define STATUS_BYTES \
	(STATUS_POOL_BYTES + PREFORK_MAX_CHILDREN * STATUS_CHILD_BYTES)

static char	 page[STATUS_BYTES];
static char	*at;			/* the next byte of page to write */

/* The pool, summed over the slots. */
struct status_sums {
	int64_t		 now_ms, mono_ms;
	int64_t		 idle, busy, starting;
	uint64_t	 accepted, refused, bytes_in, bytes_out;
	uint64_t	 outcomes[SB_OUTCOMES], requests;
	uint64_t	 arena_high_water, heap_fallbacks;
	int64_t		 backoff_ms;
	struct listen_queue queue;
};

static const char *const outcome_names[SB_OUTCOMES] = {
	"ok", "bad_request", "forbidden", "too_large", "aborted",
	"not_delivered", "status"
};
static const char *const exit_names[SB_EXITS] = {
	"recycled", "replaced", "crashed", "sandbox"
};
static const char *const state_names[] = {
	"empty", "starting", "idle", "busy"
};

/*
 * Whether param names a token of the query: "json", "full", ... alone or
 * as "name=value", between '&'s.
 */
static int
status_has_token(const char *query, const char *name)
{
	size_t		 n = strlen(name);
	const char	*p = query;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 &&
		    (p[n] == '\0' || p[n] == '&' || p[n] == '='))
			return 1;
		if ((p = strchr(p, '&')) != NULL)
			p++;
	}
	return 0;
}

/*
 * Whether the request of envp asks for the status page at path, and in
 * which format.  SCRIPT_NAME is what nginx's and lighttpd's stock
 * parameters set to the location's path; REQUEST_URI is the fallback.
 */
int
status_asked(const char *path, char **envp, struct status_ask *ask)
{
	const char	*script, *uri = NULL, *query, *q;
	size_t		 n;

	if (path == NULL || scoreboard == NULL)
		return 0;
	/* Every request passes here: one lookup when SCRIPT_NAME is set. */
	script = FCGX_GetParam("SCRIPT_NAME", envp);
	if (script != NULL && *script != '\0') {
		if (strcmp(script, path) != 0)
			return 0;
	} else {
		if ((uri = FCGX_GetParam("REQUEST_URI", envp)) == NULL)
			return 0;
		n = (q = strchr(uri, '?')) != NULL ? (size_t)(q - uri) :
		    strlen(uri);
		if (n != strlen(path) || strncmp(uri, path, n) != 0)
			return 0;
	}
	query = FCGX_GetParam("QUERY_STRING", envp);
	if (query == NULL && uri == NULL)
		uri = FCGX_GetParam("REQUEST_URI", envp);
	if (query == NULL && uri != NULL && (q = strchr(uri, '?')) != NULL)
		query = q + 1;
	if (query == NULL)
		query = "";
	ask->format = status_has_token(query, "openmetrics") ?
	    STATUS_OPENMETRICS : status_has_token(query, "json") ?
	    STATUS_JSON : STATUS_TEXT;
	ask->full = status_has_token(query, "full");
	return 1;
}

/* --- writing ---------------------------------------------------------- */

static void
put(const char *s)
{
	size_t	 n = strlen(s);

	if (n > (size_t)(page + sizeof(page) - at))
		n = (size_t)(page + sizeof(page) - at);
	memcpy(at, s, n);
	at += n;
}

static void
put_u64(uint64_t v)
{
	char	 digits[24], *d = digits + sizeof(digits);

	*--d = '\0';
	do {
		*--d = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(d);
}

static void
put_i64(int64_t v)
{
	if (v < 0) {
		put("-");
		put_u64((uint64_t)0 - (uint64_t)v);
	} else
		put_u64((uint64_t)v);
}

/* Milliseconds as seconds with three decimals: OpenMetrics' unit. */
static void
put_seconds(int64_t ms)
{
	char	 frac[5];

	if (ms < 0) {
		put("-");
		ms = -ms;
	}
	put_u64((uint64_t)(ms / 1000));
	frac[0] = '.';
	frac[1] = (char)('0' + ms / 100 % 10);
	frac[2] = (char)('0' + ms / 10 % 10);
	frac[3] = (char)('0' + ms % 10);
	frac[4] = '\0';
	put(frac);
}

/* A wall-clock time in milliseconds as RFC 3339 UTC, to the second. */
static void
put_rfc3339(int64_t ms)
{
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;
	char		 s[24];
	int		 v[6], i, w;
	static const int widths[6] = { 4, 2, 2, 2, 2, 2 };
	static const char seps[6] = { '-', '-', 'T', ':', ':', 'Z' };
	char		*p = s;

	gmtime_r(&t, &tm);
	v[0] = tm.tm_year + 1900;
	v[1] = tm.tm_mon + 1;
	v[2] = tm.tm_mday;
	v[3] = tm.tm_hour;
	v[4] = tm.tm_min;
	v[5] = tm.tm_sec;
	for (i = 0; i < 6; i++) {
		for (w = widths[i]; w > 0; w--) {
			int	 div = 1, k;

			for (k = 1; k < w; k++)
				div *= 10;
			*p++ = (char)('0' + v[i] / div % 10);
		}
		*p++ = seps[i];
	}
	*p = '\0';
	put(s);
}

/* --- the figures ------------------------------------------------------ */

static void
status_sum(struct status_sums *s)
{
	const struct sb_child	*c;
	int64_t			 n = SB_GET(scoreboard->pool.children), wait;
	int			 i, k;

	memset(s, 0, sizeof(*s));
	s->now_ms = clock_wall_ms();
	s->mono_ms = clock_now_ms();
	for (i = 0; i < n; i++) {
		c = &scoreboard->child[i];
		switch (SB_GET(c->state)) {
		case SB_IDLE:
			s->idle++;
			break;
		case SB_BUSY:
			s->busy++;
			break;
		case SB_STARTING:
			s->starting++;
			break;
		default:
			wait = SB_GET(c->respawn_at_ms) - s->mono_ms;
			if (SB_GET(c->respawn_at_ms) != 0 && wait > 0 &&
			    SB_GET(c->respawn_delay_ms) > s->backoff_ms)
				s->backoff_ms = SB_GET(c->respawn_delay_ms);
			break;
		}
		s->accepted += SB_GET(c->accepted);
		s->refused += SB_GET(c->refused);
		s->bytes_in += SB_GET(c->bytes_in);
		s->bytes_out += SB_GET(c->bytes_out);
		for (k = 0; k < SB_OUTCOMES; k++) {
			s->outcomes[k] += SB_GET(c->outcomes[k]);
			s->requests += SB_GET(c->outcomes[k]);
		}
		if (SB_GET(c->arena_high_water) > s->arena_high_water)
			s->arena_high_water = SB_GET(c->arena_high_water);
		s->heap_fallbacks += SB_GET(c->heap_fallbacks);
	}
	queue_measure(&s->queue);
	if (s->queue.now >= 0)
		scoreboard_queue_seen(s->queue.now);
	if (s->queue.len < 0)
		s->queue.len = SB_GET(scoreboard->pool.listen_backlog);
}

/*
 * One figure of the pool: its name, value and OpenMetrics description.
 * The same list makes all three formats, so they cannot disagree.
 */
enum figure_kind { GAUGE, COUNTER, SECONDS, TIME };

struct figure {
	const char	*name;
	enum figure_kind kind;
	int64_t		 value;		/* ms for SECONDS and TIME */
	const char	*help;
};

static int
status_figures(const struct status_sums *s, struct figure *f)
{
	const struct sb_pool	*p = &scoreboard->pool;
	int			 n = 0;

#define FIG(nm, k, v, h) do {						\
	f[n].name = (nm); f[n].kind = (k); f[n].value = (int64_t)(v);	\
	f[n].help = (h); n++;						\
} while (0)
	FIG("start_time", TIME, SB_GET(p->start_ms),
	    "When the master started");
	FIG("uptime", SECONDS, s->now_ms - SB_GET(p->start_ms),
	    "Time since the master started");
	FIG("children_configured", GAUGE, SB_GET(p->children),
	    "Children the master keeps (-c)");
	FIG("children_idle", GAUGE, s->idle,
	    "Children waiting for a request");
	FIG("children_busy", GAUGE, s->busy,
	    "Children serving a request");
	FIG("children_starting", GAUGE, s->starting,
	    "Children building their context, not serving yet");
	FIG("children_busy_max", GAUGE, SB_GET(p->busy_max),
	    "The most children busy at once since the start");
	FIG("connections_accepted", COUNTER, s->accepted,
	    "Connections accepted from the web server");
	FIG("connections_refused", COUNTER, s->refused,
	    "Connections closed unread: peer not on the allowlist (-A)");
	FIG("request_body_bytes", COUNTER, s->bytes_in,
	    "Request body bytes read");
	FIG("response_body_bytes", COUNTER, s->bytes_out,
	    "Response body bytes sent");
	FIG("listen_queue", GAUGE, s->queue.now,
	    "Connections waiting to be accepted now (-1: not known here)");
	FIG("listen_queue_max", GAUGE, SB_GET(p->queue_max),
	    "The longest listen queue seen (sampled each second)");
	FIG("listen_queue_length", GAUGE, s->queue.len,
	    "The most connections the kernel queues (backlog)");
	FIG("child_starts", COUNTER, SB_GET(p->starts),
	    "Children forked");
	FIG("respawn_backoff", SECONDS, s->backoff_ms,
	    "Back-off of a child waiting to be restarted after failed starts");
	FIG("arena_high_water_bytes", GAUGE, s->arena_high_water,
	    "Most bytes of a child's request arena in use at once");
	FIG("heap_fallbacks", COUNTER, s->heap_fallbacks,
	    "Requests' allocations the arena sent to the heap (should be 0)");
#undef FIG
	return n;
}

/* --- the three formats ------------------------------------------------ */

/* How long the child's current request has taken; 0 when it is idle. */
static int64_t
child_age_ms(const struct status_sums *s, const struct sb_child *c)
{
	return SB_GET(c->state) == SB_BUSY ? s->mono_ms -
	    SB_GET(c->request_started_ms) : 0;
}

static void
text_value(const struct figure *f)
{
	if (f->kind == TIME) {
		put_rfc3339(f->value);
		put(" (");
		put_i64(f->value / 1000);
		put(")");
	} else if (f->kind == SECONDS)
		put_seconds(f->value);
	else
		put_i64(f->value);
}

static void
page_text(const struct status_sums *s, const struct figure *f, int nf,
    int full)
{
	int	 i, n = (int)SB_GET(scoreboard->pool.children);
	const struct sb_child *c;

	for (i = 0; i < nf; i++) {
		put(f[i].name);
		put(": ");
		text_value(&f[i]);
		put("\n");
	}
	put("requests: ");
	put_u64(s->requests);
	put("\n");
	for (i = 0; i < SB_OUTCOMES; i++) {
		put("requests_");
		put(outcome_names[i]);
		put(": ");
		put_u64(s->outcomes[i]);
		put("\n");
	}
	for (i = 0; i < SB_EXITS; i++) {
		put("child_exits_");
		put(exit_names[i]);
		put(": ");
		put_u64(SB_GET(scoreboard->pool.exits[i]));
		put("\n");
	}
	if (!full)
		return;
	for (i = 0; i < n; i++) {
		c = &scoreboard->child[i];
		if (SB_GET(c->pid) == 0)
			continue;
		put("\nslot: ");
		put_i64(i);
		put("\npid: ");
		put_i64(SB_GET(c->pid));
		put("\nstate: ");
		put(state_names[SB_GET(c->state) & 3]);
		put("\nrequests: ");
		put_u64(SB_GET(c->requests));
		put("\nstart_time: ");
		put_rfc3339(SB_GET(c->started_ms));
		put("\nrequest_age: ");
		put_seconds(child_age_ms(s, c));
		put("\n");
	}
}

static void
json_key(const char *name, int *first)
{
	put(*first ? "\n  \"" : ",\n  \"");
	*first = 0;
	put(name);
	put("\": ");
}

static void
page_json(const struct status_sums *s, const struct figure *f, int nf,
    int full)
{
	char	 key[64];
	int	 i, first = 1, firstc = 1, n = (int)SB_GET(
		    scoreboard->pool.children);
	const struct sb_child *c;

	put("{");
	for (i = 0; i < nf; i++) {
		json_key(f[i].name, &first);
		if (f[i].kind == TIME) {
			put_i64(f[i].value / 1000);
		} else if (f[i].kind == SECONDS)
			put_seconds(f[i].value);
		else
			put_i64(f[i].value);
	}
	json_key("requests", &first);
	put_u64(s->requests);
	for (i = 0; i < SB_OUTCOMES; i++) {
		memcpy(key, "requests_", 9);
		strcpy(key + 9, outcome_names[i]);
		json_key(key, &first);
		put_u64(s->outcomes[i]);
	}
	for (i = 0; i < SB_EXITS; i++) {
		memcpy(key, "child_exits_", 12);
		strcpy(key + 12, exit_names[i]);
		json_key(key, &first);
		put_u64(SB_GET(scoreboard->pool.exits[i]));
	}
	if (full) {
		json_key("children", &first);
		put("[");
		for (i = 0; i < n; i++) {
			c = &scoreboard->child[i];
			if (SB_GET(c->pid) == 0)
				continue;
			put(firstc ? "\n    {" : ",\n    {");
			firstc = 0;
			put("\"slot\": ");
			put_i64(i);
			put(", \"pid\": ");
			put_i64(SB_GET(c->pid));
			put(", \"state\": \"");
			put(state_names[SB_GET(c->state) & 3]);
			put("\", \"requests\": ");
			put_u64(SB_GET(c->requests));
			put(", \"start_time\": ");
			put_i64(SB_GET(c->started_ms) / 1000);
			put(", \"request_age\": ");
			put_seconds(child_age_ms(s, c));
			put("}");
		}
		put(firstc ? "]" : "\n  ]");
	}
	put("\n}\n");
}

/* An OpenMetrics family's TYPE and HELP lines. */
static void
om_family(const char *name, const char *type, const char *help)
{
	put("# TYPE upcase_fcgi_");
	put(name);
	put(" ");
	put(type);
	put("\n# HELP upcase_fcgi_");
	put(name);
	put(" ");
	put(help);
	put(".\n");
}

/* A child's labels: {slot="N",pid="P"; the caller closes them. */
static void
om_child_labels(int i, const struct sb_child *c)
{
	put("{slot=\"");
	put_i64(i);
	put("\",pid=\"");
	put_i64(SB_GET(c->pid));
	put("\"");
}

/* What om_children shows of each child. */
enum child_figure { CHILD_REQUESTS, CHILD_START, CHILD_AGE };

/* An OpenMetrics family with a sample per live child. */
static void
om_children(const struct status_sums *s, const char *family,
    const char *type, const char *help, enum child_figure what)
{
	const struct sb_child	*c;
	int			 i, n = (int)SB_GET(scoreboard->pool.children);

	om_family(family, type, help);
	for (i = 0; i < n; i++) {
		if (SB_GET((c = &scoreboard->child[i])->pid) == 0)
			continue;
		put("upcase_fcgi_");
		put(family);
		if (what == CHILD_REQUESTS)
			put("_total");
		om_child_labels(i, c);
		put("} ");
		if (what == CHILD_REQUESTS)
			put_u64(SB_GET(c->requests));
		else if (what == CHILD_START)
			put_seconds(SB_GET(c->started_ms));
		else
			put_seconds(child_age_ms(s, c));
		put("\n");
	}
}

static void
page_openmetrics(const struct status_sums *s, const struct figure *f, int nf,
    int full)
{
	char	 name[64];
	int	 i, k, n = (int)SB_GET(scoreboard->pool.children);
	const struct sb_child *c;

	for (i = 0; i < nf; i++) {
		strcpy(name, f[i].name);
		if (f[i].kind == TIME || f[i].kind == SECONDS)
			strcat(name, "_seconds");
		om_family(name, f[i].kind == COUNTER ? "counter" : "gauge",
		    f[i].help);
		put("upcase_fcgi_");
		put(name);
		put(f[i].kind == COUNTER ? "_total " : " ");
		if (f[i].kind == TIME || f[i].kind == SECONDS)
			put_seconds(f[i].value);
		else
			put_i64(f[i].value);
		put("\n");
	}
	om_family("requests", "counter", "Requests answered, by outcome");
	for (i = 0; i < SB_OUTCOMES; i++) {
		put("upcase_fcgi_requests_total{outcome=\"");
		put(outcome_names[i]);
		put("\"} ");
		put_u64(s->outcomes[i]);
		put("\n");
	}
	om_family("child_exits", "counter", "Children ended, by cause: "
	    "recycled (-r), replaced (SIGHUP, upgrade), crashed, sandbox "
	    "(a forbidden system call)");
	for (i = 0; i < SB_EXITS; i++) {
		put("upcase_fcgi_child_exits_total{cause=\"");
		put(exit_names[i]);
		put("\"} ");
		put_u64(SB_GET(scoreboard->pool.exits[i]));
		put("\n");
	}
	if (full) {
		om_children(s, "child_requests", "counter",
		    "Requests served by this child", CHILD_REQUESTS);
		om_children(s, "child_start_time_seconds", "gauge",
		    "When this child started", CHILD_START);
		om_children(s, "child_request_age_seconds", "gauge",
		    "Age of the request this child serves (0: idle)",
		    CHILD_AGE);
		om_family("child_state", "stateset", "What this child does");
		for (i = 0; i < n; i++) {
			if (SB_GET((c = &scoreboard->child[i])->pid) == 0)
				continue;
			for (k = 1; k <= SB_BUSY; k++) {
				put("upcase_fcgi_child_state");
				om_child_labels(i, c);
				put(",upcase_fcgi_child_state=\"");
				put(state_names[k]);
				put(SB_GET(c->state) == k ? "\"} 1\n" :
				    "\"} 0\n");
			}
		}
	}
	put("# EOF\n");
}

/*
 * Format the page asked for into the static buffer: *type gets its
 * Content-Type line, *body the page; returns its length.
 */
size_t
status_page(const struct status_ask *ask, const char **type,
    const char **body)
{
	struct status_sums	 s;
	struct figure		 f[32];
	int			 nf;

	at = page;
	status_sum(&s);
	nf = status_figures(&s, f);
	switch (ask->format) {
	case STATUS_JSON:
		*type = "Content-Type: application/json\r\n";
		page_json(&s, f, nf, ask->full);
		break;
	case STATUS_OPENMETRICS:
		*type = "Content-Type: application/openmetrics-text; "
		    "version=1.0.0; charset=utf-8\r\n";
		page_openmetrics(&s, f, nf, ask->full);
		break;
	default:
		*type = "Content-Type: text/plain; charset=utf-8\r\n";
		page_text(&s, f, nf, ask->full);
		break;
	}
	*body = page;
	return (size_t)(at - page);
}
