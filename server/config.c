/* SPDX-License-Identifier: MIT */
/* cutoverd's settings: one table of options serves the command line and the config file, so
 * both take the same values and say the same things about bad ones. */
#include "config.h"
#include "cutover/log.h"
#include "cutover/store.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef bool (*setter_t)(config_t *cfg, const char *value, char *err, size_t errlen);

typedef struct {
	const char *name; /* the long option and the config key */
	int val;          /* getopt's value: the short option letter, or a code above 255 */
	int has_arg;      /* on the command line; file lines always have a value */
	bool in_file;     /* may be a config file line */
	bool repeat;      /* may be given more than once */
	setter_t set;
} option_t;

static bool parse_num(const char *value, long min, long max, long *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (*value == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		snprintf(err, errlen, "'%s': expected a number from %ld to %ld", value, min, max);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_bool(const char *value, bool *out, char *err, size_t errlen)
{
	static const char *yes[] = { "yes", "true", "on", "1" },
	                  *no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
			*out = strcasecmp(value, yes[i]) == 0;
			return true;
		}
	}
	snprintf(err, errlen, "'%s': expected yes or no", value);
	return false;
}

static bool set_db(config_t *cfg, const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0' || strlen(value) >= sizeof(cfg->db)) {
		snprintf(err, errlen, "'%s': expected a directory", value);
		return false;
	}
	snprintf(cfg->db, sizeof(cfg->db), "%s", value);
	return true;
}

static bool set_listen(config_t *cfg, const char *value, char *err, size_t errlen)
{
	if (cfg->net.nlisten == NET_MAX_LISTEN) {
		snprintf(err, errlen, "'%s': at most %d listen addresses", value, NET_MAX_LISTEN);
		return false;
	}
	if (!net_addr_parse(value, &cfg->net.listen[cfg->net.nlisten], err, errlen)) {
		return false;
	}
	cfg->net.nlisten++;
	return true;
}

static bool set_threads(config_t *cfg, const char *value, char *err, size_t errlen)
{
	long v;
	if (!parse_num(value, 1, CONFIG_MAX_THREADS, &v, err, errlen)) {
		return false;
	}
	cfg->net.threads = (int)v;
	return true;
}

static bool set_idle(config_t *cfg, const char *value, char *err, size_t errlen)
{
	long v;
	if (!parse_num(value, 1, 3600, &v, err, errlen)) {
		return false;
	}
	cfg->net.tcp_idle_ms = (int)v * 1000;
	return true;
}

static bool set_max_clients(config_t *cfg, const char *value, char *err, size_t errlen)
{
	long v;
	if (!parse_num(value, 1, 100000, &v, err, errlen)) {
		return false;
	}
	cfg->net.tcp_max_conns = (int)v;
	return true;
}

/* ADDR:PORT with the port spelled out (no default port for HTTP), or "off". */
static bool set_http(config_t *cfg, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "off") == 0) {
		cfg->http_on = false;
		return true;
	}
	const char *colon = strrchr(value, ':');
	bool port =
	    colon != NULL && (value[0] == '[' ? colon[-1] == ']' : strchr(value, ':') == colon);
	if (!port) {
		snprintf(err, errlen, "'%s': expected ADDR:PORT ([ADDR]:PORT for IPv6) or off",
		         value);
		return false;
	}
	if (!net_addr_parse(value, &cfg->http, err, errlen)) {
		return false;
	}
	cfg->http_on = true;
	return true;
}

static bool set_user(config_t *cfg, const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0' || strlen(value) >= sizeof(cfg->user) || getpwnam(value) == NULL) {
		snprintf(err, errlen, "'%s': no such user", value);
		return false;
	}
	snprintf(cfg->user, sizeof(cfg->user), "%s", value);
	return true;
}

static const char *level_names[] = { "error", "warning", "info", "debug" };
static const int level_values[] = { CT_LOG_ERR, CT_LOG_WARNING, CT_LOG_INFO, CT_LOG_DEBUG };

static bool set_log_level(config_t *cfg, const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, level_names[i]) == 0) {
			cfg->log_level = level_values[i];
			return true;
		}
	}
	snprintf(err, errlen, "'%s': expected error, warning, info or debug", value);
	return false;
}

static bool set_verbose(config_t *cfg, const char *value, char *err, size_t errlen)
{
	cfg->log_level = CT_LOG_DEBUG;
	return true;
}

static bool set_syslog(config_t *cfg, const char *value, char *err, size_t errlen)
{
	return parse_bool(value, &cfg->syslog, err, errlen);
}

static bool set_query_log(config_t *cfg, const char *value, char *err, size_t errlen)
{
	return parse_bool(value, &cfg->net.query_log, err, errlen);
}

static bool set_query_log_rate(config_t *cfg, const char *value, char *err, size_t errlen)
{
	long v;
	if (!parse_num(value, 0, 1000000, &v, err, errlen)) {
		return false;
	}
	cfg->net.query_log_rate = (unsigned)v;
	return true;
}

/* Response rate limiting: every value a number in its range. */
static bool set_rrl_num(const char *value, long min, long max, unsigned *out, char *err,
                        size_t errlen)
{
	long v;
	if (!parse_num(value, min, max, &v, err, errlen)) {
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static bool set_rrl_rate(config_t *cfg, const char *value, char *err, size_t errlen)
{
	return set_rrl_num(value, 0, CT_RRL_MAX_RATE, &cfg->net.rrl.rate, err, errlen);
}

static bool set_rrl_slip(config_t *cfg, const char *value, char *err, size_t errlen)
{
	return set_rrl_num(value, 0, CT_RRL_MAX_SLIP, &cfg->net.rrl.slip, err, errlen);
}

static bool set_rrl_ipv4(config_t *cfg, const char *value, char *err, size_t errlen)
{
	return set_rrl_num(value, 8, 32, &cfg->net.rrl.ipv4_prefix, err, errlen);
}

static bool set_rrl_ipv6(config_t *cfg, const char *value, char *err, size_t errlen)
{
	return set_rrl_num(value, 16, 128, &cfg->net.rrl.ipv6_prefix, err, errlen);
}

static bool set_rrl_table(config_t *cfg, const char *value, char *err, size_t errlen)
{
	return set_rrl_num(value, 1024, CT_RRL_MAX_TABLE, &cfg->net.rrl.table_size, err, errlen);
}

/* The text of a CH TXT answer: one character-string of printable ASCII. */
static bool set_chaos_text(char *out, const char *value, char *err, size_t errlen)
{
	size_t n = strlen(value);
	if (n == 0 || n > CT_CHAOS_TEXT_MAX) {
		snprintf(err, errlen, "'%s': expected 1 to %d characters", value, CT_CHAOS_TEXT_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (value[i] < 0x20 || value[i] > 0x7e) {
			snprintf(err, errlen, "'%s': only printable ASCII characters", value);
			return false;
		}
	}
	memcpy(out, value, n + 1);
	return true;
}

static bool set_chaos_identity(config_t *cfg, const char *value, char *err, size_t errlen)
{
	return set_chaos_text(cfg->net.chaos.identity, value, err, errlen);
}

static bool set_chaos_version(config_t *cfg, const char *value, char *err, size_t errlen)
{
	return set_chaos_text(cfg->net.chaos.version, value, err, errlen);
}

enum {
	OPT_CONFIG = 'c',
	OPT_CHECK = 256,
	OPT_IDLE,
	OPT_MAXCLIENTS,
	OPT_HTTP,
	OPT_USER,
	OPT_LOGLEVEL,
	OPT_SYSLOG,
	OPT_QLOG,
	OPT_QLOGRATE,
	OPT_RRL_RATE,
	OPT_RRL_SLIP,
	OPT_RRL_IPV4,
	OPT_RRL_IPV6,
	OPT_RRL_TABLE,
	OPT_CHAOS_ID,
	OPT_CHAOS_VERSION
};

/* Every option; the config file takes those with in_file, by the same name. */
static const option_t options[] = {
	{ "config", OPT_CONFIG, required_argument, false, false, NULL },
	{ "check-config", OPT_CHECK, no_argument, false, false, NULL },
	{ "db", 'd', required_argument, true, false, set_db },
	{ "listen", 'l', required_argument, true, true, set_listen },
	{ "threads", 't', required_argument, true, false, set_threads },
	{ "tcp-idle-timeout", OPT_IDLE, required_argument, true, false, set_idle },
	{ "tcp-max-clients", OPT_MAXCLIENTS, required_argument, true, false, set_max_clients },
	{ "http", OPT_HTTP, required_argument, true, false, set_http },
	{ "user", OPT_USER, required_argument, true, false, set_user },
	{ "log-level", OPT_LOGLEVEL, required_argument, true, false, set_log_level },
	{ "verbose", 'v', no_argument, false, true, set_verbose },
	{ "syslog", OPT_SYSLOG, no_argument, true, false, set_syslog },
	{ "query-log", OPT_QLOG, no_argument, true, false, set_query_log },
	{ "query-log-rate", OPT_QLOGRATE, required_argument, true, false, set_query_log_rate },
	{ "rrl-responses-per-second", OPT_RRL_RATE, required_argument, true, false, set_rrl_rate },
	{ "rrl-slip", OPT_RRL_SLIP, required_argument, true, false, set_rrl_slip },
	{ "rrl-ipv4-prefix", OPT_RRL_IPV4, required_argument, true, false, set_rrl_ipv4 },
	{ "rrl-ipv6-prefix", OPT_RRL_IPV6, required_argument, true, false, set_rrl_ipv6 },
	{ "rrl-table-size", OPT_RRL_TABLE, required_argument, true, false, set_rrl_table },
	{ "chaos-identity", OPT_CHAOS_ID, required_argument, true, false, set_chaos_identity },
	{ "chaos-version", OPT_CHAOS_VERSION, required_argument, true, false, set_chaos_version },
	{ "help", 'h', no_argument, false, false, NULL },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: cutoverd [-c FILE] [--check-config] [OPTIONS]\n"
	    "\n"
	    "Authoritative DNS server for blue/green releases. Answers from the LMDB database\n"
	    "that cutoverctl writes; every committed change is served by the next query.\n"
	    "\n"
	    "Options (each, without its dashes, is also a line 'NAME VALUE' of the config file;\n"
	    "options on the command line override the file):\n"
	    "  -c, --config FILE        read settings from FILE (see cutoverd(8))\n"
	    "      --check-config       check the settings, print them and exit\n"
	    "  -d, --db DIR             database directory (default: $CUTOVER_DB, else %s)\n"
	    "  -l, --listen ADDR[:PORT] address to serve on, UDP and TCP; repeatable\n"
	    "                           (IPv6 as [ADDR]:PORT; default port 53;\n"
	    "                           default address 127.0.0.1:53)\n"
	    "  -t, --threads N          query worker threads (default: number of cores)\n"
	    "      --tcp-idle-timeout S close TCP connections idle for S seconds (default 10)\n"
	    "      --tcp-max-clients N  TCP connections per worker thread (default 256)\n"
	    "      --http ADDR:PORT     serve /metrics, /status and a status page (default off)\n"
	    "      --user NAME          drop privileges to NAME once the sockets are bound\n"
	    "      --log-level LEVEL    error, warning, info (default) or debug\n"
	    "  -v, --verbose            the same as --log-level debug\n"
	    "      --syslog             log to syslog (facility daemon) instead of stderr\n"
	    "      --query-log          log every answered query (off by default)\n"
	    "      --query-log-rate N   at most N query log lines per second and worker\n"
	    "                           (default 100; 0: no limit)\n"
	    "      --rrl-responses-per-second N\n"
	    "                           response rate limiting: at most N UDP responses a\n"
	    "                           second per client prefix, name and kind (default 0:\n"
	    "                           off; TCP is never limited)\n"
	    "      --rrl-slip N         send every Nth limited response truncated (TC=1) so\n"
	    "                           real clients retry over TCP (default 2; 0: never)\n"
	    "      --rrl-ipv4-prefix N  client prefix length for IPv4 (default 24)\n"
	    "      --rrl-ipv6-prefix N  client prefix length for IPv6 (default 56)\n"
	    "      --rrl-table-size N   buckets in the rate limit table (default %d)\n"
	    "      --chaos-identity TEXT\n"
	    "                           answer CH TXT id.server and hostname.bind with TEXT\n"
	    "                           (default: REFUSED)\n"
	    "      --chaos-version TEXT answer CH TXT version.bind and version.server with\n"
	    "                           TEXT (default: REFUSED)\n"
	    "  -h, --help               this text\n"
	    "\n"
	    "It logs one event per line (key=value) and a 'ready' line once it serves.\n"
	    "SIGTERM or SIGINT stop it.\n"
	    "\n"
	    "Example:\n"
	    "  cutoverctl --db /tmp/db zone import zones/example.test.zone\n"
	    "  cutoverd --db /tmp/db --listen 127.0.0.1:5300 --http 127.0.0.1:8053\n",
	    CT_DEFAULT_DB, CT_RRL_DEF_TABLE);
}

static const option_t *find_option(const char *name)
{
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (strcmp(options[i].name, name) == 0) {
			return &options[i];
		}
	}
	return NULL;
}

static void defaults(config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	cfg->net.threads = cores < 1                    ? 1
	                   : cores > CONFIG_MAX_THREADS ? CONFIG_MAX_THREADS
	                                                : (int)cores;
	cfg->net.tcp_idle_ms = 10000;
	cfg->net.tcp_max_conns = 256;
	cfg->net.query_log_rate = 100;
	cfg->net.rrl = (ct_rrl_conf_t){ .rate = 0, .slip = 2, .ipv4_prefix = 24, .ipv6_prefix = 56,
		                        .table_size = CT_RRL_DEF_TABLE };
	cfg->log_level = CT_LOG_INFO;
}

/* Split a line into key and value in place: comments ('#' at the start or after a blank)
 * and surrounding blanks go. Returns false for a line with nothing on it. */
static bool split_line(char *line, char **key, char **value)
{
	for (char *p = line; *p != '\0'; p++) {
		if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
		if (*p == '\r' || *p == '\n') {
			*p = '\0';
			break;
		}
	}
	char *p = line + strspn(line, " \t");
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
		p[--n] = '\0';
	}
	if (*p == '\0') {
		return false;
	}
	*key = p;
	p += strcspn(p, " \t");
	if (*p != '\0') {
		*p++ = '\0';
		p += strspn(p, " \t");
	}
	*value = p;
	return true;
}

static bool load_file(config_t *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "cutoverd: %s: cannot read the config file: %s\n", path,
		        strerror(errno));
		return false;
	}
	int seen[NOPTIONS] = { 0 };
	char *line = NULL, err[300];
	size_t cap = 0;
	int lineno = 0;
	bool ok = true;
	while (ok && getline(&line, &cap, f) >= 0) {
		lineno++;
		char *key, *value;
		if (!split_line(line, &key, &value)) {
			continue;
		}
		const option_t *o = find_option(key);
		if (o == NULL || !o->in_file) {
			fprintf(
			    stderr,
			    "cutoverd: %s:%d: unknown setting '%s' (settings: db, listen, threads, "
			    "tcp-idle-timeout, tcp-max-clients, http, user, log-level, syslog, "
			    "query-log, query-log-rate, rrl-responses-per-second, rrl-slip, "
			    "rrl-ipv4-prefix, rrl-ipv6-prefix, rrl-table-size, chaos-identity, "
			    "chaos-version)\n",
			    path, lineno, key);
			ok = false;
		} else if (*value == '\0') {
			fprintf(stderr, "cutoverd: %s:%d: %s needs a value\n", path, lineno, key);
			ok = false;
		} else if (!o->repeat && seen[o - options] > 0) {
			fprintf(stderr, "cutoverd: %s:%d: %s is already set on line %d\n", path,
			        lineno, key, seen[o - options]);
			ok = false;
		} else if (!o->set(cfg, value, err, sizeof(err))) {
			fprintf(stderr, "cutoverd: %s:%d: %s %s\n", path, lineno, key, err);
			ok = false;
		}
		if (o != NULL) {
			seen[o - options] = lineno;
		}
	}
	if (ok && ferror(f)) {
		fprintf(stderr, "cutoverd: %s: cannot read the config file: %s\n", path,
		        strerror(errno));
		ok = false;
	}
	free(line);
	fclose(f);
	return ok;
}

int config_load(config_t *cfg, int argc, char **argv)
{
	struct option longopts[NOPTIONS + 1];
	char shortopts[2 * NOPTIONS + 1];
	size_t ns = 0;
	for (size_t i = 0; i < NOPTIONS; i++) {
		longopts[i] =
		    (struct option){ options[i].name, options[i].has_arg, NULL, options[i].val };
		if (options[i].val < 256) {
			shortopts[ns++] = (char)options[i].val;
			if (options[i].has_arg == required_argument) {
				shortopts[ns++] = ':';
			}
		}
	}
	longopts[NOPTIONS] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[ns] = '\0';
	defaults(cfg);

	/* First pass: -c, --check-config, --help and the syntax; the file goes under the rest. */
	int c;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == '?' || c == ':') {
			usage(stderr);
			return 2;
		}
		if (c == OPT_CONFIG) {
			snprintf(cfg->file, sizeof(cfg->file), "%s", optarg);
		} else if (c == OPT_CHECK) {
			cfg->check = true;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cutoverd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (cfg->file[0] != '\0' && !load_file(cfg, cfg->file)) {
		return 2;
	}

	/* Second pass: the options over the file's settings. */
	bool cli_listen = false;
	char err[300];
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const option_t *o = NULL;
		for (size_t i = 0; i < NOPTIONS && o == NULL; i++) {
			o = options[i].val == c ? &options[i] : NULL;
		}
		if (o == NULL || o->set == NULL) {
			continue;
		}
		if (c == 'l' && !cli_listen) {
			cfg->net.nlisten = 0; /* the command line's addresses replace the file's */
			cli_listen = true;
		}
		if (!o->set(cfg, o->has_arg == no_argument ? "yes" : optarg, err, sizeof(err))) {
			fprintf(stderr, "cutoverd: --%s %s\n", o->name, err);
			return 2;
		}
	}
	if (cfg->db[0] == '\0') {
		const char *env = getenv("CUTOVER_DB");
		snprintf(cfg->db, sizeof(cfg->db), "%s",
		         env != NULL && env[0] != '\0' ? env : CT_DEFAULT_DB);
	}
	if (cfg->net.nlisten == 0) {
		net_addr_parse("127.0.0.1:53", &cfg->net.listen[0], err, sizeof(err));
		cfg->net.nlisten = 1;
	}
	return -1;
}

void config_print(const config_t *cfg, FILE *out)
{
	const char *level = "info";
	for (size_t i = 0; i < 4; i++) {
		level = level_values[i] == cfg->log_level ? level_names[i] : level;
	}
	fprintf(out, "# cutoverd settings%s%s and the command line\n",
	        cfg->file[0] != '\0' ? " from " : ": defaults", cfg->file);
	fprintf(out, "db %s\n", cfg->db);
	for (int i = 0; i < cfg->net.nlisten; i++) {
		fprintf(out, "listen %s\n", cfg->net.listen[i].text);
	}
	fprintf(out, "threads %d\n", cfg->net.threads);
	fprintf(out, "tcp-idle-timeout %d\n", cfg->net.tcp_idle_ms / 1000);
	fprintf(out, "tcp-max-clients %d\n", cfg->net.tcp_max_conns);
	fprintf(out, "http %s\n", cfg->http_on ? cfg->http.text : "off");
	if (cfg->user[0] != '\0') {
		fprintf(out, "user %s\n", cfg->user);
	} else {
		fprintf(out, "# user NAME (not set: cutoverd keeps the user it was started as)\n");
	}
	fprintf(out, "log-level %s\n", level);
	fprintf(out, "syslog %s\n", cfg->syslog ? "yes" : "no");
	fprintf(out, "query-log %s\n", cfg->net.query_log ? "yes" : "no");
	fprintf(out, "query-log-rate %u\n", cfg->net.query_log_rate);
	fprintf(out, "rrl-responses-per-second %u%s\n", cfg->net.rrl.rate,
	        cfg->net.rrl.rate == 0 ? " # off" : "");
	fprintf(out, "rrl-slip %u\n", cfg->net.rrl.slip);
	fprintf(out, "rrl-ipv4-prefix %u\n", cfg->net.rrl.ipv4_prefix);
	fprintf(out, "rrl-ipv6-prefix %u\n", cfg->net.rrl.ipv6_prefix);
	fprintf(out, "rrl-table-size %u\n", cfg->net.rrl.table_size);
	if (cfg->net.chaos.identity[0] != '\0') {
		fprintf(out, "chaos-identity %s\n", cfg->net.chaos.identity);
	} else {
		fprintf(out, "# chaos-identity TEXT (not set: CH TXT id.server is REFUSED)\n");
	}
	if (cfg->net.chaos.version[0] != '\0') {
		fprintf(out, "chaos-version %s\n", cfg->net.chaos.version);
	} else {
		fprintf(out, "# chaos-version TEXT (not set: CH TXT version.bind is REFUSED)\n");
	}
}
