/* SPDX-License-Identifier: MIT */
/* cutoverctl: reading and writing the pool file (format in poolfile.h and README.md). */
#include "poolfile.h"
#include "cutover/checktext.h"
#include "cutover/pooltext.h"
#include "cutover/errcode.h"
#include "cutover/wire.h"
#include "cutover/zonefile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS (8 + CT_POOL_MAX_TARGETS) /* "group NAME weight W" and its targets */

/* Settings a pool may give once: bits of reader_t.seen; the health check's settings follow
 * (bit 1 << (SEEN_CHECK + CT_CHECKKEY_*)). */
enum { SEEN_POLICY = 1, SEEN_TTL = 2, SEEN_ANSWERS = 4, SEEN_PREFIX = 8, SEEN_PREVIEW = 16 };
#define SEEN_CHECK 5 /* index of the first check setting in seen_line */

typedef struct {
	ct_poolfile_t *pf;
	const char *name;
	int line;
	ct_poolfile_pool_t *cur; /* the pool being read; NULL before the first or after a bad one */
	bool skipping;           /* the last 'pool' line was bad: skip its settings quietly */
	unsigned seen;
	int seen_line[SEEN_CHECK + CT_CHECKKEY_COUNT];
	ct_checkargs_t check; /* the current pool's health check settings */
	bool check_failed;    /* one of them was bad (said): do not complain about the rest */
} reader_t;

static void tell(reader_t *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void tell(reader_t *r, int line, const char *fmt, ...)
{
	ct_poolfile_t *pf = r->pf;
	if (pf->errors++ >= CT_POOLFILE_MAXERRORS) {
		return;
	}
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "%s:%d: ", r->name, line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (pf->report != NULL) {
		pf->report(pf->ctx, msg);
	} else {
		fprintf(stderr, "%s\n", msg);
	}
}

void ct_poolfile_init(ct_poolfile_t *pf, ct_poolfile_report_t report, void *ctx)
{
	memset(pf, 0, sizeof(*pf));
	pf->report = report;
	pf->ctx = ctx;
}

void ct_poolfile_deinit(ct_poolfile_t *pf)
{
	free(pf->pools);
	memset(pf, 0, sizeof(*pf));
}

/*
 * Split line into words in place: blanks separate, '#' outside quotes ends the line, "..."
 * is one word (which may be empty; there are no escapes). Returns the count, or -1 with a
 * message on an unterminated quote or too many words.
 */
static int split_words(reader_t *r, char *line, char **words)
{
	int n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
		}
		if (*p == '\0' || *p == '#') {
			return n;
		}
		if (n == MAX_WORDS) {
			tell(r, r->line, "too many words on one line (at most %d)", MAX_WORDS);
			return -1;
		}
		if (*p == '"') {
			char *end = strchr(p + 1, '"');
			if (end == NULL) {
				tell(r, r->line, "a quote (\") is not closed");
				return -1;
			}
			if (end[1] != '\0' && strchr(" \t\r\n#", end[1]) == NULL) {
				tell(r, r->line, "a quote (\") in the middle of a word");
				return -1;
			}
			*end = '\0';
			words[n++] = p + 1;
			p = end + 1;
			continue;
		}
		words[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
		       *p != '#' && *p != '"') {
			p++;
		}
		if (*p == '"') {
			tell(r, r->line, "a quote (\") in the middle of a word");
			return -1;
		}
		if (*p == '#') {
			*p = '\0';
			return n;
		}
		if (*p != '\0') {
			*p++ = '\0';
		}
	}
}

/* The pool just read is complete: check it as a whole. */
static void finish_pool(reader_t *r)
{
	ct_poolfile_pool_t *cur = r->cur;
	char err[512], label[CT_POOLTEXT_LABELLEN];
	if (cur == NULL) {
		return;
	}
	r->cur = NULL;
	ct_pooltext_label(cur->owner, cur->pool.type, label);
	int key =
	    r->check_failed ? -1 : ct_checkargs_apply(&r->check, "", &cur->pool, err, sizeof(err));
	if (key >= 0) {
		tell(r, r->seen_line[SEEN_CHECK + key], "%s", err);
	} else if (cur->pool.ngroups == 0) {
		tell(r, cur->line, "pool %s has no groups; add 'group NAME weight W ADDRESS...'",
		     label);
	} else if (ct_pool_check(&cur->pool, err, sizeof(err)) != CT_EOK) {
		tell(r, cur->line, "pool %s: %s", label, err);
	} else {
		return;
	}
	r->pf->count--; /* drop it: it was the last one appended */
}

static int start_pool(reader_t *r, char **w, int n)
{
	ct_poolfile_t *pf = r->pf;
	uint8_t owner[CT_DNAME_MAXLEN];
	uint16_t type = CT_TYPE_A;
	finish_pool(r);
	r->skipping = true;
	if (n < 2 || n > 3) {
		tell(r, r->line, "write 'pool NAME [A|AAAA]'");
		return CT_EOK;
	}
	if (ct_zonefile_parse_name(w[1], owner) < 0) {
		tell(r, r->line, "'%s' is not a valid domain name", w[1]);
		return CT_EOK;
	}
	if (n == 3 && (type = ct_pooltext_type(w[2])) == 0) {
		tell(r, r->line, "pool type '%s': a pool is A or AAAA", w[2]);
		return CT_EOK;
	}
	for (size_t i = 0; i < pf->count; i++) {
		if (pf->pools[i].pool.type == type && ct_dname_eq(pf->pools[i].owner, owner)) {
			char label[CT_POOLTEXT_LABELLEN];
			tell(r, r->line, "pool %s is already defined at line %d",
			     ct_pooltext_label(owner, type, label), pf->pools[i].line);
			return CT_EOK;
		}
	}
	if (pf->count == pf->cap) {
		size_t cap = pf->cap ? 2 * pf->cap : 8;
		ct_poolfile_pool_t *np = realloc(pf->pools, cap * sizeof(*np));
		if (np == NULL) {
			return CT_ENOMEM;
		}
		pf->pools = np;
		pf->cap = cap;
	}
	ct_poolfile_pool_t *cur = &pf->pools[pf->count++];
	memset(cur, 0, sizeof(*cur));
	memcpy(cur->owner, owner, ct_dname_len(owner));
	cur->line = r->line;
	cur->pool.type = type;
	cur->pool.ttl = CT_POOL_DEFAULT_TTL;
	cur->pool.policy = CT_POLICY_WEIGHTED;
	r->cur = cur;
	r->skipping = false;
	r->seen = 0;
	memset(&r->check, 0, sizeof(r->check));
	r->check_failed = false;
	return CT_EOK;
}

/* A setting given twice in one pool is an error; returns false then. */
static bool first_time(reader_t *r, unsigned bit, int idx, const char *what)
{
	if (r->seen & bit) {
		tell(r, r->line, "%s is already set at line %d", what, r->seen_line[idx]);
		return false;
	}
	r->seen |= bit;
	r->seen_line[idx] = r->line;
	return true;
}

static void read_group(reader_t *r, char **w, int n)
{
	ct_pool_t *pool = &r->cur->pool;
	uint32_t weight;
	char err[256];
	if (n < 4 || strcmp(w[2], "weight") != 0) {
		tell(r, r->line, "write 'group NAME weight W [ADDRESS...]'");
		return;
	}
	if (!ct_pool_label_ok(w[1], false)) {
		tell(r, r->line, "group name '%s': 1 to %d letters, digits, '-' or '_'", w[1],
		     CT_POOL_NAMELEN);
		return;
	}
	if (ct_pool_group_find(pool, w[1]) >= 0) {
		tell(r, r->line, "group '%s' is already in this pool", w[1]);
		return;
	}
	if (!ct_pooltext_uint(w[3], CT_POOL_MAX_WEIGHT, &weight)) {
		tell(r, r->line, "group '%s': weight '%s' is not a whole number from 0 to %d", w[1],
		     w[3], CT_POOL_MAX_WEIGHT);
		return;
	}
	if (pool->ngroups == CT_POOL_MAX_GROUPS) {
		tell(r, r->line, "a pool has at most %d groups", CT_POOL_MAX_GROUPS);
		return;
	}
	if (n - 4 > CT_POOL_MAX_TARGETS) {
		tell(r, r->line, "group '%s': at most %d targets", w[1], CT_POOL_MAX_TARGETS);
		return;
	}
	ct_pool_group_t *gr = &pool->groups[pool->ngroups];
	memset(gr, 0, sizeof(*gr));
	for (int i = 4; i < n; i++) {
		uint8_t *addr = gr->targets[gr->ntargets];
		if (!ct_pooltext_addr(pool->type, w[i], addr, err, sizeof(err))) {
			tell(r, r->line, "group '%s': %s", w[1], err);
			return;
		}
		for (int t = 0; t < gr->ntargets; t++) {
			if (memcmp(gr->targets[t], addr, 16) == 0) {
				tell(r, r->line, "group '%s': %s is listed twice", w[1], w[i]);
				return;
			}
		}
		gr->ntargets++;
	}
	snprintf(gr->name, sizeof(gr->name), "%s", w[1]);
	gr->weight = weight;
	pool->ngroups++;
}

/* A health check setting (checktext.h): 'insecure' alone, the others with one value. */
static void read_check(reader_t *r, int key, char **w, int n)
{
	char err[512];
	if (key == CT_CHECKKEY_INSECURE && n != 1) {
		tell(r, r->line, "'insecure' takes no value");
	} else if (key != CT_CHECKKEY_INSECURE && n != 2) {
		tell(r, r->line, "'%s' takes one value", w[0]);
	} else if (!ct_checkargs_set(&r->check, key, n == 2 ? w[1] : NULL, err, sizeof(err))) {
		tell(r, r->line, "%s %s", w[0], err);
	} else {
		/* given twice: the second value is already in, but the file is refused */
		first_time(r, 1u << (SEEN_CHECK + key), SEEN_CHECK + key, w[0]);
		return;
	}
	r->check_failed = true; /* the settings that follow from it would only add noise */
}

static void read_setting(reader_t *r, char **w, int n)
{
	ct_pool_t *pool = &r->cur->pool;
	uint32_t v;
	int policy, key;
	if (strcmp(w[0], "group") == 0) {
		read_group(r, w, n);
	} else if ((key = ct_checktext_key(w[0])) >= 0) {
		read_check(r, key, w, n);
	} else if (n != 2) {
		tell(r, r->line, "'%s' takes one value", w[0]);
	} else if (strcmp(w[0], "policy") == 0) {
		if ((policy = ct_pooltext_policy(w[1])) < 0) {
			tell(r, r->line, "policy '%s': use weighted, sticky or failover", w[1]);
		} else if (first_time(r, SEEN_POLICY, 0, "policy")) {
			pool->policy = (uint8_t)policy;
		}
	} else if (strcmp(w[0], "ttl") == 0) {
		if (!ct_pooltext_uint(w[1], CT_ZONEFILE_MAXTTL, &v)) {
			tell(r, r->line, "ttl '%s' is not a number of seconds from 0 to %u", w[1],
			     CT_ZONEFILE_MAXTTL);
		} else if (first_time(r, SEEN_TTL, 1, "ttl")) {
			pool->ttl = v;
		}
	} else if (strcmp(w[0], "answers") == 0) {
		if (strcmp(w[1], "all") != 0 && !ct_pooltext_uint(w[1], UINT16_MAX, &v)) {
			tell(r, r->line, "answers '%s': write all, or a number from 1 to %u", w[1],
			     UINT16_MAX);
		} else if (first_time(r, SEEN_ANSWERS, 2, "answers")) {
			pool->answers = strcmp(w[1], "all") == 0 ? 0 : (uint16_t)v;
		}
	} else if (strcmp(w[0], "preview-prefix") == 0) {
		if (!ct_pool_label_ok(w[1], true)) {
			tell(r, r->line,
			     "preview prefix '%s': at most %d letters, digits, '-' or '_'", w[1],
			     CT_POOL_NAMELEN);
		} else if (first_time(r, SEEN_PREFIX, 3, "preview-prefix")) {
			snprintf(pool->preview_prefix, sizeof(pool->preview_prefix), "%s", w[1]);
		}
	} else if (strcmp(w[0], "preview") == 0) {
		if (strcmp(w[1], "on") != 0 && strcmp(w[1], "off") != 0) {
			tell(r, r->line, "preview '%s': write 'preview on' or 'preview off'", w[1]);
		} else if (first_time(r, SEEN_PREVIEW, 4, "preview")) {
			pool->flags = strcmp(w[1], "off") == 0 ? CT_POOL_NO_PREVIEW : 0;
		}
	} else {
		tell(r, r->line, "unknown keyword '%s'", w[0]);
	}
}

static bool is_setting(const char *word)
{
	static const char *const kw[] = { "policy",         "ttl",     "answers",
		                          "preview-prefix", "preview", "group" };
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
		if (strcmp(word, kw[i]) == 0) {
			return true;
		}
	}
	return ct_checktext_key(word) >= 0;
}

int ct_poolfile_parse(ct_poolfile_t *pf, FILE *in, const char *name)
{
	reader_t r = { .pf = pf, .name = name };
	char *line = NULL, *words[MAX_WORDS];
	size_t cap = 0;
	unsigned errors = pf->errors;
	int ret = CT_EOK;
	while (ret == CT_EOK && getline(&line, &cap, in) >= 0) {
		r.line++;
		int n = split_words(&r, line, words);
		if (n <= 0) {
			continue;
		}
		if (strcmp(words[0], "pool") == 0) {
			ret = start_pool(&r, words, n);
		} else if (!is_setting(words[0])) {
			tell(&r, r.line,
			     "unknown keyword '%s'; a line starts with pool, policy, ttl, answers, "
			     "preview, preview-prefix, group, or a health check setting: check, "
			     "check-host, expect-status, expect-body, insecure, interval, timeout, "
			     "rise, fall, all-down",
			     words[0]);
		} else if (r.cur != NULL) {
			read_setting(&r, words, n);
		} else if (!r.skipping) {
			tell(&r, r.line, "'%s' before the first 'pool NAME TYPE' line", words[0]);
		}
	}
	if (ret == CT_EOK && ferror(in)) {
		tell(&r, r.line, "cannot read further: %s", strerror(errno));
	}
	free(line);
	finish_pool(&r);
	if (ret == CT_EOK && pf->errors > CT_POOLFILE_MAXERRORS) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s: %u more errors not shown", name,
		         pf->errors - CT_POOLFILE_MAXERRORS);
		if (pf->report != NULL) {
			pf->report(pf->ctx, msg);
		} else {
			fprintf(stderr, "%s\n", msg);
		}
	}
	return ret != CT_EOK ? ret : pf->errors != errors ? CT_EINVAL : CT_EOK;
}

/* One line of the health check settings (ct_checktext_foreach), values aligned. */
static void write_check(int key, const char *value, void *arg)
{
	FILE *out = arg;
	if (value == NULL) {
		fprintf(out, "\t%s\n", ct_checktext_key_name(key));
	} else if (key == CT_CHECKKEY_BODY) {
		fprintf(out, "\t%-13s \"%s\"\n", ct_checktext_key_name(key), value);
	} else {
		fprintf(out, "\t%-13s %s\n", ct_checktext_key_name(key), value);
	}
}

int ct_poolfile_write(FILE *out, const uint8_t *owner, const ct_pool_t *pool)
{
	char text[CT_DNAME_STRLEN], addr[CT_POOLTEXT_ADDRLEN];
	int nw = 0, ww = 1;
	for (int g = 0; g < pool->ngroups; g++) {
		char num[16];
		int len = (int)strlen(pool->groups[g].name);
		int wl = snprintf(num, sizeof(num), "%u", pool->groups[g].weight);
		nw = len > nw ? len : nw;
		ww = wl > ww ? wl : ww;
	}
	fprintf(out, "pool %s %s\n", ct_dname_to_str(owner, text),
	        ct_pooltext_type_name(pool->type));
	fprintf(out, "\tpolicy  %s\n", ct_pooltext_policy_name(pool->policy));
	fprintf(out, "\tttl     %u\n", pool->ttl);
	if (pool->answers == 0) {
		fprintf(out, "\tanswers all\n");
	} else {
		fprintf(out, "\tanswers %u\n", pool->answers);
	}
	if (!(pool->flags & CT_POOL_NO_PREVIEW) || pool->preview_prefix[0] != '\0') {
		fprintf(out, "\tpreview-prefix \"%s\"\n", pool->preview_prefix);
	}
	if (pool->flags & CT_POOL_NO_PREVIEW) {
		fprintf(out, "\tpreview off\n");
	}
	ct_checktext_foreach(pool, write_check, out);
	for (int g = 0; g < pool->ngroups; g++) {
		const ct_pool_group_t *gr = &pool->groups[g];
		fprintf(out, "\tgroup %-*s weight ", nw, gr->name);
		if (gr->ntargets == 0) {
			fprintf(out, "%u\n", gr->weight);
			continue;
		}
		fprintf(out, "%-*u ", ww, gr->weight);
		for (int t = 0; t < gr->ntargets; t++) {
			fprintf(out, " %s", ct_pooltext_addr_str(pool->type, gr->targets[t], addr));
		}
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : CT_EOK;
}
