/* SPDX-License-Identifier: ISC */
/* metrics.c: the shared counters, and the Prometheus text they are read as. */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include "metrics.h"

#define RELAXED	memory_order_relaxed

/* Upper bounds of the latency buckets, in seconds (+Inf is implied). */
static const double bucket_bounds[METRICS_BUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5,
};

void
metrics_reply(struct metrics *m, enum reply_code code)
{
	if (m != NULL && code < REPLY_COUNT)
		atomic_fetch_add_explicit(&m->requests[code], 1, RELAXED);
}

void
metrics_event(struct metrics *m, const char *type, const char *outcome)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->events[idwise_type_index(type)]
		    [idwise_outcome_index(outcome)], 1, RELAXED);
}

void
metrics_status_request(struct metrics *m)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->status_requests, 1, RELAXED);
}

void
metrics_observe(struct histogram *h, double seconds)
{
	int	 i;

	for (i = 0; i < METRICS_BUCKETS - 1 && seconds > bucket_bounds[i]; i++)
		;
	atomic_fetch_add_explicit(&h->buckets[i], 1, RELAXED);
	atomic_fetch_add_explicit(&h->count, 1, RELAXED);
	atomic_fetch_add_explicit(&h->sum_us, (uint64_t)(seconds * 1e6 + 0.5), RELAXED);
}

/* Under the append lock, so last_seq only grows. */
void
metrics_stored(struct metrics *m, uint64_t seq, int64_t received_ms, size_t bytes)
{
	if (m == NULL)
		return;
	atomic_fetch_add_explicit(&m->log_bytes, bytes, RELAXED);
	atomic_store_explicit(&m->last_seq, seq, RELAXED);
	atomic_store_explicit(&m->last_event_ms, received_ms, RELAXED);
}

static int
pid_alive(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Take a free slot, or one of a process that is gone. */
void
metrics_join(struct metrics *m)
{
	int32_t	 me = (int32_t)getpid(), seen;
	int	 i;

	for (i = 0; i < METRICS_PROCESSES; i++) {
		seen = atomic_load_explicit(&m->pids[i], RELAXED);
		if (seen == me)
			return;
		if ((seen == 0 || !pid_alive(seen)) &&
		    atomic_compare_exchange_strong(&m->pids[i], &seen, me))
			return;
	}
}

void
metrics_leave(struct metrics *m)
{
	int32_t	 me = (int32_t)getpid();
	int	 i;

	for (i = 0; i < METRICS_PROCESSES; i++)
		if (atomic_load_explicit(&m->pids[i], RELAXED) == me)
			atomic_store_explicit(&m->pids[i], 0, RELAXED);
}

int
metrics_processes(struct metrics *m)
{
	int	 i, n = 0;

	for (i = 0; i < METRICS_PROCESSES; i++)
		if (pid_alive(atomic_load_explicit(&m->pids[i], RELAXED)))
			n++;
	return n;
}

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
		fprintf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_bounds[i],
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
metrics_write_prometheus(FILE *out, struct metrics *m, const struct health *h)
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
