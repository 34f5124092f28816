/* SPDX-License-Identifier: MIT */
/* cutoverctl: options, actor, pools at a name, transactions and reports of the pool commands. */
#include "poolcmd.h"
#include "cutover/poolhealth.h"
#include "cutover/pooltext.h"
#include "cutover/errcode.h"
#include "cutover/history.h"
#include "cutover/wire.h"
#include "cutover/zonefile.h"

#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OPTIONS 32

static void vmessage(const ct_poolcmd_t *cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vmessage(const ct_poolcmd_t *cmd, const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ct_ctl_err("%s: %s", cmd->name, msg);
}

void ct_poolcmd_err(const ct_poolcmd_t *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
}

int ct_poolcmd_bad(const ct_poolcmd_t *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
	fputs(cmd->usage, stderr);
	return CT_CTL_USAGE;
}

/* Who is recorded in history: --actor, else $USER, else the user of our uid. */
static const char *login_user(void)
{
	const char *user = getenv("USER");
	if (user != NULL && user[0] != '\0') {
		return user;
	}
	struct passwd *pw = getpwuid(getuid());
	return pw != NULL && pw->pw_name[0] != '\0' ? pw->pw_name : "unknown";
}

/* History keeps up to 255 bytes of the actor, and --json prints it: printable UTF-8. */
static bool actor_ok(const char *actor)
{
	size_t n = strlen(actor);
	if (n == 0 || n > 255) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)actor[i] < 0x20 || actor[i] == 0x7f) {
			return false;
		}
	}
	json_t *utf8 = json_string(actor); /* NULL when not valid UTF-8 */
	json_decref(utf8);
	return utf8 != NULL;
}

/* Add the common options cmd takes, then its own, then --help; returns the count. */
static int build_options(const ct_poolcmd_t *cmd, struct option *opts)
{
	static const struct option common[] = {
		{ "type", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'J' },
		{ "actor", required_argument, NULL, 'U' },
	};
	int n = 0;
	for (int i = 0; i < 3; i++) {
		if (cmd->takes & (1u << i)) {
			opts[n++] = common[i];
		}
	}
	for (const struct option *o = cmd->extra; o != NULL && o->name != NULL; o++) {
		opts[n++] = *o;
	}
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	return n;
}

int ct_poolcmd_parse(ct_poolcmd_t *cmd, int argc, char **argv)
{
	struct option opts[MAX_OPTIONS];
	const char *actor = NULL;
	int c;
	build_options(cmd, opts);
	optind = 0; /* glibc: restart scanning with a new argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		int status = -1;
		switch (c) {
		case 'h':
			fputs(cmd->usage, stdout);
			return CT_CTL_OK;
		case 'T':
			if ((cmd->type = ct_pooltext_type(optarg)) == 0) {
				return ct_poolcmd_bad(cmd, "--type '%s': a pool is A or AAAA",
				                      optarg);
			}
			break;
		case 'J':
			cmd->json = true;
			break;
		case 'U':
			actor = optarg;
			break;
		case '?':
		case ':':
			ct_ctl_bad_option(cmd->name, c, argv);
			fputs(cmd->usage, stderr);
			return CT_CTL_USAGE;
		default:
			status = cmd->on_opt != NULL ? cmd->on_opt(cmd, c, optarg) : -1;
			break;
		}
		if (status >= 0) {
			return status;
		}
	}
	cmd->ops = argv + optind;
	cmd->nops = argc - optind;
	if (cmd->nops < cmd->min_ops) {
		return ct_poolcmd_bad(cmd, "missing %s",
		                      cmd->min_ops - cmd->nops == 1 ? "argument" : "arguments");
	}
	if (cmd->max_ops >= 0 && cmd->nops > cmd->max_ops) {
		return ct_poolcmd_bad(cmd, "unexpected argument '%s'", cmd->ops[cmd->max_ops]);
	}
	if (cmd->takes & CT_POOLOPT_ACTOR) {
		cmd->actor = actor != NULL             ? actor
		             : cmd->ctl->actor != NULL ? cmd->ctl->actor
		                                       : login_user();
		if (!actor_ok(cmd->actor)) {
			return ct_poolcmd_bad(
			    cmd, "--actor '%s': 1 to 255 bytes of printable UTF-8 text",
			    cmd->actor);
		}
	}
	return -1;
}

int ct_poolcmd_open(ct_poolcmd_t *cmd, uint8_t *name, ct_store_t *st, ct_txn_t *txn, bool rw)
{
	if (name != NULL && cmd->nops > 0 && ct_zonefile_parse_name(cmd->ops[0], name) < 0) {
		return ct_poolcmd_bad(cmd, "'%s' is not a valid domain name", cmd->ops[0]);
	}
	if (ct_ctl_open(cmd->ctl, st, false, !rw) != CT_EOK) {
		return CT_CTL_FAIL;
	}
	ct_txn_begin(st, txn, rw);
	if (txn->ret != CT_EOK) {
		ct_ctl_txn_err(st, txn->ret, cmd->name);
		ct_txn_abort(txn);
		ct_store_close(st);
		return CT_CTL_FAIL;
	}
	return -1;
}

int ct_poolcmd_start(ct_poolcmd_t *cmd, int argc, char **argv, uint8_t *name, ct_store_t *st,
                     ct_txn_t *txn, bool rw)
{
	int status = ct_poolcmd_parse(cmd, argc, argv);
	return status >= 0 ? status : ct_poolcmd_open(cmd, name, st, txn, rw);
}

int ct_poolcmd_end(const ct_poolcmd_t *cmd, ct_store_t *st, ct_txn_t *txn, bool ok,
                   const char *what)
{
	int status = CT_CTL_FAIL;
	if (!ok) {
		ct_txn_abort(txn);
	} else if (txn->rw) {
		int ret = ct_txn_commit(txn);
		if (ret == CT_EOK) {
			status = CT_CTL_OK;
		} else {
			ct_ctl_txn_err(st, ret, what);
		}
	} else {
		int ret = txn->ret;
		ct_txn_abort(txn);
		if (ret == CT_EOK) {
			status = CT_CTL_OK;
		} else {
			ct_ctl_txn_err(st, ret, what);
		}
	}
	ct_store_close(st);
	return status;
}

int ct_poolset_load(const ct_poolcmd_t *cmd, ct_txn_t *txn, const uint8_t *owner, ct_poolset_t *set)
{
	static const uint16_t types[] = { CT_TYPE_A, CT_TYPE_AAAA };
	uint8_t key[CT_RR_KEY_MAXLEN];
	size_t klen;
	char err[512], text[CT_DNAME_STRLEN];
	memcpy(set->owner, owner, ct_dname_len(owner));
	set->n = 0;
	int ret = ct_pool_key(txn, owner, CT_TYPE_A, key, &klen, err, sizeof(err));
	if (ret != CT_EOK && ret != CT_ENOZONE) {
		ct_ctl_txn_err(txn->store, ret, cmd->name);
		return ret;
	}
	if (ret == CT_ENOZONE) {
		ct_poolcmd_err(cmd, "%s", err);
		return ret;
	}
	for (int i = 0; i < 2; i++) {
		if (cmd->type != 0 && cmd->type != types[i]) {
			continue;
		}
		ret = ct_pool_get(txn, owner, types[i], &set->pools[set->n]);
		if (ret == CT_EOK) {
			ct_pool_key(txn, owner, types[i], set->keys[set->n], &set->klen[set->n],
			            err, sizeof(err));
			set->n++;
		} else if (ret != CT_ENOTFOUND) {
			ct_ctl_txn_err(txn->store, ret, ct_dname_to_str(owner, text));
			return ret;
		}
	}
	if (set->n == 0) {
		ct_poolcmd_err(cmd, "%s has no %s pool; 'cutoverctl pool list' shows the pools",
		               ct_dname_to_str(owner, text),
		               cmd->type == 0 ? "A or AAAA" : ct_pooltext_type_name(cmd->type));
		return CT_ENOTFOUND;
	}
	return CT_EOK;
}

int ct_poolcmd_put(const ct_poolcmd_t *cmd, ct_txn_t *txn, const uint8_t *owner,
                   const ct_pool_t *pool, const char *action, bool *changed)
{
	char err[1024];
	err[0] = '\0';
	int ret = ct_pool_put(txn, owner, pool, cmd->actor, action, changed, err, sizeof(err));
	if (ret == CT_EOK && *changed) {
		uint8_t key[CT_RR_KEY_MAXLEN];
		size_t klen;
		ct_history_t h;
		ret = ct_pool_key(txn, owner, pool->type, key, &klen, err, sizeof(err));
		/* the entry just appended: nothing before means the pool was created */
		bool created =
		    ret == CT_EOK && ct_history_last(txn, key, klen, &h) && h.before_len == 0;
		ret = ret == CT_EOK ? ct_poolhealth_sync(txn, key, klen, pool, created) : ret;
		err[0] = '\0';
	}
	if (ret != CT_EOK && err[0] != '\0') {
		ct_poolcmd_err(cmd, "%s", err);
	} else if (ret != CT_EOK) {
		ct_ctl_txn_err(txn->store, ret, cmd->name); /* the database failed, not the pool */
	}
	return ret;
}

/* "blue, green": the groups of a pool, for messages. */
static const char *group_names(const ct_pool_t *pool, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	for (int g = 0; g < pool->ngroups && n < len; g++) {
		n += (size_t)snprintf(out + n, len - n, "%s%s", g > 0 ? ", " : "",
		                      pool->groups[g].name);
	}
	return out;
}

int ct_poolcmd_group(const ct_poolcmd_t *cmd, const uint8_t *owner, const ct_pool_t *pool,
                     const char *name)
{
	char label[CT_POOLTEXT_LABELLEN], names[CT_POOL_MAX_GROUPS * (CT_POOL_NAMELEN + 2) + 1];
	int g = ct_pool_group_find(pool, name);
	if (g < 0) {
		ct_poolcmd_err(cmd, "%s has no group '%s'; its groups: %s",
		               ct_pooltext_label(owner, pool->type, label), name,
		               group_names(pool, names, sizeof(names)));
	}
	return g;
}

static bool all_zero(const ct_pool_t *pool)
{
	for (int g = 0; g < pool->ngroups; g++) {
		if (pool->groups[g].weight > 0) {
			return false;
		}
	}
	return true;
}

void ct_poolcmd_report(const uint8_t *owner, uint16_t type, const char *verb,
                       const ct_pool_t *before, const ct_pool_t *after, bool changed)
{
	char label[CT_POOLTEXT_LABELLEN];
	printf("%s: ", ct_pooltext_label(owner, type, label));
	if (!changed) {
		fputs("unchanged (", stdout);
		ct_pooltext_weights(stdout, after != NULL ? after : before);
		fputs(")\n", stdout);
		return;
	}
	printf("%s: ", verb);
	ct_pooltext_change(stdout, before, after);
	if (after != NULL && all_zero(after)) {
		fputs(" (every weight is 0: cutoverd shares the answers equally among the groups "
		      "with live targets)",
		      stdout);
	}
	fputc('\n', stdout);
}

int ct_poolcmd_each(ct_txn_t *txn, const uint8_t *zone, ct_poolcmd_each_t cb, void *arg)
{
	uint8_t prefix[CT_KEY_MAXLEN + 1];
	size_t plen = 0;
	MDB_val k, v;
	if (zone != NULL) {
		plen = ct_dname_key(zone, prefix);
		if (!ct_txn_get(txn, txn->store->zones, prefix, plen, &v)) {
			return txn->ret != CT_EOK ? txn->ret : CT_ENOZONE;
		}
		prefix[plen++] = 0x00;
	}
	ct_pool_t *pool = malloc(sizeof(*pool));
	if (pool == NULL) {
		return CT_ENOMEM;
	}
	int ret = CT_EOK;
	for (bool f = ct_txn_seek(txn, txn->store->pools, prefix, plen, &k, &v);
	     f && ct_key_has_prefix(&k, prefix, plen);
	     f = ct_txn_next(txn, txn->store->pools, &k, &v)) {
		if (ct_pool_decode(v.mv_data, v.mv_size, pool) != CT_EOK) {
			ret = CT_EDBCORRUPT;
			break;
		}
		if (!cb(&k, pool, arg)) {
			break;
		}
	}
	free(pool);
	return ret != CT_EOK ? ret : txn->ret;
}

int ct_pooljson_print(json_t *doc)
{
	if (doc == NULL) {
		ct_ctl_err("cannot build the JSON output: %s", ct_strerror(CT_ENOMEM));
		return CT_CTL_FAIL;
	}
	int rc =
	    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(doc);
	if (rc != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		ct_ctl_err("cannot write the JSON output");
		return CT_CTL_FAIL;
	}
	return CT_CTL_OK;
}
