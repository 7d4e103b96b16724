/* SPDX-License-Identifier: ISC */
/* ship-metrics.c: idwise-log ship's progress as node_exporter textfile metrics. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ship-metrics.h"
#include "util.h"

#define METRICS_MODE	0644
#define LABEL_MAX	1024

const char *const ship_state_names[SHIP_NSTATES] = {
	[SHIP_CONNECTING] = "connecting",
	[SHIP_UP] = "up",
	[SHIP_DOWN] = "down",
	[SHIP_FAILING] = "failing",
};

/* The counters and gauges, each a row: name, type, help, and where its value is. */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	size_t		 off;
} samples[] = {
	{ "idwise_ship_records_total", "counter",
	    "Records the stream acknowledged since the shipper started (duplicates included).",
	    offsetof(struct ship_stats, shipped) },
	{ "idwise_ship_duplicates_total", "counter",
	    "Records the stream acknowledged as already held (a redelivery or a restart).",
	    offsetof(struct ship_stats, duplicates) },
	{ "idwise_ship_publish_failures_total", "counter",
	    "Publishes that were not acknowledged and were tried again.",
	    offsetof(struct ship_stats, failures) },
	{ "idwise_ship_last_seq", "gauge",
	    "The seq up to which every record is in the stream (the cursor).",
	    offsetof(struct ship_stats, last_seq) },
	{ "idwise_ship_log_head_seq", "gauge",
	    "The seq of the last record in the log.",
	    offsetof(struct ship_stats, head_seq) },
	{ "idwise_ship_in_flight", "gauge",
	    "Records published and not yet acknowledged.",
	    offsetof(struct ship_stats, in_flight) },
};

/* A label value with '\\', '"' and newlines escaped as the text format wants. */
static void
escape_label(const char *value, char *out, size_t size)
{
	size_t	 n = 0;

	for (; *value != '\0' && n + 3 < size; value++) {
		if (*value == '\\' || *value == '"' || *value == '\n') {
			out[n++] = '\\';
			out[n++] = *value == '\n' ? 'n' : *value;
		} else
			out[n++] = *value;
	}
	out[n] = '\0';
}

static void
write_samples(FILE *f, const struct ship_stats *st, const char *labels)
{
	size_t	 i;
	int	 s;

	for (i = 0; i < nitems(samples); i++)
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s{%s} %" PRIu64 "\n", samples[i].name,
		    samples[i].help, samples[i].name, samples[i].type, samples[i].name, labels,
		    *(const uint64_t *)((const char *)st + samples[i].off));
	fprintf(f, "# HELP idwise_ship_broker_up 1 while the stream acknowledges what is "
	    "published.\n# TYPE idwise_ship_broker_up gauge\nidwise_ship_broker_up{%s} %d\n",
	    labels, st->state == SHIP_UP);
	fprintf(f, "# HELP idwise_ship_broker_state The link to the broker: connecting, up, "
	    "down (connection lost) or failing (no ack: no quorum?).\n"
	    "# TYPE idwise_ship_broker_state gauge\n");
	for (s = 0; s < SHIP_NSTATES; s++)
		fprintf(f, "idwise_ship_broker_state{%s,state=\"%s\"} %d\n", labels,
		    ship_state_names[s], s == st->state);
	fprintf(f, "# HELP idwise_ship_last_ack_timestamp_seconds When the stream last "
	    "acknowledged a record.\n# TYPE idwise_ship_last_ack_timestamp_seconds gauge\n"
	    "idwise_ship_last_ack_timestamp_seconds{%s} %.3f\n", labels,
	    (double)st->last_ack_ms / 1000.0);
}

int
ship_metrics_write(const char *path, const struct ship_stats *st, char *why, size_t whylen)
{
	char	 log[LABEL_MAX], stream[LABEL_MAX], labels[2 * LABEL_MAX + 32], *tmp;
	FILE	*f = NULL;
	int	 fd, rc = -1;

	if (asprintf(&tmp, "%s.tmp", path) == -1) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	escape_label(st->log, log, sizeof(log));
	escape_label(st->stream, stream, sizeof(stream));
	snprintf(labels, sizeof(labels), "log=\"%s\",stream=\"%s\"", log, stream);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    METRICS_MODE)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(why, whylen, "%s: open: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
	} else {
		write_samples(f, st, labels);
		if (ferror(f) | (fclose(f) == EOF))
			snprintf(why, whylen, "%s: write: %s", tmp, strerror(errno));
		else if (rename(tmp, path) == -1)
			snprintf(why, whylen, "%s: rename to %s: %s", tmp, path, strerror(errno));
		else
			rc = 0;
		if (rc == -1)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}
