/* SPDX-License-Identifier: MIT */
/* cutoverctl drain and undrain: an operator takes a target out of the answers, and back. */
#include "ctl.h"
#include "poolcmd.h"
#include "cutover/poolhealth.h"
#include "cutover/pooltext.h"
#include "cutover/errcode.h"
#include "cutover/health.h"
#include "cutover/history.h"
#include "cutover/wire.h"
#include "cutover/zonefile.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help texts: one line of source per line of output. */
/* clang-format off */
static const char drain_usage[] =
	"Usage: cutoverctl [--db DIR] drain ADDR [--pool NAME] [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"Take the target ADDR out of the answers of every pool that has it as a target (or only\n"
	"of the pool at NAME), whatever its health checks say: cutoverd stops answering with it\n"
	"from its next query on. The prober keeps checking it, so 'status' still shows its state.\n"
	"'cutoverctl undrain ADDR' brings it back. One transaction marks the target drained in\n"
	"each pool, records a history entry per pool (action \"drain ADDR\"; the pool itself is\n"
	"unchanged, and 'rollback' passes over the entry) and bumps the zones' serials. A target\n"
	"that is drained already is left alone.\n"
	"\n"
	"When every target of a pool is down or drained, cutoverd fails open and answers with all\n"
	"of them (or NODATA, with all-down nodata): draining the last healthy target does not\n"
	"empty the answers; the command says so. A drain belongs to the target in its pool:\n"
	"removing the target from the pool, or deleting the pool, forgets it.\n"
	"\n"
	"Options:\n"
	"  --pool NAME    only the pool at NAME (its A pool for an IPv4 ADDR, AAAA for IPv6)\n"
	"  --type A|AAAA  the type of the pools; ADDR's family says it already, so a --type\n"
	"                 that does not match ADDR is an error\n"
	"  --actor NAME   who is recorded in history (default: the login user)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Examples:\n"
	"  cutoverctl drain 192.0.2.10\n"
	"  cutoverctl drain 2001:db8:b1::10 --pool api.app.example\n";

static const char undrain_usage[] =
	"Usage: cutoverctl [--db DIR] undrain ADDR [--pool NAME] [--type A|AAAA] [--actor NAME]\n"
	"\n"
	"Reverse 'cutoverctl drain': the target ADDR of every pool that has it drained (or only\n"
	"of the pool at NAME) is answered again from cutoverd's next query on, unless its health\n"
	"checks hold it down: then it comes back once they pass. Recorded in history per pool\n"
	"(action \"undrain ADDR\"), with a serial bump. A target that is not drained is left\n"
	"alone.\n"
	"\n"
	"Options:\n"
	"  --pool NAME    only the pool at NAME\n"
	"  --type A|AAAA  the type of the pools (must match ADDR's family)\n"
	"  --actor NAME   who is recorded in history (default: the login user)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl undrain 192.0.2.10\n";
/* clang-format on */

enum { OPT_POOL = 256 };

/* One pool that has the target. */
typedef struct {
	uint8_t key[CT_RR_KEY_MAXLEN];
	size_t klen;
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_pool_t pool;
	bool changed;
	uint8_t state; /* the target's, for the report */
	int mode;      /* the pool's CT_POOLHEALTH_* afterwards */
	int healthy[CT_POOL_MAX_GROUPS];
} found_t;

typedef struct {
	bool drain;                     /* drain, or undrain */
	const char *pool;               /* --pool NAME, or NULL */
	uint8_t addr[16];               /* ADDR */
	size_t alen;                    /* 4 or 16 */
	uint16_t type;                  /* of the pools that can hold ADDR */
	char text[CT_POOLTEXT_ADDRLEN]; /* ADDR as inet_ntop writes it */
	found_t *found;
	size_t n, cap;
	int ret;
} drain_t;

static int drain_option(ct_poolcmd_t *cmd, int c, const char *arg)
{
	drain_t *d = cmd->ctx;
	d->pool = arg;
	return -1;
}

/* Note a pool with the target (a ct_poolcmd_each callback, and for the pools at --pool). */
static bool note_pool(const MDB_val *key, const ct_pool_t *pool, void *arg)
{
	drain_t *d = arg;
	if (pool->type != d->type || !ct_poolhealth_is_target(pool, d->addr)) {
		return true;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 4;
		found_t *nf = realloc(d->found, cap * sizeof(*nf));
		if (nf == NULL) {
			d->ret = CT_ENOMEM;
			return false;
		}
		d->found = nf;
		d->cap = cap;
	}
	found_t *f = &d->found[d->n];
	uint16_t type;
	if (key->mv_size > sizeof(f->key) || ct_pool_key_owner(key, f->owner, &type) != CT_EOK) {
		d->ret = CT_EDBCORRUPT;
		return false;
	}
	memcpy(f->key, key->mv_data, key->mv_size);
	f->klen = key->mv_size;
	f->pool = *pool;
	d->n++;
	return true;
}

/* "192.0.2.10, 192.0.2.11": the targets of pool, for a message. */
static void list_targets(FILE *out, const ct_pool_t *pool)
{
	char addr[CT_POOLTEXT_ADDRLEN];
	const char *sep = "";
	for (int g = 0; g < pool->ngroups; g++) {
		for (int t = 0; t < pool->groups[g].ntargets; t++) {
			fprintf(out, "%s%s", sep,
			        ct_pooltext_addr_str(pool->type, pool->groups[g].targets[t], addr));
			sep = ", ";
		}
	}
	if (sep[0] == '\0') {
		fputs("none", out);
	}
}

/* The pools to change: those at --pool (which must hold ADDR), or every pool holding ADDR. */
static bool find_pools(const ct_poolcmd_t *cmd, ct_txn_t *txn, drain_t *d)
{
	if (d->pool == NULL) {
		int ret = ct_poolcmd_each(txn, NULL, note_pool, d);
		ret = ret != CT_EOK ? ret : d->ret;
		if (ret != CT_EOK) {
			ct_ctl_txn_err(txn->store, ret, cmd->name);
			return false;
		}
		if (d->n == 0) {
			ct_poolcmd_err(
			    cmd,
			    "%s is a target of no %s pool; 'cutoverctl status' shows the "
			    "pools and their targets",
			    d->text, ct_pooltext_type_name(d->type));
		}
		return d->n > 0;
	}
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_poolset_t *set = malloc(sizeof(*set));
	ct_poolcmd_t narrowed = *cmd;
	narrowed.type = d->type;
	bool ok = set != NULL && ct_zonefile_parse_name(d->pool, owner) >= 0 &&
	          ct_poolset_load(&narrowed, txn, owner, set) == CT_EOK;
	if (set == NULL) {
		ct_poolcmd_err(cmd, "%s", ct_strerror(CT_ENOMEM));
	}
	if (ok) {
		MDB_val key = { set->klen[0], set->keys[0] };
		note_pool(&key, &set->pools[0], d);
		ok = d->ret == CT_EOK && d->n == 1;
		if (d->ret != CT_EOK) {
			ct_ctl_txn_err(txn->store, d->ret, cmd->name);
		} else if (d->n == 0) {
			char label[CT_POOLTEXT_LABELLEN], *list = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&list, &len);
			if (m != NULL) {
				list_targets(m, &set->pools[0]);
				fclose(m);
			}
			ct_poolcmd_err(cmd, "%s is not a target of %s; its targets: %s", d->text,
			               ct_pooltext_label(owner, d->type, label),
			               list != NULL ? list : "?");
			free(list);
		}
	}
	free(set);
	return ok;
}

/* Mark ADDR drained (or not) in pool f, with history and a serial bump when that changes it. */
static bool mark(const ct_poolcmd_t *cmd, ct_txn_t *txn, drain_t *d, found_t *f,
                 ct_poolhealth_t *ph)
{
	uint8_t *value = malloc(CT_POOL_VALUE_MAX);
	char action[16 + CT_POOLTEXT_ADDRLEN];
	ct_health_t h;
	if (value == NULL) {
		ct_poolcmd_err(cmd, "%s", ct_strerror(CT_ENOMEM));
		return false;
	}
	ct_health_get(txn, f->key, f->klen, d->addr, d->alen, &h);
	f->state = h.state;
	f->changed = txn->ret == CT_EOK && h.drained != d->drain;
	if (f->changed) {
		h.drained = d->drain;
		if (!h.drained && h.state == CT_HEALTH_UNKNOWN && h.last_ms == 0) {
			/* nothing left to say about the target: no record, as before the drain */
			uint8_t key[CT_HEALTH_KEY_MAX];
			ct_txn_del(txn, txn->store->health, key,
			           ct_health_key(key, f->key, f->klen, d->addr, d->alen));
		} else {
			ct_health_put(txn, f->key, f->klen, d->addr, d->alen, &h);
		}
		/* the pool is as it was: history shows it on both sides of the drain */
		size_t len = ct_pool_encode(&f->pool, value);
		snprintf(action, sizeof(action), "%s %s", d->drain ? "drain" : "undrain", d->text);
		ct_history_append(txn, cmd->actor, f->key, f->klen, action, value, len, value, len);
		MDB_val key = { f->klen, f->key };
		uint8_t okey[CT_KEY_MAXLEN];
		size_t olen, apex_len;
		uint16_t type;
		if (ct_rr_key_split(&key, okey, &olen, &apex_len, &type) == CT_EOK) {
			ct_zone_bump_serial(txn, f->key, apex_len);
		} else if (txn->ret == CT_EOK) {
			txn->ret = CT_EDBCORRUPT;
		}
	}
	free(value);
	if (txn->ret == CT_EOK) {
		ct_poolhealth_read(txn, f->key, f->klen, &f->pool, ph);
	}
	if (txn->ret != CT_EOK) {
		ct_ctl_txn_err(txn->store, txn->ret, cmd->name);
		return false;
	}
	f->mode = ph->mode;
	memcpy(f->healthy, ph->healthy, sizeof(f->healthy));
	return true;
}

/* "api.app.example. A: drained 192.0.2.10; healthy targets: blue 1/2 green 1/1" */
static void report(const drain_t *d, const found_t *f)
{
	char label[CT_POOLTEXT_LABELLEN];
	printf("%s: ", ct_pooltext_label(f->owner, f->pool.type, label));
	if (!f->changed) {
		printf("%s %s, unchanged", d->text,
		       d->drain ? "is drained already" : "is not drained");
	} else {
		printf("%s %s", d->drain ? "drained" : "undrained", d->text);
		if (!d->drain && f->state == CT_HEALTH_DOWN) {
			printf(" (it is down: it comes back once its checks pass)");
		}
	}
	fputs("; healthy targets: ", stdout);
	for (int g = 0; g < f->pool.ngroups; g++) {
		printf("%s%s %d/%u", g > 0 ? " " : "", f->pool.groups[g].name, f->healthy[g],
		       f->pool.groups[g].ntargets);
	}
	const char *mode = ct_poolhealth_mode_text(f->mode);
	printf("%s%s\n", mode != NULL ? "; " : "", mode != NULL ? mode : "");
}

static int drain_cmd(const ct_ctl_t *ctl, int argc, char **argv, bool drain)
{
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, OPT_POOL },
		{ NULL, 0, NULL, 0 },
	};
	drain_t d = { .drain = drain };
	ct_poolcmd_t cmd = { .ctl = ctl,
		             .name = drain ? "drain" : "undrain",
		             .usage = drain ? drain_usage : undrain_usage,
		             .takes = CT_POOLOPT_TYPE | CT_POOLOPT_ACTOR,
		             .extra = opts,
		             .on_opt = drain_option,
		             .ctx = &d,
		             .min_ops = 1,
		             .max_ops = 1 };
	uint8_t owner[CT_DNAME_MAXLEN];
	ct_store_t st;
	ct_txn_t txn;
	int status = ct_poolcmd_parse(&cmd, argc, argv);
	if (status >= 0) {
		return status;
	}
	const char *arg = cmd.ops[0];
	if (inet_pton(AF_INET, arg, d.addr) == 1) {
		d.alen = 4;
		d.type = CT_TYPE_A;
	} else if (inet_pton(AF_INET6, arg, d.addr) == 1) {
		d.alen = 16;
		d.type = CT_TYPE_AAAA;
	} else {
		return ct_poolcmd_bad(&cmd, "'%s' is not an IPv4 or IPv6 address", arg);
	}
	ct_pooltext_addr_str(d.type, d.addr, d.text);
	if (cmd.type != 0 && cmd.type != d.type) {
		return ct_poolcmd_bad(
		    &cmd, "--type %s: %s is an %s address, a target of %s pools only",
		    ct_pooltext_type_name(cmd.type), arg, d.type == CT_TYPE_A ? "IPv4" : "IPv6",
		    ct_pooltext_type_name(d.type));
	}
	if (d.pool != NULL && ct_zonefile_parse_name(d.pool, owner) < 0) {
		return ct_poolcmd_bad(&cmd, "--pool '%s' is not a valid domain name", d.pool);
	}
	status = ct_poolcmd_open(&cmd, NULL, &st, &txn, true);
	if (status >= 0) {
		return status;
	}
	ct_poolhealth_t *ph = malloc(sizeof(*ph));
	bool ok = ph != NULL && find_pools(&cmd, &txn, &d);
	if (ph == NULL) {
		ct_poolcmd_err(&cmd, "%s", ct_strerror(CT_ENOMEM));
	}
	for (size_t i = 0; ok && i < d.n; i++) {
		ok = mark(&cmd, &txn, &d, &d.found[i], ph);
	}
	status = ct_poolcmd_end(&cmd, &st, &txn, ok,
	                        drain ? "drain: nothing written" : "undrain: nothing written");
	for (size_t i = 0; status == CT_CTL_OK && i < d.n; i++) {
		report(&d, &d.found[i]);
	}
	free(ph);
	free(d.found);
	return status;
}

int ct_ctl_drain(const ct_ctl_t *ctl, int argc, char **argv)
{
	return drain_cmd(ctl, argc, argv, true);
}

int ct_ctl_undrain(const ct_ctl_t *ctl, int argc, char **argv)
{
	return drain_cmd(ctl, argc, argv, false);
}
