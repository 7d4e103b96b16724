/* SPDX-License-Identifier: ISC */
/* idwise-log.c: the event log's reader: `idwise-log COMMAND [ARGS]`, one table row each. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <json-c/json.h>

#include "idwise-log.h"
#include "jetstream.h"
#include "util.h"

struct command {
	const char	*name;
	command_fn	*fn;
	const char	*args;		/* the usage line after the name */
	const char	*about;		/* one line for --help */
};

static const struct command commands[] = {
	{ "verify",	cmd_verify,	"[--head SEQ:HASH] FILE...",
	    "check every line, seq and the prev chain across rotated files" },
	{ "head",	cmd_head,	"[--json] FILE...",
	    "print the last record's SEQ:HASH, to keep elsewhere for verify --head" },
	{ "stats",	cmd_stats,	"[--json] [--journey ID]... [--reference REF]... "
	    "[--id ID]... FILE...",
	    "count records by type and outcome, per day, ids and conflicts" },
	{ "show",	cmd_show,	"[--json] --journey ID | --reference REF | --id ID LOG",
	    "print what the log and its rotated files hold about one journey, reference "
	    "or id,\n      oldest first" },
	{ "reindex",	cmd_reindex,	"[-c CONFIG]",
	    "rebuild idwise-fcgi's dedup index from the log (and its rotated files)" },
	{ "follow",	cmd_follow,	"[--cursor FILE] [--from-seq N] [--type T]... "
	    "[--outcome O]...\n\t[--env E]... [--journey ID]... [--reference REF]... [--id ID]...\n"
	    "\t[--since TIME] [--format json|text] [--once] LOG\n"
	    "\tor, for LOG: --nats URL[,URL...] --stream NAME --durable NAME [--subject PREFIX]\n"
	    "\t[--creds FILE | --user NAME --password-file FILE | --token-file FILE] [--tls-ca FILE]",
	    "print records as they come, across rotations, resuming at a cursor" },
	{ "exec",	cmd_exec,	"[--cursor FILE] [--from-seq N] [--type T]... "
	    "[--outcome O]...\n\t[--env E]... [--journey ID]... [--reference REF]... [--id ID]...\n"
	    "\t[--since TIME] [--max-attempts N] [--backoff MS]\n"
	    "\t[--dead-letter FILE] [--metrics FILE] [--once] LOG -- COMMAND [ARG...]\n"
	    "\tor, for LOG: --nats URL[,URL...] --stream NAME --durable NAME [--subject PREFIX]\n"
	    "\t[--creds FILE | --user NAME --password-file FILE | --token-file FILE] [--tls-ca FILE]",
	    "run COMMAND once per record; the cursor moves when it exits 0" },
	{ "keygen",	cmd_keygen,	"[--name NAME] KEYFILE",
	    "make an Ed25519 key for checkpoints: KEYFILE (0600) and KEYFILE.pub" },
	{ "checkpoint",	cmd_checkpoint,	"--key KEYFILE [--origin NAME] [--state FILE] "
	    "[--out FILE]\n\t[--rotated] FILE...",
	    "sign the log's Merkle tree as a C2SP checkpoint, consistent with the last one" },
	{ "prove",	cmd_prove,	"--checkpoint CHECKPOINT SEQ FILE...\n"
	    "       idwise-log prove --consistency OLD NEW FILE...",
	    "print the inclusion proof of record SEQ, or the consistency proof of two" },
	{ "verify-proof", cmd_verify_proof, "--key KEYFILE.pub [--origin NAME] [--old OLD] "
	    "[--record FILE] PROOF",
	    "check a proof with the verifier key alone, without the log" },
	{ "ship",	cmd_ship,	"--nats URL[,URL...] [--stream NAME] [--subject PREFIX]\n"
	    "\t[--creds FILE | --user NAME --password-file FILE | --token-file FILE]\n"
	    "\t[--tls-ca FILE] [--replicas N] [--duplicate-window DURATION] [--host NAME]\n"
	    "\t[--metrics FILE] [--checkpoint FILE] [--window N] [--from-seq N] [--once]\n"
	    "\t--cursor FILE LOG",
	    "publish each record to a NATS JetStream stream; the cursor moves on its ack" },
};

#define NCOMMANDS	nitems(commands)

static const struct command *
find_command(const char *name)
{
	const struct command	*cmd = commands;

	while (cmd < commands + NCOMMANDS && strcmp(cmd->name, name) != 0)
		cmd++;
	return cmd < commands + NCOMMANDS ? cmd : NULL;
}

static void
usage(FILE *out)
{
	size_t	 i;

	fprintf(out, "usage: idwise-log COMMAND [ARGS]\n");
	fprintf(out, "       idwise-log COMMAND --help | --help | --version\n\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s %s\n      %s\n", commands[i].name, commands[i].args,
		    commands[i].about);
	fprintf(out, "\nFILE... are the log and its rotated files, oldest first.\n"
	    "Exit status: 0 ok, 1 damaged log, 2 a file could not be read, 64 bad usage.\n");
}

static void
command_usage(FILE *out, const struct command *cmd)
{
	fprintf(out, "usage: idwise-log %s %s\n", cmd->name, cmd->args);
}

int
cmd_usage(const char *name)
{
	const struct command	*cmd;
	const char		*space;

	if ((space = strrchr(name, ' ')) != NULL)	/* "idwise-log NAME" (argv[0]) */
		name = space + 1;
	if ((cmd = find_command(name)) != NULL)
		command_usage(stderr, cmd);
	else
		usage(stderr);
	return EX_USAGE;
}

int
cmd_json_args(int argc, char **argv, bool *json)
{
	static const struct option options[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ NULL,		0,		NULL, 0 }
	};
	int	 ch;

	*json = false;
	while ((ch = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (ch != 'j')
			return cmd_usage(argv[0]);
		*json = true;
	}
	return optind < argc ? EX_OK : cmd_usage(argv[0]);
}

int
json_put(json_object *obj, const char *name, json_object *value)
{
	if (value == NULL)
		return -1;
	if (json_object_object_add(obj, name, value) == 0)
		return 0;
	json_object_put(value);
	return -1;
}

/* What was printed must have reached stdout: a full disk is not a success. */
static int
flush_stdout(int rc)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		msg_errno("stdout");
		return rc == EX_OK ? EX_IOERR : rc;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	const struct command	*cmd;
	char			 self[64];

	set_progname("idwise-log");
	js_init();		/* first: ship and --nats use libnats (see jetstream.h) */
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return flush_stdout(EX_OK);
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("idwise-log %s\n", PACKAGE_VERSION);
		return flush_stdout(EX_OK);
	}
	if ((cmd = find_command(argv[1])) == NULL) {
		msg("%s: unknown command", argv[1]);
		usage(stderr);
		return EX_USAGE;
	}
	if (argc > 2 && strcmp(argv[2], "--help") == 0) {
		command_usage(stdout, cmd);
		return flush_stdout(EX_OK);
	}
	snprintf(self, sizeof(self), "idwise-log %s", cmd->name);
	argv[1] = self;
	return flush_stdout(cmd->fn(argc - 1, argv + 1));
}
