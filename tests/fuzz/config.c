/* SPDX-License-Identifier: MIT */
/* Fuzz target: cutoverd's config file (server/config.c), read through config_load as
 * 'cutoverd -c FILE --check-config' reads it. Settings that load must be printed as a file
 * that loads again to the same settings (printed the same, listen addresses the same). */
#include "fuzz.h"
#include "config.h"

#include <getopt.h>

/* Read the file as cutoverd would, its messages (not under test) into /dev/null; stderr's
 * descriptor stays open for the sanitizers' reports. */
static int load(const char *path, config_t *cfg)
{
	static FILE *devnull;
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL) {
		abort();
	}
	char arg0[] = "cutoverd", arg1[] = "-c", arg3[] = "--check-config", file[4096];
	snprintf(file, sizeof(file), "%s", path);
	char *argv[] = { arg0, arg1, file, arg3, NULL };
	optind = 0; /* glibc: start afresh */
	FILE *err = stderr;
	stderr = devnull;
	int ret = config_load(cfg, 4, argv);
	stderr = err;
	return ret;
}

/* The settings in the config file format (what --check-config prints); heap. */
static char *print(const config_t *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	fuzz_assert(out != NULL);
	config_print(cfg, out);
	fuzz_assert(fclose(out) == 0);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static config_t cfg, again;
	char path[4096], back[4096];
	fuzz_write("in.conf", data, size, path);
	int ret = load(path, &cfg);
	fuzz_assert(ret == -1 || ret == 2);
	if (ret == -1) {
		fuzz_assert(cfg.net.nlisten >= 1 && cfg.net.nlisten <= NET_MAX_LISTEN);
		fuzz_assert(cfg.net.threads >= 1 && cfg.net.threads <= CONFIG_MAX_THREADS);
		fuzz_assert(cfg.db[0] != '\0');
		char *text = print(&cfg);
		fuzz_write("back.conf", text, strlen(text), back);
		ret = load(back, &again);
		memcpy(again.file, cfg.file, sizeof(cfg.file)); /* all the same but the name */
		char *text2 = ret == -1 ? print(&again) : NULL;
		if (text2 == NULL || strcmp(text, text2) != 0) {
			fprintf(stderr, "fuzz config: the settings printed do not load the same:\n%s",
			        text);
			abort();
		}
		for (int i = 0; i < cfg.net.nlisten; i++) {
			fuzz_assert(cfg.net.listen[i].len == again.net.listen[i].len &&
			            memcmp(&cfg.net.listen[i].ss, &again.net.listen[i].ss,
			                   cfg.net.listen[i].len) == 0);
		}
		free(text);
		free(text2);
	}
	return 0;
}
