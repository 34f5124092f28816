/* SPDX-License-Identifier: MIT */
/* UDP: a worker thread blocks in recvmmsg on its socket, answers the batch, replies with one
 * sendmmsg. */
#include "net.h"
#include "cutover/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int net_udp_init(worker_t *w, const net_addr_t *addr, char *err, size_t errlen)
{
	w->rx_buf = calloc(NET_UDP_BATCH, sizeof(*w->rx_buf));
	w->tx_buf = calloc(NET_UDP_BATCH, sizeof(*w->tx_buf));
	if (w->rx_buf == NULL || w->tx_buf == NULL) {
		snprintf(err, errlen, "worker %d: out of memory", w->id);
		return -1;
	}
	w->udp_fd = net_socket_bind(addr, SOCK_DGRAM, true, err, errlen);
	if (w->udp_fd < 0) {
		return -1;
	}
	/* the thread waits in recvmmsg itself; replies are still sent with MSG_DONTWAIT */
	int flags = fcntl(w->udp_fd, F_GETFL);
	if (flags < 0 || fcntl(w->udp_fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		snprintf(err, errlen, "%s: cannot make the udp socket blocking: %s", addr->text,
			 strerror(errno));
		return -1;
	}
	for (int i = 0; i < NET_UDP_BATCH; i++) {
		w->rx_iov[i].iov_base = w->rx_buf[i];
		w->rx_iov[i].iov_len = NET_UDP_RXLEN;
		w->rx[i].msg_hdr.msg_iov = &w->rx_iov[i];
		w->rx[i].msg_hdr.msg_iovlen = 1;
		w->rx[i].msg_hdr.msg_name = &w->rx_addr[i];
		w->rx[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]);
	}
	return 0;
}

/* Answer the n datagrams received; returns how many replies are in w->tx. */
static int answer_batch(worker_t *w, int n)
{
	int m = 0;
	ct_answer_batch_begin(&w->answer); /* one snapshot for the datagrams read together */
	for (int i = 0; i < n; i++) {
		w->rx_token[i] = ct_answer_prefetch(&w->answer, w->rx_buf[i], w->rx[i].msg_len);
	}
	/* a pass of its own: the tag reads of the batch wait for memory together */
	for (int i = 0; i < n; i++) {
		ct_answer_prefetch_entry(&w->answer, w->rx_token[i]);
	}
	for (int i = 0; i < n; i++) {
		if (w->rx[i].msg_hdr.msg_flags & MSG_TRUNC) {
			/* larger than any query we accept */
			ct_counter_inc(&w->answer.dropped);
			continue;
		}
		const struct sockaddr *src = (const struct sockaddr *)&w->rx_addr[i];
		w->answer.token = w->rx_token[i];
		size_t len = ct_answer(&w->answer, w->rx_buf[i], w->rx[i].msg_len, false, src,
				       w->tx_buf[m], CT_EDNS_MAX_UDP);
		if (len > 0 && w->rrl != NULL) {
			len = ct_rrl_apply(w->rrl, &w->rrl_stats, src, w->tx_buf[m], len,
					   ct_rrl_clock());
		}
		if (len == 0) {
			continue;
		}
		if (w->conf->query_log) {
			net_query_log(w, src, false, w->tx_buf[m], len);
		}
		w->tx_iov[m].iov_base = w->tx_buf[m];
		w->tx_iov[m].iov_len = len;
		memset(&w->tx[m].msg_hdr, 0, sizeof(w->tx[m].msg_hdr));
		w->tx[m].msg_hdr.msg_iov = &w->tx_iov[m];
		w->tx[m].msg_hdr.msg_iovlen = 1;
		w->tx[m].msg_hdr.msg_name = &w->rx_addr[i];
		w->tx[m].msg_hdr.msg_namelen = w->rx[i].msg_hdr.msg_namelen;
		m++;
	}
	ct_answer_batch_end(&w->answer);
	return m;
}

static void send_batch(worker_t *w, int m)
{
	for (int sent = 0; sent < m;) {
		int r = sendmmsg(w->udp_fd, w->tx + sent, (unsigned)(m - sent), MSG_DONTWAIT);
		if (r <= 0) {
			if (ct_log_ratelimit(&w->answer.log_last)) {
				log_warn("udp send failed error=\"%s\"", strerror(errno));
			}
			/* skip the datagram the kernel refused, keep the rest */
			sent++;
			continue;
		}
		sent += r;
	}
}

void *net_udp_main(void *arg)
{
	worker_t *w = arg;
	for (;;) {
		/* waits for the first datagram, then takes what else is queued */
		int n = recvmmsg(w->udp_fd, w->rx, NET_UDP_BATCH, MSG_WAITFORONE, NULL);
		if (atomic_load_explicit(&w->stop, memory_order_relaxed)) {
			return NULL;
		}
		if (n <= 0) {
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				if (ct_log_ratelimit(&w->answer.log_last)) {
					log_warn("udp receive failed error=\"%s\"", strerror(errno));
				}
				/* whatever it is, do not spin on it */
				nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
			}
			continue;
		}
		int m = answer_batch(w, n);
		for (int i = 0; i < n; i++) {
			w->rx[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]); /* the kernel set it */
		}
		send_batch(w, m);
	}
}
