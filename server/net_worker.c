/* SPDX-License-Identifier: MIT */
/* A query worker: one thread, one event_base, its own SO_REUSEPORT sockets and buffers. */
#include "net.h"
#include "cutover/errcode.h"
#include "cutover/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int net_worker_init(worker_t *w, int id, const net_conf_t *conf, ct_store_t *store, char *err,
		    size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->conf = conf;
	for (int i = 0; i < NET_MAX_LISTEN; i++) {
		w->udp_fd[i] = -1;
	}
	int ret = ct_answer_init(&w->answer, store);
	if (ret != 0) {
		snprintf(err, errlen, "worker %d: cannot start a database reader: %s", id,
			 ct_strerror(ret));
		return -1;
	}
	w->answer.chaos = &conf->chaos;
	w->base = event_base_new();
	w->rx_buf = calloc(NET_UDP_BATCH, sizeof(*w->rx_buf));
	w->tx_buf = calloc(NET_UDP_BATCH, sizeof(*w->tx_buf));
	w->tcp_in = malloc(NET_TCP_MAXMSG);
	w->tcp_out = malloc(NET_TCP_MAXMSG + 2);
	if (w->base == NULL || w->rx_buf == NULL || w->tx_buf == NULL || w->tcp_in == NULL ||
	    w->tcp_out == NULL) {
		snprintf(err, errlen, "worker %d: out of memory", id);
		return -1;
	}
	for (int i = 0; i < conf->nlisten; i++) {
		int fd = net_socket_bind(&conf->listen[i], SOCK_DGRAM, true, err, errlen);
		if (fd < 0) {
			return -1;
		}
		if (net_udp_add(w, i, fd) != 0) {
			close(fd);
			snprintf(err, errlen, "%s: cannot watch the udp socket", conf->listen[i].text);
			return -1;
		}
		fd = net_socket_bind(&conf->listen[i], SOCK_STREAM, true, err, errlen);
		if (fd < 0) {
			return -1;
		}
		if (net_tcp_add(w, i, fd) != 0) {
			close(fd);
			snprintf(err, errlen, "%s: cannot watch the tcp socket", conf->listen[i].text);
			return -1;
		}
	}
	return 0;
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	event_base_dispatch(w->base);
	return NULL;
}

int net_worker_start(worker_t *w)
{
	return pthread_create(&w->thread, NULL, worker_main, w);
}

void net_worker_stop(worker_t *w)
{
	event_base_loopbreak(w->base);
	pthread_join(w->thread, NULL);
}

void net_worker_deinit(worker_t *w)
{
	net_tcp_close_all(w);
	for (int i = 0; i < NET_MAX_LISTEN; i++) {
		if (w->udp_ev[i] != NULL) {
			event_free(w->udp_ev[i]);
		}
		if (w->udp_fd[i] >= 0) {
			close(w->udp_fd[i]);
		}
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
