/* SPDX-License-Identifier: MIT */
/* Logging: one event per line on stderr, "key=value" fields after a message word. */
#pragma once

#include <stdbool.h>

enum { CT_LOG_ERR = 3, CT_LOG_WARNING = 4, CT_LOG_INFO = 6, CT_LOG_DEBUG = 7 };

/* Messages with a priority above this level are dropped; default CT_LOG_INFO. */
void ct_log_set_level(int level);

/* From now on send lines to syslog (facility daemon, with ident and the pid) instead of
 * stderr, without the time and level prefix (syslog adds its own). The priorities above are
 * syslog's. */
void ct_log_to_syslog(const char *ident);

/* Write one line "TIME LEVEL: message" to stderr (or syslog); thread-safe (one write per line). */
void ct_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For per-packet errors: true at most once per second per call site's counter. */
bool ct_log_ratelimit(long *last_second);

#define log_err(...)   ct_log(CT_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  ct_log(CT_LOG_WARNING, __VA_ARGS__)
#define log_info(...)  ct_log(CT_LOG_INFO, __VA_ARGS__)
#define log_debug(...) ct_log(CT_LOG_DEBUG, __VA_ARGS__)
