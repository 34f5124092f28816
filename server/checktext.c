/* SPDX-License-Identifier: MIT */
/* The text forms of a pool's health check (durations, specs, status ranges). */
#include "cutover/checktext.h"
#include "cutover/pooltext.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#define MAX_MS    3600000u /* the longest interval or timeout: 60m (ct_pool_check's limit) */
#define MIN_TIMEO 10u      /* the shortest timeout (ct_pool_check's limit) */
#define MAX_RUN   100u     /* rise and fall */
#define EXAMPLES  "(e.g. 200ms, 1.5s, 2m)"

static const char *const key_names[CT_CHECKKEY_COUNT] = {
	"check",    "check-host", "expect-status", "expect-body", "insecure",
	"interval", "timeout",    "rise",          "fall",        "all-down",
};

static const char *const kind_names[] = { "none", "tcp", "http", "https" };

const char *ct_checktext_key_name(int key)
{
	return key >= 0 && key < CT_CHECKKEY_COUNT ? key_names[key] : "?";
}

int ct_checktext_key(const char *name)
{
	for (int k = 0; k < CT_CHECKKEY_COUNT; k++) {
		if (strcmp(name, key_names[k]) == 0) {
			return k;
		}
	}
	return -1;
}

const char *ct_checktext_kind_name(uint8_t kind)
{
	return kind <= CT_CHECK_HTTPS ? kind_names[kind] : "?";
}

const char *ct_checktext_all_down(const ct_pool_t *pool)
{
	return (pool->flags & CT_POOL_ALLDOWN_NODATA) ? "nodata" : "serve-all";
}

static bool say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

bool ct_checktext_duration(const char *text, uint32_t *ms, char *err, size_t errlen)
{
	const char *p = text;
	uint64_t whole = 0, frac = 0, scale = 1;
	int digits = 0;
	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (digits < 12) {
			whole = whole * 10 + (uint64_t)(*p - '0');
		}
	}
	if (digits == 0) {
		return say(err, errlen,
		           "'%s' is not a duration: write a number and ms, s or m " EXAMPLES, text);
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p)) {
			return say(
			    err, errlen,
			    "'%s' is not a duration: write a number and ms, s or m " EXAMPLES,
			    text);
		}
		for (; isdigit((unsigned char)*p); p++) {
			if (scale < 1000000) { /* finer than a microsecond of a minute: ignored */
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			} else if (*p != '0') {
				return say(err, errlen,
				           "'%s' is not a whole number of milliseconds", text);
			}
		}
	}
	uint64_t unit;
	if (*p == '\0') {
		return say(err, errlen,
		           "'%s' has no unit: write ms, s or m after the number " EXAMPLES, text);
	} else if (strcmp(p, "ms") == 0) {
		unit = 1;
	} else if (strcmp(p, "s") == 0) {
		unit = 1000;
	} else if (strcmp(p, "m") == 0) {
		unit = 60000;
	} else {
		return say(err, errlen, "'%s': the unit must be ms, s or m " EXAMPLES, text);
	}
	if (digits >= 12 || whole * unit > UINT32_MAX) {
		return say(err, errlen, "'%s' is far too long", text);
	}
	if (frac * unit % scale != 0) {
		return say(err, errlen, "'%s' is not a whole number of milliseconds", text);
	}
	uint64_t total = whole * unit + frac * unit / scale;
	if (total > UINT32_MAX) {
		return say(err, errlen, "'%s' is far too long", text);
	}
	*ms = (uint32_t)total;
	return true;
}

char *ct_checktext_duration_str(uint32_t ms, char *out)
{
	if (ms != 0 && ms % 60000 == 0) {
		snprintf(out, CT_CHECKTEXT_DURLEN, "%um", ms / 60000);
	} else if (ms != 0 && ms % 1000 == 0) {
		snprintf(out, CT_CHECKTEXT_DURLEN, "%us", ms / 1000);
	} else {
		snprintf(out, CT_CHECKTEXT_DURLEN, "%ums", ms);
	}
	return out;
}

char *ct_checktext_spec(const ct_pool_check_t *c, char *out)
{
	if (c->kind == CT_CHECK_NONE) {
		snprintf(out, CT_CHECKTEXT_SPECLEN, "none");
	} else if (c->kind == CT_CHECK_TCP) {
		snprintf(out, CT_CHECKTEXT_SPECLEN, "tcp:%u", c->port);
	} else {
		snprintf(out, CT_CHECKTEXT_SPECLEN, "%s:%u%s", ct_checktext_kind_name(c->kind),
		         c->port, c->path[0] != '\0' ? c->path : "/");
	}
	return out;
}

/* "tcp:PORT", "http:PORT[/PATH]" or "https:PORT[/PATH]" into c's kind, port and path. */
static bool parse_spec(const char *text, ct_pool_check_t *c, char *err, size_t errlen)
{
	static const char form[] = "write tcp:PORT, http:PORT[/PATH] or https:PORT[/PATH]";
	const char *colon = strchr(text, ':');
	uint8_t kind = CT_CHECK_NONE;
	for (uint8_t k = CT_CHECK_TCP; colon != NULL && k <= CT_CHECK_HTTPS; k++) {
		if ((size_t)(colon - text) == strlen(kind_names[k]) &&
		    strncasecmp(text, kind_names[k], strlen(kind_names[k])) == 0) {
			kind = k;
		}
	}
	if (kind == CT_CHECK_NONE) {
		return say(err, errlen, "'%s': %s", text, form);
	}
	const char *p = colon + 1;
	uint32_t port = 0;
	int digits = 0;
	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (digits < 6) {
			port = port * 10 + (uint32_t)(*p - '0');
		}
	}
	if (*p != '\0' && *p != '/') {
		return say(err, errlen, "'%s': %s", text, form);
	}
	if (digits == 0 || digits > 5 || port == 0 || port > 65535) {
		return say(err, errlen, "'%s': the port must be 1 to 65535", text);
	}
	if (kind == CT_CHECK_TCP && *p != '\0') {
		return say(err, errlen, "'%s': a tcp check has no path (it only connects)", text);
	}
	const char *path = *p != '\0' ? p : "/";
	if (strlen(path) > CT_CHECK_TEXTLEN) {
		return say(err, errlen, "'%s': the path is longer than %d characters", text,
		           CT_CHECK_TEXTLEN);
	}
	for (const char *t = path; *t != '\0'; t++) {
		/* the request line takes printable ASCII; '#' would end it in the pool file */
		if (*t <= ' ' || *t >= 0x7f || *t == '"' || *t == '#') {
			return say(err, errlen,
			           "'%s': the path must be printable ASCII, without spaces, quotes "
			           "or '#'",
			           text);
		}
	}
	c->kind = kind;
	c->port = (uint16_t)port;
	snprintf(c->path, sizeof(c->path), "%s", kind == CT_CHECK_TCP ? "" : path);
	return true;
}

static bool parse_host(const char *text, char *out, char *err, size_t errlen)
{
	size_t n = strlen(text);
	bool good = n > 0 && n <= 253 && text[0] != '.' && text[0] != '-';
	for (size_t i = 0; good && i < n; i++) {
		char ch = text[i];
		good = isalnum((unsigned char)ch) || ch == '.' || ch == '-' || ch == '_';
	}
	if (!good) {
		return say(err, errlen,
		           "'%s': a host name, 1 to 253 letters, digits, '.', '-' or '_' (sent as "
		           "the Host header and the TLS server name)",
		           text);
	}
	snprintf(out, CT_CHECK_TEXTLEN + 1, "%s", text);
	return true;
}

static bool parse_status(const char *text, ct_pool_check_t *c, char *err, size_t errlen)
{
	char low[8];
	const char *dash = strchr(text, '-');
	uint32_t lo, hi;
	size_t n = dash != NULL ? (size_t)(dash - text) : strlen(text);
	bool good = n > 0 && n < sizeof(low);
	if (good) {
		memcpy(low, text, n);
		low[n] = '\0';
		good = ct_pooltext_uint(low, 999, &lo) &&
		       (dash == NULL ? (hi = lo, true) : ct_pooltext_uint(dash + 1, 999, &hi));
	}
	if (!good || lo < 100 || hi > 599 || lo > hi) {
		return say(err, errlen,
		           "'%s': write a status (200) or a range (200-299) within 100-599", text);
	}
	c->status_min = (uint16_t)lo;
	c->status_max = (uint16_t)hi;
	return true;
}

/* The body is written in the pool file between double quotes (no escapes) and printed as JSON. */
static bool parse_body(const char *text, char *out, char *err, size_t errlen)
{
	size_t n = strlen(text);
	bool good = n > 0 && n <= CT_CHECK_TEXTLEN;
	for (size_t i = 0; good && i < n; i++) {
		unsigned char ch = (unsigned char)text[i];
		good = ch >= 0x20 && ch != 0x7f && ch != '"';
	}
	json_t *utf8 = good ? json_string(text) : NULL; /* NULL when not valid UTF-8 */
	json_decref(utf8);
	if (utf8 == NULL) {
		return say(err, errlen,
		           "'%s': 1 to %d bytes of printable UTF-8 text without double quotes",
		           text, CT_CHECK_TEXTLEN);
	}
	snprintf(out, CT_CHECK_TEXTLEN + 1, "%s", text);
	return true;
}

bool ct_checkargs_set(ct_checkargs_t *a, int key, const char *value, char *err, size_t errlen)
{
	ct_pool_check_t *c = &a->check;
	uint32_t v = 0;
	bool good = true;
	switch (key) {
	case CT_CHECKKEY_CHECK:
		good = parse_spec(value, c, err, errlen);
		break;
	case CT_CHECKKEY_HOST:
		good = parse_host(value, c->host, err, errlen);
		break;
	case CT_CHECKKEY_STATUS:
		good = parse_status(value, c, err, errlen);
		break;
	case CT_CHECKKEY_BODY:
		good = parse_body(value, c->expect, err, errlen);
		break;
	case CT_CHECKKEY_INSECURE:
		c->insecure = true;
		break;
	case CT_CHECKKEY_INTERVAL:
	case CT_CHECKKEY_TIMEOUT:
		good = ct_checktext_duration(value, &v, err, errlen);
		if (good && key == CT_CHECKKEY_INTERVAL &&
		    (v < CT_CHECK_MIN_INTERVAL || v > MAX_MS)) {
			good = say(err, errlen, "'%s': must be %ums to %um", value,
			           CT_CHECK_MIN_INTERVAL, MAX_MS / 60000);
		} else if (good && key == CT_CHECKKEY_TIMEOUT && (v < MIN_TIMEO || v > MAX_MS)) {
			good =
			    say(err, errlen, "'%s': must be %ums to %um (and at most the interval)",
			        value, MIN_TIMEO, MAX_MS / 60000);
		}
		if (good && key == CT_CHECKKEY_INTERVAL) {
			c->interval_ms = v;
		} else if (good) {
			c->timeout_ms = v;
		}
		break;
	case CT_CHECKKEY_RISE:
	case CT_CHECKKEY_FALL:
		if (!ct_pooltext_uint(value, MAX_RUN, &v) || v == 0) {
			good = say(err, errlen, "'%s': a whole number of checks from 1 to %u",
			           value, MAX_RUN);
		} else if (key == CT_CHECKKEY_RISE) {
			c->rise = (uint8_t)v;
		} else {
			c->fall = (uint8_t)v;
		}
		break;
	case CT_CHECKKEY_ALLDOWN:
		if (strcmp(value, "serve-all") == 0 || strcmp(value, "nodata") == 0) {
			a->nodata = strcmp(value, "nodata") == 0;
		} else {
			good = say(err, errlen,
			           "'%s': write serve-all (answer with every target: fail open) or "
			           "nodata",
			           value);
		}
		break;
	default:
		good = say(err, errlen, "'%s': unknown setting", value != NULL ? value : "");
		break;
	}
	if (good) {
		a->given |= 1u << key;
	}
	return good;
}

static bool given(const ct_checkargs_t *a, int key)
{
	return (a->given & (1u << key)) != 0;
}

int ct_checkargs_apply(const ct_checkargs_t *a, const char *prefix, ct_pool_t *pool, char *err,
                       size_t errlen)
{
	ct_pool_check_t *c = &pool->check;
	char x[CT_CHECKTEXT_DURLEN], y[CT_CHECKTEXT_DURLEN];
	pool->flags = (uint16_t)((pool->flags & ~CT_POOL_ALLDOWN_NODATA) |
	                         (a->nodata ? CT_POOL_ALLDOWN_NODATA : 0));
	ct_pool_check_defaults(c, CT_CHECK_NONE);
	if (!given(a, CT_CHECKKEY_CHECK)) {
		for (int k = CT_CHECKKEY_HOST; k <= CT_CHECKKEY_FALL; k++) {
			if (given(a, k)) {
				say(err, errlen,
				    "%s%s without %scheck: the pool has no health check", prefix,
				    key_names[k], prefix);
				return k;
			}
		}
		return -1;
	}
	const ct_pool_check_t *g = &a->check;
	if (g->kind == CT_CHECK_TCP) {
		for (int k = CT_CHECKKEY_HOST; k <= CT_CHECKKEY_INSECURE; k++) {
			if (given(a, k)) {
				say(err, errlen,
				    "%s%s is for http and https checks; a tcp check only "
				    "connects",
				    prefix, key_names[k]);
				return k;
			}
		}
	}
	if (g->kind == CT_CHECK_HTTP && given(a, CT_CHECKKEY_INSECURE)) {
		say(err, errlen,
		    "%sinsecure is for https checks only (it skips the certificate verification)",
		    prefix);
		return CT_CHECKKEY_INSECURE;
	}
	ct_pool_check_defaults(c, g->kind);
	c->port = g->port;
	memcpy(c->path, g->path, sizeof(c->path));
	if (given(a, CT_CHECKKEY_HOST)) {
		memcpy(c->host, g->host, sizeof(c->host));
	}
	if (given(a, CT_CHECKKEY_STATUS)) {
		c->status_min = g->status_min;
		c->status_max = g->status_max;
	}
	if (given(a, CT_CHECKKEY_BODY)) {
		memcpy(c->expect, g->expect, sizeof(c->expect));
	}
	c->insecure = given(a, CT_CHECKKEY_INSECURE);
	if (given(a, CT_CHECKKEY_INTERVAL)) {
		c->interval_ms = g->interval_ms;
	}
	if (given(a, CT_CHECKKEY_RISE)) {
		c->rise = g->rise;
	}
	if (given(a, CT_CHECKKEY_FALL)) {
		c->fall = g->fall;
	}
	if (given(a, CT_CHECKKEY_TIMEOUT)) {
		c->timeout_ms = g->timeout_ms;
	} else if (c->timeout_ms > c->interval_ms) {
		c->timeout_ms = c->interval_ms; /* the default is never above the interval */
	}
	if (c->kind == CT_CHECK_TCP) {
		c->status_min = c->status_max = 0;
	}
	if (c->timeout_ms > c->interval_ms) {
		say(err, errlen,
		    "%stimeout %s is above %sinterval %s: a check must end before the next starts",
		    prefix, ct_checktext_duration_str(c->timeout_ms, x), prefix,
		    ct_checktext_duration_str(c->interval_ms, y));
		return CT_CHECKKEY_TIMEOUT;
	}
	return -1;
}

/* The value of one setting of c as the pool file writes it into buf; NULL when it has none.
 * Insecure is "" when set. */
static const char *value_text(const ct_pool_check_t *c, int key, char *buf, size_t len)
{
	bool http = c->kind == CT_CHECK_HTTP || c->kind == CT_CHECK_HTTPS;
	switch (key) {
	case CT_CHECKKEY_CHECK:
		return ct_checktext_spec(c, buf);
	case CT_CHECKKEY_HOST:
		return http && c->host[0] != '\0' ? c->host : NULL;
	case CT_CHECKKEY_STATUS:
		if (!http) {
			return NULL;
		}
		if (c->status_min == c->status_max) {
			snprintf(buf, len, "%u", c->status_min);
		} else {
			snprintf(buf, len, "%u-%u", c->status_min, c->status_max);
		}
		return buf;
	case CT_CHECKKEY_BODY:
		return http && c->expect[0] != '\0' ? c->expect : NULL;
	case CT_CHECKKEY_INSECURE:
		return c->kind == CT_CHECK_HTTPS && c->insecure ? "" : NULL;
	case CT_CHECKKEY_INTERVAL:
		return ct_checktext_duration_str(c->interval_ms, buf);
	case CT_CHECKKEY_TIMEOUT:
		return ct_checktext_duration_str(c->timeout_ms, buf);
	case CT_CHECKKEY_RISE:
		snprintf(buf, len, "%u", c->rise);
		return buf;
	case CT_CHECKKEY_FALL:
		snprintf(buf, len, "%u", c->fall);
		return buf;
	default:
		return NULL;
	}
}

void ct_checktext_foreach(const ct_pool_t *pool,
                          void (*line)(int key, const char *value, void *arg), void *arg)
{
	char buf[CT_CHECKTEXT_SPECLEN];
	const ct_pool_check_t *c = &pool->check;
	if (c->kind != CT_CHECK_NONE) {
		for (int k = CT_CHECKKEY_CHECK; k <= CT_CHECKKEY_FALL; k++) {
			const char *v = value_text(c, k, buf, sizeof(buf));
			if (v != NULL) {
				line(k, k == CT_CHECKKEY_INSECURE ? NULL : v, arg);
			}
		}
	}
	if (c->kind != CT_CHECK_NONE || (pool->flags & CT_POOL_ALLDOWN_NODATA)) {
		line(CT_CHECKKEY_ALLDOWN, ct_checktext_all_down(pool), arg);
	}
}

void ct_checktext_diff(FILE *out, const ct_pool_t *b, const ct_pool_t *a)
{
	const ct_pool_check_t *cb = &b->check, *ca = &a->check;
	char x[CT_CHECKTEXT_SPECLEN], y[CT_CHECKTEXT_SPECLEN];
	if (strcmp(ct_checktext_spec(cb, x), ct_checktext_spec(ca, y)) != 0) {
		fprintf(out, "; check %s -> %s", x, y);
	}
	if (ca->kind != CT_CHECK_NONE) {
		/* a new check: what differs from the defaults */
		ct_pool_check_t d;
		if (cb->kind == CT_CHECK_NONE) {
			ct_pool_check_defaults(&d, ca->kind);
			d.timeout_ms =
			    d.timeout_ms < ca->interval_ms ? d.timeout_ms : ca->interval_ms;
			cb = &d;
		}
		for (int k = CT_CHECKKEY_HOST; k <= CT_CHECKKEY_FALL; k++) {
			const char *vb = value_text(cb, k, x, sizeof(x));
			const char *va = value_text(ca, k, y, sizeof(y));
			if (k == CT_CHECKKEY_INSECURE) {
				vb = vb != NULL ? "on" : "off";
				va = va != NULL ? "on" : "off";
			}
			if (vb == NULL && va == NULL) {
				continue;
			}
			if (vb == NULL || va == NULL || strcmp(vb, va) != 0) {
				bool q = k == CT_CHECKKEY_BODY;
				fprintf(out, "; %s %s%s%s -> %s%s%s", key_names[k],
				        q && vb ? "\"" : "", vb ? vb : "-", q && vb ? "\"" : "",
				        q && va ? "\"" : "", va ? va : "-", q && va ? "\"" : "");
			}
		}
	}
	if ((b->flags & CT_POOL_ALLDOWN_NODATA) != (a->flags & CT_POOL_ALLDOWN_NODATA)) {
		fprintf(out, "; all-down %s -> %s", ct_checktext_all_down(b),
		        ct_checktext_all_down(a));
	}
}
