/* SPDX-License-Identifier: MIT */
/* Fuzz target: the pool file (tools/poolfile.c, what 'cutoverctl apply' reads). Every pool
 * that reads must be written back ('export-pools') as text that reads back to the same pool,
 * and its database encoding must decode to the same pool. */
#include "fuzz.h"
#include "poolfile.h"
#include "cutover/errcode.h"

static void quiet(void *ctx, const char *msg)
{
	fuzz_assert(msg != NULL && strchr(msg, '\n') == NULL); /* one line per message */
}

/* The same pool: the same database value (the encoding covers every field). */
static bool same_pool(const ct_pool_t *a, const ct_pool_t *b)
{
	static uint8_t x[CT_POOL_VALUE_MAX], y[CT_POOL_VALUE_MAX];
	size_t n = ct_pool_encode(a, x), m = ct_pool_encode(b, y);
	return n == m && memcmp(x, y, n) == 0;
}

static void check_pool(const ct_poolfile_pool_t *p)
{
	/* the database value decodes to the pool (view and copy) */
	static uint8_t value[CT_POOL_VALUE_MAX];
	static ct_pool_t decoded;
	size_t n = ct_pool_encode(&p->pool, value);
	fuzz_assert(n > 0 && n <= CT_POOL_VALUE_MAX);
	ct_pool_view_t view;
	fuzz_assert(ct_pool_view_parse(value, n, &view) == CT_EOK);
	fuzz_assert(view.ngroups == p->pool.ngroups);
	fuzz_assert(ct_pool_decode(value, n, &decoded) == CT_EOK);
	fuzz_assert(same_pool(&p->pool, &decoded));

	/* the text written reads back to the same pool */
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	fuzz_assert(out != NULL);
	fuzz_assert(ct_poolfile_write(out, p->owner, &p->pool) == CT_EOK);
	fclose(out);
	FILE *in = fmemopen(text, len, "r");
	fuzz_assert(in != NULL);
	ct_poolfile_t back;
	ct_poolfile_init(&back, quiet, NULL);
	int ret = ct_poolfile_parse(&back, in, "back.pools");
	fclose(in);
	if (ret != CT_EOK || back.count != 1 || !same_pool(&p->pool, &back.pools[0].pool) ||
	    !ct_dname_eq(p->owner, back.pools[0].owner)) {
		fprintf(stderr, "fuzz poolfile: written pool does not read back (%s):\n%s",
		        ct_strerror(ret), text);
		abort();
	}
	ct_poolfile_deinit(&back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in = fmemopen((void *)data, size, "r");
	if (in == NULL) {
		return 0; /* fmemopen refuses size 0 in old glibc */
	}
	ct_poolfile_t pf;
	ct_poolfile_init(&pf, quiet, NULL);
	int ret = ct_poolfile_parse(&pf, in, "in.pools");
	fclose(in);
	fuzz_assert(ret == CT_EOK || ret == CT_EINVAL);
	fuzz_assert((ret == CT_EOK) == (pf.errors == 0));
	for (size_t i = 0; ret == CT_EOK && i < pf.count; i++) {
		check_pool(&pf.pools[i]);
	}
	ct_poolfile_deinit(&pf);
	return 0;
}
