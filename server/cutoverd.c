/* SPDX-License-Identifier: MIT */
/* cutoverd: the authoritative server. Options, start-up checks, workers, clean shutdown. */
#include "net.h"
#include "prober.h"
#include "cutover/errcode.h"
#include "cutover/log.h"
#include "cutover/store.h"

#include <errno.h>
#include <event2/thread.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 64

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cutoverd [OPTIONS]\n"
		"\n"
		"Authoritative DNS server for blue/green releases. Answers from the LMDB database\n"
		"that cutoverctl writes; every committed change is served by the next query.\n"
		"\n"
		"Options:\n"
		"  -d, --db DIR             database directory (default: $CUTOVER_DB, else %s)\n"
		"  -l, --listen ADDR[:PORT] address to serve on, UDP and TCP; repeatable\n"
		"                           (IPv6 as [ADDR]:PORT; default port 53;\n"
		"                           default address 127.0.0.1:53)\n"
		"  -t, --threads N          query worker threads (default: number of cores)\n"
		"      --tcp-idle-timeout S close TCP connections idle for S seconds (default 10)\n"
		"      --tcp-max-clients N  TCP connections per worker thread (default 256)\n"
		"  -v, --verbose            log debug messages\n"
		"  -h, --help               this text\n"
		"\n"
		"It logs one event per line on stderr and prints a 'ready' line once it serves.\n"
		"SIGTERM or SIGINT stop it.\n"
		"\n"
		"Example:\n"
		"  cutoverctl --db /tmp/db zone import zones/example.test.zone\n"
		"  cutoverd --db /tmp/db --listen 127.0.0.1:5300 --listen [::1]:5300\n",
		CT_DEFAULT_DB);
}

static long parse_num(const char *opt, const char *arg, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "cutoverd: %s '%s': expected a number from %ld to %ld\n", opt, arg,
			min, max);
		exit(2);
	}
	return v;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	log_info("stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "tcp-idle-timeout", required_argument, NULL, 'I' },
		{ "tcp-max-clients", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static net_conf_t conf;
	static worker_t workers[MAX_THREADS];
	const char *db = getenv("CUTOVER_DB");
	char err[512];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	conf.threads = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
	conf.tcp_idle_ms = 10000;
	conf.tcp_max_conns = 256;

	int c;
	while ((c = getopt_long(argc, argv, "d:l:t:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'l':
			if (conf.nlisten == NET_MAX_LISTEN) {
				fprintf(stderr, "cutoverd: at most %d --listen addresses\n",
					NET_MAX_LISTEN);
				return 2;
			}
			if (!net_addr_parse(optarg, &conf.listen[conf.nlisten], err, sizeof(err))) {
				fprintf(stderr, "cutoverd: --listen %s\n", err);
				return 2;
			}
			conf.nlisten++;
			break;
		case 't':
			conf.threads = (int)parse_num("--threads", optarg, 1, MAX_THREADS);
			break;
		case 'I':
			conf.tcp_idle_ms = (int)parse_num("--tcp-idle-timeout", optarg, 1, 3600) * 1000;
			break;
		case 'C':
			conf.tcp_max_conns = (int)parse_num("--tcp-max-clients", optarg, 1, 100000);
			break;
		case 'v':
			ct_log_set_level(CT_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cutoverd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (db == NULL || db[0] == '\0') {
		db = CT_DEFAULT_DB;
	}
	if (conf.nlisten == 0) {
		net_addr_parse("127.0.0.1:53", &conf.listen[0], err, sizeof(err));
		conf.nlisten = 1;
	}

	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0) {
		log_err("start failed reason=\"libevent has no thread support\"");
		return 1;
	}
	ct_store_t store;
	int ret = ct_store_open(&store, db, NULL);
	if (ret != CT_EOK) {
		log_err("start failed reason=\"%s\"", ct_store_last_error());
		return 1;
	}
	for (int i = 0; i < conf.nlisten; i++) {
		if (!net_addr_check_free(&conf.listen[i], err, sizeof(err))) {
			log_err("start failed reason=\"%s\"", err);
			ct_store_close(&store);
			return 1;
		}
	}
	/* workers must not take the signals: block them there, the main thread handles them */
	sigset_t sigs, old;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	int started = 0, status = 0;
	for (int i = 0; i < conf.threads; i++) {
		if (net_worker_init(&workers[i], i, &conf, &store, err, sizeof(err)) != 0) {
			log_err("start failed reason=\"%s\"", err);
			net_worker_deinit(&workers[i]);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			status = 1;
			goto out;
		}
		if (net_worker_start(&workers[i]) != 0) {
			log_err("start failed reason=\"cannot start worker thread %d\"", i);
			net_worker_deinit(&workers[i]);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			status = 1;
			goto out;
		}
		started++;
	}

	prober_t *prober = prober_new(&store, err, sizeof(err));
	if (prober == NULL || prober_start(prober) != 0) {
		log_err("start failed reason=\"%s\"", prober ? "cannot start the prober thread" : err);
		prober_free(prober);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		status = 1;
		goto out;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	struct event_base *main_base = event_base_new();
	struct event *sigterm = evsignal_new(main_base, SIGTERM, on_signal, main_base);
	struct event *sigint = evsignal_new(main_base, SIGINT, on_signal, main_base);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);

	char addrs[NET_MAX_LISTEN * 82] = "";
	for (int i = 0; i < conf.nlisten; i++) {
		strcat(addrs, i ? "," : "");
		strcat(addrs, conf.listen[i].text);
	}
	log_info("ready listen=%s threads=%d db=%s", addrs, conf.threads, db);
	event_base_dispatch(main_base);

	event_free(sigterm);
	event_free(sigint);
	event_base_free(main_base);
	prober_stop(prober);
	prober_free(prober);
out:
	for (int i = 0; i < started; i++) {
		net_worker_stop(&workers[i]);
		net_worker_deinit(&workers[i]);
	}
	ct_store_close(&store);
	if (status == 0) {
		log_info("stopped");
	}
	return status;
}
