/* SPDX-License-Identifier: ISC */
/*
 * audit.h: an account of every decision. Each rejected request gets one line on stderr
 * (rate-limited) and, with reject_log set, one JSON line in that file: time, request id,
 * remote address, status, reason, body_sha256, never the body or a credential. With
 * log_level = debug, accepted requests get a stderr line too.
 */
#ifndef IDW_AUDIT_H
#define IDW_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

struct config;
struct audit;

struct decision_report {
	const char	*request_id;
	const char	*remote_addr;
	const char	*method;
	int		 status;
	const char	*reason;
	const char	*detail;	/* may be NULL */
	const char	*body_sha256;	/* NULL when the body was not read */
	uint64_t	 seq;		/* accepted: the record's */
	const char	*id;		/* accepted: the dedup key, JSON-quoted */
	const char	*type;
};

/* One a process, shared by its threads; each report comes with its request's config. */
struct audit	*audit_new(void);
void		 audit_free(struct audit *);
void		 audit_reject(struct audit *, const struct config *,
		    const struct decision_report *);
/* Whether audit_accept() writes anything (log_level = debug): else skip making its report. */
bool		 audit_logs_accepts(const struct config *);
void		 audit_accept(const struct config *, const struct decision_report *);

#endif
