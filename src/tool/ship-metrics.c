/* SPDX-License-Identifier: ISC */
/* ship-metrics.c: idwise-log ship's progress as node_exporter textfile metrics. */
#include "autoconf.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "ship-metrics.h"
#include "textfile.h"
#include "util.h"

const char *const ship_state_names[SHIP_NSTATES] = {
	[SHIP_CONNECTING] = "connecting",
	[SHIP_UP] = "up",
	[SHIP_DOWN] = "down",
	[SHIP_FAILING] = "failing",
};

/* The counters and gauges, each a row: name, type, help, and where its value is. */
static const struct textfile_sample samples[] = {
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

static void
write_samples(FILE *f, const struct ship_stats *st, const char *labels)
{
	int	 s;

	textfile_samples(f, samples, nitems(samples), st, labels);
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

void
ship_metrics_fill(FILE *f, const void *arg)
{
	const struct ship_stats	*st = arg;
	char			 log[TEXTFILE_LABEL_MAX], stream[TEXTFILE_LABEL_MAX];
	char			 labels[2 * TEXTFILE_LABEL_MAX + 32];

	textfile_escape_label(st->log, log, sizeof(log));
	textfile_escape_label(st->stream, stream, sizeof(stream));
	snprintf(labels, sizeof(labels), "log=\"%s\",stream=\"%s\"", log, stream);
	write_samples(f, st, labels);
}
