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
 * Each command gets argv[0] = "idwise-log NAME" (getopt's messages name it) and the
 * arguments after the name; it returns the exit status.
 */
int	cmd_verify(int, char **);
int	cmd_head(int, char **);
int	cmd_stats(int, char **);
int	cmd_reindex(int, char **);
int	cmd_follow(int, char **);
int	cmd_exec(int, char **);
int	cmd_show(int, char **);
int	cmd_keygen(int, char **);
int	cmd_checkpoint(int, char **);
int	cmd_prove(int, char **);
int	cmd_verify_proof(int, char **);

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
