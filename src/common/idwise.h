/* SPDX-License-Identifier: ISC */
/* idwise.h: IDWise's event names, decisions and body members, turned into our record fields. */
#ifndef IDW_IDWISE_H
#define IDW_IDWISE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "util.h"

/* One delivery, classified, ready to become a record (everything but seq, time and prev). */
struct event {
	json_object	*root;		/* the parsed request; owns everything below */
	json_object	*body;		/* root.body */
	json_object	*event_name;	/* root.event, a string */
	json_object	*id;		/* eventId, or a new "sha256:..." string */
	json_object	*journey_id;	/* string, or NULL for null */
	json_object	*reference_no;	/* string, or NULL for null */
	const char	*type;
	const char	*outcome;
	const char	*env;
	const char	*remote_addr;
	char		 body_sha256[SHA256_HEX_LEN + 1];	/* of the raw body */
	unsigned char	 body_digest[SHA256_LEN];	/* of the canonical body: conflicts */
};

#define IDWISE_TYPES	11	/* every `type`, "unknown" last */
#define IDWISE_OUTCOMES	7	/* every `outcome`, "unknown" last */

/* Positions in those lists (-1: not a value a record can have), and back. */
int		 idwise_type_lookup(const char *);
int		 idwise_outcome_lookup(const char *);
/* The same, counting anything else as "unknown". */
int		 idwise_type_index(const char *);
int		 idwise_outcome_index(const char *);
const char	*idwise_type_name(int);
const char	*idwise_outcome_name(int);

/* The `type` for an event name; NULL when IDWise never sent that name. */
const char	*idwise_type(const char *, size_t);
/* The `outcome` for a decision token. */
const char	*idwise_outcome(const char *, size_t);

/*
 * Fill the record fields of ev from root (an object with a string "event" and an object
 * "body"), the raw body, env and remote address. Takes a reference to root. -1 when
 * memory ran out.
 */
int	event_classify(struct event *, json_object *root, const unsigned char *raw,
	    size_t rawlen, const char *env, const char *remote_addr);
void	event_free(struct event *);

#endif
