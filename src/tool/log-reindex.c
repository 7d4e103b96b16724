/* SPDX-License-Identifier: ISC */
/* log-reindex.c: idwise-log reindex: rebuild idwise-fcgi's dedup index from the log. */
#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "eventlog.h"
#include "idwise-log.h"
#include "progress.h"
#include "util.h"
/* The one responder header the tool uses (Makefile.am): the log's path is in the config. */
#include "../responder/config.h"

int
cmd_reindex(int argc, char **argv)
{
	struct config	 cfg;
	struct eventlog_settings log;
	struct eventlog	*el;
	struct eventlog_progress progress = { progress_report, NULL };
	const char	*path = NULL;
	char		 err[CONFIG_ERR_LEN];
	uint64_t	 last_seq = 0;
	int		 ch, rc;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		default:
			return cmd_usage(argv[0]);
		}
	}
	if (optind != argc)
		return cmd_usage(argv[0]);
	if (path == NULL)
		path = config_default_path();
	/* The index needs the log's path, not the secrets: they are not read. */
	if (config_read(&cfg, path, err, sizeof(err)) == -1) {
		msg("%s", err);
		return EX_CONFIG;
	}
	log.path = cfg.log;
	log.sync_data = cfg.sync == SYNC_DATA;
	log.dedup_window_ms = cfg.dedup_window_ms;
	if ((el = eventlog_new(&log)) == NULL) {
		msg("out of memory");
		config_free(&cfg);
		return EX_OSERR;
	}
	progress.arg = progress_start("reindex");
	rc = eventlog_reindex(el, &last_seq, progress.arg != NULL ? &progress : NULL);
	progress_end(progress.arg);
	if (rc == 0)
		printf("%s: index rebuilt; the chain ends at seq %llu\n", cfg.log,
		    (unsigned long long)last_seq);
	eventlog_free(el);
	config_free(&cfg);
	return rc == 0 ? EX_OK : EXIT_DAMAGED;
}
