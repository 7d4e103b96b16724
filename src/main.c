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

#include <fcgiapp.h>

#include "audit.h"
#include "checkconfig.h"
#include "config.h"
#include "eventlog.h"
#include "fcgi-loop.h"
#include "handler.h"
#include "listen.h"
#include "util.h"

#define THREADS_MAX	256
#define IO_TIMEOUT_MAX	3600

struct options {
	const char	*config_path;
	const char	*listen;
	mode_t		 socket_mode;
	int		 threads;
	int		 io_timeout;
	bool		 check_config;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: idwise-fcgi [-c FILE] [--listen unix:PATH | --listen HOST:PORT]\n"
	    "                   [--socket-mode MODE] [--threads N] [--io-timeout SECONDS]\n"
	    "       idwise-fcgi [-c FILE] --check-config\n"
	    "       idwise-fcgi --version | --help\n"
	    "\n"
	    "Receives IDWise webhooks over FastCGI (on the socket inherited on fd 0, or the\n"
	    "one --listen makes) or as a plain CGI program, and appends them to the event log.\n"
	    "The config file is FILE, else $IDWISE_FCGI_CONFIG, else %s.\n",
	    SYSCONFDIR "/idwise-fcgi.conf");
}

static int
parse_number(const char *text, int base, long min, long max, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(text, &end, base);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_LISTEN = 256, OPT_SOCKET_MODE, OPT_THREADS, OPT_IO_TIMEOUT, OPT_CHECK, OPT_VERSION,
	OPT_HELP
};

static const struct option long_options[] = {
	{ "config",		required_argument,	NULL, 'c' },
	{ "listen",		required_argument,	NULL, OPT_LISTEN },
	{ "socket-mode",	required_argument,	NULL, OPT_SOCKET_MODE },
	{ "threads",		required_argument,	NULL, OPT_THREADS },
	{ "io-timeout",		required_argument,	NULL, OPT_IO_TIMEOUT },
	{ "check-config",	no_argument,		NULL, OPT_CHECK },
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ "help",		no_argument,		NULL, OPT_HELP },
	{ NULL,			0,			NULL, 0 }
};

/* Returns -1 to go on, or the exit status. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	long	 v;
	int	 ch;

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
		case OPT_CHECK:
			opt->check_config = true;
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
	return -1;
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
	int		 fd = 0, rc;

	if ((svc.log = eventlog_new(cfg)) == NULL || (svc.audit = audit_new(cfg)) == NULL) {
		msg("out of memory");
		service_free(&svc);
		return EX_OSERR;
	}
	if (opt->listen != NULL && (fd = listen_on(opt->listen, opt->socket_mode)) == -1) {
		service_free(&svc);
		return EX_OSERR;
	}
	if (opt->listen == NULL && FCGX_IsCGI())
		rc = serve_cgi(&svc);
	else {
		/* Be counted among the deployment's processes from the start. */
		(void)eventlog_metrics(svc.log);
		rc = serve_fastcgi(&svc, fd, opt->threads, opt->io_timeout);
	}
	listen_cleanup();
	service_free(&svc);
	return rc == 0 ? EX_OK : EX_OSERR;
}

int
main(int argc, char **argv)
{
	struct options	 opt = { NULL, NULL, 0660, 1, 15, false };
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN];
	int		 rc;

	set_progname(argv[0]);
	if ((rc = parse_options(argc, argv, &opt)) != -1)
		return rc;
	/* A vanished client must not kill us; a full file must fail the write, not us. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	if (opt.config_path == NULL)
		opt.config_path = config_default_path();
	if (config_load(&cfg, opt.config_path, err, sizeof(err)) == -1) {
		msg("%s", err);
		return EX_CONFIG;
	}
	if (opt.check_config) {
		rc = check_config(&cfg, stdout) == 0 ? EX_OK : EX_CONFIG;
		config_free(&cfg);
		return rc;
	}
	rc = serve(&cfg, &opt);
	config_free(&cfg);
	return rc;
}
