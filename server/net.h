/* SPDX-License-Identifier: MIT */
/* cutoverd's network side: listen addresses, sockets, and the query workers that serve them. */
#pragma once

#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cutover/answer.h"
#include "cutover/chaos.h"
#include "cutover/rrl.h"

#define NET_MAX_LISTEN 16
#define NET_UDP_BATCH  32
#define NET_UDP_RXLEN  4096
#define NET_TCP_MAXMSG 65535

typedef struct {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[80]; /* as given: "127.0.0.1:5300", "[::1]:5300" */
} net_addr_t;

typedef struct {
	net_addr_t listen[NET_MAX_LISTEN];
	int nlisten;
	int threads;
	int tcp_idle_ms;    /* close a TCP connection idle (no complete query) this long */
	int tcp_max_conns;  /* per TCP worker (one per --threads) */
	bool query_log;     /* log every answered query (info level), rate-limited */
	unsigned query_log_rate; /* lines per second per worker thread; 0: no limit */
	ct_rrl_conf_t rrl;  /* response rate limiting of UDP answers; rate 0: off */
	ct_chaos_t chaos;   /* CH TXT id.server and version.bind texts; empty: REFUSED */
} net_conf_t;

/*
 * A query worker is one thread with its own answer context (database reader, answer cache,
 * counters). A UDP worker serves one socket, blocking in recvmmsg as gdnsd does: the socket has
 * no epoll entry on its wait queue, so no wake-up walk runs for each datagram it sends, and no
 * epoll_wait per batch. A TCP worker runs an event_base with a listener per address. Each of
 * --threads N makes one UDP worker per listen address and one TCP worker.
 */
typedef enum { NET_WORKER_UDP, NET_WORKER_TCP } net_kind_t;

typedef struct worker {
	int id;
	net_kind_t kind;
	pthread_t thread;
	struct event_base *base; /* TCP */
	const net_conf_t *conf;
	ct_answer_ctx_t answer;
	ct_rrl_t *rrl; /* shared by the workers (a prefix's queries reach them all); NULL: off */
	ct_rrl_stats_t rrl_stats;

	int udp_fd;       /* UDP: the socket, blocking */
	atomic_bool stop; /* UDP: leave at the next wake-up (net_worker_stop) */
	struct evconnlistener *tcp[NET_MAX_LISTEN];
	int tcp_conns;
	struct conn *tcp_list;
	struct event *tcp_pause; /* accepting again after accept() ran out of descriptors */

	/* preallocated per worker (UDP: rx, tx; TCP: tcp_in, tcp_out): nothing per query */
	struct mmsghdr rx[NET_UDP_BATCH], tx[NET_UDP_BATCH];
	struct iovec rx_iov[NET_UDP_BATCH], tx_iov[NET_UDP_BATCH];
	struct sockaddr_storage rx_addr[NET_UDP_BATCH];
	uint32_t rx_token[NET_UDP_BATCH]; /* ct_answer_prefetch's, per datagram */
	uint8_t (*rx_buf)[NET_UDP_RXLEN];
	uint8_t (*tx_buf)[CT_EDNS_MAX_UDP];
	uint8_t *tcp_in;   /* NET_TCP_MAXMSG */
	uint8_t *tcp_out;  /* 2 + NET_TCP_MAXMSG */

	/* the query log's rate limit */
	long qlog_second;
	unsigned qlog_lines;
	uint64_t qlog_suppressed;
} worker_t;

/* Parse "ADDR", "ADDR:PORT", "[V6]:PORT" (default port 53); false with a message in err. */
bool net_addr_parse(const char *text, net_addr_t *addr, char *err, size_t errlen);

/* Fail early, with a clear message, if another process already holds the address. */
bool net_addr_check_free(const net_addr_t *addr, char *err, size_t errlen);

/* A non-blocking socket bound to addr (listening, for TCP); with reuseport, SO_REUSEPORT (one
 * per worker). -1 with err set. */
int net_socket_bind(const net_addr_t *addr, int type, bool reuseport, char *err, size_t errlen);

/* How many workers --threads and the listen addresses make, and which each one is. */
int net_worker_count(const net_conf_t *conf);
void net_worker_role(const net_conf_t *conf, int id, net_kind_t *kind, int *listen_idx);

/* Create worker id's sockets (called in the main thread so errors show before start); then
 * run it in its own thread; stop; free. */
int net_worker_init(worker_t *w, int id, const net_conf_t *conf, ct_store_t *store, char *err,
		    size_t errlen);
int net_worker_start(worker_t *w);
void net_worker_stop(worker_t *w);
void net_worker_deinit(worker_t *w);

/* Per-protocol parts of a worker. */
int net_udp_init(worker_t *w, const net_addr_t *addr, char *err, size_t errlen);
void *net_udp_main(void *arg); /* the UDP worker's thread */
int net_tcp_add(worker_t *w, int idx, int fd);

/* Raise the soft limit on open files to what threads x tcp-max-clients need (within the hard
 * limit); false when it is still lower, with the limit and the need. */
bool net_tcp_nofile(const net_conf_t *conf, unsigned long long *have, unsigned long long *need);
/* Close every open TCP connection of the worker (at shutdown). */
void net_tcp_close_all(worker_t *w);

/* The query log (when conf->query_log): one line for the response resp[0..len) sent to src. */
void net_query_log(worker_t *w, const struct sockaddr *src, bool tcp, const uint8_t *resp,
                   size_t len);
