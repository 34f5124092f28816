/* SPDX-License-Identifier: MIT */
/* Logging to stderr, one write(2) per line so threads never interleave; or to syslog. */
#include "cutover/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static int log_level = CT_LOG_INFO;
static bool log_syslog;

void ct_log_set_level(int level)
{
	log_level = level;
}

void ct_log_to_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = true;
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case CT_LOG_ERR:
		return "error";
	case CT_LOG_WARNING:
		return "warning";
	case CT_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void ct_log(int prio, const char *fmt, ...)
{
	if (prio > log_level) {
		return;
	}
	char line[1024];
	va_list ap;
	if (log_syslog) {
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		syslog(prio, "%s", line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
	                 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ", tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                 ts.tv_nsec / 1000000, prio_name(prio));
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0) {
		m = 0;
	}
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2) {
		len = sizeof(line) - 2;
	}
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

bool ct_log_ratelimit(long *last_second)
{
	long now = (long)time(NULL);
	if (*last_second == now) {
		return false;
	}
	*last_second = now;
	return true;
}
