/* SPDX-License-Identifier: MIT */
/* cutoverctl apply and export-pools: pools from and to the declarative pool file. */
#include "ctl.h"
#include "poolcmd.h"
#include "poolfile.h"
#include "cutover/poolhealth.h"
#include "cutover/pooltext.h"
#include "cutover/errcode.h"
#include "cutover/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help texts: one line of source per line of output. */
/* clang-format off */
static const char apply_usage[] =
	"Usage: cutoverctl [--db DIR] apply FILE [--prune] [--dry-run] [--actor NAME]\n"
	"\n"
	"Make the pools what the pool file FILE ('-': standard input) says. The whole file is\n"
	"read and checked first (errors as FILE:LINE: what is wrong); then every pool is\n"
	"written in ONE transaction, each change recorded in history (action \"apply\") with a\n"
	"serial bump; on any error nothing is written. A pool that already is as the file says\n"
	"is not rewritten, so applying a file twice changes nothing the second time. Prints\n"
	"each change and a count.\n"
	"\n"
	"The format, one setting per line ('#' starts a comment; defaults in brackets):\n"
	"  pool NAME [A|AAAA]             starts a pool [A]; the settings below belong to it\n"
	"  policy weighted|sticky|failover                                      [weighted]\n"
	"  ttl SECONDS                    TTL of the answers                    [30]\n"
	"  answers all|N                  the most addresses per answer         [all]\n"
	"  preview-prefix \"P\"             preview names are P + GROUP . NAME    [\"\"]\n"
	"  preview on|off                 preview names or none                 [on]\n"
	"  check tcp:PORT | http:PORT[/PATH] | https:PORT[/PATH]  a health check  [none]\n"
	"  check-host NAME                Host header and TLS name      [the address]\n"
	"  expect-status N | N-M          the HTTP status that passes       [200-399]\n"
	"  expect-body \"TEXT\"             text the HTTP body must contain      [none]\n"
	"  insecure                       https: no certificate verification\n"
	"  interval DUR                   between checks, 100ms to 60m           [1s]\n"
	"  timeout DUR                    at most the interval  [1s or the interval]\n"
	"  rise N | fall N                passes to come back, failures to go out [2, 3]\n"
	"  all-down serve-all|nodata      when every target is out        [serve-all]\n"
	"  group GROUP weight W [ADDR...]  a group, its weight and targets (in answer order)\n"
	"DUR is a number with ms, s or m (500ms, 1.5s, 2m). The check settings but all-down\n"
	"need a check line. 'cutoverctl pool set --help' explains them; 'cutoverctl\n"
	"export-pools' prints the pools in this format.\n"
	"\n"
	"Options:\n"
	"  --prune       also delete the pools of the zones named in FILE that FILE does not\n"
	"                list (a zone is named when one of its pools is in FILE)\n"
	"  --dry-run     check everything against the database and print what would change,\n"
	"                but write nothing\n"
	"  --actor NAME  who is recorded in history (default: the login user)\n"
	"  -h, --help    show this help\n"
	"\n"
	"Example file:\n"
	"  pool api.app.example. A\n"
	"      policy  weighted\n"
	"      ttl     30\n"
	"      check   http:8080/healthz\n"
	"      fall    2\n"
	"      group blue  weight 100  192.0.2.10 192.0.2.11\n"
	"      group green weight 0    198.51.100.10 198.51.100.11\n"
	"\n"
	"Example:\n"
	"  cutoverctl apply zones/app.example.pools --prune\n";

static const char export_usage[] =
	"Usage: cutoverctl [--db DIR] export-pools [ZONE]\n"
	"\n"
	"Print the pools of ZONE, or of every zone, as a pool file (see 'cutoverctl apply\n"
	"--help'), in name order with every setting spelled out. 'cutoverctl apply' reads it\n"
	"back to the very same pools, so export, edit and apply is a way to change many pools\n"
	"in one transaction.\n"
	"\n"
	"Options:\n"
	"  -h, --help  show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl export-pools app.example > app.example.pools\n";
/* clang-format on */

/* ------------------------------------------------------------------------------------------
 * apply */

enum { OPT_PRUNE = 256, OPT_DRY_RUN };

typedef struct {
	bool prune, dry_run;
} apply_opts_t;

static int apply_option(ct_poolcmd_t *cmd, int c, const char *arg)
{
	apply_opts_t *o = cmd->ctx;
	if (c == OPT_PRUNE) {
		o->prune = true;
	} else {
		o->dry_run = true;
	}
	return -1;
}

/* What apply did to one pool, reported once the transaction is committed. */
typedef struct {
	uint8_t owner[CT_DNAME_MAXLEN];
	uint16_t type;
	bool existed, changed, deleted;
	ct_pool_t before;
	const ct_pool_t *after; /* into the pool file; NULL for a pruned pool */
} outcome_t;

typedef struct {
	const ct_poolfile_t *pf;
	uint8_t (*keys)[CT_RR_KEY_MAXLEN]; /* the file's pools-db keys, in file order */
	size_t *klen;
	outcome_t *out; /* one per file pool, then the pruned ones */
	size_t nout, cap;
	int ret;
} applying_t;

static void print_message(void *ctx, const char *msg)
{
	ct_ctl_err("%s", msg);
}

static bool in_file(const applying_t *a, const MDB_val *key)
{
	for (size_t i = 0; i < a->pf->count; i++) {
		if (a->klen[i] == key->mv_size &&
		    memcmp(a->keys[i], key->mv_data, key->mv_size) == 0) {
			return true;
		}
	}
	return false;
}

/* --prune: note every pool of a zone of the file that the file does not hold. */
static bool note_prune(const MDB_val *key, const ct_pool_t *pool, void *arg)
{
	applying_t *a = arg;
	if (in_file(a, key)) {
		return true;
	}
	if (a->nout == a->cap) {
		size_t cap = 2 * a->cap;
		outcome_t *no = realloc(a->out, cap * sizeof(*no));
		if (no == NULL) {
			a->ret = CT_ENOMEM;
			return false;
		}
		a->out = no;
		a->cap = cap;
	}
	outcome_t *o = &a->out[a->nout++];
	memset(o, 0, sizeof(*o));
	if (ct_pool_key_owner(key, o->owner, &o->type) != CT_EOK) {
		a->ret = CT_EDBCORRUPT;
		return false;
	}
	o->before = *pool;
	o->existed = o->deleted = true;
	return true;
}

/* The apexes of the zones the file's pools are in, each once (into zones; returns the count). */
static size_t file_zones(const applying_t *a, uint8_t (*zones)[CT_DNAME_MAXLEN])
{
	size_t n = 0;
	for (size_t i = 0; i < a->pf->count; i++) {
		MDB_val key = { a->klen[i], a->keys[i] };
		uint8_t apex[CT_DNAME_MAXLEN];
		size_t j = 0;
		if (ct_pool_key_zone(&key, apex) != CT_EOK) {
			continue;
		}
		while (j < n && !ct_dname_eq(zones[j], apex)) {
			j++;
		}
		if (j == n) {
			memcpy(zones[n++], apex, ct_dname_len(apex));
		}
	}
	return n;
}

/* Everything apply writes, in the caller's transaction. False when it failed (said why). */
static bool apply_all(const ct_poolcmd_t *cmd, ct_txn_t *txn, const char *file, applying_t *a,
                      bool prune)
{
	char err[1024];
	for (size_t i = 0; i < a->pf->count; i++) {
		const ct_poolfile_pool_t *p = &a->pf->pools[i];
		outcome_t *o = &a->out[a->nout++];
		memset(o, 0, sizeof(*o));
		memcpy(o->owner, p->owner, ct_dname_len(p->owner));
		o->type = p->pool.type;
		o->after = &p->pool;
		err[0] = '\0';
		int ret = ct_pool_key(txn, p->owner, p->pool.type, a->keys[i], &a->klen[i], err,
		                      sizeof(err));
		if (ret == CT_EOK) {
			ret = ct_pool_get(txn, p->owner, p->pool.type, &o->before);
			o->existed = ret == CT_EOK;
			ret = ret == CT_ENOTFOUND ? CT_EOK : ret;
		}
		if (ret == CT_EOK) {
			ret = ct_pool_put(txn, p->owner, &p->pool, cmd->actor, "apply", &o->changed,
			                  err, sizeof(err));
		}
		if (ret == CT_EOK && o->changed) {
			ret =
			    ct_poolhealth_sync(txn, a->keys[i], a->klen[i], &p->pool, !o->existed);
		}
		if (ret != CT_EOK) {
			if (err[0] != '\0') {
				ct_ctl_err("%s:%d: %s", file, p->line, err);
			} else {
				ct_ctl_txn_err(txn->store, ret, file);
			}
			return false;
		}
	}
	if (!prune) {
		return true;
	}
	uint8_t(*zones)[CT_DNAME_MAXLEN] = malloc(a->pf->count * CT_DNAME_MAXLEN + 1);
	size_t nzones = zones != NULL ? file_zones(a, zones) : 0;
	size_t first = a->nout;
	a->ret = zones == NULL ? CT_ENOMEM : CT_EOK;
	for (size_t z = 0; z < nzones && a->ret == CT_EOK; z++) {
		int ret = ct_poolcmd_each(txn, zones[z], note_prune, a);
		a->ret = a->ret != CT_EOK ? a->ret : ret;
	}
	free(zones);
	for (size_t i = first; i < a->nout && a->ret == CT_EOK; i++) {
		a->ret = ct_pool_delete(txn, a->out[i].owner, a->out[i].type, cmd->actor,
		                        "apply --prune", err, sizeof(err));
	}
	if (a->ret != CT_EOK) {
		ct_ctl_txn_err(txn->store, a->ret, file);
		return false;
	}
	return true;
}

int ct_ctl_apply(const ct_ctl_t *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prune", no_argument, NULL, OPT_PRUNE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	apply_opts_t o = { false, false };
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "apply",
		             .usage = apply_usage,
		             .takes = CT_POOLOPT_ACTOR,
		             .extra = opts,
		             .on_opt = apply_option,
		             .ctx = &o,
		             .min_ops = 1,
		             .max_ops = 1 };
	int status = ct_poolcmd_parse(&cmd, argc, argv);
	if (status >= 0) {
		return status;
	}
	const char *file = cmd.ops[0];
	bool from_stdin = strcmp(file, "-") == 0;
	FILE *in = from_stdin ? stdin : fopen(file, "r");
	if (in == NULL) {
		ct_ctl_err("apply: cannot open %s: %s", file, strerror(errno));
		return CT_CTL_FAIL;
	}
	ct_poolfile_t pf;
	ct_poolfile_init(&pf, print_message, NULL);
	int ret = ct_poolfile_parse(&pf, in, from_stdin ? "(stdin)" : file);
	if (!from_stdin) {
		fclose(in);
	}
	if (ret != CT_EOK) {
		if (ret == CT_EINVAL) {
			ct_ctl_err("apply: %s: not applied, %u error%s; nothing was written", file,
			           pf.errors, pf.errors == 1 ? "" : "s");
		} else {
			ct_ctl_err("apply: %s: %s; nothing was written", file, ct_strerror(ret));
		}
		ct_poolfile_deinit(&pf);
		return CT_CTL_FAIL;
	}
	ct_store_t st;
	ct_txn_t txn;
	applying_t a = { .pf = &pf, .cap = pf.count + 8 };
	a.keys = malloc((pf.count + 1) * sizeof(*a.keys));
	a.klen = malloc((pf.count + 1) * sizeof(*a.klen));
	a.out = malloc(a.cap * sizeof(*a.out));
	status = a.keys == NULL || a.klen == NULL || a.out == NULL ? CT_CTL_FAIL : -1;
	if (status >= 0) {
		ct_ctl_err("apply: %s", ct_strerror(CT_ENOMEM));
	} else {
		status = ct_poolcmd_open(&cmd, NULL, &st, &txn, true);
	}
	if (status < 0) {
		bool ok = apply_all(&cmd, &txn, file, &a, o.prune);
		if (ok && o.dry_run) {
			ct_txn_abort(&txn);
		}
		status = ct_poolcmd_end(&cmd, &st, &txn, ok, "apply: nothing written");
	}
	unsigned created = 0, updated = 0, unchanged = 0, deleted = 0;
	for (size_t i = 0; status == CT_CTL_OK && i < a.nout; i++) {
		const outcome_t *oc = &a.out[i];
		const char *verb = oc->deleted   ? "deleted (--prune)"
		                   : oc->existed ? "updated"
		                                 : "created";
		created += !oc->deleted && !oc->existed;
		updated += !oc->deleted && oc->existed && oc->changed;
		unchanged += !oc->deleted && !oc->changed;
		deleted += oc->deleted;
		if (oc->changed || oc->deleted) {
			ct_poolcmd_report(oc->owner, oc->type, verb,
			                  oc->existed ? &oc->before : NULL, oc->after, true);
		}
	}
	if (status == CT_CTL_OK) {
		printf("%s: %u created, %u updated, %u unchanged, %u deleted%s\n", file, created,
		       updated, unchanged, deleted, o.dry_run ? " (dry run: nothing written)" : "");
	}
	free(a.keys);
	free(a.klen);
	free(a.out);
	ct_poolfile_deinit(&pf);
	return status;
}

/* ------------------------------------------------------------------------------------------
 * export-pools */

#define EXPORT_HEADER                                                                              \
	"# Pools exported by cutoverctl export-pools; 'cutoverctl apply FILE' reads them.\n"

typedef struct {
	bool started;                  /* the header is out */
	uint8_t zone[CT_DNAME_MAXLEN]; /* of the last pool written */
	int ret;
} exporting_t;

static bool export_one(const MDB_val *key, const ct_pool_t *pool, void *arg)
{
	exporting_t *x = arg;
	uint8_t owner[CT_DNAME_MAXLEN], apex[CT_DNAME_MAXLEN];
	uint16_t type;
	char text[CT_DNAME_STRLEN];
	if (ct_pool_key_owner(key, owner, &type) != CT_EOK ||
	    ct_pool_key_zone(key, apex) != CT_EOK) {
		x->ret = CT_EDBCORRUPT;
		return false;
	}
	if (!x->started || !ct_dname_eq(x->zone, apex)) {
		printf("%s\n# zone %s\n", x->started ? "" : EXPORT_HEADER,
		       ct_dname_to_str(apex, text));
		memcpy(x->zone, apex, ct_dname_len(apex));
		x->started = true;
	}
	printf("\n");
	x->ret = ct_poolfile_write(stdout, owner, pool);
	return x->ret == CT_EOK;
}

int ct_ctl_export_pools(const ct_ctl_t *ctl, int argc, char **argv)
{
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = "export-pools",
		             .usage = export_usage,
		             .min_ops = 0,
		             .max_ops = 1 };
	uint8_t zone[CT_DNAME_MAXLEN];
	char text[CT_DNAME_STRLEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_start(&cmd, argc, argv, zone, &st, &txn, false);
	if (status >= 0) {
		return status;
	}
	exporting_t x = { .started = false };
	int ret = ct_poolcmd_each(&txn, cmd.nops == 1 ? zone : NULL, export_one, &x);
	ret = ret != CT_EOK ? ret : x.ret;
	if (ret == CT_EOK && !x.started) {
		printf(EXPORT_HEADER "# (no pools)\n");
	}
	if (ret == CT_ENOZONE) {
		ct_poolcmd_err(&cmd, "no zone %s in %s; 'cutoverctl zone list' shows the zones",
		               ct_dname_to_str(zone, text), ctl->db);
	} else if (ret == -EIO || fflush(stdout) != 0) {
		ct_poolcmd_err(&cmd, "cannot write the pools: %s", strerror(EIO));
		ret = -EIO;
	} else if (ret != CT_EOK) {
		ct_ctl_txn_err(&st, ret, "export-pools");
	}
	return ct_poolcmd_end(&cmd, &st, &txn, ret == CT_EOK, "export-pools");
}
