/* SPDX-License-Identifier: ISC */
/* exec-metrics.c: idwise-log exec's progress and dead letters as textfile metrics. */
#include "autoconf.h"

#include <sys/stat.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "exec-metrics.h"
#include "util.h"

/* The counters and the gauge of the last seq, each a row: name, type, help, its value. */
static const struct textfile_sample samples[] = {
	{ "idwise_exec_runs_total", "counter",
	    "Times the command was started, first attempts and retries.",
	    offsetof(struct exec_stats, runs) },
	{ "idwise_exec_records_done_total", "counter",
	    "Records the command exited 0 for.",
	    offsetof(struct exec_stats, done) },
	{ "idwise_exec_failures_total", "counter",
	    "Runs of the command that failed (a status other than 0, or a signal).",
	    offsetof(struct exec_stats, failures) },
	{ "idwise_exec_dead_letters_total", "counter",
	    "Records given up on after --max-attempts and put in the dead-letter file.",
	    offsetof(struct exec_stats, given_up) },
	{ "idwise_exec_last_seq", "gauge",
	    "The seq of the last record done or given up on (0: none since the start).",
	    offsetof(struct exec_stats, last_seq) },
};

static void
fill(FILE *f, const void *arg)
{
	const struct exec_stats	*st = arg;
	char			 a[TEXTFILE_LABEL_MAX], b[TEXTFILE_LABEL_MAX];
	char			 labels[2 * TEXTFILE_LABEL_MAX + 32];

	if (st->log != NULL) {
		textfile_escape_label(st->log, a, sizeof(a));
		snprintf(labels, sizeof(labels), "log=\"%s\"", a);
	} else {
		textfile_escape_label(st->stream != NULL ? st->stream : "", a, sizeof(a));
		textfile_escape_label(st->durable != NULL ? st->durable : "", b, sizeof(b));
		snprintf(labels, sizeof(labels), "stream=\"%s\",durable=\"%s\"", a, b);
	}
	textfile_samples(f, samples, nitems(samples), st, labels);
	if (st->dead_letter == NULL)
		return;
	textfile_escape_label(st->dead_letter, a, sizeof(a));
	fprintf(f, "# HELP idwise_exec_dead_letter_bytes The size of the --dead-letter file "
	    "(0 while it holds nothing).\n# TYPE idwise_exec_dead_letter_bytes gauge\n"
	    "idwise_exec_dead_letter_bytes{%s,dead_letter=\"%s\"} %" PRIu64 "\n", labels, a,
	    st->dead_letter_bytes);
}

void
exec_metrics_tick(struct exec_metrics *m, int dl_fd, bool now)
{
	struct stat	 st;

	if (!m->started || m->file.path == NULL || !textfile_due(&m->file, now))
		return;
	/* An fstat that fails keeps the last size: the write said what is wrong with it. */
	if (dl_fd != -1 && fstat(dl_fd, &st) == 0)
		m->stats.dead_letter_bytes = (uint64_t)st.st_size;
	textfile_rewrite(&m->file, fill, &m->stats);
}
