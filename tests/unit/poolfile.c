/* SPDX-License-Identifier: MIT */
/* Unit tests: the pool file of cutoverctl (tools/poolfile.c): reading, errors with their
 * lines, and writing back the same pools; the health check settings and their text forms
 * (tools/checktext.c). */
#include "poolfile.h"
#include "cutover/checktext.h"
#include "cutover/errcode.h"
#include "cutover/wire.h"
#include "tap.h"

#include <stdio.h>

typedef struct {
	char text[16][300];
	int n;
} sink_t;

static void collect(void *ctx, const char *msg)
{
	sink_t *s = ctx;
	if (s->n < 16) {
		snprintf(s->text[s->n++], sizeof(s->text[0]), "%s", msg);
	}
}

/* Parse text as the file "t.pools"; messages into s. */
static int parse(ct_poolfile_t *pf, sink_t *s, const char *text)
{
	memset(s, 0, sizeof(*s));
	ct_poolfile_init(pf, collect, s);
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int ret = ct_poolfile_parse(pf, in, "t.pools");
	fclose(in);
	return ret;
}

/* text must be refused with want as its first message. */
static void refused(const char *text, const char *want)
{
	ct_poolfile_t pf;
	sink_t s;
	int ret = parse(&pf, &s, text);
	ok(ret == CT_EINVAL && s.n > 0 && strcmp(s.text[0], want) == 0, "refused: %s",
	   s.n > 0 ? s.text[0] : "(no message)");
	if (s.n == 0 || strcmp(s.text[0], want) != 0) {
		diag("  want: %s", want);
	}
	ct_poolfile_deinit(&pf);
}

static const char good[] = "# comment line\n"
                           "pool api.app.example. A   # trailing comment\n"
                           "    policy  sticky\n"
                           "    ttl     60\n"
                           "    answers 2\n"
                           "    preview-prefix \"pv-\"\n"
                           "    group blue  weight 100  192.0.2.10 192.0.2.11\n"
                           "    group green weight 0    198.51.100.10\n"
                           "\n"
                           "pool api.app.example AAAA\n"
                           "    preview off\n"
                           "    group blue weight 1 2001:db8::1\n"
                           "    group empty weight 0\n"
                           "pool other.app.example.\n"
                           "group x weight 5 192.0.2.1\n";

static const char canonical[] = "pool api.app.example. A\n"
                                "\tpolicy  sticky\n"
                                "\tttl     60\n"
                                "\tanswers 2\n"
                                "\tpreview-prefix \"pv-\"\n"
                                "\tgroup blue  weight 100  192.0.2.10 192.0.2.11\n"
                                "\tgroup green weight 0    198.51.100.10\n"
                                "pool api.app.example. AAAA\n"
                                "\tpolicy  weighted\n"
                                "\tttl     30\n"
                                "\tanswers all\n"
                                "\tpreview off\n"
                                "\tgroup blue  weight 1  2001:db8::1\n"
                                "\tgroup empty weight 0\n"
                                "pool other.app.example. A\n"
                                "\tpolicy  weighted\n"
                                "\tttl     30\n"
                                "\tanswers all\n"
                                "\tpreview-prefix \"\"\n"
                                "\tgroup x weight 5  192.0.2.1\n";

/* Write the pools of pf in the canonical form (heap string, the caller frees it). */
static char *write_all(const ct_poolfile_t *pf)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	for (size_t i = 0; i < pf->count; i++) {
		ct_poolfile_write(f, pf->pools[i].owner, &pf->pools[i].pool);
	}
	fclose(f);
	return out;
}

static void test_read_write(void)
{
	ct_poolfile_t pf, again;
	sink_t s;
	is_int(parse(&pf, &s, good), CT_EOK, "a good file reads");
	is_int(s.n, 0, "without messages");
	is_int(pf.count, 3, "three pools");
	const ct_pool_t *a = &pf.pools[0].pool, *b = &pf.pools[1].pool, *c = &pf.pools[2].pool;
	ok(pf.pools[0].line == 2 && pf.pools[1].line == 10 && pf.pools[2].line == 14,
	   "each pool knows its line");
	ok(a->type == CT_TYPE_A && a->policy == CT_POLICY_STICKY && a->ttl == 60 &&
	       a->answers == 2 && strcmp(a->preview_prefix, "pv-") == 0 && a->flags == 0,
	   "settings read");
	ok(a->ngroups == 2 && a->groups[0].weight == 100 && a->groups[0].ntargets == 2 &&
	       a->groups[0].targets[1][3] == 11 && strcmp(a->groups[1].name, "green") == 0,
	   "groups, weights and targets read in order");
	ok(b->type == CT_TYPE_AAAA && b->flags == CT_POOL_NO_PREVIEW &&
	       b->ttl == CT_POOL_DEFAULT_TTL && b->policy == CT_POLICY_WEIGHTED &&
	       b->groups[0].targets[0][15] == 1 && b->groups[1].ntargets == 0,
	   "defaults, AAAA targets, a group without targets");
	ok(c->type == CT_TYPE_A && c->ngroups == 1, "type A when the pool line leaves it out");

	char *out = write_all(&pf);
	is_str(out, canonical, "written in the canonical form");
	is_int(parse(&again, &s, out), CT_EOK, "the written form reads back");
	bool same = again.count == pf.count;
	for (size_t i = 0; same && i < pf.count; i++) {
		uint8_t x[CT_POOL_VALUE_MAX], y[CT_POOL_VALUE_MAX];
		size_t xl = ct_pool_encode(&pf.pools[i].pool, x);
		same = xl == ct_pool_encode(&again.pools[i].pool, y) && memcmp(x, y, xl) == 0 &&
		       ct_dname_eq(pf.pools[i].owner, again.pools[i].owner);
	}
	ok(same, "to the very same pools");
	free(out);
	ct_poolfile_deinit(&again);
	ct_poolfile_deinit(&pf);

	is_int(parse(&pf, &s, "# nothing\n\n   \n"), CT_EOK, "a file of comments is fine");
	is_int(pf.count, 0, "and holds no pool");
	ct_poolfile_deinit(&pf);
	is_int(parse(&pf, &s,
	             "pool a.example\n preview-prefix \"\"\n preview off\n"
	             " group g weight 1 192.0.2.1\n"),
	       CT_EOK, "preview-prefix and preview off together");
	ct_poolfile_deinit(&pf);
}

static void test_errors(void)
{
	refused("ttl 30\n", "t.pools:1: 'ttl' before the first 'pool NAME TYPE' line");
	refused("pool\n", "t.pools:1: write 'pool NAME [A|AAAA]'");
	refused("pool a..b A\n", "t.pools:1: 'a..b' is not a valid domain name");
	refused("pool a.example MX\n", "t.pools:1: pool type 'MX': a pool is A or AAAA");
	refused("pool a.example\n", "t.pools:1: pool a.example. A has no groups; add 'group NAME "
	                            "weight W ADDRESS...'");
	refused("pool a.example\n policy random\n",
	        "t.pools:2: policy 'random': use weighted, sticky or failover");
	refused("pool a.example\n ttl -5\n",
	        "t.pools:2: ttl '-5' is not a number of seconds from 0 to 2147483647");
	refused("pool a.example\n ttl 2147483648\n",
	        "t.pools:2: ttl '2147483648' is not a number of seconds from 0 to 2147483647");
	refused("pool a.example\n ttl 30 60\n", "t.pools:2: 'ttl' takes one value");
	refused("pool a.example\n ttl 30\n ttl 60\n", "t.pools:3: ttl is already set at line 2");
	refused("pool a.example\n answers some\n",
	        "t.pools:2: answers 'some': write all, or a number from 1 to 65535");
	refused("pool a.example\n preview maybe\n",
	        "t.pools:2: preview 'maybe': write 'preview on' or 'preview off'");
	refused("pool a.example\n preview-prefix \"a.b\"\n",
	        "t.pools:2: preview prefix 'a.b': at most 63 letters, digits, '-' or '_'");
	refused("pool a.example\n preview-prefix \"open\n",
	        "t.pools:2: a quote (\") is not closed");
	refused("pool a.example\n group blue 100 192.0.2.1\n",
	        "t.pools:2: write 'group NAME weight W [ADDRESS...]'");
	refused("pool a.example\n group blue weight -1 192.0.2.1\n",
	        "t.pools:2: group 'blue': weight '-1' is not a whole number from 0 to 1000000");
	refused("pool a.example\n group blue weight ten\n",
	        "t.pools:2: group 'blue': weight 'ten' is not a whole number from 0 to 1000000");
	refused("pool a.example\n group b.lue weight 1\n",
	        "t.pools:2: group name 'b.lue': 1 to 63 letters, digits, '-' or '_'");
	refused("pool a.example\n group blue weight 1 192.0.2.1\n group BLUE weight 1\n",
	        "t.pools:3: group 'BLUE' is already in this pool");
	refused("pool a.example A\n group blue weight 1 2001:db8::1\n",
	        "t.pools:2: group 'blue': '2001:db8::1' is an IPv6 address; an A pool takes IPv4 "
	        "addresses (make an AAAA pool for it)");
	refused("pool a.example AAAA\n group blue weight 1 192.0.2.1\n",
	        "t.pools:2: group 'blue': '192.0.2.1' is an IPv4 address; an AAAA pool takes IPv6 "
	        "addresses (make an A pool for it)");
	refused("pool a.example\n group blue weight 1 192.0.2.300\n",
	        "t.pools:2: group 'blue': '192.0.2.300' is not an IPv4 address");
	refused("pool a.example\n group blue weight 1 192.0.2.1 192.0.2.1\n",
	        "t.pools:2: group 'blue': 192.0.2.1 is listed twice");
	refused("pool a.example\n group blue weight 1 192.0.2.1\n"
	        "pool A.Example. A\n group blue weight 1 192.0.2.1\n",
	        "t.pools:3: pool A.Example. A is already defined at line 1");
	refused(
	    "pool a.example\n colour blue\n",
	    "t.pools:2: unknown keyword 'colour'; a line starts with pool, policy, ttl, answers, "
	    "preview, preview-prefix, group, or a health check setting: check, check-host, "
	    "expect-status, expect-body, insecure, interval, timeout, rise, fall, all-down");
	refused("pool a.example\n preview-prefix \"x\"y\n",
	        "t.pools:2: a quote (\") in the middle of a word");
	char text[256], want[256], prefix[60];
	memset(prefix, 'a', 59);
	prefix[59] = '\0';
	snprintf(text, sizeof(text), "pool a.example\n preview-prefix %s\n group green weight 1\n",
	         prefix);
	snprintf(
	    want, sizeof(want),
	    "t.pools:1: pool a.example. A: preview label '%sgreen' is longer than 63 characters",
	    prefix);
	refused(text, want);

	/* reading goes on after an error, and a bad pool line silences its settings */
	ct_poolfile_t pf;
	sink_t s;
	is_int(parse(&pf, &s,
	             "pool a..b\n ttl 30\n group g weight 1\npool c.example\n ttl x\n"
	             " group g weight 1 192.0.2.1\n"),
	       CT_EINVAL, "errors in two pools");
	ok(s.n == 2 && strncmp(s.text[0], "t.pools:1:", 10) == 0 &&
	       strncmp(s.text[1], "t.pools:5:", 10) == 0 && pf.errors == 2,
	   "both reported with their lines, nothing about the bad pool's settings");
	ct_poolfile_deinit(&pf);
	char many[4096] = "pool a.example\n";
	for (int i = 0; i < CT_POOLFILE_MAXERRORS + 5; i++) {
		strcat(many, " ttl x\n");
	}
	is_int(parse(&pf, &s, many), CT_EINVAL, "many errors");
	is_int(pf.errors, CT_POOLFILE_MAXERRORS + 6, "all counted (and the pool without groups)");
	ct_poolfile_deinit(&pf);
}

static const char checks[] = "pool web.app.example.\n"
                             "  check http:8080/healthz?deep=1\n"
                             "  check-host api.internal\n"
                             "  expect-status 200-299\n"
                             "  expect-body \"status: ok # fine\"\n"
                             "  interval 1.5s\n"
                             "  timeout 200ms\n"
                             "  rise 1\n"
                             "  fall 5\n"
                             "  all-down nodata\n"
                             "  group blue weight 1 192.0.2.1\n"
                             "pool tls.app.example. AAAA\n"
                             "  group blue weight 1 2001:db8::1\n"
                             "  insecure\n"
                             "  check HTTPS:443\n"
                             "  interval 2m\n"
                             "pool db.app.example.\n"
                             "  check tcp:5432\n"
                             "  interval 200ms\n"
                             "  group g weight 1 192.0.2.5\n"
                             "pool quiet.app.example.\n"
                             "  all-down nodata\n"
                             "  group g weight 1 192.0.2.6\n"
                             "pool open.app.example.\n"
                             "  all-down serve-all\n"
                             "  group g weight 1 192.0.2.7\n";

static const char checks_canonical[] = "pool web.app.example. A\n"
                                       "\tpolicy  weighted\n"
                                       "\tttl     30\n"
                                       "\tanswers all\n"
                                       "\tpreview-prefix \"\"\n"
                                       "\tcheck         http:8080/healthz?deep=1\n"
                                       "\tcheck-host    api.internal\n"
                                       "\texpect-status 200-299\n"
                                       "\texpect-body   \"status: ok # fine\"\n"
                                       "\tinterval      1500ms\n"
                                       "\ttimeout       200ms\n"
                                       "\trise          1\n"
                                       "\tfall          5\n"
                                       "\tall-down      nodata\n"
                                       "\tgroup blue weight 1  192.0.2.1\n"
                                       "pool tls.app.example. AAAA\n"
                                       "\tpolicy  weighted\n"
                                       "\tttl     30\n"
                                       "\tanswers all\n"
                                       "\tpreview-prefix \"\"\n"
                                       "\tcheck         https:443/\n"
                                       "\texpect-status 200-399\n"
                                       "\tinsecure\n"
                                       "\tinterval      2m\n"
                                       "\ttimeout       1s\n"
                                       "\trise          2\n"
                                       "\tfall          3\n"
                                       "\tall-down      serve-all\n"
                                       "\tgroup blue weight 1  2001:db8::1\n"
                                       "pool db.app.example. A\n"
                                       "\tpolicy  weighted\n"
                                       "\tttl     30\n"
                                       "\tanswers all\n"
                                       "\tpreview-prefix \"\"\n"
                                       "\tcheck         tcp:5432\n"
                                       "\tinterval      200ms\n"
                                       "\ttimeout       200ms\n"
                                       "\trise          2\n"
                                       "\tfall          3\n"
                                       "\tall-down      serve-all\n"
                                       "\tgroup g weight 1  192.0.2.5\n"
                                       "pool quiet.app.example. A\n"
                                       "\tpolicy  weighted\n"
                                       "\tttl     30\n"
                                       "\tanswers all\n"
                                       "\tpreview-prefix \"\"\n"
                                       "\tall-down      nodata\n"
                                       "\tgroup g weight 1  192.0.2.6\n"
                                       "pool open.app.example. A\n"
                                       "\tpolicy  weighted\n"
                                       "\tttl     30\n"
                                       "\tanswers all\n"
                                       "\tpreview-prefix \"\"\n"
                                       "\tgroup g weight 1  192.0.2.7\n";

static void test_checks(void)
{
	ct_poolfile_t pf, again;
	sink_t s;
	is_int(parse(&pf, &s, checks), CT_EOK, "a file with health checks reads");
	if (s.n > 0) {
		diag("  %s", s.text[0]);
	}
	is_int(pf.count, 5, "five pools");
	if (pf.count != 5) {
		ct_poolfile_deinit(&pf);
		return;
	}
	const ct_pool_check_t *w = &pf.pools[0].pool.check, *t = &pf.pools[1].pool.check;
	const ct_pool_check_t *d = &pf.pools[2].pool.check;
	ok(w->kind == CT_CHECK_HTTP && w->port == 8080 && strcmp(w->path, "/healthz?deep=1") == 0 &&
	       strcmp(w->host, "api.internal") == 0 && w->status_min == 200 &&
	       w->status_max == 299 && strcmp(w->expect, "status: ok # fine") == 0 &&
	       w->interval_ms == 1500 && w->timeout_ms == 200 && w->rise == 1 && w->fall == 5 &&
	       !w->insecure && (pf.pools[0].pool.flags & CT_POOL_ALLDOWN_NODATA),
	   "http: every setting read ('#' inside quotes is text)");
	ok(t->kind == CT_CHECK_HTTPS && t->port == 443 && strcmp(t->path, "/") == 0 &&
	       t->insecure && t->interval_ms == 120000 && t->timeout_ms == 1000 &&
	       t->status_min == 200 && t->status_max == 399 && t->rise == 2 && t->fall == 3 &&
	       t->host[0] == '\0',
	   "https: path /, defaults, insecure, the kind in any letter case, settings in any order");
	ok(d->kind == CT_CHECK_TCP && d->port == 5432 && d->interval_ms == 200 &&
	       d->timeout_ms == 200 && d->path[0] == '\0' && d->status_min == 0,
	   "tcp: the timeout defaults to the interval when that is below 1s");
	ok(pf.pools[3].pool.check.kind == CT_CHECK_NONE &&
	       pf.pools[3].pool.flags == CT_POOL_ALLDOWN_NODATA,
	   "all-down nodata without a check");
	ok(pf.pools[4].pool.flags == 0, "all-down serve-all is the default");

	char *out = write_all(&pf);
	is_str(out, checks_canonical, "written in the canonical form");
	is_int(parse(&again, &s, out), CT_EOK, "the written form reads back");
	bool same = again.count == pf.count;
	for (size_t i = 0; same && i < pf.count; i++) {
		uint8_t x[CT_POOL_VALUE_MAX], y[CT_POOL_VALUE_MAX];
		size_t xl = ct_pool_encode(&pf.pools[i].pool, x);
		same = xl == ct_pool_encode(&again.pools[i].pool, y) && memcmp(x, y, xl) == 0;
	}
	ok(same, "to the very same pools");
	char *out2 = write_all(&again);
	is_str(out2, out, "and writes the same text again");
	free(out2);
	free(out);
	ct_poolfile_deinit(&again);
	ct_poolfile_deinit(&pf);

	const char *g = "pool a.example\n group g weight 1 192.0.2.1\n";
	char text[512];
#define CHECK_REFUSED(lines, want)                                                                 \
	do {                                                                                       \
		snprintf(text, sizeof(text), "%s%s", g, lines);                                    \
		refused(text, want);                                                               \
	} while (0)
	CHECK_REFUSED(" check ftp:21\n",
	              "t.pools:3: check 'ftp:21': write tcp:PORT, http:PORT[/PATH] or "
	              "https:PORT[/PATH]");
	CHECK_REFUSED(" check http\n", "t.pools:3: check 'http': write tcp:PORT, http:PORT[/PATH] "
	                               "or https:PORT[/PATH]");
	CHECK_REFUSED(" check http:0\n", "t.pools:3: check 'http:0': the port must be 1 to 65535");
	CHECK_REFUSED(" check tcp:70000\n",
	              "t.pools:3: check 'tcp:70000': the port must be 1 to 65535");
	CHECK_REFUSED(" check http:80x\n", "t.pools:3: check 'http:80x': write tcp:PORT, "
	                                   "http:PORT[/PATH] or https:PORT[/PATH]");
	CHECK_REFUSED(" check tcp:80/x\n",
	              "t.pools:3: check 'tcp:80/x': a tcp check has no path (it only connects)");
	CHECK_REFUSED(" check \"http:80/a b\"\n",
	              "t.pools:3: check 'http:80/a b': the path must be printable ASCII, without "
	              "spaces, quotes or '#'");
	CHECK_REFUSED(" check\n", "t.pools:3: 'check' takes one value");
	CHECK_REFUSED(" check tcp:1\n check tcp:2\n", "t.pools:4: check is already set at line 3");
	CHECK_REFUSED(
	    " check http:80\n check-host a/b\n",
	    "t.pools:4: check-host 'a/b': a host name, 1 to 253 letters, digits, '.', '-' "
	    "or '_' (sent as the Host header and the TLS server name)");
	CHECK_REFUSED(" check http:80\n expect-status 99\n",
	              "t.pools:4: expect-status '99': write a status (200) or a range (200-299) "
	              "within 100-599");
	CHECK_REFUSED(" check http:80\n expect-status 300-200\n",
	              "t.pools:4: expect-status '300-200': write a status (200) or a range "
	              "(200-299) within 100-599");
	CHECK_REFUSED(" check http:80\n expect-status 2xx\n",
	              "t.pools:4: expect-status '2xx': write a status (200) or a range (200-299) "
	              "within 100-599");
	CHECK_REFUSED(" check http:80\n expect-body \"\"\n",
	              "t.pools:4: expect-body '': 1 to 255 bytes of printable UTF-8 text without "
	              "double quotes");
	CHECK_REFUSED(" check http:80\n expect-body \"\xff\"\n",
	              "t.pools:4: expect-body '\xff': 1 to 255 bytes of printable UTF-8 text "
	              "without double quotes");
	CHECK_REFUSED(" check https:443\n insecure yes\n", "t.pools:4: 'insecure' takes no value");
	CHECK_REFUSED(" check http:80\n interval 500\n",
	              "t.pools:4: interval '500' has no unit: write ms, s or m after the number "
	              "(e.g. 200ms, 1.5s, 2m)");
	CHECK_REFUSED(
	    " check http:80\n interval 5h\n",
	    "t.pools:4: interval '5h': the unit must be ms, s or m (e.g. 200ms, 1.5s, 2m)");
	CHECK_REFUSED(" check http:80\n interval soon\n",
	              "t.pools:4: interval 'soon' is not a duration: write a number and ms, s or m "
	              "(e.g. 200ms, 1.5s, 2m)");
	CHECK_REFUSED(" check http:80\n interval 99ms\n",
	              "t.pools:4: interval '99ms': must be 100ms to 60m");
	CHECK_REFUSED(" check http:80\n interval 61m\n",
	              "t.pools:4: interval '61m': must be 100ms to 60m");
	CHECK_REFUSED(" check http:80\n timeout 0.5ms\n",
	              "t.pools:4: timeout '0.5ms' is not a whole number of milliseconds");
	CHECK_REFUSED(" check http:80\n timeout 5ms\n",
	              "t.pools:4: timeout '5ms': must be 10ms to 60m (and at most the interval)");
	CHECK_REFUSED(" check http:80\n interval 500ms\n timeout 1s\n",
	              "t.pools:5: timeout 1s is above interval 500ms: a check must end before the "
	              "next starts");
	CHECK_REFUSED(" check http:80\n rise 0\n",
	              "t.pools:4: rise '0': a whole number of checks from 1 to 100");
	CHECK_REFUSED(" check http:80\n fall 101\n",
	              "t.pools:4: fall '101': a whole number of checks from 1 to 100");
	CHECK_REFUSED(" check http:80\n fall -1\n",
	              "t.pools:4: fall '-1': a whole number of checks from 1 to 100");
	CHECK_REFUSED(" all-down never\n", "t.pools:3: all-down 'never': write serve-all (answer "
	                                   "with every target: fail open) or nodata");
	CHECK_REFUSED(" check http:80\n insecure\n",
	              "t.pools:4: insecure is for https checks only (it skips the certificate "
	              "verification)");
	CHECK_REFUSED(" check tcp:80\n expect-body \"ok\"\n",
	              "t.pools:4: expect-body is for http and https checks; a tcp check only "
	              "connects");
	CHECK_REFUSED(" interval 1s\n",
	              "t.pools:3: interval without check: the pool has no health check");
	CHECK_REFUSED(" check-host x\n",
	              "t.pools:3: check-host without check: the pool has no health check");
#undef CHECK_REFUSED

	/* a bad check line is reported once: not again as "interval without check" */
	is_int(parse(&pf, &s, "pool a.example\n check http:0\n interval 1s\n group g weight 1\n"),
	       CT_EINVAL, "a bad check line");
	ok(s.n == 1 && pf.errors == 1, "one error, not a second one from it");
	ct_poolfile_deinit(&pf);
}

/* The duration and spec text forms. */
static void test_text(void)
{
	static const struct {
		const char *text;
		uint32_t ms;
		const char *back;
	} durations[] = {
		{ "100ms", 100, "100ms" }, { "1s", 1000, "1s" },      { "1.5s", 1500, "1500ms" },
		{ "2m", 120000, "2m" },    { "0.25s", 250, "250ms" }, { "90s", 90000, "90s" },
		{ "0.5m", 30000, "30s" },  { "1.000s", 1000, "1s" },  { "60m", 3600000, "60m" },
		{ "007ms", 7, "7ms" },     { "1.0000001s", 0, NULL },
	};
	char err[256], back[CT_CHECKTEXT_DURLEN];
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		uint32_t ms = 0;
		bool parsed = ct_checktext_duration(durations[i].text, &ms, err, sizeof(err));
		if (durations[i].back == NULL) {
			ok(!parsed && strstr(err, "whole number of milliseconds") != NULL,
			   "duration '%s': not whole ms", durations[i].text);
			continue;
		}
		ok(parsed && ms == durations[i].ms &&
		       strcmp(ct_checktext_duration_str(ms, back), durations[i].back) == 0,
		   "duration '%s' = %u ms, written %s", durations[i].text, durations[i].ms,
		   durations[i].back);
	}
	static const char *const bad[] = { "",      "5",  "ms", "1.s",   "-1s",
		                           "1 s",   "1S", "1h", "1e3ms", "99999999999999s",
		                           "71583m" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t ms;
		ok(!ct_checktext_duration(bad[i], &ms, err, sizeof(err)) && err[0] == '\'',
		   "duration '%s' refused: %s", bad[i], err);
	}
	ct_pool_check_t c;
	char spec[CT_CHECKTEXT_SPECLEN];
	ct_pool_check_defaults(&c, CT_CHECK_NONE);
	is_str(ct_checktext_spec(&c, spec), "none", "spec of no check");
	ct_pool_check_defaults(&c, CT_CHECK_HTTPS);
	c.port = 443;
	is_str(ct_checktext_spec(&c, spec), "https:443/", "an empty path is written /");
	ok(ct_checktext_key("expect-body") == CT_CHECKKEY_BODY && ct_checktext_key("body") < 0 &&
	       strcmp(ct_checktext_key_name(CT_CHECKKEY_ALLDOWN), "all-down") == 0,
	   "setting names");

	/* the change summary */
	static ct_pool_t b, a;
	b.type = a.type = CT_TYPE_A;
	ct_checkargs_t args = { 0 };
	ct_checkargs_set(&args, CT_CHECKKEY_CHECK, "http:80/x", err, sizeof(err));
	ct_checkargs_set(&args, CT_CHECKKEY_INTERVAL, "500ms", err, sizeof(err));
	ct_checkargs_set(&args, CT_CHECKKEY_ALLDOWN, "nodata", err, sizeof(err));
	is_int(ct_checkargs_apply(&args, "--", &a, err, sizeof(err)), -1, "settings applied");
	char *sum = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sum, &len);
	ct_checktext_diff(f, &b, &a);
	fputc('|', f);
	ct_checktext_diff(f, &a, &b);
	fclose(f);
	is_str(sum,
	       "; check none -> http:80/x; interval 1s -> 500ms; all-down serve-all -> nodata|; "
	       "check http:80/x -> none; all-down nodata -> serve-all",
	       "the change summary of a check added (the timeout follows the interval), then "
	       "removed");
	free(sum);
}

int main(void)
{
	test_read_write();
	test_errors();
	test_checks();
	test_text();
	done_testing();
	return exit_status();
}
