/* SPDX-License-Identifier: ISC */
/*
 * log-check.h: a log line read back as a record and held to every rule the writer keeps:
 * member types, known type and outcome, hex digests, a real time stamp. The one reader of
 * records, for the writer's recovery and every idwise-log command. The body's canonical
 * digest, which only dedup needs (to tell a conflict), is a separate call, made by the
 * writer alone: record_body_digest (record.h). A reader reuses one parser for every line.
 */
#ifndef IDW_LOG_CHECK_H
#define IDW_LOG_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct log_record {
	struct record_view	 view;		/* body_digest left zero */
	size_t			 type;		/* idwise_type_name(type) is view.type */
	size_t			 outcome;	/* idwise_outcome_name(outcome) */
};

struct log_reader;

struct log_reader *log_reader_new(void);
void	log_reader_free(struct log_reader *);

/*
 * The line without its '\n'. 0 with rec filled (log_record_free releases it), or -1 with
 * a one-line reason in why.
 */
int	log_record_read(struct log_reader *, const char *, size_t, struct log_record *,
	    char *why, size_t);
void	log_record_free(struct log_record *);

/*
 * The seq of a line (without its '\n') read from the start the writer gives every line,
 * {"v":1,"seq":N, (idwise-events(5)), without parsing the rest: for a reader that needs
 * only the number, a million times. 0 with *seq, or -1 when the line does not start so.
 */
int	log_line_seq(const char *, size_t, uint64_t *seq);

#endif
