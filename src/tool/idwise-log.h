/* SPDX-License-Identifier: ISC */
/*
 * idwise-log.h: the commands of idwise-log, the event log's reader. Each command is a
 * function here and one row in the table in idwise-log.c; adding a command is adding both.
 */
#ifndef IDW_IDWISE_LOG_H
#define IDW_IDWISE_LOG_H

#include <stdbool.h>
#include <sysexits.h>

/* Exit statuses every command shares (besides EX_OK and EX_USAGE). */
#define EXIT_DAMAGED	1	/* the log is not intact, or holds no record asked for */
#define EXIT_UNREADABLE	2	/* a file could not be opened or read */

/*
 * A command gets argv[0] = "idwise-log NAME" (getopt's messages name it) and the arguments
 * after the name; it returns the exit status. Each is declared here, by what it is for.
 */
typedef int	command_fn(int argc, char **argv);

/* Reading the log: the chain, its last record, counts, what it holds about one journey. */
command_fn	cmd_verify, cmd_head, cmd_stats, cmd_show;
/* idwise-fcgi's dedup index, rebuilt from the log. */
command_fn	cmd_reindex;
/* Consuming it: records as they come, a command run per record, records shipped to NATS. */
command_fn	cmd_follow, cmd_exec, cmd_ship;
/* Signed checkpoints of its Merkle tree, and proofs against them. */
command_fn	cmd_keygen, cmd_checkpoint, cmd_prove, cmd_verify_proof;

/*
 * Print "usage: idwise-log NAME ARGS" for the command on stderr (name is NAME or argv[0])
 * and return EX_USAGE: `return cmd_usage(argv[0]);` on bad arguments.
 */
int	cmd_usage(const char *name);

/*
 * What several commands share. cmd_json_args: the arguments "[--json] FILE..." (head): EX_OK with *json and optind at the first FILE, or EX_USAGE once usage is printed.
 * json_put: value (NULL when memory ran out) added to obj under name; 0, or -1 when it
 * could not be (value is released).
 */
struct json_object;
int	cmd_json_args(int argc, char **argv, bool *json);
int	json_put(struct json_object *obj, const char *name, struct json_object *value);

#endif
