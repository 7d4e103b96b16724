/* SPDX-License-Identifier: ISC */
/*
 * nats-tool.c: what tests/integration/ship.sh and powerloss.sh, and bench/ship.sh, ask of
 * a JetStream stream through the NATS C client, apart from idwise-log's own code:
 *
 *	nats-tool dump STREAM [SUBJECT]
 *				every message (on SUBJECT, a filter such as idwise.*.*) in
 *				stream order, one a line: SEQ TAB SUBJECT TAB MSG-ID TAB HOST
 *				TAB RECORD-SEQ TAB LINE-SHA256 TAB PAYLOAD (missing headers
 *				are "-"; a payload must be one line)
 *	nats-tool after STREAM N
 *				the same for the messages after stream seq N (nothing, at
 *				once, when there is none: a cheap look at what came since)
 *	nats-tool last STREAM SUBJECT
 *				the payload of the last message on SUBJECT, as it is
 *	nats-tool count STREAM	the number of messages
 *	nats-tool mkstream STREAM SUBJECT DUPLICATES_S REPLICAS
 *				make a stream (for the refusals idwise-log ship must make)
 *	nats-tool take STREAM DURABLE FILTER MAX_ACK_PENDING ACK_WAIT_S
 *				make the durable pull consumer (explicit acks), take one
 *				message from it and print its stream seq, with no ack: the
 *				stream hands it out again ACK_WAIT_S later, after later ones
 *
 * The server and credentials come from the environment: NATS_URL (a comma-separated list),
 * NATS_USER with NATS_PASSWORD_FILE (its first line), NATS_CA (TLS with that CA).
 * Exit 0, 1 on failure, 64 on bad usage.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>
#include <openssl/crypto.h>

#define HEADERS		{ "Nats-Msg-Id", "Idwise-Host", "Idwise-Seq", "Idwise-Line-Sha256" }

static int
fail(const char *what, natsStatus s, jsErrCode ec)
{
	fprintf(stderr, "nats-tool: %s: %s (%d)\n", what, natsStatus_GetText(s), (int)ec);
	return 1;
}

static char *
first_line(const char *path)
{
	static char	 line[1024];
	FILE		*f;

	if ((f = fopen(path, "r")) == NULL || fgets(line, sizeof(line), f) == NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* URL,URL...: natsOptions_SetURL takes one. */
static natsStatus
set_servers(natsOptions *o, const char *list)
{
	static char	 copy[4096];
	const char	*urls[16];
	char		*url, *save = NULL;
	int		 n = 0;

	snprintf(copy, sizeof(copy), "%s", list);
	for (url = strtok_r(copy, ",", &save); url != NULL && n < 16;
	    url = strtok_r(NULL, ",", &save))
		urls[n++] = url;
	return natsOptions_SetServers(o, urls, n);
}

/* An environment variable, NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static natsStatus
options(natsOptions **o)
{
	const char	*url = env("NATS_URL"), *user = env("NATS_USER");
	const char	*pwfile = env("NATS_PASSWORD_FILE"), *ca = env("NATS_CA");
	natsStatus	 s;
	char		*pw;

	if ((s = natsOptions_Create(o)) != NATS_OK)
		return s;
	s = set_servers(*o, url != NULL ? url : "nats://127.0.0.1:4222");
	if (s == NATS_OK && user != NULL && pwfile != NULL) {
		if ((pw = first_line(pwfile)) == NULL)
			return NATS_ERR;
		s = natsOptions_SetUserInfo(*o, user, pw);
	}
	if (s == NATS_OK && ca != NULL && (s = natsOptions_SetSecure(*o, true)) == NATS_OK)
		s = natsOptions_LoadCATrustedCertificates(*o, ca);
	return s;
}

static void
print_message(natsMsg *m)
{
	static const char	*const names[] = HEADERS;
	const char		*v;
	size_t			 i;

	printf("%llu\t%s", (unsigned long long)natsMsg_GetSequence(m), natsMsg_GetSubject(m));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		v = NULL;
		natsMsgHeader_Get(m, names[i], &v);
		printf("\t%s", v != NULL ? v : "-");
	}
	printf("\t%.*s\n", natsMsg_GetDataLength(m), natsMsg_GetData(m));
}

/* Whether SUBJECT matches FILTER: '*' stands for one token, a last '>' for the rest. */
static bool
subject_matches(const char *filter, const char *subject)
{
	size_t	 fn, sn;

	for (;;) {
		fn = strcspn(filter, ".");
		sn = strcspn(subject, ".");
		if (fn == 1 && filter[0] == '>' && filter[1] == '\0')
			return sn > 0;
		if (!(fn == 1 && filter[0] == '*') &&
		    (fn != sn || strncmp(filter, subject, fn) != 0))
			return false;
		if (filter[fn] == '\0' || subject[sn] == '\0')
			return filter[fn] == subject[sn];
		filter += fn + 1;
		subject += sn + 1;
	}
}

/*
 * Every message from the stream's first seq (or the one after `after`) to its last, each
 * read by its seq (a direct
 * get, no consumer): a consumer's fetch that times out under load can drop messages that
 * were on their way to it, and a test comparing the stream with the logs must not be
 * fooled by that.
 */
static int
dump(jsCtx *js, const char *stream, const char *subject, uint64_t after)
{
	jsStreamInfo	*si = NULL;
	natsMsg		*m;
	natsStatus	 s;
	jsErrCode	 ec = 0;
	uint64_t	 seq, first, last_seq;

	if ((s = js_GetStreamInfo(&si, js, stream, NULL, &ec)) != NATS_OK)
		return fail("stream info", s, ec);
	first = si->State.FirstSeq > after ? si->State.FirstSeq : after + 1;
	last_seq = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	for (seq = first; seq != 0 && seq <= last_seq; seq++) {
		m = NULL;
		ec = 0;
		if ((s = js_GetMsg(&m, js, stream, seq, NULL, &ec)) != NATS_OK) {
			if (ec == JSNoMessageFoundErr)
				continue;	/* deleted */
			return fail("get message", s, ec);
		}
		if (subject == NULL || subject_matches(subject, natsMsg_GetSubject(m)))
			print_message(m);
		natsMsg_Destroy(m);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
last(jsCtx *js, const char *stream, const char *subject)
{
	natsMsg		*m = NULL;
	jsErrCode	 ec = 0;
	natsStatus	 s;

	if ((s = js_GetLastMsg(&m, js, stream, subject, NULL, &ec)) != NATS_OK)
		return fail("last message", s, ec);
	fwrite(natsMsg_GetData(m), 1, (size_t)natsMsg_GetDataLength(m), stdout);
	natsMsg_Destroy(m);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
count(jsCtx *js, const char *stream)
{
	jsStreamInfo	*si = NULL;
	jsErrCode	 ec = 0;
	natsStatus	 s;

	if ((s = js_GetStreamInfo(&si, js, stream, NULL, &ec)) != NATS_OK)
		return fail("stream info", s, ec);
	printf("%llu\n", (unsigned long long)si->State.Msgs);
	jsStreamInfo_Destroy(si);
	return 0;
}

static int
mkstream(jsCtx *js, char **argv)
{
	jsStreamConfig	 cfg;
	jsStreamInfo	*si = NULL;
	jsErrCode	 ec = 0;
	natsStatus	 s;
	const char	*subjects[1] = { argv[1] };

	jsStreamConfig_Init(&cfg);
	cfg.Name = argv[0];
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Duplicates = strtoll(argv[2], NULL, 10) * 1000000000LL;
	cfg.Replicas = strtoll(argv[3], NULL, 10);
	if ((s = js_AddStream(&si, js, &cfg, NULL, &ec)) != NATS_OK)
		return fail("add stream", s, ec);
	jsStreamInfo_Destroy(si);
	return 0;
}

static void
print_seq(natsMsg *m)
{
	jsMsgMetaData	*meta = NULL;

	if (natsMsg_GetMetaData(&meta, m) != NATS_OK)
		return;
	printf("%llu\n", (unsigned long long)meta->Sequence.Stream);
	jsMsgMetaData_Destroy(meta);
}

static int
take(jsCtx *js, char **argv)
{
	jsConsumerConfig	 cc;
	jsConsumerInfo		*ci = NULL;
	jsSubOptions		 so;
	natsSubscription	*sub = NULL;
	natsMsgList		 list;
	jsErrCode		 ec = 0;
	natsStatus		 s;

	jsConsumerConfig_Init(&cc);
	cc.Durable = argv[1];
	cc.FilterSubject = argv[2];
	cc.AckPolicy = js_AckExplicit;
	cc.MaxAckPending = strtoll(argv[3], NULL, 10);
	cc.AckWait = strtoll(argv[4], NULL, 10) * 1000000000LL;
	cc.MaxDeliver = -1;
	if ((s = js_AddConsumer(&ci, js, argv[0], &cc, NULL, &ec)) != NATS_OK)
		return fail("add consumer", s, ec);
	jsConsumerInfo_Destroy(ci);
	jsSubOptions_Init(&so);
	so.Stream = argv[0];
	so.Consumer = argv[1];
	if ((s = js_PullSubscribe(&sub, js, argv[2], argv[1], NULL, &so, &ec)) != NATS_OK)
		return fail("pull subscribe", s, ec);
	if ((s = natsSubscription_Fetch(&list, sub, 1, 5000, &ec)) != NATS_OK)
		return fail("fetch", s, ec);
	print_seq(list.Msgs[0]);
	natsMsgList_Destroy(&list);
	natsSubscription_Destroy(sub);	/* not Unsubscribe: the durable stays */
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	natsOptions	*o = NULL;
	natsConnection	*nc = NULL;
	jsCtx		*js = NULL;
	natsStatus	 s;
	int		 rc;

	/* libnats 3.4 frees libssl's compression methods at exit: libcrypto must not too. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	if (argc < 3 || (strcmp(argv[1], "mkstream") == 0 && argc != 6) ||
	    (strcmp(argv[1], "last") == 0 && argc != 4) ||
	    (strcmp(argv[1], "after") == 0 && argc != 4) ||
	    (strcmp(argv[1], "take") == 0 && argc != 7)) {
		fprintf(stderr, "usage: nats-tool dump STREAM [SUBJECT] | after STREAM N | "
		    "last STREAM SUBJECT | "
		    "count STREAM | mkstream STREAM SUBJECT DUPLICATES_S REPLICAS | "
		    "take STREAM DURABLE FILTER MAX_ACK_PENDING ACK_WAIT_S\n");
		return 64;
	}
	if ((s = options(&o)) != NATS_OK || (s = natsConnection_Connect(&nc, o)) != NATS_OK ||
	    (s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK)
		return fail("connect", s, 0);
	if (strcmp(argv[1], "dump") == 0)
		rc = dump(js, argv[2], argc > 3 ? argv[3] : NULL, 0);
	else if (strcmp(argv[1], "after") == 0)
		rc = dump(js, argv[2], NULL, strtoull(argv[3], NULL, 10));
	else if (strcmp(argv[1], "last") == 0)
		rc = last(js, argv[2], argv[3]);
	else if (strcmp(argv[1], "count") == 0)
		rc = count(js, argv[2]);
	else if (strcmp(argv[1], "mkstream") == 0)
		rc = mkstream(js, argv + 2);
	else if (strcmp(argv[1], "take") == 0)
		rc = take(js, argv + 2);
	else {
		fprintf(stderr, "nats-tool: %s: unknown command\n", argv[1]);
		rc = 64;
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	return rc;
}
