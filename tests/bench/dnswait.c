/* SPDX-License-Identifier: MIT */
/* Bench client: run a command, then query one name until the answer shows its effect; timed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_STEPS 8
#define MAX_ADDRS 64

/* What the answer must show for a step to be done. */
typedef enum { PRED_HAS, PRED_LACKS, PRED_ANY } pred_kind_t;

typedef struct {
	pred_kind_t kind;
	struct in_addr addr;
	const char *cmd; /* run by /bin/sh -c before querying; "" for none */
} step_t;

static void usage(void)
{
	fprintf(
	    stderr,
	    "Usage: dnswait -p PORT -q QNAME [-s ADDR] [-n SAMPLES] [-T TIMEOUT_MS] [-w PAUSE_US]\n"
	    "               PRED CMD [PRED CMD]...\n"
	    "\n"
	    "For each sample (the steps in turn, SAMPLES in all): run CMD with /bin/sh -c (its\n"
	    "stdout discarded) and wait for it, then send A queries for QNAME over UDP, one at a\n"
	    "time (PAUSE_US apart), until the answer satisfies PRED: =ADDR (ADDR is among the A\n"
	    "records), !ADDR (an answer with A records, none of them ADDR), any (an answer with A\n"
	    "records). Prints one line per sample: step, cmd_us (the command's run time), wait_us\n"
	    "(from the command's return to the satisfying answer), queries (how many it took),\n"
	    "end_ns (CLOCK_MONOTONIC of that answer). Exits 1 when a command fails or a sample\n"
	    "exceeds TIMEOUT_MS (default 10000).\n");
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int run_cmd(const char *cmd)
{
	if (cmd[0] == '\0') {
		return 0;
	}
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	/* its stdout would mix with ours: discard it (stderr stays, for its errors) */
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		return -1;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			return -1;
		}
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A query for QNAME/A/IN without RD or EDNS; returns its length. */
static size_t make_query(uint8_t *buf, size_t cap, const char *qname, uint16_t id)
{
	size_t n = 12;
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[5] = 1; /* QDCOUNT */
	const char *p = qname;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || len > 63 || n + len + 6 > cap) {
			return 0;
		}
		buf[n++] = (uint8_t)len;
		memcpy(buf + n, p, len);
		n += len;
		p += len;
		if (*p == '.') {
			p++;
		}
	}
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 1; /* A */
	buf[n++] = 0;
	buf[n++] = 1; /* IN */
	return n;
}

/* Skip a possibly compressed name; returns the offset after it, or 0. */
static size_t skip_name(const uint8_t *m, size_t len, size_t off)
{
	while (off < len) {
		uint8_t l = m[off];
		if ((l & 0xc0) == 0xc0) {
			return off + 2 <= len ? off + 2 : 0;
		}
		if (l == 0) {
			return off + 1;
		}
		off += 1u + l;
	}
	return 0;
}

/* The A records of a NOERROR reply with our id; returns their count, or -1 for anything else. */
static int reply_addrs(const uint8_t *m, size_t len, uint16_t id, struct in_addr *out)
{
	if (len < 12 || m[0] != (uint8_t)(id >> 8) || m[1] != (uint8_t)id || !(m[2] & 0x80) ||
	    (m[3] & 0x0f) != 0) {
		return -1;
	}
	unsigned qd = (unsigned)(m[4] << 8 | m[5]), an = (unsigned)(m[6] << 8 | m[7]);
	size_t off = 12;
	for (unsigned i = 0; i < qd; i++) {
		off = skip_name(m, len, off);
		if (off == 0 || off + 4 > len) {
			return -1;
		}
		off += 4;
	}
	int n = 0;
	for (unsigned i = 0; i < an; i++) {
		off = skip_name(m, len, off);
		if (off == 0 || off + 10 > len) {
			return -1;
		}
		uint16_t type = (uint16_t)(m[off] << 8 | m[off + 1]);
		uint16_t rdlen = (uint16_t)(m[off + 8] << 8 | m[off + 9]);
		off += 10;
		if (off + rdlen > len) {
			return -1;
		}
		if (type == 1 && rdlen == 4 && n < MAX_ADDRS) {
			memcpy(&out[n++], m + off, 4);
		}
		off += rdlen;
	}
	return n;
}

static int satisfied(const step_t *s, const struct in_addr *a, int n)
{
	if (n <= 0) {
		return 0;
	}
	int has = 0;
	for (int i = 0; i < n; i++) {
		has |= a[i].s_addr == s->addr.s_addr;
	}
	return s->kind == PRED_ANY || (s->kind == PRED_HAS) == has;
}

static int parse_pred(const char *arg, step_t *s)
{
	if (strcmp(arg, "any") == 0) {
		s->kind = PRED_ANY;
		return 0;
	}
	if (arg[0] != '=' && arg[0] != '!') {
		return -1;
	}
	s->kind = arg[0] == '=' ? PRED_HAS : PRED_LACKS;
	return inet_pton(AF_INET, arg + 1, &s->addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *server = "127.0.0.1", *qname = NULL;
	int port = 0, samples = 1, opt;
	long timeout_ms = 10000, pause_us = 0;
	while ((opt = getopt(argc, argv, "s:p:q:n:T:w:")) != -1) {
		switch (opt) {
		case 's':
			server = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'q':
			qname = optarg;
			break;
		case 'n':
			samples = atoi(optarg);
			break;
		case 'T':
			timeout_ms = atol(optarg);
			break;
		case 'w':
			pause_us = atol(optarg);
			break;
		default:
			usage();
		}
	}
	int nsteps = (argc - optind) / 2;
	if (qname == NULL || port <= 0 || port > 65535 || samples < 1 || nsteps < 1 ||
	    nsteps > MAX_STEPS || (argc - optind) % 2 != 0) {
		usage();
	}
	step_t steps[MAX_STEPS];
	for (int i = 0; i < nsteps; i++) {
		if (parse_pred(argv[optind + 2 * i], &steps[i]) != 0) {
			fprintf(stderr, "dnswait: bad predicate '%s'\n", argv[optind + 2 * i]);
			usage();
		}
		steps[i].cmd = argv[optind + 2 * i + 1];
	}

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || inet_pton(AF_INET, server, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("dnswait: socket");
		return 1;
	}
	uint8_t q[512], r[4096];
	struct in_addr addrs[MAX_ADDRS];
	uint16_t id = (uint16_t)getpid();
	for (int s = 0; s < samples; s++) {
		const step_t *st = &steps[s % nsteps];
		uint64_t t0 = now_ns();
		if (run_cmd(st->cmd) != 0) {
			fprintf(stderr, "dnswait: command failed: %s\n", st->cmd);
			return 1;
		}
		uint64_t t1 = now_ns(), deadline = t1 + (uint64_t)timeout_ms * 1000000u;
		long queries = 0;
		for (;;) {
			if (now_ns() > deadline) {
				fprintf(stderr,
				        "dnswait: sample %d: no satisfying answer within %ld ms\n",
				        s, timeout_ms);
				return 1;
			}
			id++;
			size_t qlen = make_query(q, sizeof(q), qname, id);
			if (qlen == 0) {
				fprintf(stderr, "dnswait: bad name %s\n", qname);
				return 2;
			}
			queries++;
			int n = -1;
			if (send(fd, q, qlen, 0) == (ssize_t)qlen) {
				/* stale replies of earlier (timed-out) queries are skipped by id */
				struct pollfd pfd = { .fd = fd, .events = POLLIN };
				while (n < 0 && poll(&pfd, 1, 100) == 1) {
					ssize_t got = recv(fd, r, sizeof(r), 0);
					if (got < 0) {
						break; /* ECONNREFUSED: nobody listens yet */
					}
					n = reply_addrs(r, (size_t)got, id, addrs);
					if (n < 0 && got >= 2 && (r[0] << 8 | r[1]) == id) {
						break; /* ours, but not an answer with A records */
					}
				}
			}
			if (satisfied(st, addrs, n)) {
				break;
			}
			if (pause_us > 0) {
				usleep((useconds_t)pause_us);
			}
		}
		uint64_t t2 = now_ns();
		printf("step=%d cmd_us=%.1f wait_us=%.1f queries=%ld end_ns=%llu\n", s % nsteps,
		       (double)(t1 - t0) / 1e3, (double)(t2 - t1) / 1e3, queries,
		       (unsigned long long)t2);
		fflush(stdout);
	}
	close(fd);
	return 0;
}
