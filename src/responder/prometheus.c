/* SPDX-License-Identifier: ISC */
/* prometheus.c: the shared counters (metrics.h) read out as Prometheus text. */
#include "autoconf.h"

#include "decide.h"
#include "idwise.h"
#include "metrics.h"
#include "prometheus.h"

/* The state file counts each reply code in a slot of its own. */
_Static_assert(REPLY_COUNT <= METRICS_REPLY_SLOTS,
    "more reply codes than the state file has slots: see metrics.h");

#define RELAXED	memory_order_relaxed

static uint64_t
load(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, RELAXED);
}

static void
header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
write_requests(FILE *out, struct metrics *m)
{
	int	 code;

	header(out, "idwise_requests_total", "counter",
	    "Webhook requests answered, by HTTP status and reason.");
	for (code = REPLY_ACCEPTED; code < REPLY_COUNT; code++)
		fprintf(out, "idwise_requests_total{status=\"%d\",reason=\"%s\"} %llu\n",
		    reply_table[code].status, reply_table[code].label,
		    (unsigned long long)load(&m->requests[code]));
	header(out, "idwise_duplicates_total", "counter",
	    "Redeliveries of a stored event, answered without appending.");
	fprintf(out, "idwise_duplicates_total %llu\n",
	    (unsigned long long)load(&m->requests[REPLY_DUPLICATE]));
	header(out, "idwise_conflicts_total", "counter",
	    "Known ids that arrived with another body and were stored again.");
	fprintf(out, "idwise_conflicts_total %llu\n",
	    (unsigned long long)load(&m->requests[REPLY_CONFLICT]));
	header(out, "idwise_status_requests_total", "counter", "Status page requests.");
	fprintf(out, "idwise_status_requests_total %llu\n",
	    (unsigned long long)load(&m->status_requests));
}

static void
write_events(FILE *out, struct metrics *m)
{
	int	 t, o;

	header(out, "idwise_events_total", "counter", "Events stored, by type and outcome.");
	for (t = 0; t < IDWISE_TYPES; t++)
		for (o = 0; o < IDWISE_OUTCOMES; o++)
			fprintf(out, "idwise_events_total{type=\"%s\",outcome=\"%s\"} %llu\n",
			    idwise_type_name(t), idwise_outcome_name(o),
			    (unsigned long long)load(&m->events[t][o]));
}

static void
write_histogram(FILE *out, const char *name, const char *help, struct histogram *h)
{
	uint64_t	 cumulative = 0;
	int		 i;

	header(out, name, "histogram", help);
	for (i = 0; i < METRICS_BUCKETS - 1; i++) {
		cumulative += load(&h->buckets[i]);
		fprintf(out, "%s_bucket{le=\"%g\"} %llu\n", name, metrics_bucket_bounds[i],
		    (unsigned long long)cumulative);
	}
	cumulative += load(&h->buckets[i]);
	fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
	fprintf(out, "%s_sum %.6f\n", name, (double)load(&h->sum_us) / 1e6);
	fprintf(out, "%s_count %llu\n", name, (unsigned long long)load(&h->count));
}

static void
gauge(FILE *out, const char *name, const char *help, double value)
{
	header(out, name, "gauge", help);
	fprintf(out, "%s %.17g\n", name, value);
}

void
prometheus_write(FILE *out, struct metrics *m, const struct health *h)
{
	gauge(out, "idwise_log_writable", "1 if the log directory and file can be written.",
	    h->log_writable);
	gauge(out, "idwise_log_sync_failed", "1 if an fdatasync of the log failed: nothing "
	    "more is stored until the state file is made anew.", h->sync_failed);
	gauge(out, "idwise_log_disk_free_bytes", "Bytes free for the log's filesystem.",
	    (double)h->disk_free);
	gauge(out, "idwise_last_seq", "The seq of the last stored record.", (double)h->last_seq);
	gauge(out, "idwise_last_event_timestamp_seconds",
	    "When the last record was stored (Unix time).", (double)h->last_event_ms / 1000.0);
	if (m == NULL)
		return;
	gauge(out, "idwise_processes", "idwise-fcgi processes serving this log now.",
	    metrics_processes(m));
	write_requests(out, m);
	write_events(out, m);
	write_histogram(out, "idwise_append_seconds",
	    "Time to store a record: waiting for the lock, write, fdatasync.", &m->append);
	write_histogram(out, "idwise_fdatasync_seconds", "Time spent in fdatasync.", &m->sync);
	header(out, "idwise_log_bytes_total", "counter", "Bytes appended to the event log.");
	fprintf(out, "idwise_log_bytes_total %llu\n", (unsigned long long)load(&m->log_bytes));
}
