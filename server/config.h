/* SPDX-License-Identifier: MIT */
/* cutoverd's settings: defaults, the config file (-c FILE) and the command line over it. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "net.h"

#define CONFIG_MAX_THREADS 64

typedef struct {
	char file[4096]; /* -c FILE, "" when none */
	bool check;      /* --check-config: validate, print, exit */
	char db[4096];
	net_conf_t net; /* listen addresses, threads, TCP limits, query log */
	bool http_on;
	net_addr_t http; /* --http ADDR:PORT */
	char user[64];   /* drop privileges to this user after binding; "" none */
	int log_level;   /* CT_LOG_* */
	bool syslog;
} config_t;

/*
 * Fill cfg: defaults, then the config file named by -c, then the other options of argv (they
 * override the file; --listen options replace the file's listen lines). Errors in the file
 * are reported as FILE:LINE: what is wrong. Returns -1 to go on, else the exit status: 0
 * after --help, 2 after a message on stderr.
 */
int config_load(config_t *cfg, int argc, char **argv);

/* The effective settings in the config file format (what --check-config prints). */
void config_print(const config_t *cfg, FILE *out);
