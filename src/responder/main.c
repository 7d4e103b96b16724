/* SPDX-License-Identifier: ISC */
/* main.c: idwise-fcgi's command line: load the config, pick how to serve, serve. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
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
#include "util.h"

#define THREADS_MAX	256
#define IO_TIMEOUT_MAX	3600
#define MAX_CONNS_MAX	65536

struct options {
	const char	*config_path;
	const char	*listen;
	mode_t		 socket_mode;
	bool		 socket_mode_set;
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

static const struct option long_options[] = {
	{ "config",		required_argument,	NULL, 'c' },
	{ "listen",		required_argument,	NULL, OPT_LISTEN },
	{ "socket-mode",	required_argument,	NULL, OPT_SOCKET_MODE },
	{ "socket-group",	required_argument,	NULL, OPT_SOCKET_GROUP },
	{ "user",		required_argument,	NULL, OPT_USER },
	{ "allow-root",		no_argument,		NULL, OPT_ALLOW_ROOT },
	{ "threads",		required_argument,	NULL, OPT_THREADS },
	{ "io-timeout",		required_argument,	NULL, OPT_IO_TIMEOUT },
	{ "max-conns",		required_argument,	NULL, OPT_MAX_CONNS },
	{ "check-config",	no_argument,		NULL, OPT_CHECK },
	{ "allow-core-dumps",	no_argument,		NULL, OPT_CORE_DUMPS },
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ "help",		no_argument,		NULL, OPT_HELP },
	{ NULL,			0,			NULL, 0 }
};

/* Options that make no sense together. Returns -1 to go on, or EX_USAGE. */
static int
check_options(const struct options *opt)
{
	if ((opt->socket_mode_set || opt->socket_group != NULL) &&
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

/* Returns -1 to go on, or the exit status. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	long long	 v;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "c:", long_options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			opt->config_path = optarg;
			break;
		case OPT_LISTEN:
			opt->listen = optarg;
			break;
		case OPT_SOCKET_MODE:
			if (parse_number(optarg, 8, 0, 0777, &v) == -1) {
				msg("--socket-mode: not an octal mode: %s", optarg);
				return EX_USAGE;
			}
			opt->socket_mode = (mode_t)v;
			opt->socket_mode_set = true;
			break;
		case OPT_SOCKET_GROUP:
			opt->socket_group = optarg;
			break;
		case OPT_USER:
			opt->user = optarg;
			break;
		case OPT_ALLOW_ROOT:
			opt->allow_root = true;
			break;
		case OPT_THREADS:
			if (parse_number(optarg, 10, 1, THREADS_MAX, &v) == -1) {
				msg("--threads: not a number from 1 to %d: %s", THREADS_MAX,
				    optarg);
				return EX_USAGE;
			}
			opt->threads = (int)v;
			break;
		case OPT_IO_TIMEOUT:
			if (parse_number(optarg, 10, 1, IO_TIMEOUT_MAX, &v) == -1) {
				msg("--io-timeout: not a number of seconds from 1 to %d: %s",
				    IO_TIMEOUT_MAX, optarg);
				return EX_USAGE;
			}
			opt->io_timeout = (int)v;
			break;
		case OPT_MAX_CONNS:
			if (parse_number(optarg, 10, 1, MAX_CONNS_MAX, &v) == -1) {
				msg("--max-conns: not a number from 1 to %d: %s", MAX_CONNS_MAX,
				    optarg);
				return EX_USAGE;
			}
			opt->max_conns = (int)v;
			break;
		case OPT_CHECK:
			opt->check_config = true;
			break;
		case OPT_CORE_DUMPS:
			opt->allow_core_dumps = true;
			break;
		case OPT_VERSION:
			printf("idwise-fcgi %s\n", PACKAGE_VERSION);
			return EX_OK;
		case OPT_HELP:
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	return check_options(opt);
}

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
	struct socket_access	 sa = { opt->socket_mode, (uid_t)-1, opt->socket_gid };
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

static void
service_free(struct service *svc)
{
	eventlog_free(svc->log);
	audit_free(svc->audit);
}

static int
serve(const struct config *cfg, const struct options *opt)
{
	struct service	 svc = { cfg, NULL, NULL };
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
	if ((svc.log = eventlog_new(&log)) == NULL || (svc.audit = audit_new(cfg)) == NULL) {
		msg("out of memory");
		service_free(&svc);
		listen_cleanup();
		return EX_OSERR;
	}
	if (fd == -1 && FCGX_IsCGI())
		rc = serve_cgi(&svc);
	else {
		/* Be counted among the deployment's processes from the start. */
		(void)eventlog_metrics(svc.log);
		struct edge_limits	 lim = { opt->threads, opt->io_timeout, opt->max_conns };

		rc = serve_fastcgi(&svc, fd == -1 ? 0 : fd, &lim);
	}
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
	opt.socket_mode = 0660;
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
		rc = serve(&cfg, &opt);
	config_free(&cfg);
	runas_free(&opt.runas);
	return rc;
}
