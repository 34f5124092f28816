/* SPDX-License-Identifier: MIT */
/* cutoverctl: global options, opening the database, dispatch to the command families. */
#include "ctl.h"
#include "cutover/errcode.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

/* Help texts: one line of source per line of output. */
/* clang-format off */
static const char usage_text[] =
	"Usage: cutoverctl [--db DIR] [--map-size BYTES] [--actor NAME] COMMAND ...\n"
	"\n"
	"Manage the zones and pools that cutoverd serves. cutoverctl writes to the same LMDB\n"
	"database that cutoverd reads, each change in one transaction; cutoverd sees it in its\n"
	"next answer, without a reload.\n"
	"\n"
	"Zones (static records):\n"
	"  zone import FILE [--origin NAME]  load a zone file, replacing that zone\n"
	"  zone export NAME                  print a zone as a zone file\n"
	"  zone list                         list the zones with serial and record count\n"
	"  zone delete NAME                  remove a zone with its records and pools\n"
	"\n"
	"Pools (blue/green names; every change is recorded in history):\n"
	"  pool set NAME --group G=ADDR,...  create or replace a pool, with --check a health check\n"
	"  pool show NAME                    print a pool (as a pool file)\n"
	"  pool list [ZONE]                  list the pools with their weights\n"
	"  pool delete NAME                  remove a pool\n"
	"  weight NAME GROUP=W...            set the groups' weights\n"
	"  cutover NAME GROUP                send all traffic to GROUP in one step (when it is\n"
	"                                    healthy, or with --force)\n"
	"  rollback NAME                     undo the last change of a pool (during a shift:\n"
	"                                    stop it, back to the weights from before it)\n"
	"  shift NAME GROUP --linear PCT --every DUR\n"
	"                                    move traffic to GROUP step by step, run by cutoverd\n"
	"                                    and rolled back when GROUP turns unhealthy (also\n"
	"                                    --canary PCT --after DUR, --steps P,P,... --every DUR)\n"
	"  shift status [NAME]               a shift's plan, progress, next step and history\n"
	"  shift pause|resume|abort NAME     hold a shift, go on with it, or end it where it is\n"
	"  drain ADDR [--pool NAME]          take a target out of the answers, whatever its checks\n"
	"  undrain ADDR [--pool NAME]        bring a drained target back\n"
	"  status [NAME]                     weights, shares of traffic, targets and their health\n"
	"  history [NAME] [--limit N]        who changed what, when, before and after\n"
	"  apply FILE [--prune]              make the pools what a pool file says\n"
	"  export-pools [ZONE]               print the pools as a pool file\n"
	"\n"
	"Options (before the command):\n"
	"  --db DIR          the database directory (default: $CUTOVER_DB, else " CT_DEFAULT_DB ")\n"
	"  --map-size BYTES  the most the database may grow to, with K, M or G for KiB, MiB,\n"
	"                    GiB; raise it when cutoverctl says the database is full (default:\n"
	"                    the largest it was written with, at least 1G: a raised size\n"
	"                    stays, and cutoverd follows it)\n"
	"  --actor NAME      who is recorded in history for the changes (default: the login\n"
	"                    user, $USER); the changing commands take --actor too\n"
	"  -h, --help        show this help; 'cutoverctl COMMAND --help' explains a command\n"
	"\n"
	"Examples:\n"
	"  cutoverctl --db /var/lib/cutover zone import zones/app.example.zone\n"
	"  cutoverctl pool set api.app.example --group blue=192.0.2.10 --group green=192.0.2.20\n"
	"  cutoverctl --actor alice weight api.app.example blue=90 green=10\n"
	"  cutoverctl shift api.app.example green --canary 10 --after 5m\n"
	"  cutoverctl drain 192.0.2.10\n"
	"  cutoverctl rollback api.app.example\n";
/* clang-format on */

void ct_ctl_err(const char *fmt, ...)
{
	va_list ap;
	fputs("cutoverctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ct_ctl_bad_option(const char *cmd, int c, char **argv)
{
	char opt[3] = { '-', (char)optopt, 0 };
	const char *name = c == '?' && optopt != 0 ? opt : argv[optind - 1];
	ct_ctl_err("%s%s%s %s", cmd ? cmd : "", cmd ? ": " : "",
	           c == ':' ? "missing value for option" : "unknown option", name);
}

bool ct_ctl_wants_help(int argc, char **argv)
{
	return argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0);
}

int ct_ctl_open(const ct_ctl_t *ctl, ct_store_t *st, bool create, bool read_only)
{
	ct_store_opts_t opts = { .map_size = ctl->map_size,
		                 .create = create,
		                 .read_only = read_only };
	int ret = ct_store_open(st, ctl->db, &opts);
	if (ret == CT_ENODB) {
		ct_ctl_err("no database at %s; create one by importing a zone: "
		           "cutoverctl --db %s zone import FILE",
		           ctl->db, ctl->db);
	} else if (ret != CT_EOK) {
		ct_ctl_err("%s", ct_store_last_error());
	}
	return ret;
}

void ct_ctl_txn_err(const ct_store_t *st, int ret, const char *what)
{
	if (ret == CT_EDBFULL) {
		MDB_envinfo info = { 0 };
		mdb_env_info(st->env, &info);
		ct_ctl_err("%s: database full; raise --map-size (the map is %zu bytes now); "
		           "nothing was written",
		           what, info.me_mapsize);
	} else if (ret == -ENOSPC || ret == -EDQUOT || ret == -EIO) {
		/* LMDB reports a short write to a full file system as EIO */
		struct statvfs fs;
		unsigned long long avail = 0;
		if (statvfs(st->path, &fs) == 0) {
			avail = (unsigned long long)fs.f_bavail * fs.f_frsize;
		}
		ct_ctl_err("%s: %s writing database %s (its file system has %llu bytes free; "
		           "free some if it is full); nothing was written",
		           what, ct_strerror(ret), st->path, avail);
	} else {
		ct_ctl_err("%s: %s (database %s)", what, ct_strerror(ret), st->path);
	}
}

/* BYTES with an optional K, M, G or T suffix (powers of 1024). */
static bool parse_size(const char *text, size_t *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)text[0])) {
		return false;
	}
	unsigned long long n = strtoull(text, &end, 10);
	if (errno != 0 || end == text) {
		return false;
	}
	int shift = 0;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return false;
	}
	if (*end != '\0') {
		end++;
		if (toupper((unsigned char)*end) == 'B' || strcmp(end, "iB") == 0) {
			end += toupper((unsigned char)*end) == 'B' ? 1 : 2;
		}
	}
	if (*end != '\0' || n == 0 || n > (SIZE_MAX >> shift)) {
		return false;
	}
	*out = (size_t)(n << shift);
	return true;
}

static int usage_error(void)
{
	fputs(usage_text, stderr);
	return CT_CTL_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "map-size", required_argument, NULL, 'm' },
		{ "actor", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* ldns allocates and frees 64 KiB buffers for every record it parses; without these glibc
	 * hands the top of the heap back to the kernel each time (a brk pair per record: a zone
	 * import spent 80 % of its time in the kernel). A short-lived tool keeps its heap. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	ct_ctl_t ctl = { .db = getenv("CUTOVER_DB") };
	if (ctl.db == NULL || ctl.db[0] == '\0') {
		ctl.db = CT_DEFAULT_DB;
	}
	int c;
	/* '+': stop at the command; its own options follow it. ':': we report errors. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (optarg[0] == '\0') {
				ct_ctl_err("--db needs a directory");
				return usage_error();
			}
			ctl.db = optarg;
			break;
		case 'm':
			if (!parse_size(optarg, &ctl.map_size)) {
				ct_ctl_err(
				    "--map-size '%s' is not a size; write bytes, or a number "
				    "with K, M or G (e.g. 2G)",
				    optarg);
				return usage_error();
			}
			break;
		case 'a':
			ctl.actor = optarg; /* checked by the commands that record it */
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CT_CTL_OK;
		default:
			ct_ctl_bad_option(NULL, c, argv);
			return usage_error();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		ct_ctl_err("no command given");
		return usage_error();
	}
	if (strcmp(argv[0], "help") == 0) {
		fputs(usage_text, stdout);
		return CT_CTL_OK;
	}
	static const struct {
		const char *name;
		int (*run)(const ct_ctl_t *ctl, int argc, char **argv);
	} commands[] = {
		{ "zone", ct_ctl_zone },
		{ "pool", ct_ctl_pool },
		{ "weight", ct_ctl_weight },
		{ "cutover", ct_ctl_cutover },
		{ "rollback", ct_ctl_rollback },
		{ "status", ct_ctl_status },
		{ "history", ct_ctl_history },
		{ "apply", ct_ctl_apply },
		{ "export-pools", ct_ctl_export_pools },
		{ "drain", ct_ctl_drain },
		{ "undrain", ct_ctl_undrain },
		{ "shift", ct_ctl_shift },
	};
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			return commands[i].run(&ctl, argc, argv);
		}
	}
	ct_ctl_err("unknown command '%s'", argv[0]);
	return usage_error();
}
