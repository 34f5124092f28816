/* SPDX-License-Identifier: MIT */
/* A query worker: one thread, its own SO_REUSEPORT socket(s), answer context and buffers. */
#include "net.h"
#include "cutover/anscache.h"
#include "cutover/errcode.h"
#include "cutover/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int net_worker_count(const net_conf_t *conf)
{
	return conf->threads * (conf->nlisten + 1);
}

/* Workers 0 .. threads x nlisten - 1 are UDP (thread-major: worker i serves listen address
 * i % nlisten), the last threads ones TCP. */
void net_worker_role(const net_conf_t *conf, int id, net_kind_t *kind, int *listen_idx)
{
	int nudp = conf->threads * conf->nlisten;
	*kind = id < nudp ? NET_WORKER_UDP : NET_WORKER_TCP;
	*listen_idx = id < nudp ? id % conf->nlisten : -1;
}

static int tcp_init(worker_t *w, char *err, size_t errlen)
{
	w->base = event_base_new();
	w->tcp_in = malloc(NET_TCP_MAXMSG);
	w->tcp_out = malloc(NET_TCP_MAXMSG + 2);
	if (w->base == NULL || w->tcp_in == NULL || w->tcp_out == NULL) {
		snprintf(err, errlen, "worker %d: out of memory", w->id);
		return -1;
	}
	for (int i = 0; i < w->conf->nlisten; i++) {
		int fd = net_socket_bind(&w->conf->listen[i], SOCK_STREAM, true, err, errlen);
		if (fd < 0) {
			return -1;
		}
		if (net_tcp_add(w, i, fd) != 0) {
			close(fd);
			snprintf(err, errlen, "%s: cannot watch the tcp socket",
				 w->conf->listen[i].text);
			return -1;
		}
	}
	return 0;
}

int net_worker_init(worker_t *w, int id, const net_conf_t *conf, ct_store_t *store, char *err,
		    size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->conf = conf;
	w->udp_fd = -1;
	int listen_idx;
	net_worker_role(conf, id, &w->kind, &listen_idx);
	int ret = ct_answer_init(&w->answer, store);
	if (ret != 0) {
		snprintf(err, errlen, "worker %d: cannot start a database reader: %s", id,
			 ct_strerror(ret));
		return -1;
	}
	w->answer.chaos = &conf->chaos;
	if (w->kind == NET_WORKER_UDP) {
		return net_udp_init(w, &conf->listen[listen_idx], err, errlen);
	}
	/* TCP carries few of the queries: an eighth of the cache (1 MiB) */
	if (ct_answer_cache_sets(&w->answer, CT_ANSCACHE_SETS / 8) != CT_EOK) {
		snprintf(err, errlen, "worker %d: out of memory", id);
		return -1;
	}
	return tcp_init(w, err, errlen);
}

static void *tcp_main(void *arg)
{
	worker_t *w = arg;
	event_base_dispatch(w->base);
	return NULL;
}

int net_worker_start(worker_t *w)
{
	return pthread_create(&w->thread, NULL, w->kind == NET_WORKER_UDP ? net_udp_main : tcp_main,
			      w);
}

void net_worker_stop(worker_t *w)
{
	if (w->kind == NET_WORKER_UDP) {
		/* wakes the thread blocked in recvmmsg (on a UDP socket it fails with ENOTCONN,
		 * but marks the socket shut and wakes its readers all the same) */
		atomic_store(&w->stop, true);
		shutdown(w->udp_fd, SHUT_RD);
	} else {
		event_base_loopbreak(w->base);
	}
	pthread_join(w->thread, NULL);
}

void net_worker_deinit(worker_t *w)
{
	net_tcp_close_all(w);
	if (w->udp_fd >= 0) {
		close(w->udp_fd);
	}
	for (int i = 0; i < NET_MAX_LISTEN; i++) {
		if (w->tcp[i] != NULL) {
			evconnlistener_free(w->tcp[i]);
		}
	}
	if (w->base != NULL) {
		event_base_free(w->base);
	}
	ct_answer_deinit(&w->answer);
	free(w->rx_buf);
	free(w->tx_buf);
	free(w->tcp_in);
	free(w->tcp_out);
}
