/* SPDX-License-Identifier: MIT */
/* cutoverctl zone: import, export, list and delete zones. */
#include "ctl.h"
#include "cutover/errcode.h"
#include "cutover/log.h"
#include "cutover/zonefile.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help texts: one line of source per line of output. */
/* clang-format off */
static const char zone_usage[] =
	"Usage: cutoverctl [--db DIR] zone SUBCOMMAND ...\n"
	"\n"
	"Zones hold the static records cutoverd answers with (SOA, NS, A, CNAME, MX, ...);\n"
	"pools live beside them under the same names.\n"
	"\n"
	"Subcommands:\n"
	"  import FILE [--origin NAME]  load a zone file, replacing that zone's records\n"
	"  export NAME                  print a zone as a zone file on stdout\n"
	"  list                         list the zones with serial and record count\n"
	"  delete NAME                  remove a zone with its records and pools\n"
	"\n"
	"'cutoverctl zone SUBCOMMAND --help' explains each.\n"
	"\n"
	"Examples:\n"
	"  cutoverctl zone import zones/app.example.zone\n"
	"  cutoverctl zone list\n";

static const char import_usage[] =
	"Usage: cutoverctl [--db DIR] zone import FILE [--origin NAME]\n"
	"\n"
	"Read the RFC 1035 zone file FILE (with its $INCLUDE files), check it, and replace\n"
	"the zone in the database in one transaction: the zone's old records go, its pools\n"
	"stay. If anything is wrong nothing is written, and each problem is shown as\n"
	"FILE:LINE: what is wrong. Creates the database if there is none yet.\n"
	"\n"
	"Checks: exactly one SOA, at the apex; NS records at the apex; a CNAME alone at its\n"
	"name and not at the apex; no names outside the zone; below a delegation only glue\n"
	"A/AAAA records; class IN; TTLs. Repeated records are merged; records of one name\n"
	"and type with different TTLs all get the lowest (with a warning).\n"
	"\n"
	"Serial: the file's SOA serial if it is newer (RFC 1982) than the stored one, else\n"
	"the stored serial + 1, so every import is a new version for secondaries.\n"
	"\n"
	"Options:\n"
	"  --origin NAME  the zone's apex and initial $ORIGIN (default: $ORIGIN in the file,\n"
	"                 and the owner of the SOA record is the apex)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl --db /var/lib/cutover zone import zones/app.example.zone\n";

static const char export_usage[] =
	"Usage: cutoverctl [--db DIR] zone export NAME\n"
	"\n"
	"Print the zone NAME from the database as a zone file on stdout: $ORIGIN, the SOA,\n"
	"then every record with its TTL. 'zone import' reads it back to the same records.\n"
	"\n"
	"Options:\n"
	"  -h, --help  show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl zone export app.example. > app.example.zone\n";

static const char list_usage[] =
	"Usage: cutoverctl [--db DIR] zone list\n"
	"\n"
	"List the zones in the database: apex, SOA serial and number of records.\n"
	"\n"
	"Options:\n"
	"  -h, --help  show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl --db /var/lib/cutover zone list\n";

static const char delete_usage[] =
	"Usage: cutoverctl [--db DIR] zone delete NAME\n"
	"\n"
	"Remove the zone NAME from the database: its records, its pools and the zone\n"
	"itself, in one transaction. cutoverd answers REFUSED for it from the next query.\n"
	"Export it first if you may want it back.\n"
	"\n"
	"Options:\n"
	"  -h, --help  show this help\n"
	"\n"
	"Example:\n"
	"  cutoverctl zone export app.example. > app.example.zone && "
	"cutoverctl zone delete app.example.\n";
/* clang-format on */

static int usage_error(const char *usage)
{
	fputs(usage, stderr);
	return CT_CTL_USAGE;
}

/*
 * Options of a subcommand: -h/--help, and --origin where origin is not NULL. Operands are
 * collected into ops (at most max). Returns -1 to go on, else the exit status.
 */
static int sub_options(int argc, char **argv, const char *usage, const char **origin,
                       const char **ops, int want)
{
	static const struct option with_origin[] = {
		{ "origin", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct option *opts = origin != NULL ? with_origin : with_origin + 1;
	int c;
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "zone %s", argv[0]);
	optind = 0; /* glibc: restart scanning with a new argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			*origin = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return CT_CTL_OK;
		default:
			ct_ctl_bad_option(cmd, c, argv);
			return usage_error(usage);
		}
	}
	if (argc - optind != want) {
		if (argc - optind < want) {
			ct_ctl_err("%s: missing %s", cmd, want == 1 ? "argument" : "arguments");
		} else {
			ct_ctl_err("%s: unexpected argument '%s'", cmd, argv[optind + want]);
		}
		return usage_error(usage);
	}
	for (int i = 0; i < want; i++) {
		ops[i] = argv[optind + i];
	}
	return -1;
}

/*
 * The start of the commands that take one zone NAME: options, the name (into name, and as
 * text into apex), then the database. Returns -1 with st open to go on, else the exit status.
 */
static int open_for_zone(const ct_ctl_t *ctl, int argc, char **argv, const char *usage,
                         bool read_only, uint8_t *name, char *apex, ct_store_t *st)
{
	const char *text;
	int status = sub_options(argc, argv, usage, NULL, &text, 1);
	if (status >= 0) {
		return status;
	}
	if (ct_zonefile_parse_name(text, name) < 0) {
		ct_ctl_err("'%s' is not a valid domain name", text);
		return usage_error(usage);
	}
	ct_dname_to_str(name, apex);
	return ct_ctl_open(ctl, st, false, read_only) == CT_EOK ? -1 : CT_CTL_FAIL;
}

static void no_zone(const ct_ctl_t *ctl, const char *apex)
{
	ct_ctl_err("no zone %s in %s; 'cutoverctl zone list' shows the zones", apex, ctl->db);
}

static void print_message(void *ctx, int prio, const char *msg)
{
	ct_ctl_err("%s%s", prio == CT_LOG_WARNING ? "warning: " : "", msg);
}

/* Records (not sets) of the zone whose apex key is apex_key. */
static size_t count_records(ct_txn_t *txn, const uint8_t *apex_key, size_t apex_len)
{
	uint8_t prefix[CT_KEY_MAXLEN + 1];
	MDB_val k, v;
	size_t n = 0;
	memcpy(prefix, apex_key, apex_len);
	prefix[apex_len] = 0x00;
	bool found = ct_txn_seek(txn, txn->store->rrsets, prefix, apex_len + 1, &k, &v);
	for (; found && ct_key_has_prefix(&k, prefix, apex_len + 1);
	     found = ct_txn_next(txn, txn->store->rrsets, &k, &v)) {
		ct_rrset_t set;
		if (ct_rrset_parse(&v, &set) == CT_EOK) {
			n += set.count;
		}
	}
	return n;
}

static int zone_import(const ct_ctl_t *ctl, int argc, char **argv)
{
	const char *origin = NULL, *file;
	int status = sub_options(argc, argv, import_usage, &origin, &file, 1);
	if (status >= 0) {
		return status;
	}
	ct_zonefile_t zf;
	ct_store_t st = { 0 };
	ct_txn_t txn;
	char apex[CT_DNAME_STRLEN], what[CT_DNAME_STRLEN + 64];
	status = CT_CTL_FAIL;
	ct_zonefile_init(&zf, print_message, NULL);
	int ret = ct_zonefile_parse(&zf, file, origin);
	if (ret == CT_EOK) {
		ret = ct_zonefile_validate(&zf);
	}
	if (ret != CT_EOK) {
		if (zf.errors > 0) {
			ct_ctl_err("%s: not imported, %u error%s; nothing was written", file,
			           zf.errors, zf.errors == 1 ? "" : "s");
		} else {
			ct_ctl_err("%s: not imported: %s", file, ct_strerror(ret));
		}
		goto out;
	}
	/* The file is good: only now create the database if need be. */
	if (ct_ctl_open(ctl, &st, true, false) != CT_EOK) {
		goto out;
	}
	ct_dname_to_str(zf.apex, apex);
	ct_txn_begin(&st, &txn, true);
	ct_zonefile_write(&zf, &txn);
	ret = ct_txn_commit(&txn);
	if (ret != CT_EOK) {
		snprintf(what, sizeof(what), "zone %s not imported", apex);
		ct_ctl_txn_err(&st, ret, what);
		goto out;
	}
	printf("%s: imported %zu records in %zu sets from %s, serial %u", apex, zf.count, zf.rrsets,
	       file, zf.serial);
	if (zf.replaced && zf.serial != zf.file_serial) {
		printf(" (the file's %u is not newer than the stored %u)", zf.file_serial,
		       zf.old_serial);
	}
	printf("\n");
	status = CT_CTL_OK;
out:
	ct_store_close(&st);
	ct_zonefile_deinit(&zf);
	return status;
}

static int zone_export(const ct_ctl_t *ctl, int argc, char **argv)
{
	uint8_t name[CT_DNAME_MAXLEN];
	char apex[CT_DNAME_STRLEN], what[CT_DNAME_STRLEN + 64];
	ct_store_t st;
	ct_txn_t txn;
	int status = open_for_zone(ctl, argc, argv, export_usage, true, name, apex, &st);
	if (status >= 0) {
		return status;
	}
	ct_txn_begin(&st, &txn, false);
	int ret = txn.ret != CT_EOK ? txn.ret : ct_zonefile_export(&txn, name, stdout);
	ct_txn_abort(&txn);
	if (ret == CT_ENOZONE) {
		no_zone(ctl, apex);
	} else if (ret == -EIO) {
		ct_ctl_err("zone %s: cannot write the export: %s", apex, strerror(EIO));
	} else if (ret != CT_EOK) {
		snprintf(what, sizeof(what), "zone %s not exported", apex);
		ct_ctl_txn_err(&st, ret, what);
	}
	ct_store_close(&st);
	return ret == CT_EOK ? CT_CTL_OK : CT_CTL_FAIL;
}

typedef struct {
	char name[CT_DNAME_STRLEN];
	uint32_t serial;
	size_t records;
} zone_row_t;

static int zone_list(const ct_ctl_t *ctl, int argc, char **argv)
{
	int status = sub_options(argc, argv, list_usage, NULL, NULL, 0);
	if (status >= 0) {
		return status;
	}
	ct_store_t st;
	ct_txn_t txn;
	zone_row_t *rows = NULL;
	size_t n = 0, width = 4;
	if (ct_ctl_open(ctl, &st, false, true) != CT_EOK) {
		return CT_CTL_FAIL;
	}
	ct_txn_begin(&st, &txn, false);
	MDB_val k, v;
	int ret = CT_EOK;
	for (bool found = ct_txn_seek(&txn, st.zones, NULL, 0, &k, &v); found;
	     found = ct_txn_next(&txn, st.zones, &k, &v)) {
		ct_zone_t zone;
		zone_row_t *nr = realloc(rows, (n + 1) * sizeof(*rows));
		if (nr == NULL) {
			ret = CT_ENOMEM;
			break;
		}
		rows = nr;
		if (ct_zone_parse(&v, &zone) != CT_EOK) {
			ret = CT_EDBCORRUPT;
			break;
		}
		zone_row_t *row = &rows[n++];
		ct_dname_to_str(zone.apex, row->name);
		row->serial = zone.serial;
		row->records = count_records(&txn, k.mv_data, k.mv_size);
		if (strlen(row->name) > width) {
			width = strlen(row->name);
		}
	}
	if (ret == CT_EOK) {
		ret = txn.ret;
	}
	ct_txn_abort(&txn);
	if (ret != CT_EOK) {
		ct_ctl_txn_err(&st, ret, "cannot list the zones");
		status = CT_CTL_FAIL;
	} else {
		printf("%-*s  %10s  %7s\n", (int)width, "ZONE", "SERIAL", "RECORDS");
		for (size_t i = 0; i < n; i++) {
			printf("%-*s  %10u  %7zu\n", (int)width, rows[i].name, rows[i].serial,
			       rows[i].records);
		}
		if (n == 0) {
			ct_ctl_err("no zones in %s yet; add one with 'cutoverctl zone import FILE'",
			           ctl->db);
		}
		status = CT_CTL_OK;
	}
	free(rows);
	ct_store_close(&st);
	return status;
}

static int zone_delete(const ct_ctl_t *ctl, int argc, char **argv)
{
	uint8_t name[CT_DNAME_MAXLEN], key[CT_KEY_MAXLEN];
	char apex[CT_DNAME_STRLEN], what[CT_DNAME_STRLEN + 64];
	ct_store_t st;
	ct_txn_t txn;
	int status = open_for_zone(ctl, argc, argv, delete_usage, false, name, apex, &st);
	if (status >= 0) {
		return status;
	}
	size_t klen = ct_dname_key(name, key);
	MDB_val v;
	ct_txn_begin(&st, &txn, true);
	bool exists = ct_txn_get(&txn, st.zones, key, klen, &v);
	size_t records = exists ? count_records(&txn, key, klen) : 0;
	if (exists) {
		ct_zone_delete(&txn, key, klen);
	}
	int ret = exists || txn.ret != CT_EOK ? ct_txn_commit(&txn) : CT_ENOZONE;
	ct_txn_abort(&txn);
	if (ret == CT_ENOZONE) {
		no_zone(ctl, apex);
		status = CT_CTL_FAIL;
	} else if (ret != CT_EOK) {
		snprintf(what, sizeof(what), "zone %s not deleted", apex);
		ct_ctl_txn_err(&st, ret, what);
		status = CT_CTL_FAIL;
	} else {
		printf("%s: deleted, with its %zu records and its pools\n", apex, records);
		status = CT_CTL_OK;
	}
	ct_store_close(&st);
	return status;
}

int ct_ctl_zone(const ct_ctl_t *ctl, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const ct_ctl_t *ctl, int argc, char **argv);
	} subs[] = {
		{ "import", zone_import },
		{ "export", zone_export },
		{ "list", zone_list },
		{ "delete", zone_delete },
	};
	if (ct_ctl_wants_help(argc, argv)) {
		fputs(zone_usage, stdout);
		return CT_CTL_OK;
	}
	if (argc < 2) {
		ct_ctl_err("zone: which subcommand?");
		return usage_error(zone_usage);
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) == 0) {
			return subs[i].run(ctl, argc - 1, argv + 1);
		}
	}
	ct_ctl_err("zone: unknown subcommand '%s'", argv[1]);
	return usage_error(zone_usage);
}
