/* SPDX-License-Identifier: ISC */
/*
 * ship-msg.h: what a record shipped to NATS JetStream is called and says: its subject, its
 * Nats-Msg-Id, the names NATS accepts, and the durations of the options. Strings only: no
 * NATS here, so that each rule can be tested alone.
 *
 * The Nats-Msg-Id is the hex SHA-256 of the record's id (its bytes) followed by the 32
 * bytes of the canonical body digest. So one delivery stored by two receivers, or shipped
 * twice after a restart, has one Msg-Id and the stream keeps it once (within its duplicate
 * window); a conflict (the same id with another body) has another Msg-Id and is kept as a
 * message of its own. Neither the host nor the seq goes in: they differ between receivers.
 */
#ifndef IDW_SHIP_MSG_H
#define IDW_SHIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SHIP_PREFIX_DEFAULT	"idwise"
#define SHIP_NAME_MAX		64	/* a stream or consumer name */
#define SHIP_SUBJECT_MAX	320	/* PREFIX.ENV.TYPE or PREFIX.checkpoints */
#define SHIP_HOST_MAX		255

/* The headers besides Nats-Msg-Id: which line of which host's log the message is. */
#define SHIP_HDR_HOST		"Idwise-Host"
#define SHIP_HDR_SEQ		"Idwise-Seq"
#define SHIP_HDR_LINE_SHA256	"Idwise-Line-Sha256"	/* of the line with its '\n' */

/* Dot-separated tokens of letters, digits, '_' and '-' (no wildcard), at most 128 bytes. */
bool	ship_prefix_valid(const char *);
/* A stream or durable name: 1 to SHIP_NAME_MAX letters, digits, '_' and '-'. */
bool	ship_name_valid(const char *);
/* A value for the host header: 1 to SHIP_HOST_MAX printable ASCII bytes but space. */
bool	ship_host_valid(const char *);

/*
 * Does the subject pattern (one of a stream's subjects, with '*' and '>') match every
 * subject PREFIX.anything? "idwise.>", "*.>" and ">" do; "idwise.*.*" and "other.>" do not.
 */
bool	ship_subject_covers(const char *pattern, const char *prefix);

/*
 * One subject token for a record member: each byte outside letters, digits, '_' and '-'
 * becomes '_' (a '.', '*', '>' or space would change the subject's meaning), at most 64
 * bytes; "" and NULL become "_". out holds SHIP_TOKEN_SIZE bytes.
 */
#define SHIP_TOKEN_SIZE	65
void	ship_token(const char *, char out[SHIP_TOKEN_SIZE]);
/* PREFIX.ENV.TYPE, both made tokens; -1 when it does not fit in size. */
int	ship_subject(char *, size_t size, const char *prefix, const char *env, const char *type);
/* PREFIX.checkpoints: where `ship` publishes the log's signed checkpoints. */
int	ship_checkpoint_subject(char *, size_t size, const char *prefix);

/* The Nats-Msg-Id of a record (see above). */
void	ship_msg_id(const char *id, size_t id_len, const unsigned char body_digest[SHA256_LEN],
	    char out[SHA256_HEX_LEN + 1]);

/*
 * A duration such as 24h, 90m, 1h30m, 45s, 500ms or 2d (units d, h, m, s, ms; one or more
 * number-unit pairs), in nanoseconds, at most 365 days. 0, or -1 when it is not one.
 */
int	ship_parse_duration(const char *, int64_t *ns);
/* The same written back: "24h", "1h30m", "45s", "500ms". */
void	ship_format_duration(int64_t ns, char *, size_t);

#endif
