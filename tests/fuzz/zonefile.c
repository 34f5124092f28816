/* SPDX-License-Identifier: MIT */
/* Fuzz target: zone file text through the import (ct_zonefile_parse, _validate, _write) and,
 * for a zone that imports, the export: what is exported must import back to the very same
 * records (the promise of ct_zonefile_export). */
#include "fuzz.h"
#include "cutover/errcode.h"
#include "cutover/log.h"
#include "cutover/zonefile.h"

static ct_store_t store;
static bool opened;

static void quiet(void *ctx, int prio, const char *msg)
{
	fuzz_assert(msg != NULL && strchr(msg, '\n') == NULL); /* one line per message */
}

static void open_store(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/db", fuzz_dir());
	ct_store_opts_t opts = { .create = true, .map_size = 256 << 20 };
	if (ct_store_open(&store, path, &opts) != CT_EOK) {
		fprintf(stderr, "fuzz zonefile: %s\n", ct_store_last_error());
		abort();
	}
	ct_log_set_level(CT_LOG_ERR - 1);
	opened = true;
}

/* Read path as a zone; true if it is valid. */
static bool import(ct_zonefile_t *zf, const char *path)
{
	ct_zonefile_init(zf, quiet, NULL);
	return ct_zonefile_parse(zf, path, NULL) == CT_EOK && ct_zonefile_validate(zf) == CT_EOK;
}

static bool same_records(const ct_zonefile_t *a, const ct_zonefile_t *b)
{
	if (a->count != b->count) {
		return false;
	}
	for (size_t i = 0; i < a->count; i++) {
		const ct_zonefile_rr_t *x = &a->rr[i], *y = &b->rr[i];
		if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
		    x->type != y->type || x->ttl != y->ttl || x->rdlen != y->rdlen ||
		    memcmp(x->rdata, y->rdata, x->rdlen) != 0) {
			fprintf(stderr, "fuzz zonefile: record %zu of %zu differs after export\n",
			        i, a->count);
			return false;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!opened) {
		open_store();
	}
	char path[4096], back[4096];
	fuzz_write("in.zone", data, size, path);
	ct_zonefile_t zf;
	if (!import(&zf, path)) {
		ct_zonefile_deinit(&zf);
		return 0;
	}
	/* write it (never committed: every input starts from an empty store) and export it */
	ct_txn_t txn;
	ct_txn_begin(&store, &txn, true);
	int ret = ct_zonefile_write(&zf, &txn);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	fuzz_assert(out != NULL);
	if (ret == CT_EOK) {
		ret = ct_zonefile_export(&txn, zf.apex, out);
	}
	fclose(out);
	ct_txn_abort(&txn);
	fuzz_assert(ret == CT_EOK || ret == CT_ESPACE || ret == CT_EDBFULL);
	if (ret == CT_EOK) {
		fuzz_write("back.zone", text, len, back);
		ct_zonefile_t again;
		bool ok = import(&again, back);
		if (!ok || !same_records(&zf, &again)) {
			fprintf(stderr, "fuzz zonefile: the export does not import back:\n%s", text);
			abort();
		}
		ct_zonefile_deinit(&again);
	}
	free(text);
	ct_zonefile_deinit(&zf);
	return 0;
}
