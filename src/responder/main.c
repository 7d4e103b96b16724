/* SPDX-License-Identifier: ISC */
/* main.c: idwise-fcgi's command line: load the config, pick how to serve, serve. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "audit.h"
#include "auth.h"
#include "checkconfig.h"
#include "config.h"
#include "eventlog.h"
#include "fcgi-loop.h"
#include "handler.h"
#include "listen.h"
#include "privdrop.h"
#include "reload.h"
#include "util.h"

#define THREADS_MAX	256
#define IO_TIMEOUT_MAX	3600
#define MAX_CONNS_MAX	65536
#define SOCKET_MODE_DEFAULT	0660

#define TEXT_OF(n)	#n
#define NUMBER_TEXT(n)	TEXT_OF(n)	/* a macro's number as a string literal */

struct options {
	const char	*config_path;
	const char	*listen;
	int		 socket_mode;	/* -1: not given (SOCKET_MODE_DEFAULT) */
	const char	*socket_group;
	gid_t		 socket_gid;	/* (gid_t)-1: none given */
	const char	*user;
	struct runas	 runas;		/* the --user account, once looked up */
	bool		 allow_root;
	bool		 allow_core_dumps;
	int		 threads;
	int		 io_timeout;
	int		 max_conns;
	bool		 check_config;
};

/* --- the command line ---------------------------------------------------------------- */

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: idwise-fcgi [-c FILE] [--listen unix:PATH | --listen HOST:PORT]\n"
	    "                   [--socket-mode MODE] [--socket-group GROUP] [--threads N]\n"
	    "                   [--io-timeout SECONDS] [--max-conns N]\n"
	    "                   [--user NAME | --allow-root] [--allow-core-dumps]\n"
	    "       idwise-fcgi [-c FILE] [--user NAME] --check-config\n"
	    "       idwise-fcgi --version | --help\n"
	    "\n"
	    "Receives IDWise webhooks over FastCGI (on the socket inherited on fd 0, the one\n"
	    "systemd passes as LISTEN_FDS, or the one --listen makes) or as a plain CGI\n"
	    "program, and appends them to the event log. Started as root, it reads the config,\n"
	    "binds, then becomes --user NAME before touching the log; it does not serve as root\n"
	    "without --allow-root. The config file is FILE, else $IDWISE_FCGI_CONFIG, else\n"
	    "%s. See idwise-fcgi(8).\n",
	    SYSCONFDIR "/idwise-fcgi.conf");
}

enum {
	OPT_LISTEN = 256, OPT_SOCKET_MODE, OPT_SOCKET_GROUP, OPT_USER, OPT_ALLOW_ROOT,
	OPT_THREADS, OPT_IO_TIMEOUT, OPT_MAX_CONNS, OPT_CHECK, OPT_CORE_DUMPS, OPT_VERSION,
	OPT_HELP
};

/* Options that make no sense together. Returns -1 to go on, or EX_USAGE. */
static int
check_options(const struct options *opt)
{
	if ((opt->socket_mode != -1 || opt->socket_group != NULL) &&
	    (opt->listen == NULL || !listen_is_unix(opt->listen))) {
		msg("--socket-mode and --socket-group are for --listen unix:PATH");
		return EX_USAGE;
	}
	if (opt->user != NULL && opt->allow_root) {
		msg("--user and --allow-root: give one");
		return EX_USAGE;
	}
	return -1;
}

/*
 * One row an option: its name, what getopt_long() returns for it, and what it does. set
 * returns -1 to go on, or the exit status (--version, --help, a refused argument).
 */
struct option_def {
	const char	*name;
	int		 has_arg;	/* required_argument or no_argument */
	int		 ch;
	int		(*set)(struct options *, const struct option_def *, const char *arg);
	size_t		 field;		/* offsetof what it sets in struct options */
	int		 base;		/* numbers: in base, from min to max */
	long long	 min, max;
	const char	*what;		/* numbers: "--NAME: not WHAT: ARG" when refused */
};

static void *
option_field(struct options *opt, const struct option_def *od)
{
	return (char *)opt + od->field;
}

static int
set_text(struct options *opt, const struct option_def *od, const char *arg)
{
	*(const char **)option_field(opt, od) = arg;
	return -1;
}

static int
set_flag(struct options *opt, const struct option_def *od, const char *arg)
{
	(void)arg;
	*(bool *)option_field(opt, od) = true;
	return -1;
}

static int
set_number(struct options *opt, const struct option_def *od, const char *arg)
{
	long long	 v;

	if (parse_number(arg, od->base, od->min, od->max, &v) == -1) {
		msg("--%s: not %s: %s", od->name, od->what, arg);
		return EX_USAGE;
	}
	*(int *)option_field(opt, od) = (int)v;
	return -1;
}

static int
show_version(struct options *opt, const struct option_def *od, const char *arg)
{
	(void)opt;
	(void)od;
	(void)arg;
	printf("idwise-fcgi %s\n", PACKAGE_VERSION);
	return EX_OK;
}

static int
show_help(struct options *opt, const struct option_def *od, const char *arg)
{
	(void)opt;
	(void)od;
	(void)arg;
	usage(stdout);
	return EX_OK;
}

#define TEXT_OPTION(name, ch, f) \
	{ name, required_argument, ch, set_text, offsetof(struct options, f), 0, 0, 0, NULL }
#define NUMBER_OPTION(name, ch, f, base, min, max, what) \
	{ name, required_argument, ch, set_number, offsetof(struct options, f), base, min, \
	    max, what }
#define FLAG_OPTION(name, ch, f) \
	{ name, no_argument, ch, set_flag, offsetof(struct options, f), 0, 0, 0, NULL }
#define ACTION_OPTION(name, ch, action) \
	{ name, no_argument, ch, action, 0, 0, 0, 0, NULL }

static const struct option_def option_defs[] = {
	TEXT_OPTION("config",		'c',		 config_path),
	TEXT_OPTION("listen",		OPT_LISTEN,	 listen),
	NUMBER_OPTION("socket-mode",	OPT_SOCKET_MODE, socket_mode,
	    8, 0, 0777, "an octal mode"),
	TEXT_OPTION("socket-group",	OPT_SOCKET_GROUP, socket_group),
	TEXT_OPTION("user",		OPT_USER,	 user),
	FLAG_OPTION("allow-root",	OPT_ALLOW_ROOT,	 allow_root),
	NUMBER_OPTION("threads",	OPT_THREADS,	 threads,
	    10, 1, THREADS_MAX, "a number from 1 to " NUMBER_TEXT(THREADS_MAX)),
	NUMBER_OPTION("io-timeout",	OPT_IO_TIMEOUT,	 io_timeout,
	    10, 1, IO_TIMEOUT_MAX,
	    "a number of seconds from 1 to " NUMBER_TEXT(IO_TIMEOUT_MAX)),
	NUMBER_OPTION("max-conns",	OPT_MAX_CONNS,	 max_conns,
	    10, 1, MAX_CONNS_MAX, "a number from 1 to " NUMBER_TEXT(MAX_CONNS_MAX)),
	FLAG_OPTION("check-config",	OPT_CHECK,	 check_config),
	FLAG_OPTION("allow-core-dumps",	OPT_CORE_DUMPS,	 allow_core_dumps),
	ACTION_OPTION("version",	OPT_VERSION,	 show_version),
	ACTION_OPTION("help",		OPT_HELP,	 show_help),
};

/* getopt_long()'s table, from option_defs[]; the last row stays zero. */
static void
make_long_options(struct option *out)
{
	size_t	 i;

	memset(out, 0, (nitems(option_defs) + 1) * sizeof(*out));
	for (i = 0; i < nitems(option_defs); i++) {
		out[i].name = option_defs[i].name;
		out[i].has_arg = option_defs[i].has_arg;
		out[i].val = option_defs[i].ch;
	}
}

static const struct option_def *
option_def_of(int ch)
{
	size_t	 i;

	for (i = 0; i < nitems(option_defs); i++)
		if (option_defs[i].ch == ch)
			return &option_defs[i];
	return NULL;
}

/* Returns -1 to go on, or the exit status. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	struct option		 long_options[nitems(option_defs) + 1];
	const struct option_def	*od;
	int			 ch, rc;

	make_long_options(long_options);
	while ((ch = getopt_long(argc, argv, "c:", long_options, NULL)) != -1) {
		if ((od = option_def_of(ch)) == NULL) {
			usage(stderr);
			return EX_USAGE;
		}
		if ((rc = od->set(opt, od, optarg)) != -1)
			return rc;
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	return check_options(opt);
}

/* --- the account and the socket ------------------------------------------------------ */

/*
 * Look up --user and --socket-group; refuse to serve as root without --user (or
 * --allow-root). Returns -1 to go on, or the exit status.
 */
static int
check_identity(struct options *opt)
{
	if (opt->user != NULL && runas_lookup(opt->user, &opt->runas) == -1)
		return EX_NOUSER;
	if (opt->socket_group != NULL && group_lookup(opt->socket_group, &opt->socket_gid) == -1)
		return EX_NOUSER;
	if (!opt->check_config && opt->user == NULL && !opt->allow_root && running_as_root()) {
		msg("refusing to serve as root: give --user NAME, the account to become "
		    "once the socket is open (or --allow-root)");
		return EX_USAGE;
	}
	return -1;
}

/*
 * The socket to serve on: the one systemd passed (fd 3), the one --listen makes, or -1
 * for fd 0 (spawn-fcgi, mod_fcgid, StandardInput=socket) or plain CGI. Returns -1 to go
 * on, or the exit status.
 */
static int
open_socket(const struct options *opt, int *fd)
{
	struct socket_access	 sa = { SOCKET_MODE_DEFAULT, (uid_t)-1, opt->socket_gid };
	int			 passed;

	*fd = -1;
	if (listen_from_env(&passed) == -1)
		return EX_OSERR;
	if (passed != -1 && opt->listen != NULL) {
		msg("--listen, and systemd passed a socket (LISTEN_FDS): give one");
		close(passed);
		return EX_USAGE;
	}
	if (passed != -1) {
		*fd = passed;
		return -1;
	}
	if (opt->listen == NULL)
		return -1;
	if (opt->socket_mode != -1)
		sa.mode = (mode_t)opt->socket_mode;
	if (opt->user != NULL) {
		sa.uid = opt->runas.uid;
		if (sa.gid == (gid_t)-1)
			sa.gid = opt->runas.gid;
	}
	if ((*fd = listen_on(opt->listen, &sa)) == -1)
		return EX_OSERR;
	return -1;
}

/* Who may own the config and the secret files besides root: the --user account, else us. */
static struct file_owner
service_account(const struct options *opt)
{
	struct file_owner	 o = { geteuid(), getegid() };

	if (opt->user != NULL) {
		o.uid = opt->runas.uid;
		o.gid = opt->runas.gid;
	}
	return o;
}

/* --- serving ------------------------------------------------------------------------- */

/* SIGHUP stays pending until the edge reads it: it must not end the process before. */
static int
block_reload_signal(void)
{
	sigset_t	 hup;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &hup, NULL) == -1) {
		msg_errno("sigprocmask");
		return -1;
	}
	return 0;
}

static void
service_free(struct service *svc)
{
	eventlog_free(svc->log);
	audit_free(svc->audit);
}

/* FastCGI: cfg moves into the running configuration, which SIGHUP reads again. */
static int
serve_reloadable(struct service *svc, struct config *cfg, const struct file_owner *service,
    int fd, const struct options *opt)
{
	struct edge_limits	 lim = { opt->threads, opt->io_timeout, opt->max_conns };
	struct running_config	*running;
	int			 rc;

	/* Be counted among the deployment's processes from the start. */
	(void)eventlog_metrics(svc->log);
	if ((running = running_config_new(cfg, service)) == NULL)
		return -1;
	rc = serve_fastcgi(svc, running, fd, &lim);
	running_config_free(running);
	return rc;
}

static int
serve(struct config *cfg, const struct options *opt, const struct file_owner *service)
{
	struct service	 svc = { NULL, NULL };
	struct eventlog_settings log = { cfg->log, cfg->sync == SYNC_DATA, cfg->dedup_window_ms };
	int		 fd, rc;

	if ((rc = open_socket(opt, &fd)) != -1)
		return rc;
	/* Bound; now become the user, before anything touches the log or the audit file. */
	if ((opt->user != NULL && runas_become(&opt->runas) == -1) ||
	    core_dumps_allow(opt->allow_core_dumps) == -1) {
		if (fd != -1)
			close(fd);
		listen_cleanup();
		return EX_OSERR;
	}
	if ((svc.log = eventlog_new(&log)) == NULL || (svc.audit = audit_new()) == NULL) {
		msg("out of memory");
		service_free(&svc);
		listen_cleanup();
		return EX_OSERR;
	}
	if (fd == -1 && FCGX_IsCGI())
		rc = serve_cgi(&svc, cfg);
	else
		rc = serve_reloadable(&svc, cfg, service, fd == -1 ? 0 : fd, opt);
	listen_cleanup();
	service_free(&svc);
	return rc == 0 ? EX_OK : EX_OSERR;
}

int
main(int argc, char **argv)
{
	struct options		 opt;
	struct config		 cfg;
	struct file_owner	 service;
	char			 err[CONFIG_ERR_LEN];
	int			 rc;

	set_progname(argv[0]);
	/* Before anything holds a secret; --allow-core-dumps turns it back on once serving. */
	if (core_dumps_allow(false) == -1)
		return EX_OSERR;
	memset(&opt, 0, sizeof(opt));
	opt.socket_mode = -1;
	opt.socket_gid = (gid_t)-1;
	opt.threads = 1;
	opt.io_timeout = 15;
	opt.max_conns = 256;
	if ((rc = parse_options(argc, argv, &opt)) != -1)
		return rc;
	if ((rc = check_identity(&opt)) != -1) {
		runas_free(&opt.runas);
		return rc;
	}
	/* A vanished client must not kill us; a full file must fail the write, not us. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	/* A reload asked for while starting is done once serving (fcgi-loop.c takes it). */
	if (block_reload_signal() == -1) {
		runas_free(&opt.runas);
		return EX_OSERR;
	}
	if (opt.config_path == NULL)
		opt.config_path = config_default_path();
	/* As root, the config and its secret files are read before dropping. */
	service = service_account(&opt);
	if (config_load_as(&cfg, opt.config_path, &service, err, sizeof(err)) == -1) {
		msg("%s", err);
		runas_free(&opt.runas);
		return EX_CONFIG;
	}
	if (opt.check_config)
		rc = check_config(&cfg, stdout) == 0 ? EX_OK : EX_CONFIG;
	else
		rc = serve(&cfg, &opt, &service);
	config_free(&cfg);
	runas_free(&opt.runas);
	return rc;
}
