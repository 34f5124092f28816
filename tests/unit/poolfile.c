/* SPDX-License-Identifier: MIT */
/* Unit tests: the pool file of cutoverctl (tools/poolfile.c): reading, errors with their
 * lines, and writing back the same pools. */
#include "poolfile.h"
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

	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	for (size_t i = 0; i < pf.count; i++) {
		ct_poolfile_write(f, pf.pools[i].owner, &pf.pools[i].pool);
	}
	fclose(f);
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
	    "preview, preview-prefix or group");
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

int main(void)
{
	test_read_write();
	test_errors();
	done_testing();
	return exit_status();
}
