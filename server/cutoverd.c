/* SPDX-License-Identifier: MIT */
/* cutoverd: the authoritative server. Settings, start-up checks, workers, the prober, the HTTP
 * endpoint, dropping privileges, clean shutdown. */
#include "config.h"
#include "http.h"
#include "metrics.h"
#include "net.h"
#include "prober.h"
#include "cutover/errcode.h"
#include "cutover/log.h"
#include "cutover/store.h"

#include <errno.h>
#include <event2/thread.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAIL_OPEN_WATCH_S 5 /* how often fail-open answers are looked for and logged */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	log_info("stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
	event_base_loopbreak(arg);
}

/*
 * Become user (its uid, gid and supplementary groups) once every socket is bound and the
 * database is open: the open descriptors and the map stay usable whatever the new user may
 * open. Nothing is started before this, so every thread runs as the user.
 */
static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		log_err("start failed reason=\"--user %s: no such user\"", user);
		return -1;
	}
	if (geteuid() == pw->pw_uid && getegid() == pw->pw_gid) {
		return 0; /* already that user */
	}
	if (initgroups(user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		log_err("start failed reason=\"--user %s: cannot switch to the user: %s%s\"", user,
		        strerror(errno), errno == EPERM ? " (only root can)" : "");
		return -1;
	}
	if (setuid(0) == 0) {
		log_err("start failed reason=\"--user %s: root privileges could be regained\"",
		        user);
		return -1;
	}
	log_info("privileges dropped user=%s uid=%u gid=%u", user, (unsigned)pw->pw_uid,
	         (unsigned)pw->pw_gid);
	return 0;
}

static void log_listeners(const config_t *cfg)
{
	for (int i = 0; i < cfg->net.nlisten; i++) {
		log_info("listening addr=%s proto=udp,tcp service=dns", cfg->net.listen[i].text);
	}
	if (cfg->http_on) {
		log_info("listening addr=%s proto=tcp service=http paths=/,/status,/metrics",
		         cfg->http.text);
	}
}

int main(int argc, char **argv)
{
	static config_t cfg;
	char err[512];

	int status = config_load(&cfg, argc, argv);
	if (status >= 0) {
		return status;
	}
	if (cfg.check) {
		config_print(&cfg, stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	ct_log_set_level(cfg.log_level);
	if (cfg.syslog) {
		ct_log_to_syslog("cutoverd");
	}

	signal(SIGPIPE, SIG_IGN);
	unsigned long long nofile, nofile_need;
	if (!net_tcp_nofile(&cfg.net, &nofile, &nofile_need)) {
		log_warn("open-files limit=%llu need=%llu reason=\"threads x tcp-max-clients "
		         "connections cannot all be accepted: raise the hard limit (ulimit -Hn, "
		         "LimitNOFILE=) or lower tcp-max-clients\"", nofile, nofile_need);
	}
	if (evthread_use_pthreads() != 0) {
		log_err("start failed reason=\"libevent has no thread support\"");
		return 1;
	}
	int nworkers = net_worker_count(&cfg.net);
	worker_t *workers = calloc((size_t)nworkers, sizeof(*workers));
	if (workers == NULL) {
		log_err("start failed reason=\"out of memory for %d workers\"", nworkers);
		return 1;
	}
	/* a reader for each worker, the prober and the HTTP endpoint, and cutoverctl's beside */
	ct_store_opts_t opts = { .max_readers = nworkers + 64 > 126 ? (unsigned)nworkers + 64 : 0 };
	ct_store_t store;
	int ret = ct_store_open(&store, cfg.db, &opts);
	if (ret != CT_EOK) {
		log_err("start failed reason=\"%s\"", ct_store_last_error());
		free(workers);
		return 1;
	}
	for (int i = 0; i < cfg.net.nlisten; i++) {
		if (!net_addr_check_free(&cfg.net.listen[i], err, sizeof(err))) {
			log_err("start failed reason=\"%s\"", err);
			ct_store_close(&store);
			free(workers);
			return 1;
		}
	}
	metrics_src_t src = { .store = &store,
		              .workers = workers,
		              .nworkers = 0,
		              .threads = cfg.net.threads,
		              .start_ms = metrics_now_ms(),
		              .start_mono_ms = metrics_mono_ms() };
	struct event_base *main_base = event_base_new();
	static ct_rrl_t rrl; /* one table for all workers; stays empty while off */
	http_t *http = NULL;
	metrics_watch_t *watch = NULL;
	prober_t *prober = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	int inited = 0, started = 0;
	status = 1;
	if (main_base == NULL) {
		log_err("start failed reason=\"cannot create the main event loop\"");
		goto out;
	}
	/* Bind everything first, so that errors show before anything runs and privileges can
	 * be dropped before any thread starts. */
	for (; inited < nworkers; inited++) {
		if (net_worker_init(&workers[inited], inited, &cfg.net, &store, err, sizeof(err)) !=
		    0) {
			log_err("start failed reason=\"%s\"", err);
			net_worker_deinit(&workers[inited]);
			goto out;
		}
	}
	src.nworkers = inited;
	if (cfg.net.rrl.rate > 0) {
		if (ct_rrl_init(&rrl, &cfg.net.rrl) != CT_EOK) {
			log_err("start failed reason=\"rrl: cannot allocate a table of %u buckets\"",
			        cfg.net.rrl.table_size);
			goto out;
		}
		for (int i = 0; i < inited; i++) {
			workers[i].rrl = &rrl;
		}
		log_info("rrl on responses-per-second=%u slip=%u ipv4-prefix=%u ipv6-prefix=%u "
		         "table-size=%u",
		         cfg.net.rrl.rate, cfg.net.rrl.slip, cfg.net.rrl.ipv4_prefix,
		         cfg.net.rrl.ipv6_prefix, cfg.net.rrl.table_size);
	}
	if (cfg.http_on &&
	    (http = http_new(main_base, &cfg.http, &src, err, sizeof(err))) == NULL) {
		log_err("start failed reason=\"%s\"", err);
		goto out;
	}
	prober = prober_new(&store, err, sizeof(err));
	if (prober == NULL) {
		log_err("start failed reason=\"%s\"", err);
		goto out;
	}
	src.prober = prober;
	if (cfg.user[0] != '\0' && drop_privileges(cfg.user) != 0) {
		goto out;
	}
	if (geteuid() == 0) {
		log_info("running as root: consider --user (see cutoverd(8))");
	}

	/* workers must not take the signals: block them there, the main thread handles them */
	sigset_t sigs, old;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	for (; started < inited; started++) {
		if (net_worker_start(&workers[started]) != 0) {
			log_err("start failed reason=\"cannot start worker thread %d\"", started);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			goto out;
		}
	}
	if (prober_start(prober) != 0) {
		log_err("start failed reason=\"cannot start the prober thread\"");
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigterm = evsignal_new(main_base, SIGTERM, on_signal, main_base);
	sigint = evsignal_new(main_base, SIGINT, on_signal, main_base);
	watch = metrics_watch_new(&src, main_base, FAIL_OPEN_WATCH_S);
	if (sigterm == NULL || sigint == NULL || watch == NULL || event_add(sigterm, NULL) != 0 ||
	    event_add(sigint, NULL) != 0) {
		log_err("start failed reason=\"cannot watch signals (out of memory)\"");
		goto out;
	}

	log_listeners(&cfg);
	char addrs[NET_MAX_LISTEN * 82] = "";
	for (int i = 0; i < cfg.net.nlisten; i++) {
		strcat(addrs, i ? "," : "");
		strcat(addrs, cfg.net.listen[i].text);
	}
	log_info("ready listen=%s threads=%d db=%s http=%s", addrs, cfg.net.threads, cfg.db,
	         cfg.http_on ? cfg.http.text : "off");
	event_base_dispatch(main_base);
	status = 0;

out:
	/* the HTTP endpoint and the watcher read the workers and the prober: they go first */
	http_free(http);
	metrics_watch_free(watch);
	if (sigterm != NULL) {
		event_free(sigterm);
	}
	if (sigint != NULL) {
		event_free(sigint);
	}
	if (prober != NULL) {
		prober_stop(prober);
		prober_free(prober);
	}
	for (int i = 0; i < inited; i++) {
		if (i < started) {
			net_worker_stop(&workers[i]);
		}
		net_worker_deinit(&workers[i]);
	}
	if (main_base != NULL) {
		event_base_free(main_base);
	}
	ct_rrl_deinit(&rrl);
	ct_store_close(&store);
	free(workers);
	if (status == 0) {
		log_info("stopped");
	}
	return status;
}
