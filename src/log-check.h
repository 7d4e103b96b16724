/*
 * log-check.h: a log line read back as a record and held to every rule the writer keeps
 * (SPEC §4): member types, known type and outcome, hex digests, a real time stamp.
 *
 * record_parse (record.h) does this for the writer and also digests the body for
 * conflicts, which a reader never needs and which costs a third of the time over a
 * million records; this reader fills the same record_view without it and reuses one
 * parser for every line.
 */
#ifndef IDW_LOG_CHECK_H
#define IDW_LOG_CHECK_H

#include <stddef.h>

#include "record.h"

#define LOG_NTYPES	11
#define LOG_NOUTCOMES	7

/* The values of `type` and `outcome`, in SPEC's order. */
extern const char *const log_types[LOG_NTYPES];
extern const char *const log_outcomes[LOG_NOUTCOMES];

struct log_record {
	struct record_view	 view;		/* all but body_digest (left zero) */
	size_t			 type;		/* index in log_types */
	size_t			 outcome;	/* index in log_outcomes */
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

#endif
