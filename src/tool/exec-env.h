/* SPDX-License-Identifier: ISC */
/*
 * exec-env.h: what idwise-log exec hands the command with each record: its environment
 * (idwise-log's, with IDWISE_SEQ, IDWISE_ATTEMPT and the record's IDWISE_* members in
 * place of any it had) and its standard input (the line).
 */
#ifndef IDW_EXEC_ENV_H
#define IDW_EXEC_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "log-stream.h"

struct cmd_env {
	char	**v;		/* NULL-terminated, for posix_spawn */
	size_t	  own_from;	/* v[own_from..] are ours to free */
};

/* The environment of this attempt at rec: 0, or -1 (out of memory). */
int	exec_env_build(struct cmd_env *, const struct stream_rec *rec, uint64_t attempt);
void	exec_env_free(struct cmd_env *);

/*
 * The line and its '\n' in an anonymous file (close-on-exec; made the command's standard
 * input, rewound before each attempt): the descriptor, or -1 once the reason is said.
 */
int	exec_input_new(const struct stream_rec *rec);

#endif
